"""Drive the REAL Pacemaker lab through the issue-4 states and record what db2ops reports in each.

The walk runs once per test session (conftest.py): for every state it makes the change on the real cluster
(over the same SSH db2ops uses, or by the lab script for crashes), then polls
services.status.service.gather_cluster_status until the expected picture appears or 45 s pass, and records the
last snapshot with whatever still differed. Tests assert on the recorded observations, so a wrong report
fails with the exact difference; nothing here sleeps a fixed time.

Given a Recorder, every snapshot the walk gathers also goes to it (`record_status`, as the console's poll
loop does), and each observation notes the wall time the walk accepted its state (`accepted_at`): the
replay tests (test_replay_real.py) look for each state in the recording at that time.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.inventory.model import Cluster
from services.record.recorder import Recorder
from services.ssh.pool import SshPool
from services.status.model import ClusterStatus
from services.status.service import gather_cluster_status

CLONE = "db2_db2inst1_db2inst1_HADRDB-clone"
# in walk order; the -cleared/-rejoined ones check the cluster is healthy again before the next change
STATES = (
    "healthy",
    "moved",
    "move-cleared",
    "node-standby",
    "standby-cleared",
    "node-crash",
    "crash-rejoined",
    "qnetd-down",
    "no-quorum",
    "recovered",
)
WAIT_S = 45.0  # every transition measured here takes < 11 s (shared/notes/pacemaker-lab.md)
POLL_S = 0.5
ANY = "*"  # Expect.promoted: any node, as long as exactly one is promoted
OIP = "db2_db2inst1_db2inst1_HADRDB_AWS_primary-OIP"  # the HA plan's overlay-IP resource (real agent)
ON_PROMOTED = "<promoted>"  # Expect.started: on whichever node is promoted


def instance(node: str) -> str:
    return f"db2_{node}_db2inst1_0"


@dataclass
class Expect:
    """What db2ops must report in one state. None means "not checked"."""

    promoted: str | None
    online: dict[str, bool]
    quorate: bool
    verdicts: frozenset[str]
    standby: dict[str, bool] = field(default_factory=dict)
    qdevice_connected: dict[str, bool] = field(default_factory=dict)  # per node whose qdevice answers
    qnetd_clients: int | None = None  # None: qnetd must not answer
    hadr_roles: dict[str, str | None] = field(default_factory=dict)  # None: database not activated
    hadr_states: dict[str, str] = field(default_factory=dict)
    crm_source: str | None = None
    # primitive id -> node it must be Started on (None: stopped). Waiting for these makes a snapshot taken
    # mid-transition (promoted, but the overlay IP not started yet) keep polling instead of being recorded.
    started: dict[str, str | None] = field(default_factory=dict)
    # node -> role of the HADR clone instance there (Promoted/Unpromoted); nodes not listed run none.
    # None: not checked. ON_PROMOTED as a key stands for the promoted node, "<other>" for the other one.
    clone: dict[str, str] | None = None


@dataclass
class Observation:
    state: str
    expect: Expect
    status: ClusterStatus | None
    mismatches: list[str]
    seconds: float  # from the change to the first snapshot showing all of `expect`
    crm_mon_xml: str = ""  # raw `crm_mon -1 --output-as=xml` from the node that spoke for the cluster
    context: dict[str, str] = field(default_factory=dict)  # e.g. which node was crashed
    accepted_at: float = 0.0  # wall time (epoch) when the walk took its last snapshot as the state's


def mismatches(status: ClusterStatus, want: Expect) -> list[str]:
    """Return every difference between what db2ops reports and `want` (empty when all match)."""
    out: list[str] = []

    def check(what: str, got: object, expected: object) -> None:
        if got != expected:
            out.append(f"{what}: db2ops says {got!r}, expected {expected!r}")

    crm = status.crm.value if status.crm and status.crm.ok else None
    if want.promoted == ANY:
        check("a promoted node", status.promoted_node is not None, True)
    else:
        check("promoted node", status.promoted_node, want.promoted)
    if crm is None:
        out.append(f"no Pacemaker status: {status.crm.error if status.crm else 'missing'}")
    else:
        for node, online in want.online.items():
            n = crm.node(node)
            check(f"{node} online", n.online if n else None, online)
        for node, standby in want.standby.items():
            n = crm.node(node)
            check(f"{node} standby", n.standby if n else None, standby)
        check("Pacemaker with_quorum", crm.with_quorum, want.quorate)
        running = {r.id: r.nodes for r in crm.resources if r.active}
        for rsc, node in want.started.items():
            node = status.promoted_node if node == ON_PROMOTED else node
            check(f"{rsc} started on", running.get(rsc, ()), (node,) if node else ())
        if want.clone is not None:
            promoted = status.promoted_node or "(no promoted node)"
            other = next((n for n in ("db2a", "db2b") if n != promoted), "(no other node)")
            names = {ON_PROMOTED: promoted, "<other>": other}
            expected = sorted((names.get(n, n), role) for n, role in want.clone.items())
            clones = crm.promotable_clones
            got = sorted((n, r.role) for r in clones[0].instances for n in r.nodes) if clones else []
            check("HADR clone instances", got, expected)
        if want.crm_source:
            check("crm_mon source", status.crm.source if status.crm else None, want.crm_source)
    for node, connected in want.qdevice_connected.items():
        part = status.qdevice.get(node)
        check(f"qdevice on {node} connected", part.value.connected if part and part.ok else None, connected)
    if want.qnetd_clients is None:
        check("qnetd answers", bool(status.qnetd and status.qnetd.ok), False)
    else:
        clusters = status.qnetd.value.clusters if status.qnetd and status.qnetd.ok else ()
        clients = [c for cl in clusters for c in cl.clients]
        check("qnetd clients", len(clients), want.qnetd_clients)
        bad = [c.vote for c in clients if "NACK" in c.vote or "ACK" not in c.vote]
        check("qnetd votes without ACK", bad, [])
    for node, role in want.hadr_roles.items():
        part = status.hadr.get(node)
        got = None if part is None or not part.ok else (part.value.role if part.value.activated else None)
        check(f"HADR role on {node}", got, role)
    for node, hstate in want.hadr_states.items():
        part = status.hadr.get(node)
        check(f"HADR state on {node}", part.value.state if part and part.ok else None, hstate)
    check("verdict codes", frozenset(v.code for v in status.verdicts), want.verdicts)
    return out


class Walk:
    """Owns the SSH pool and the lab script for one pass through STATES."""

    def __init__(
        self, cluster: Cluster, script: Path, env: dict[str, str], recorder: Recorder | None = None
    ) -> None:
        self.cluster = cluster
        self.recorder = recorder
        self.script = script
        self.env = env
        self.pool = SshPool(config_paths=[], command_timeout=30.0, reconnect_backoff=(0.2, 1.0))
        self.observations: dict[str, Observation] = {}

    def lab(self, *args: str) -> str:
        """Run a pcmk-lab.sh subcommand (crash-node, start-node, stop-qnetd...) and return its stdout."""
        done = subprocess.run(
            ["bash", str(self.script), *args], env=self.env, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"pcmk-lab.sh {' '.join(args)} failed: {done.stderr.strip()[-600:]}")
        return done.stdout

    async def crm(self, node: str, *args: str) -> None:
        """Run a crmsh command on `node` over SSH, as db2ops' plans do."""
        res = await self.pool.run(self.cluster.host(node), ["crm", *args], timeout=60)  # type: ignore[arg-type]
        if res.exit_status != 0:
            raise RuntimeError(
                f"crm {' '.join(args)} on {node} exited {res.exit_status}: {res.stderr[-400:]}"
            )

    async def settle(self, state: str, want: Expect, since: float, **context: str) -> Observation:
        """Poll db2ops' status until it matches `want` (or WAIT_S pass); record and return the observation."""
        status: ClusterStatus | None = None
        diff: list[str] = ["never polled"]
        while True:
            status = await gather_cluster_status(self.cluster, self.pool, aws_route=False)
            if self.recorder is not None:
                self.recorder.record_status(status)  # a queue put, as in the console's poll loop
            diff = mismatches(status, want)
            if not diff or time.monotonic() - since > WAIT_S:
                break
            await asyncio.sleep(POLL_S)
        seconds = time.monotonic() - since
        accepted_at = time.time()  # after the snapshot (its taken_at): the frame in force then shows it
        xml = ""
        if status.crm is not None and status.crm.source in (h.name for h in self.cluster.db_hosts):
            res = await self.pool.run(
                self.cluster.host(status.crm.source),  # type: ignore[arg-type]
                ["crm_mon", "-1", "--output-as=xml"],
            )
            xml = res.stdout
        obs = Observation(state, want, status, diff, seconds, xml, dict(context), accepted_at)
        self.observations[state] = obs
        return obs

    async def run(self) -> dict[str, Observation]:
        """Walk every state in order; returns the observations by state name."""
        try:
            await self._walk()
        finally:
            await self.pool.close()
        return self.observations

    async def _walk(self) -> None:
        # a lab left in another state by an earlier run starts from healthy again (all idempotent)
        self.lab("start-qnetd")
        for node in ("db2a", "db2b"):
            self.lab("start-node", node)
        await self.crm("db2a", "resource", "clear", CLONE)
        for node in ("db2a", "db2b"):
            await self.crm("db2a", "node", "online", node)
        first = self.lab("wait-promoted", "any", "60").strip()
        a, b = first, next(n for n in ("db2a", "db2b") if n != first)
        both = {"db2a": True, "db2b": True}
        healthy: Callable[[str, str], Expect] = lambda p, s: Expect(  # noqa: E731
            promoted=p,
            online=both,
            quorate=True,
            verdicts=frozenset(),
            standby={"db2a": False, "db2b": False},
            qdevice_connected=both,
            qnetd_clients=2,
            hadr_roles={p: "PRIMARY", s: "STANDBY"},
            hadr_states={p: "PEER", s: "PEER"},
            started={instance(p): p, instance(s): s, OIP: p},
            clone={p: "Promoted", s: "Unpromoted"},
        )
        await self.settle("healthy", healthy(a, b), time.monotonic(), primary=a)

        t = time.monotonic()
        await self.crm(a, "resource", "move", CLONE, b)
        await self.settle("moved", healthy(b, a), t, moved_from=a, moved_to=b)
        await self.crm(a, "resource", "clear", CLONE)  # stickiness keeps it on b
        await self.settle("move-cleared", healthy(b, a), time.monotonic())

        t = time.monotonic()
        await self.crm(a, "node", "standby", b)
        await self.settle(
            "node-standby",
            Expect(
                promoted=a,
                online=both,
                standby={a: False, b: True},
                quorate=True,
                verdicts=frozenset({"node_standby", "hadr_disconnected"}),
                qdevice_connected=both,
                qnetd_clients=2,
                hadr_roles={a: "PRIMARY", b: None},
                hadr_states={a: "DISCONNECTED"},
                started={instance(a): a, instance(b): None, OIP: a},
                clone={a: "Promoted"},
            ),
            t,
            standby_node=b,
        )
        await self.crm(a, "node", "online", b)
        await self.settle("standby-cleared", healthy(a, b), time.monotonic())

        t = time.monotonic()
        self.lab("crash-node", a)
        await self.settle(
            "node-crash",
            Expect(
                promoted=b,
                online={a: False, b: True},
                quorate=True,
                # the takeover itself leads (services/status/incident.py), its symptoms follow
                verdicts=frozenset({"failover_completed", "node_offline", "hadr_disconnected"}),
                qdevice_connected={b: True},
                qnetd_clients=1,
                hadr_roles={a: None, b: "PRIMARY"},
                hadr_states={b: "DISCONNECTED"},
                crm_source=b,
                started={instance(a): None, instance(b): b, OIP: b},
                clone={b: "Promoted"},
            ),
            t,
            crashed=a,
        )
        self.lab("start-node", a)
        await self.settle("crash-rejoined", healthy(b, a), time.monotonic())

        t = time.monotonic()
        self.lab("stop-qnetd")
        await self.settle(
            "qnetd-down",
            Expect(
                promoted=b,
                online=both,
                quorate=True,
                verdicts=frozenset({"qdevice_disconnected", "qnetd_down"}),
                qdevice_connected={"db2a": False, "db2b": False},
                qnetd_clients=None,
                hadr_roles={b: "PRIMARY", a: "STANDBY"},
                hadr_states={a: "PEER", b: "PEER"},
                started={instance(a): a, instance(b): b, OIP: b},
                clone={b: "Promoted", a: "Unpromoted"},
            ),
            t,
        )

        t = time.monotonic()
        self.lab("crash-node", b)
        await self.settle(
            "no-quorum",
            Expect(
                promoted=None,
                online={a: True, b: False},
                quorate=False,
                verdicts=frozenset(
                    {"no_quorum", "node_offline", "no_promoted_node", "qdevice_disconnected", "qnetd_down"}
                ),
                qdevice_connected={a: False},
                qnetd_clients=None,
                hadr_roles={a: None, b: None},
                crm_source=a,
                started={instance(a): None, instance(b): None, OIP: None},  # no-quorum-policy=stop
                clone={},
            ),
            t,
            crashed=b,
        )

        t = time.monotonic()
        self.lab("start-qnetd")
        self.lab("start-node", b)
        await self.settle("recovered", _recovered(both), t)


def _recovered(both: dict[str, bool]) -> Expect:
    # After quorum loss Pacemaker promotes whichever node it likes: accept either, check the rest.
    return Expect(
        promoted=ANY,
        online=both,
        quorate=True,
        verdicts=frozenset(),
        qdevice_connected=both,
        qnetd_clients=2,
        started={instance("db2a"): "db2a", instance("db2b"): "db2b", OIP: ON_PROMOTED},
        clone={ON_PROMOTED: "Promoted", "<other>": "Unpromoted"},
    )
