"""A drill walk recorded as the recorder would: every poll a frame, the status events between frames, and
the raw output of every command the poll ran (crm_mon XML, db2pd, db2cm...) as RAW items."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from incident_harness import DrillWalk

from services.record.model import ALARM, EVENT, JOURNAL, LOG, RAW, Frame, MemoryRecording, RecordedItem
from services.status.events import diff_snapshots
from services.status.model import ClusterStatus


@dataclass
class RecordedWalk:
    walk: DrillWalk
    recording: MemoryRecording = field(default_factory=MemoryRecording)
    last: ClusterStatus | None = None
    _outputs: list[tuple[str, tuple[str, ...], str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        runner = self.walk.runner
        inner = runner.run

        async def run(host, argv, **kwargs):
            result = await inner(host, argv, **kwargs)
            self._outputs.append((host.name, tuple(argv), result.stdout))
            return result

        runner.run = run  # type: ignore[method-assign]

    @property
    def cluster(self) -> str:
        return self.walk.lab.name

    async def snap(self) -> ClusterStatus:
        self._outputs.clear()
        status = await self.walk.snap()
        rec = self.recording
        rec.add_frame(Frame(status.taken_at, status))
        for host, argv, text in self._outputs:
            payload = {"host": host, "command": shlex.join(argv), "text": text}
            rec.add_item(RecordedItem(status.taken_at, status.cluster, RAW, payload))
        for ev in diff_snapshots(self.last, status):
            payload = {"kind": ev.kind, "message": ev.message, "severity": ev.severity.value}
            rec.add_item(RecordedItem(ev.at, ev.cluster, EVENT, payload))
        self.last = status
        return status

    async def step(self, *waits: float) -> None:
        for wait in waits:
            self.walk.advance(wait)
            await self.snap()

    def add(self, kind: str, payload: dict, at: float | None = None) -> None:
        when = self.walk.clock.now if at is None else at
        self.recording.add_item(RecordedItem(when, self.cluster, kind, payload))


async def kill_primary_walk(monkeypatch) -> RecordedWalk:
    """Healthy, K kill-primary, the failover, R restore, settled: one incident."""
    r = RecordedWalk(DrillWalk(monkeypatch=monkeypatch))
    await r.snap()
    await r.step(2, 2)
    r.walk.lab.kill_primary()
    await r.step(0.5, 1.5, 2, 2, 2, 4, 10, 30)
    r.add(ALARM, {"name": "db2-lab1-hadr-role", "state": "ALARM", "previous": "OK", "reason": "takeover"})
    r.add(
        LOG, {"group": "/db2/diag", "stream": "db2b", "message": "TAKEOVER HADR completed", "source": "diag"}
    )
    r.add(
        JOURNAL,
        {
            "who": "dba",
            "when": "2026-11-30T00:54:10Z",
            "cluster": "lab1",
            "plan": "failover",
            "run_id": "r1",
            "step_id": "start-ec2",
            "step_title": "Start EC2 instance of db2a",
            "target": "db2a",
            "result": "verified",
            "message": "",
            "actions": [{"kind": "aws", "service": "ec2", "operation": "StartInstances", "params": {}}],
            "intent_id": "",
        },
    )
    r.walk.lab.restore()
    await r.step(1, 10, 30, 2, 2)
    return r
