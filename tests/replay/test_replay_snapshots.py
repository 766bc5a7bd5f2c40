"""SVG snapshots of the replay's status and fleet screens with the scrubber, on the recorded K/R drill.

Update after a deliberate change with: pytest tests/replay/test_replay_snapshots.py --snapshot-update
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from replay_recording import Drill, open_replay_logs, record_drill

from services.record.model import Frame
from services.record.replay_feed import ReplayStart, cluster_from_status
from services.settings import Settings
from tui.replay import ReplayApp

SIZE = (160, 50)


@pytest.fixture
async def drill(monkeypatch) -> Drill:
    return await record_drill(monkeypatch)


def _app(drill: Drill, at: float, names: tuple[str, ...], cluster: str | None) -> ReplayApp:
    last = drill.frames[-1].taken_at
    clusters = tuple(cluster_from_status(drill.recording.status_at(n, last)) for n in names)  # type: ignore[arg-type]
    return ReplayApp(
        drill.recording, ReplayStart(names, at, cluster), clusters, settings=Settings(), source="lab1.db"
    )


async def _settle(pilot) -> None:
    await pilot.pause()
    await pilot.pause()


def test_snapshot_replay_status_during_the_failover(snap_compare, drill) -> None:
    app = _app(drill, drill.during_at + 0.4, ("lab1",), "lab1")
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_snapshot_replay_fleet_after_the_takeover(snap_compare, drill) -> None:
    for f in drill.frames:  # a second cluster that stayed healthy all along
        healthy = drill.frames[0]
        drill.recording.add_frame(Frame(f.taken_at, replace(healthy, cluster="prod2", taken_at=f.taken_at)))
    app = _app(drill, drill.took_over_at, ("lab1", "prod2"), None)
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_snapshot_replay_logs_after_the_takeover(snap_compare, drill) -> None:
    """The log screen says it follows the replay (not CloudWatch): the takeover's record, the scrubber."""
    app = _app(drill, drill.took_over_at, ("lab1",), "lab1")

    async def logs(pilot) -> None:
        await _settle(pilot)
        await open_replay_logs(app, pilot)
        await _settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=logs)
