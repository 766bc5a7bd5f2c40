"""Clusters polled together start their commands one event-loop pass apart (StatusService's launch turn)."""

from __future__ import annotations

import asyncio

from services.inventory.model import Cluster, Host, Inventory
from services.ssh.pool import CommandResult
from services.status.service import StatusService


def _cluster(name: str) -> Cluster:
    return Cluster(name=name, hosts=(Host(f"{name}a", "10.0.0.1"), Host(f"{name}b", "10.0.0.2")))


class _RecordingRunner:
    """Records which host each command started on; the first command of cluster A also schedules a
    callback, standing for I/O the event loop handles on its next pass (e.g. a channel-open answer)."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def run(self, host, argv, **_):
        if not self.events:
            asyncio.get_running_loop().call_soon(self.events.append, "next loop pass")
        self.events.append(host.name)
        return CommandResult(host.name, tuple(argv), " ".join(argv), 127, "", "not found\n", 0.0)


async def test_a_loop_pass_runs_between_two_clusters_launches() -> None:
    runner = _RecordingRunner()
    service = StatusService(Inventory(clusters=(_cluster("A"), _cluster("B"))), runner, aws_route=False)
    snaps = await service.snapshot_all()
    assert [s.cluster for s in snaps] == ["A", "B"]
    first_b = runner.events.index("Ba")
    assert runner.events.index("next loop pass") < first_b
    assert set(runner.events[:first_b]) == {"Aa", "Ab", "next loop pass"}  # all of A's commands went first
    assert runner.events.count("Aa") == 4 and runner.events.count("Bb") == 4


async def test_a_cancelled_snapshot_releases_the_turn_for_the_others() -> None:
    runner = _RecordingRunner()
    service = StatusService(Inventory(clusters=(_cluster("A"), _cluster("B"))), runner, aws_route=False)
    first = asyncio.ensure_future(service.snapshot(_cluster("A")))
    await asyncio.sleep(0)
    first.cancel()
    snap = await asyncio.wait_for(service.snapshot(_cluster("B")), 5)
    assert snap.cluster == "B" and "Ba" in runner.events
