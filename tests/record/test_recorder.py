"""The Recorder writes snapshots, their events, alarm changes and journal lines off the caller's thread;
a read-only folder, a locked file, a full recording or any sqlite error pauses it with the reason (never
raises to the caller), and it resumes by itself."""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from incident_harness import DrillWalk

from services.cluster_model import ClusterAlarm
from services.record.model import ALARM, EVENT, JOURNAL, LOG, MARK
from services.record.recorder import Recorder, alarm_changes
from services.record.store import RecordStore
from services.status.model import ClusterStatus, Part


async def _drill(monkeypatch) -> list[ClusterStatus]:
    walk = DrillWalk(monkeypatch=monkeypatch)
    frames = [await walk.snap()]
    walk.lab.kill_primary()
    for step in (2, 2, 10, 20):
        walk.advance(step)
        frames.append(await walk.snap())
    walk.lab.restore()
    walk.advance(20)
    frames.append(await walk.snap())
    return frames


async def test_a_drill_is_recorded_with_its_events_and_marks(monkeypatch, tmp_path) -> None:
    frames = await _drill(monkeypatch)
    path = tmp_path / "r.sqlite"
    recorder = Recorder(path).start()
    for s in frames:
        recorder.record_status(s)
    recorder.stop()
    assert recorder.paused_reason is None and recorder.frames == len(frames)
    with RecordStore.open(path, readonly=True) as store:
        assert store.span("lab1") == (frames[0].taken_at, frames[-1].taken_at)
        events = store.items("lab1", kinds=[EVENT])
        assert any(e.payload["kind"] == "node_left" for e in events)
        assert [m.payload["what"] for m in store.items("lab1", kinds=[MARK])] == ["started", "stopped"]


async def test_a_cluster_switched_off_is_not_recorded(monkeypatch, tmp_path) -> None:
    frames = await _drill(monkeypatch)
    recorder = Recorder(tmp_path / "r.sqlite", enabled=lambda name: name != "lab1").start()
    for s in frames:
        recorder.record_status(s)
    recorder.stop()
    with RecordStore.open(tmp_path / "r.sqlite", readonly=True) as store:
        assert store.clusters() == []


async def test_a_read_only_folder_pauses_then_recording_resumes(monkeypatch, tmp_path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root writes through a read-only folder")
    frames = await _drill(monkeypatch)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    recorder = Recorder(folder / "r.sqlite", retry_s=0.0)
    recorder.start()
    recorder.record_status(frames[0])
    recorder.stop()
    assert recorder.paused_reason == "file not writable" and "r.sqlite" in recorder.paused_detail
    assert recorder.state.label == "recording paused: file not writable"
    folder.chmod(0o700)


async def test_an_unwritable_file_pauses_and_resumes(monkeypatch, tmp_path) -> None:
    """Injected: the first writes fail as a full disk would; the next open works again."""
    frames = await _drill(monkeypatch)
    path = tmp_path / "r.sqlite"
    failures = [sqlite3.OperationalError("database or disk is full")] * 2
    states = []

    class Flaky(RecordStore):
        def add_frame(self, status, raw=None):
            if failures:
                raise failures.pop()
            return super().add_frame(status, raw)

    def opener(p: Path) -> RecordStore:
        store = RecordStore.open(p)
        store.__class__ = Flaky
        return store

    recorder = Recorder(path, opener=opener, retry_s=0.0)
    recorder.on_change = lambda state: states.append(state.label)
    recorder.start()
    for s in frames:
        recorder.record_status(s)  # never raises, never blocks
    recorder.stop()
    assert states[0] == "recording paused: disk full"
    assert states[-1] == "REC" and recorder.paused_reason is None
    assert recorder.dropped == 2
    with RecordStore.open(path, readonly=True) as store:
        marks = [m.payload["what"] for m in store.items("lab1", kinds=[MARK])]
        assert "resumed" in marks
        assert store.span("lab1") == (frames[2].taken_at, frames[-1].taken_at)


async def test_a_tiny_recording_fills_up_and_pauses(monkeypatch, tmp_path) -> None:
    frames = await _drill(monkeypatch)

    def tiny(p: Path) -> RecordStore:
        store = RecordStore.open(p)
        store._conn.execute("PRAGMA max_page_count = 12")  # a recording that cannot grow: a full disk
        return store

    recorder = Recorder(tmp_path / "r.sqlite", opener=tiny, retry_s=3600)
    recorder.start()
    for i in range(40):
        recorder.record_status(replace(frames[i % len(frames)], taken_at=frames[0].taken_at + i * 100))
    recorder.stop()
    assert recorder.paused_reason == "disk full" and "record_max_mb" in recorder.paused_detail
    assert recorder.dropped > 0


async def test_a_file_locked_by_another_program_pauses(monkeypatch, tmp_path) -> None:
    frames = await _drill(monkeypatch)
    path = tmp_path / "r.sqlite"
    RecordStore.open(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another program holds the file
    recorder = Recorder(path, retry_s=3600).start()
    recorder.record_status(frames[0])
    recorder.stop()
    other.execute("ROLLBACK")
    other.close()
    assert recorder.paused_reason == "file locked" and "database is locked" in recorder.paused_detail


def test_a_full_queue_drops_without_blocking(tmp_path) -> None:
    recorder = Recorder(tmp_path / "r.sqlite", queue_size=2)  # not started: nothing drains the queue
    status = ClusterStatus("c1", 1.0)
    for _ in range(5):
        recorder.record_status(status)
    assert recorder.dropped == 3
    assert recorder.paused_reason == "disk too slow" and "dropped" in recorder.paused_detail


async def test_journal_lines_and_alarm_changes_are_recorded(monkeypatch, tmp_path) -> None:
    frames = await _drill(monkeypatch)
    journal = tmp_path / "journal.jsonl"
    journal.write_text(
        json.dumps({"cluster": "lab1", "when": "2020-01-01T00:00:00Z", "result": "intent"}) + "\n"
    )
    recorder = Recorder(tmp_path / "r.sqlite").start()
    recorder.watch_journal("lab1", journal)
    recorder.record_status(frames[0])
    with journal.open("a") as fh:
        fh.write(json.dumps({"cluster": "lab1", "when": "2026-11-30T00:00:05Z", "result": "verified"}) + "\n")
        fh.write(
            json.dumps({"cluster": "other", "when": "2026-11-30T00:00:05Z", "result": "verified"}) + "\n"
        )
    recorder.record_status(frames[1])
    recorder.record_log(
        "lab1", 1796000003.5, group="db2diag", stream="db2a", message="HADR takeover", source="db2a"
    )
    recorder.stop()
    with RecordStore.open(tmp_path / "r.sqlite", readonly=True) as store:
        lines = store.items("lab1", kinds=[JOURNAL])
        assert [i.payload["result"] for i in lines] == ["verified"]  # only what was written since
        assert lines[0].at == datetime(2026, 11, 30, 0, 0, 5, tzinfo=UTC).timestamp()
        logs = store.items("lab1", kinds=[LOG])
        assert [(i.at, i.payload["message"]) for i in logs] == [(1796000003.5, "HADR takeover")]


def test_alarm_changes_between_snapshots() -> None:
    def with_alarms(*alarms: ClusterAlarm) -> ClusterStatus:
        return ClusterStatus("c1", 100.0, alarms=Part("aws", 100.0, value=tuple(alarms)))

    before = with_alarms(ClusterAlarm("cpu", "OK"), ClusterAlarm("hadr", "OK"))
    after = with_alarms(ClusterAlarm("cpu", "ALARM", since=99.0), ClusterAlarm("hadr", "OK"))
    items = alarm_changes(before, after)
    assert [(i.kind, i.at, i.payload["name"], i.payload["previous"]) for i in items] == [
        (ALARM, 99.0, "cpu", "OK")
    ]
    assert alarm_changes(None, after) == []
    failed = replace(after, alarms=Part("aws", 100.0, error=None))
    assert alarm_changes(before, failed) == []
