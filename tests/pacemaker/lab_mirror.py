"""The embedded (pure-Python) lab put in the same states as the real cluster, and a runner that answers
db2ops' status commands from it without SSH, so both can be compared through the same status service.

Name mapping lab <-> real: the Db2 nodes are db2a/db2b in both; the quorum host is `qdev` in the lab and
`qnetd` in the real lab. A crashed lab host refuses SSH, while a crashed real node keeps its sshd: facts
that only come from reachability are left out of the comparison (see `shape`).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

import pytest

state_mod = pytest.importorskip("lab.state", reason="the embedded lab (lab/state.py) is not available")
commands = pytest.importorskip("lab.commands", reason="the embedded lab's commands are not available")

from services.inventory.model import Host  # noqa: E402
from services.ssh.pool import CommandResult, HostUnreachable  # noqa: E402
from services.status.model import ClusterStatus  # noqa: E402

REAL_TO_LAB = {"db2a": "db2a", "db2b": "db2b", "qnetd": "qdev"}
# verdicts that depend on whether a crashed host still answers SSH (lab: no, real: yes)
REACHABILITY_VERDICTS = frozenset({"host_unreachable", "pacemaker_unavailable"})


class FakeClock:
    def __init__(self, start: float = 1_790_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class LabRunner:
    """HostRunner over a LabCluster: answers like the lab's SSH hosts, without a network."""

    def __init__(self, cluster) -> None:
        self.cluster = cluster

    async def run(self, host: Host, argv: Sequence[str], **_: object) -> CommandResult:
        """Answer `argv` from the lab host (timeout, input and check are not needed here)."""
        lab_host = self.cluster.hosts[REAL_TO_LAB[host.name]]
        if not lab_host.up:
            raise HostUnreachable(f"{host.name}: connection refused (lab host is down)", host.name)
        rc, out, err = commands.run_command(self.cluster, lab_host, list(argv))
        return CommandResult(host.name, tuple(argv), shlex.join(argv), rc, out, err, 0.0)


def lab_in_state(state: str, context: dict[str, str], promoted_before: str):
    """Return (LabCluster, clock) after the lab's own drills for `state`, with time past every transition.

    `promoted_before` is the node the real cluster had promoted when the change was made; `context` is the
    walk's (moved_to, crashed...). Raises KeyError for a state the lab does not model.
    """
    clock = FakeClock()
    lab = state_mod.LabCluster("pcmk", clock=clock, failover_delay_s=2.0)
    if lab.promoted != promoted_before:
        lab.move_primary(promoted_before)
    clock.advance(30)
    lab.tick()
    if state in ("healthy", "recovered"):
        pass
    elif state == "moved":
        lab.move_primary(context["moved_to"])
    elif state == "node-crash":
        lab.kill_node(context["crashed"])
    elif state == "qnetd-down":
        lab.stop_qnetd()
    elif state == "no-quorum":
        lab.stop_qnetd()
        clock.advance(30)
        lab.tick()
        lab.kill_node(context["crashed"])
    else:
        raise KeyError(f"the embedded lab has no drill for {state!r}")
    clock.advance(30)  # past failover_delay_s and catch-up
    lab.tick()
    return lab, clock


def _overlay_ip_named_alike(rsc_id: str) -> str:
    # Both labs now use the HA plan's name (…_AWS_primary-OIP); the old pre-built name is still accepted
    # so a capture taken before the rename compares alike. Compare where it runs.
    return "<overlay-IP resource>" if rsc_id.endswith(("_AWS_primary-OIP", "-AWS-primary-OIP")) else rsc_id


def shape(status: ClusterStatus) -> dict[str, object]:
    """The facts both labs must agree on (node names are the same in both)."""
    crm = status.crm.value if status.crm and status.crm.ok else None
    clone_roles: list[tuple[str, str]] = []
    if crm is not None and crm.promotable_clones:
        clone_roles = sorted(
            (node, inst.role) for inst in crm.promotable_clones[0].instances for node in inst.nodes
        )
    qnetd = None
    if status.qnetd is not None and status.qnetd.ok:
        qnetd = sorted(
            (c.node_id, "ACK" in c.vote and "NACK" not in c.vote)
            for cl in status.qnetd.value.clusters
            for c in cl.clients
        )
    return {
        "promoted": status.promoted_node,
        "pacemaker connected": None if crm is None else crm.connected,
        "online nodes": None if crm is None else sorted(n.name for n in crm.nodes if n.online),
        "standby nodes": None if crm is None else sorted(n.name for n in crm.nodes if n.standby),
        "quorate (pacemaker)": None if crm is None else crm.with_quorum,
        "DC present": None if crm is None else crm.dc is not None,
        "clone instances": clone_roles,
        "started primitives": None
        if crm is None
        else sorted(
            (_overlay_ip_named_alike(r.id), tuple(r.nodes))
            for r in crm.resources
            if r.active  # db2cm's db2ethmon monitors included: both labs have one per Db2 host
        ),
        "quorum (corosync)": {
            h: (p.value.quorate, p.value.total_votes, p.value.expected_votes, p.value.has_qdevice)
            for h, p in sorted(status.quorum.items())
            if p.ok
        },
        "qdevice state": {h: p.value.state for h, p in sorted(status.qdevice.items()) if p.ok},
        "qnetd clients (node, ACK)": qnetd,
        "HADR (role, state, connect)": {
            h: (p.value.role, p.value.state, p.value.streams[0].connect_status)
            for h, p in sorted(status.hadr.items())
            if p.ok and p.value.activated
        },
        "verdicts": sorted({v.code for v in status.verdicts} - REACHABILITY_VERDICTS),
    }
