"""Debian's real aws-vpc-move-ip agent on the real Pacemaker lab moves the overlay route in the lab's EC2
emulation, and db2ops' status shows it following the promoted node (issue 10 part 2).

One walk per session (the `route_walk` fixture) on the shared lab: `crm resource move`, a guided failover
of each kind (planned, forced, pacemaker: `db2ops failover ... --apply` run as the installed CLI), and a
crash of the promoted node. For each it records when Pacemaker showed the overlay-IP resource started on
the new node, when db2ops' status first showed the route pointing at that node's instance, and how long
the agent's start took (Pacemaker's own exec-time); the times are printed in the tier's summary. The
tests then assert on the records. No fixed sleeps: every wait polls with a deadline.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from installed_cli import cli_env, db2ops_script

from lab.pacemaker import CLONE, SCRIPT
from services.ssh.pool import SshPool
from services.status.model import ClusterStatus
from services.status.service import gather_cluster_status

from .conftest import _TIMINGS, PcmkLab

pytestmark = pytest.mark.pacemaker

OIP = "db2_db2inst1_db2inst1_HADRDB_AWS_primary-OIP"  # the HA plan's name (services/ha_setup)
AGENT = "ocf:heartbeat:aws-vpc-move-ip"
WAIT_S = 60.0
NODES = ("db2a", "db2b")


@dataclass
class Move:
    """One change and what was seen after it."""

    name: str
    target: str
    pacemaker_s: float | None = None  # crm_mon shows the overlay-IP resource Started on the target
    console_s: float | None = None  # db2ops' status shows the route → the target's instance
    promoted_s: float | None = None  # db2ops' status shows the target promoted
    promoted_at_route: str | None = None  # the promoted node db2ops showed when it first saw the new route
    agent_start_ms: int | None = None  # Pacemaker's exec-time of the agent's start on the target
    route_instance: str | None = None
    promoted: str | None = None
    hadr_primary: str | None = None
    cli_exit: int | None = None
    cli_output: str = ""
    problems: list[str] = field(default_factory=list)


@dataclass
class RouteWalk:
    moves: dict[str, Move]
    instance_ids: dict[str, str]
    verify_output: str
    agent_types: dict[str, str]
    calls: list[str]  # the lines the lab's curl/aws-lab shims logged during the walk


def other(node: str) -> str:
    return next(n for n in NODES if n != node)


class Walker:
    def __init__(self, lab: PcmkLab, home: Path) -> None:
        self.lab = lab
        self.home = home
        self.pool = SshPool(config_paths=[], command_timeout=30.0, reconnect_backoff=(0.2, 1.0))

    def script(self, *args: str) -> str:
        done = subprocess.run(
            ["bash", str(SCRIPT), *args], env=self.lab.env, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"pcmk-lab.sh {' '.join(args)} failed: {done.stderr.strip()[-600:]}")
        return done.stdout

    async def ssh(self, node: str, *argv: str) -> str:
        res = await self.pool.run(self.lab.cluster.host(node), list(argv), timeout=60)  # type: ignore[arg-type]
        if res.exit_status != 0:
            raise RuntimeError(f"{' '.join(argv)} on {node} exited {res.exit_status}: {res.stderr[-400:]}")
        return res.stdout

    async def crm_mon(self) -> ET.Element | None:
        for node in NODES:  # whichever node's Pacemaker answers (one may be crashed)
            res = await self.pool.run(
                self.lab.cluster.host(node),  # type: ignore[arg-type]
                ["crm_mon", "-1", "--output-as=xml", "--include=operations"],
                timeout=30,
            )
            if res.exit_status == 0:
                return ET.fromstring(res.stdout)
        return None

    async def status(self) -> ClusterStatus:
        return await gather_cluster_status(self.lab.cluster, self.pool, aws_route=True)

    def db2ops(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [db2ops_script(), "--inventory", str(self.lab.inventory), *args],
            env=cli_env(self.home),
            capture_output=True,
            text=True,
            timeout=300,
        )

    async def follow(self, move: Move, since: float, instance_ids: dict[str, str]) -> Move:
        """Poll Pacemaker and db2ops' status until the overlay IP is started on move.target (Pacemaker) and
        db2ops shows the route → its instance, the promotion and the HADR primary there (settled)."""
        want = instance_ids[move.target]
        while True:
            elapsed = time.monotonic() - since
            if elapsed > WAIT_S:
                move.problems.append(f"not settled on {move.target} after {WAIT_S:g}s")
                return move
            if move.pacemaker_s is None:
                root = await self.crm_mon()
                if root is not None and started_on(root, OIP) == [move.target]:
                    move.pacemaker_s = elapsed
                    move.agent_start_ms = start_exec_ms(root, OIP, move.target)
            status = await self.status()
            route = status.overlay_route.value if status.overlay_route and status.overlay_route.ok else None
            seen = time.monotonic() - since
            if route is not None and route.instance_id == want and move.console_s is None:
                move.console_s = seen
                move.promoted_at_route = (
                    status.promoted_node
                )  # the plan orders the OIP after the clone's start
            if status.promoted_node == move.target and move.promoted_s is None:
                move.promoted_s = seen
            if route is not None and route.instance_id == want and move.pacemaker_s is not None:
                move.route_instance = route.instance_id
                move.promoted, move.hadr_primary = status.promoted_node, status.hadr_primary_host
                if move.promoted == move.target and move.hadr_primary == move.target:
                    return move
            await asyncio.sleep(0.3)

    async def healthy(self) -> str:
        """Back to a healthy pair (idempotent) and return the promoted node. It only starts daemons and
        waits: a CIB write while a restarted node joins can wedge Pacemaker 2.1.5's join (both nodes then
        show OFFLINE with no DC), so constraints are cleared where they are made, not here."""
        self.script("start-qnetd")
        for node in NODES:
            self.script("start-node", node)
        promoted = self.script("wait-promoted", "any", "90").strip()
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:  # both in PEER and the overlay IP started (a failover's preflight)
            status = await self.status()
            states = {n: p.value.state for n, p in status.hadr.items() if p.ok and p.value.activated}
            root = await self.crm_mon()
            if states == {"db2a": "PEER", "db2b": "PEER"} and root is not None and started_on(root, OIP):
                break
            await asyncio.sleep(0.5)
        return self.script("promoted").strip() or promoted

    async def walk(self) -> RouteWalk:
        try:
            return await self._walk()
        finally:
            await self.pool.close()

    async def _walk(self) -> RouteWalk:
        ids = {h.name: h.instance_id or "" for h in self.lab.cluster.db_hosts}
        log = self.lab.paths.root / "aws" / "calls.log"
        before = len(log.read_text().splitlines()) if log.exists() else 0
        await self.healthy()
        await self.ssh("db2a", "crm", "resource", "clear", CLONE)  # left by an interrupted run, if any
        first = await self.healthy()
        verify = await self.ssh(first, "crm_verify", "-L", "-V")
        root = await self.crm_mon()
        assert root is not None
        agents = {r.get("id", ""): r.get("resource_agent", "") for r in root.iter("resource")}
        moves: dict[str, Move] = {}

        target = other(first)
        since = time.monotonic()
        await self.ssh(first, "crm", "resource", "move", CLONE, target)
        moves["crm resource move"] = await self.follow(Move("crm resource move", target), since, ids)
        await self.ssh(first, "crm", "resource", "clear", CLONE)

        for kind in ("planned", "forced", "pacemaker"):
            target = other(target)
            await self.healthy()
            confirm = f"pcmk/{target}" + ("/force" if kind == "forced" else "")
            since = time.monotonic()
            done = await asyncio.to_thread(
                self.db2ops, "failover", "--cluster", "pcmk", "--to", target, "--kind", kind, "--apply",
                "--confirm", confirm,
            )  # fmt: skip
            move = Move(f"failover --kind {kind}", target, cli_exit=done.returncode)
            move.cli_output = (done.stdout + done.stderr)[-1500:]
            moves[move.name] = await self.follow(move, since, ids)

        await self.healthy()
        crashed = self.script("promoted").strip()
        since = time.monotonic()
        self.script("crash-node", crashed)
        moves["node crash"] = await self.follow(Move("node crash", other(crashed)), since, ids)
        await self.healthy()  # the crashed node rejoins as the standby
        return RouteWalk(moves, ids, verify, agents, log.read_text().splitlines()[before:])


def started_on(root: ET.Element, rsc: str) -> list[str]:
    return [
        n.get("name", "")
        for r in root.iter("resource")
        if r.get("id") == rsc and r.get("role") == "Started"
        for n in r.findall("node")
    ]


def start_exec_ms(root: ET.Element, rsc: str, node: str) -> int | None:
    for n in root.iter("node"):
        if n.get("name") != node or n.find("resource_history") is None:
            continue
        for history in n.iter("resource_history"):
            if history.get("id") != rsc:
                continue
            starts = [op for op in history.iter("operation_history") if op.get("task") == "start"]
            if starts:
                return int(starts[-1].get("exec-time", "0ms").removesuffix("ms"))
    return None


@pytest.fixture(scope="session")
def route_walk(pcmk_lab: PcmkLab, tmp_path_factory: pytest.TempPathFactory) -> RouteWalk:
    started = time.monotonic()
    home = tmp_path_factory.mktemp("route-walk-home")
    walk = asyncio.run(Walker(pcmk_lab, home).walk())
    _TIMINGS["route walk total"] = f"{time.monotonic() - started:.1f}s"
    for move in walk.moves.values():
        _TIMINGS[f"  route: {move.name}"] = (
            f"db2ops: route after {_s(move.console_s)}, promoted after {_s(move.promoted_s)}; "
            f"Pacemaker: overlay IP started after {_s(move.pacemaker_s)} (agent start {_s_ms(move.agent_start_ms)})"
            + ("" if move.promoted_at_route == move.target else "; the route moved before the promotion")
        )
    return walk


def _s(value: float | None) -> str:
    return "never" if value is None else f"{value:.1f}s"


def _s_ms(value: int | None) -> str:
    return "?" if value is None else f"{value / 1000:.1f}s"


def test_the_plan_text_is_loaded_with_the_real_agent_and_verifies_clean(route_walk: RouteWalk) -> None:
    assert route_walk.agent_types[OIP] == AGENT
    assert route_walk.agent_types["db2_db2inst1_db2inst1_HADRDB"] == "ocf:heartbeat:db2hadr"
    assert route_walk.verify_output.strip() == ""


@pytest.mark.parametrize(
    "change",
    [
        "crm resource move",
        "failover --kind planned",
        "failover --kind forced",
        "failover --kind pacemaker",
        "node crash",
    ],
)
def test_route_follows_the_promoted_node(route_walk: RouteWalk, change: str) -> None:
    move = route_walk.moves[change]
    assert move.problems == [], f"{change}: {move.problems}\n{move.cli_output}"
    assert move.cli_exit in (None, 0), move.cli_output
    assert move.route_instance == route_walk.instance_ids[move.target]
    assert move.promoted == move.target and move.hadr_primary == move.target
    # the agent did the move: its start ran on the target (it includes the replace-route and a monitor)
    assert move.agent_start_ms is not None and move.agent_start_ms > 0


def test_guided_failover_says_which_node_is_primary(route_walk: RouteWalk) -> None:
    for kind in ("planned", "forced", "pacemaker"):
        move = route_walk.moves[f"failover --kind {kind}"]
        assert f"ok: {move.target} is the primary" in move.cli_output, move.cli_output
        assert f"route → {move.target}" in move.cli_output


def test_metadata_never_leaves_the_node_and_outside_addresses_are_refused(
    route_walk: RouteWalk, pcmk_lab: PcmkLab
) -> None:
    calls = route_walk.calls
    imds = [c for c in calls if " curl " in c and "169.254.169.254" in c]
    assert imds and all(" curl answered " in c for c in imds), imds[-5:]  # never handed to the real curl
    assert not [c for c in calls if " refused " in c], "the agent tried an address outside the lab"
    moved = [c for c in calls if " aws run " in c and "replace-route" in c]
    assert {c.split()[1] for c in moved} == set(NODES)  # both nodes' agents moved the route at least once
    env = pcmk_lab.env

    def nsexec(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", str(SCRIPT), "nsexec", "db2a", *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    # no route out of a lab host: a packet to the metadata address could not even be sent
    route = nsexec("ip", "route", "get", "169.254.169.254")
    assert route.returncode != 0 and "unreachable" in route.stderr.lower()
    shim = str(pcmk_lab.paths.root / "ec2-bin" / "curl")
    refused = nsexec(shim, "-s", "http://192.0.2.10/latest/meta-data/")
    assert refused.returncode == 7 and "refusing http://192.0.2.10/" in refused.stderr
    assert " curl refused http://192.0.2.10/" in (pcmk_lab.paths.root / "aws" / "calls.log").read_text()


def test_lab_serve_leaves_a_cluster_whose_status_shows_the_route(pcmk_lab: PcmkLab, tmp_path: Path) -> None:
    """`db2ops lab --pacemaker --serve` (the running lab: a no-op `up`) writes an inventory with which a
    plain `db2ops --inventory … status` sees the route at the promoted node's instance."""
    env = cli_env(tmp_path, DB2OPS_PCMK_ROOT=str(pcmk_lab.paths.root))
    served = subprocess.run(
        [db2ops_script(), "lab", "--pacemaker", "--serve"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert served.returncode == 0, served.stderr[-1500:]
    inventory = served.stdout.splitlines()[0].strip()
    assert inventory == str(pcmk_lab.inventory)
    status = subprocess.run(
        [db2ops_script(), "--inventory", inventory, "status", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    cluster = json.loads(status.stdout)["clusters"][0]
    promoted = cluster["promoted_node"]
    assert promoted in NODES and cluster["hadr_primary"] == promoted
    assert cluster["overlay_route"]["value"]["instance_id"] == pcmk_lab.cluster.host(promoted).instance_id
    assert cluster["verdicts"] == [], cluster["verdicts"]
