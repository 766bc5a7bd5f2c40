"""A recording of a K (kill the primary) then R (restore) drill, as the recorder would store it: one
frame per poll (every 2 s while steady, at each moment the drill tests look at) and the state-change
events between consecutive frames."""

from __future__ import annotations

from dataclasses import dataclass

from incident_harness import DrillWalk

from services.record.model import ALARM, EVENT, LOG, Frame, MemoryRecording, RecordedItem
from services.status.events import diff_snapshots
from services.status.model import ClusterStatus

# db2b's db2diag record of the takeover, dated at the takeover's frame (2026-11-30 00:53:36 UTC)
TAKEOVER_RECORD = """\
2026-11-30-00.53.36.000000+000 I1000E402           LEVEL: Event
PID     : 255662               TID : 139733690738432 PROC : db2sysc 0
INSTANCE: db2inst1             NODE : 000            DB   : HADRDB
HOSTNAME: db2b
EDUID   : 128                  EDUNAME: db2hadrp.0.1 (HADRDB) 0
FUNCTION: DB2 UDB, High Availability Disaster Recovery, hdrSetHdrRoleToPrimary, probe:10000
CHANGE  : HADR role set to Primary
"""


@dataclass
class Drill:
    recording: MemoryRecording
    frames: list[ClusterStatus]
    killed_at: float  # the first frame after the kill (failover in progress)
    during_at: float  # 1.5 s after the kill, still promoting
    took_over_at: float  # db2b is primary
    restored_at: float  # the first frame after the restore


async def record_drill(monkeypatch) -> Drill:
    walk = DrillWalk(monkeypatch=monkeypatch)
    frames: list[ClusterStatus] = []
    for _ in range(3):
        frames.append(await walk.snap())
        walk.advance(2)
    walk.lab.kill_primary()
    walk.advance(0.5)
    frames.append(killed := await walk.snap())
    walk.advance(1.0)
    frames.append(during := await walk.snap())
    walk.advance(8.5)
    frames.append(took_over := await walk.snap())
    for _ in range(3):
        walk.advance(2)
        frames.append(await walk.snap())
    walk.lab.restore()
    walk.advance(1)
    frames.append(restored := await walk.snap())
    walk.advance(30)
    frames.append(await walk.snap())
    items = [
        RecordedItem(
            e.at, e.cluster, EVENT, {"kind": e.kind, "message": e.message, "severity": e.severity.value}
        )
        for prev, cur in zip(frames, frames[1:], strict=False)
        for e in diff_snapshots(prev, cur)
    ]
    # what the timeline also records: db2b's db2diag line of the takeover, the role alarm 2 s later
    at = took_over.taken_at
    items.append(
        RecordedItem(
            at,
            "lab1",
            LOG,
            {
                "group": "db2-diagnostics-logs",
                "stream": "Db2 - db2b",
                "message": TAKEOVER_RECORD,
                "source": "diag",
            },
        )
    )
    items.append(
        RecordedItem(
            at + 2,
            "lab1",
            ALARM,
            {"name": "db2ops-lab1-hadr-role", "state": "ALARM", "previous": "OK", "reason": "role changed"},
        )
    )
    rec = MemoryRecording((Frame(f.taken_at, f) for f in frames), items)
    return Drill(rec, frames, killed.taken_at, during.taken_at, took_over.taken_at, restored.taken_at)


async def open_replay_logs(app, pilot):
    """Open the replay's log screen and wait until it holds the records up to the replay's time: the app
    fills it just after the screen's first refresh, which a loaded machine may not reach in one pause."""
    from tui.replay_screens import ReplayLogsScreen

    app.run_command("logs")
    for _ in range(200):
        await pilot.pause()
        if isinstance(app.screen, ReplayLogsScreen) and app.screen.ready:
            return app.screen
    raise AssertionError(f"the replay's log screen never filled: {app.screen!r}")
