"""The SQLite recording gives back what was recorded: every frame of a kill/restore drill at its time, the
same change times as the in-memory recording, raw evidence once per change, items by kind and time; it
keeps a week within its size, and refuses a foreign or damaged file with a clear error."""

from __future__ import annotations

import sqlite3
import stat
from dataclasses import replace

import pytest
from incident_harness import DrillWalk

from services.record.model import (
    ALARM,
    EVENT,
    JOURNAL,
    RAW,
    Frame,
    MemoryRecording,
    RecordedItem,
    same_state,
)
from services.record.store import (
    CHANGE,
    KEY,
    SKIPPED,
    TICK,
    RawText,
    RecordError,
    RecordStore,
    default_store_path,
)
from services.status.model import ClusterStatus


async def _drill(monkeypatch, steady: int = 4) -> list[ClusterStatus]:
    """A kill/restore drill polled every 2 s, with steady stretches before, during and after."""
    walk = DrillWalk(monkeypatch=monkeypatch)
    frames = []
    for _ in range(steady):
        frames.append(await walk.snap())
        walk.advance(2)
    walk.lab.kill_primary()
    for _ in range(8):
        walk.advance(2)
        frames.append(await walk.snap())
    walk.lab.restore()
    for _ in range(steady + 6):
        walk.advance(2)
        frames.append(await walk.snap())
    return frames


def _near_equal(a: ClusterStatus, b: ClusterStatus) -> bool:
    return a.taken_at == b.taken_at and same_state(a, b)


async def test_every_frame_of_a_drill_comes_back_at_its_time(monkeypatch, tmp_path) -> None:
    frames = await _drill(monkeypatch)
    kinds = []
    with RecordStore.open(tmp_path / "r.sqlite", keyframe_s=20, tick_s=5) as store:
        for status in frames:
            kinds.append(store.add_frame(status).kind)
    assert {KEY, CHANGE, TICK, SKIPPED} <= set(kinds)  # the drill exercised every kind of frame
    memory = MemoryRecording(Frame(s.taken_at, s) for s in frames)
    with RecordStore.open(tmp_path / "r.sqlite", readonly=True) as store:
        assert store.clusters() == ["lab1"]
        assert store.span("lab1") == (frames[0].taken_at, frames[-1].taken_at)
        assert store.change_times("lab1") == memory.change_times("lab1")
        assert len(store.change_times("lab1")) >= 3  # healthy, degraded..., healthy again
        mid = frames[len(frames) // 2].taken_at
        assert store.change_times("lab1", since=mid) == memory.change_times("lab1", since=mid)
        for status, kind in zip(frames, kinds, strict=True):
            back = store.status_at("lab1", status.taken_at)
            assert back is not None
            if kind == TICK:  # exact state; read times within the tolerance
                assert _near_equal(back, status)
            elif kind == SKIPPED:  # not stored: the frame kept before it, in the same state
                assert back.taken_at < status.taken_at and same_state(back, status)
            else:
                assert back == status
            # between two polls: the earlier one
            assert store.status_at("lab1", status.taken_at + 0.5) == back
        assert store.status_at("lab1", frames[0].taken_at - 1) is None
        assert store.status_at("other", frames[0].taken_at) is None
        kept = [s for s, k in zip(frames, kinds, strict=True) if k != SKIPPED]
        listed = list(store.frames("lab1"))
        assert [f.at for f in listed] == [s.taken_at for s in kept]
        assert all(_near_equal(f.status, s) for f, s in zip(listed, kept, strict=True))
        assert [f.at for f in store.frames("lab1", since=kept[3].taken_at)][0] == (kept[3].taken_at)


async def test_a_tick_keeps_the_ages_of_fresh_and_stale_parts(monkeypatch, tmp_path) -> None:
    frames = await _drill(monkeypatch)
    with RecordStore.open(tmp_path / "r.sqlite", keyframe_s=600, tick_s=0) as store:
        written = [store.add_frame(s) for s in frames]
        for status, w in zip(frames, written, strict=True):
            back = store.status_at("lab1", status.taken_at)
            assert back is not None
            for (_, a), (_, b) in zip(_parts(back), _parts(status), strict=True):
                assert abs(a.age(status.taken_at) - b.age(status.taken_at)) < 1.0, w


def _parts(status: ClusterStatus):
    from services.status.poll import iter_parts

    return sorted(iter_parts(status), key=lambda kv: kv[0])


async def test_a_steady_frame_is_far_smaller_than_a_keyframe(monkeypatch, tmp_path) -> None:
    frames = await _drill(monkeypatch, steady=6)
    with RecordStore.open(tmp_path / "r.sqlite", keyframe_s=600, tick_s=0) as store:
        for s in frames:
            store.add_frame(s)
        sizes = dict(
            store._conn.execute("SELECT kind, avg(length(body)) FROM frames GROUP BY kind").fetchall()
        )
        keyframe = store._conn.execute("SELECT sum(length(data)) FROM blobs").fetchone()[0]
    assert sizes[TICK] * 10 < keyframe


async def test_raw_output_is_kept_once_per_change(monkeypatch, tmp_path) -> None:
    frames = await _drill(monkeypatch)
    assert frames[0].crm is not None and "<pacemaker-result" in frames[0].crm.raw
    with RecordStore.open(tmp_path / "r.sqlite", keyframe_s=10_000, tick_s=0) as store:
        written = [store.add_frame(s) for s in frames]
        raws = store.items("lab1", kinds=[RAW])
        assert written[1].kind == TICK and written[1].raw_items == 0
        assert written[0].raw_items >= 5  # crm_mon, quorum, qdevice, db2pd per host, qnetd
        crm = [i for i in raws if i.payload["command"].startswith("crm_mon")]
        assert len(crm) >= 2  # before and after the kill
        assert all("<pacemaker-result" in i.payload["text"] for i in crm)
        assert len(raws) < len(frames) * 5  # not every poll's output
        assert {i.at for i in raws} <= {s.taken_at for s in frames}
        # given explicitly, the same text twice is kept once
        s = replace(frames[-1], taken_at=frames[-1].taken_at + 100, database="OTHER")
        assert store.add_frame(s, raw=[RawText("db2a", "x", "same")]).raw_items == 1
        s2 = replace(s, taken_at=s.taken_at + 1, database="THIRD")
        store.add_frame(s2, raw=[RawText("db2a", "x", "same")])
        assert [
            i.payload["text"] for i in store.items("lab1", kinds=[RAW]) if i.payload["command"] == "x"
        ] == ["same"]


def test_a_memory_recording_reads_items_within_both_ends_like_the_store(tmp_path) -> None:
    items = [RecordedItem(at, "c1", EVENT if at % 2 else RAW, {"n": at}) for at in (5.0, 6.0, 6.0, 7.0, 9.0)]
    memory = MemoryRecording(items=reversed(items))
    with RecordStore.open(tmp_path / "r.sqlite") as store:
        for item in items:
            store.add_item(item)
        for since, until, kinds in [
            (None, None, None),
            (6.0, 7.0, None),
            (6.0, None, [RAW]),
            (None, 6.0, [EVENT]),
            (7.5, 8.5, None),
            (10.0, None, None),
        ]:
            want = [i.payload["n"] for i in store.items("c1", since, until, kinds)]
            assert [i.payload["n"] for i in memory.items("c1", since, until, kinds)] == want
    assert [i.at for i in memory.items("c1", 6.0, 7.0)] == [6.0, 6.0, 7.0]
    assert memory.items("c2") == []


def test_items_by_kind_and_time(tmp_path) -> None:
    with RecordStore.open(tmp_path / "r.sqlite") as store:
        store.add_item(
            RecordedItem(10.0, "c1", EVENT, {"kind": "node_left", "message": "m", "severity": "critical"})
        )
        store.add_item(
            RecordedItem(5.0, "c1", ALARM, {"name": "a", "state": "ALARM", "previous": "OK", "reason": ""})
        )
        store.add_item(RecordedItem(7.0, "c2", JOURNAL, {"kind": "intent"}))
        store.add_item(RecordedItem(8.0, "c1", RAW, {"host": "h", "command": "db2pd", "text": "x" * 5000}))
        assert [i.at for i in store.items("c1")] == [5.0, 8.0, 10.0]
        assert [i.kind for i in store.items("c1", kinds=[EVENT, RAW])] == [RAW, EVENT]
        assert store.items("c1", since=6, until=9)[0].payload["text"] == "x" * 5000
        assert store.clusters() == ["c1", "c2"]
        assert store.span("c1") is None
        with pytest.raises(ValueError, match="unknown item kind"):
            store.add_item(RecordedItem(1.0, "c1", "gossip"))


async def test_retention_by_age_and_size(monkeypatch, tmp_path) -> None:
    frames = await _drill(monkeypatch)
    day = 86_400.0
    with RecordStore.open(tmp_path / "r.sqlite", keyframe_s=10, tick_s=0) as store:
        for d in range(4):  # the drill on four days
            for s in frames:
                store.add_frame(replace(s, taken_at=s.taken_at + d * day))
            store.add_item(RecordedItem(frames[0].taken_at + d * day, "lab1", EVENT, {"day": d}))
        last = frames[-1].taken_at + 3 * day
        store.prune(max_age_s=2.5 * day, now=last)
        span = store.span("lab1")
        assert span is not None and span[0] >= frames[0].taken_at + day
        assert [i.payload["day"] for i in store.items("lab1", kinds=[EVENT])] == [1, 2, 3]
        # every kept frame still reads
        for f in store.frames("lab1"):
            assert f.status.cluster == "lab1"
        before = store.used_bytes()
        assert store.prune(max_bytes=before * 3 // 4) > 0
        span1 = store.span("lab1")
        assert span1 is not None and span1[0] > span[0]  # the oldest went first
        # a limit the last hour alone exceeds keeps the last hour
        store.prune(max_bytes=1)
        span3 = store.span("lab1")
        assert span3 is not None and span3[0] >= last - 3600 - 60 and span3[1] == last
        assert store.used_bytes() < before
        assert store.status_at("lab1", last) is not None
        # the store keeps recording after pruning
        store.add_frame(replace(frames[0], taken_at=last + 2))
        assert store.span("lab1") == (span3[0], last + 2)


def test_a_foreign_or_damaged_file_is_refused_clearly(tmp_path) -> None:
    text = tmp_path / "notes.sqlite"
    text.write_text("not a database at all, just text " * 100)
    with pytest.raises(RecordError, match="is not a db2ops recording"):
        RecordStore.open(text)
    other = tmp_path / "other.sqlite"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(RecordError, match="is not a db2ops recording"):
        RecordStore.open(other, readonly=True)
    with pytest.raises(RecordError, match="no recording there"):
        RecordStore.open(tmp_path / "missing.sqlite", readonly=True)
    newer = tmp_path / "newer.sqlite"
    RecordStore.open(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(RecordError, match="newer db2ops"):
        RecordStore.open(newer)


def test_the_file_is_private(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    path = default_store_path()
    assert path == tmp_path / "state" / "db2ops" / "record.sqlite"
    RecordStore.open(path).close()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_a_reader_reads_while_another_connection_writes(monkeypatch, tmp_path) -> None:
    frames = await _drill(monkeypatch)
    path = tmp_path / "r.sqlite"
    writer = RecordStore.open(path, keyframe_s=10, tick_s=0)
    writer.add_frame(frames[0])
    reader = RecordStore.open(path, readonly=True)
    assert reader.span("lab1") == (frames[0].taken_at, frames[0].taken_at)
    # the writer holds a write transaction open: the reader still reads what was committed
    writer._conn.execute("BEGIN IMMEDIATE")
    writer._conn.execute(
        "INSERT INTO items (cluster, at, kind, body) VALUES ('lab1', 1.0, 'mark', x'6a7b7d')"
    )
    assert reader.status_at("lab1", frames[0].taken_at) == frames[0]
    assert reader.items("lab1", kinds=["mark"]) == []
    writer._conn.execute("COMMIT")
    for s in frames[1:]:
        writer.add_frame(s)
        assert reader.span("lab1") == (frames[0].taken_at, s.taken_at)
    assert reader.change_times("lab1") == writer.change_times("lab1")
    writer.close()
    reader.close()


async def test_a_reopened_recording_goes_on_where_it_stopped(monkeypatch, tmp_path) -> None:
    frames = await _drill(monkeypatch)
    path = tmp_path / "r.sqlite"
    half = len(frames) // 2
    with RecordStore.open(path, keyframe_s=10) as store:
        for s in frames[:half]:
            store.add_frame(s)
    with RecordStore.open(path, keyframe_s=10) as store:
        for s in frames[half:]:
            store.add_frame(s)
        memory = MemoryRecording(Frame(s.taken_at, s) for s in frames)
        assert store.change_times("lab1") == memory.change_times("lab1")


READER = """
import sys
from services.record.store import RecordStore
store = RecordStore.open(sys.argv[1], readonly=True)
print(len(list(store.frames("lab1"))), len(store.change_times("lab1")))
"""


async def test_another_process_reads_while_this_one_writes(monkeypatch, tmp_path) -> None:
    import subprocess
    import sys
    from pathlib import Path

    frames = await _drill(monkeypatch)
    path = tmp_path / "r.sqlite"
    repo = Path(__file__).resolve().parents[2]
    with RecordStore.open(path, tick_s=0) as writer:
        for s in frames[:5]:
            writer.add_frame(s)
        writer._conn.execute("BEGIN IMMEDIATE")  # a write under way, as the recorder's
        writer._conn.execute("DELETE FROM frames")
        out = subprocess.run(
            [sys.executable, "-c", READER, str(path)], capture_output=True, text=True, cwd=repo, check=True
        ).stdout
        writer._conn.execute("ROLLBACK")
        assert out.split() == ["5", str(len(writer.change_times("lab1")))]


async def test_the_last_skipped_snapshot_is_kept_on_close(monkeypatch, tmp_path) -> None:
    frames = (await _drill(monkeypatch))[:4]  # steady, 2 s apart
    with RecordStore.open(tmp_path / "r.sqlite") as store:
        assert [store.add_frame(s).kind for s in frames] == [KEY, SKIPPED, SKIPPED, SKIPPED]
    with RecordStore.open(tmp_path / "r.sqlite", readonly=True) as store:
        assert store.span("lab1") == (
            frames[0].taken_at,
            frames[-1].taken_at,
        )  # the recording ends when it did
        assert [f.at for f in store.frames("lab1")] == [frames[0].taken_at, frames[-1].taken_at]
        assert store.change_times("lab1") == [frames[0].taken_at]
