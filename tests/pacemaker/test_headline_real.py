"""The incident headline (services/status/incident.py) on the REAL Pacemaker lab, polled as fast as the status
service answers while the cluster changes: during and after `crm resource move`, and during and after the
crash of the promoted node. Each snapshot is a one-shot headless `status` (gather_cluster_status, no earlier
snapshot), like `db2ops status --json`. Run with `pytest -m pacemaker` (root, the Debian packages)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from lab.pacemaker import SCRIPT
from services.status.incident import Headline, build_headline, transition_pending
from services.status.model import ClusterStatus
from services.status.service import gather_cluster_status

from .cluster_walk import CLONE, Walk

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "status"))

from incident_checks import check_advice, recommends_cleanup  # noqa: E402

pytestmark = pytest.mark.pacemaker

WAIT_S = 45.0  # every transition measured on this lab takes < 11 s (TIMINGS.txt)
NODES = ("db2a", "db2b")


def _other(node: str) -> str:
    return next(n for n in NODES if n != node)


async def _watch(walk: Walk, done, seconds: float = WAIT_S) -> list[tuple[ClusterStatus, Headline]]:
    """Poll until `done(status)` (or `seconds` pass); every snapshot with its headline, the last one done."""
    seen: list[tuple[ClusterStatus, Headline]] = []
    started = time.monotonic()
    while True:
        status = await gather_cluster_status(walk.cluster, walk.pool, aws_route=False)
        head = build_headline(status, status.taken_at)
        seen.append((status, head))
        if done(status) or time.monotonic() - started > seconds:
            return seen


def _both_peer(status: ClusterStatus, primary: str) -> bool:
    crm = status.crm.value if status.crm and status.crm.ok else None
    hadr = [p.value for p in status.hadr.values() if p.ok and p.value is not None and p.value.streams]
    return (
        crm is not None
        and status.promoted_node == primary
        and all(n.online for n in crm.nodes)
        and len(hadr) == 2
        and all(h.streams[0].state == "PEER" for h in hadr)
    )


def _report(seen: list[tuple[ClusterStatus, Headline]]) -> str:
    return "\n".join(f"{s.promoted_node}: [{h.code}] {h.title} -> {h.hint}" for s, h in seen)


def _check_every_snapshot(seen: list[tuple[ClusterStatus, Headline]], new: str) -> None:
    for status, head in seen:
        check_advice(status, head, head.title)
        if status.promoted_node is None:
            # during the promotion: said as such, and nothing advises a cleanup
            hints = [head.hint, *(v.hint for v in status.verdicts)]
            assert not [h for h in hints if recommends_cleanup(h)], _report(seen)
            crm = status.crm.value if status.crm and status.crm.ok else None
            if crm is not None and crm.with_quorum:
                assert head.code == "failover_in_progress", _report(seen)
                assert f"{new}" in head.title, _report(seen)
        if transition_pending(status):
            assert head.code != "healthy" or status.promoted_node is not None, _report(seen)


@pytest.fixture
async def walk(pcmk_lab):
    w = Walk(pcmk_lab.cluster, SCRIPT, pcmk_lab.env)
    # start from healthy whatever an earlier run left (all idempotent, as the session walk does)
    w.lab("start-qnetd")
    for node in NODES:
        w.lab("start-node", node)
    await w.crm("db2a", "resource", "clear", CLONE)
    for node in NODES:
        await w.crm("db2a", "node", "online", node)
    w.lab("wait-promoted", "any", "60")
    try:
        yield w
    finally:
        # leave it healthy for the session walk: every node up, no move constraint
        for node in NODES:
            w.lab("start-node", node)
        await w.crm("db2a", "resource", "clear", CLONE)
        w.lab("wait-promoted", "any", "60")
        await w.pool.close()


async def test_headline_during_and_after_crm_resource_move(walk: Walk) -> None:
    first = await _watch(walk, lambda s: s.promoted_node is not None and _both_peer(s, s.promoted_node))
    primary = first[-1][0].promoted_node
    assert primary is not None and first[-1][1].code == "healthy", _report(first)
    target = _other(primary)
    # poll while the move runs: the snapshots between the two healthy pictures are the transition
    watching = asyncio.ensure_future(_watch(walk, lambda s: _both_peer(s, target)))
    await asyncio.sleep(0.3)  # a snapshot or two of the healthy cluster first
    await walk.crm(primary, "resource", "move", CLONE, target)
    seen = await watching
    await walk.crm(primary, "resource", "clear", CLONE)
    _check_every_snapshot(seen, target)
    last_status, last = seen[-1]
    assert last_status.promoted_node == target, _report(seen)
    assert last.code == "healthy" and last.title.startswith(f"Healthy: {target} is primary"), _report(seen)
    middle = [h for s, h in seen if s.promoted_node != primary and s.promoted_node != target]
    for head in middle:
        assert head.code == "failover_in_progress", _report(seen)
        assert head.title.startswith(
            (
                f"switchover in progress: Pacemaker is moving the primary role from {primary} to {target}",
                f"promotion in progress: Pacemaker is promoting {target}",
            )
        ), _report(seen)
        assert head.hint.startswith(f"wait for Pacemaker to finish moving the primary role to {target}")


async def test_headline_during_and_after_a_crash_of_the_promoted_node(walk: Walk) -> None:
    first = await _watch(walk, lambda s: s.promoted_node is not None and _both_peer(s, s.promoted_node))
    crashed = first[-1][0].promoted_node
    assert crashed is not None, _report(first)
    survivor = _other(crashed)
    walk.lab("crash-node", crashed)

    def taken_over(s: ClusterStatus) -> bool:
        crm = s.crm.value if s.crm and s.crm.ok else None
        node = crm.node(crashed) if crm else None
        return s.promoted_node == survivor and node is not None and not node.online

    seen = await _watch(walk, taken_over)
    _check_every_snapshot(seen, survivor)
    status, head = seen[-1]
    assert taken_over(status), _report(seen)
    # the first verdict names the takeover and the new primary
    assert status.verdicts[0].code == "failover_completed", _report(seen)
    assert head.code == "failover_completed"
    assert head.title.startswith(f"{survivor} took over as HADR primary at "), head.title
    assert head.title.endswith("running without a standby"), head.title
    # its sshd survived, Pacemaker reports it offline: the cause, not an SSH problem
    assert crashed not in status.host_errors
    assert f"{crashed}: host down or instance stopped (Pacemaker reports it offline)" in head.consequences
    assert head.hint.startswith(f"one more failure stops the database: bring {crashed} back as standby")
    # a moment later (no earlier snapshot to lean on) it still says the same
    again = await gather_cluster_status(walk.cluster, walk.pool, aws_route=False)
    assert build_headline(again, again.taken_at).code == "failover_completed"

    walk.lab("start-node", crashed)
    back = await _watch(walk, lambda s: _both_peer(s, survivor))
    _check_every_snapshot(back, survivor)
    assert back[-1][1].title.startswith(f"Healthy: {survivor} is primary"), _report(back)
