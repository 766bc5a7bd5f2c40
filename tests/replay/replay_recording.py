"""A recording of a K (kill the primary) then R (restore) drill, as the recorder would store it: one
frame per poll (every 2 s while steady, at each moment the drill tests look at) and the state-change
events between consecutive frames."""

from __future__ import annotations

from dataclasses import dataclass

from incident_harness import DrillWalk

from services.record.model import EVENT, Frame, MemoryRecording, RecordedItem
from services.status.events import diff_snapshots
from services.status.model import ClusterStatus


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
    rec = MemoryRecording((Frame(f.taken_at, f) for f in frames), items)
    return Drill(rec, frames, killed.taken_at, during.taken_at, took_over.taken_at, restored.taken_at)
