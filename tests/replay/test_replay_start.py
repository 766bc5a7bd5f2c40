"""Where a replay starts and why it cannot: `--at` times and durations, `--incident N` (through
find_incidents), `--bundle` (through open_bundle), and clear errors for no recording, an unknown cluster,
a time outside the recorded span (named), a bad bundle."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass
from pathlib import Path

import pytest
from replay_recording import Drill, record_drill

from services.record.model import MemoryRecording
from services.record.replay_feed import (
    ReplayClock,
    ReplayError,
    ReplayFeeder,
    open_reader,
    parse_when,
    resolve_start,
    timeline_until,
)
from services.status.poll import ClusterFeed

BASE = 1_796_000_053.0  # 2026-11-30 00:54:13 UTC


@pytest.fixture
async def drill(monkeypatch) -> Drill:
    return await record_drill(monkeypatch)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("00:53:36", 1_796_000_016.0),
        ("00:53", 1_796_000_000.0 - 20),
        ("2026-11-30 00:53:27", 1_796_000_007.0),
        ("2026-11-30T00:53:27Z", 1_796_000_007.0),
        ("10m", BASE - 600),
        ("-5m", BASE - 300),
        ("+30s", BASE + 30),
        ("1h30m", BASE - 5400),
    ],
)
def test_times_and_durations(text: str, expected: float) -> None:
    assert parse_when(text, base=BASE) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no time given"),
        ("soon", "cannot read the time 'soon'"),
        ("25:00", "not a valid time"),
        ("2026-13-01", "not a valid time"),
    ],
)
def test_an_unreadable_time_names_the_forms(text: str, words: str) -> None:
    with pytest.raises(ReplayError, match=words) as err:
        parse_when(text, base=BASE)
    assert "03:12" in str(err.value) or "no time" in str(err.value)


def test_at_refuses_the_future() -> None:
    with pytest.raises(ReplayError, match="in the future"):
        parse_when("+5m", base=BASE, forward_ok=False)


async def test_start_at_a_clock_time_of_the_recording_day_and_a_duration_ago(drill) -> None:
    start = resolve_start(drill.recording, cluster="lab1", at="00:53:36", now=BASE + 86_400 * 6)
    assert (start.at, start.clusters, start.cluster) == (drill.took_over_at, ("lab1",), "lab1")
    assert resolve_start(drill.recording, at="30s", now=BASE + 1).at == BASE - 29
    assert resolve_start(drill.recording).at == BASE  # no --at: the last frame


async def test_a_time_outside_the_span_says_the_span(drill) -> None:
    with pytest.raises(ReplayError) as err:
        resolve_start(drill.recording, cluster="lab1", at="2026-12-06 03:12", now=BASE)
    assert "outside lab1's recorded span 2026-11-30 00:53:20 UTC – 2026-11-30 00:54:13 UTC" in str(err.value)
    with pytest.raises(ReplayError, match="outside"):
        resolve_start(drill.recording, at="1h", now=BASE)


async def test_no_recording_and_an_unknown_cluster(drill) -> None:
    with pytest.raises(ReplayError, match="holds no status frame: recording starts with the console"):
        resolve_start(MemoryRecording(), where="/tmp/x.db")
    with pytest.raises(
        ReplayError, match=r"no recording of cluster 'prod9' in the recording; recorded: lab1"
    ):
        resolve_start(drill.recording, cluster="prod9")
    with pytest.raises(ReplayError, match="not both"):
        resolve_start(drill.recording, at="1m", incident=1)


@dataclass
class FakeIncident:
    number: int
    cluster: str
    start: float
    end: float | None
    summary: str
    severity: str = "critical"


def _fake_module(monkeypatch, name: str, **attrs) -> None:
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    monkeypatch.setitem(sys.modules, name, module)


async def test_incident_n_starts_at_its_first_degraded_snapshot(drill, monkeypatch) -> None:
    asked = []

    def find_incidents(reader, cluster, since=None, until=None):
        asked.append((reader, cluster))
        return [FakeIncident(1, cluster, drill.killed_at, drill.frames[-1].taken_at, "db2b took over")]

    _fake_module(monkeypatch, "services.record.incidents", find_incidents=find_incidents)
    start = resolve_start(drill.recording, incident=1)
    assert (start.at, start.cluster) == (drill.killed_at, "lab1")
    assert start.note == "incident 1: db2b took over" and asked == [(drill.recording, "lab1")]
    with pytest.raises(
        ReplayError, match=r"no incident 4 of lab1 in the recording; incidents: 1 \(2026-11-30"
    ):
        resolve_start(drill.recording, incident=4)


async def test_incident_needs_a_cluster_when_several_are_recorded(drill, monkeypatch) -> None:
    from dataclasses import replace

    from services.record.model import Frame

    f = drill.frames[0]
    drill.recording.add_frame(Frame(f.taken_at, replace(f, cluster="lab2")))
    _fake_module(monkeypatch, "services.record.incidents", find_incidents=lambda *a, **k: [])
    with pytest.raises(ReplayError, match="--incident needs --cluster: the recording holds lab1, lab2"):
        resolve_start(drill.recording, incident=1)


class FakeBundleError(ValueError):
    pass


async def test_bundle_opens_through_open_bundle_and_a_bad_one_is_refused(
    drill, monkeypatch, tmp_path
) -> None:
    good, bad = tmp_path / "good.tar.gz", tmp_path / "bad.tar.gz"
    good.write_bytes(b"x")
    bad.write_bytes(b"y")

    def open_bundle(path: Path):
        if path == bad:
            raise FakeBundleError("manifest.json is missing")
        return drill.recording

    _fake_module(monkeypatch, "services.record.bundle", open_bundle=open_bundle, BundleError=FakeBundleError)
    opened = open_reader(bundle=good)
    assert (opened.reader, opened.name, opened.reopen()) == (
        drill.recording,
        "bundle good.tar.gz",
        drill.recording,
    )
    with pytest.raises(ReplayError, match=r"cannot open the bundle .*bad.tar.gz: manifest.json is missing"):
        open_reader(bundle=bad)
    with pytest.raises(ReplayError, match="no bundle at .*none.tar.gz"):
        open_reader(bundle=tmp_path / "none.tar.gz")


def test_a_missing_store_says_how_recording_starts(monkeypatch, tmp_path) -> None:
    opened = []
    store = types.SimpleNamespace(
        open=lambda path, readonly=False: opened.append((path, readonly)) or "reader"
    )
    _fake_module(
        monkeypatch,
        "services.record.store",
        RecordStore=store,
        default_store_path=lambda: tmp_path / "rec.db",
    )
    with pytest.raises(ReplayError, match=r"no recording at .*rec.db: the console records .*--bundle FILE"):
        open_reader()
    (tmp_path / "rec.db").write_bytes(b"")
    found = open_reader()
    assert (found.reader, found.name) == ("reader", str(tmp_path / "rec.db"))
    assert found.reopen() == "reader"  # the incident list's thread opens the store again
    assert opened == [(tmp_path / "rec.db", True)] * 2  # read-only: a replay never writes the store


async def test_the_recorded_drill_has_its_incident_and_replay_starts_there(drill) -> None:
    """The real find_incidents (rec-bundle) on the recorded K/R drill: one incident, from the kill."""
    start = resolve_start(drill.recording, incident=1)
    assert (start.at, start.cluster) == (drill.killed_at, "lab1")
    assert start.note.startswith("incident 1: ")


async def test_feeder_sets_status_and_events_at_a_time_and_back(drill) -> None:
    feeder = ReplayFeeder(drill.recording, ["lab1"])
    feed = ClusterFeed(__import__("services.inventory.model", fromlist=["Cluster"]).Cluster("lab1"))
    feeder.apply(drill.took_over_at, {"lab1": feed})
    assert feed.status is not None and feed.status.taken_at == drill.took_over_at
    assert feed.events_total == 8
    feeder.apply(drill.frames[0].taken_at, {"lab1": feed})
    assert feed.events_total == 0 and not feed.events
    feeder.apply(drill.frames[0].taken_at - 10, {"lab1": feed})
    assert feed.status is None and feed.view("crm", 0, 2).shown is None


async def test_timeline_until_holds_only_what_was_recorded_by_then(drill) -> None:
    before = timeline_until(drill.recording, "lab1", drill.killed_at - 1)
    after = timeline_until(drill.recording, "lab1", drill.took_over_at)
    assert len(before) == 0
    assert any("overlay IP" in e.title for e in after.entries())


def test_the_clock_plays_within_the_span_and_stops_at_its_end() -> None:
    clock = ReplayClock(at=5, start=0, end=20)
    assert clock.tick(3) == 5  # paused
    clock.toggle_play()
    assert clock.cycle_speed() == 10
    assert clock.tick(1) == 15
    assert clock.tick(1) == 20 and not clock.playing
    assert not clock.toggle_play()  # at the end: nothing to play
    assert clock.set(-4) == 0


def test_cli_replay_errors_exit_2_with_the_reason(monkeypatch, tmp_path, capsys) -> None:
    from tui.cli import main

    store = types.SimpleNamespace(open=lambda path, readonly=False: MemoryRecording())
    _fake_module(
        monkeypatch,
        "services.record.store",
        RecordStore=store,
        default_store_path=lambda: tmp_path / "rec.db",
    )
    assert main(["replay", "--cluster", "lab1"]) == 2
    assert "no recording at" in capsys.readouterr().err
    (tmp_path / "rec.db").write_bytes(b"")
    assert main(["replay", "--store", str(tmp_path / "rec.db")]) == 2
    assert "holds no status frame" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["replay", "--at", "5m", "--incident", "2"])
    assert "not allowed with argument" in capsys.readouterr().err
