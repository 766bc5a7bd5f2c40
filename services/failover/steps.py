"""The failover's steps: preflight, (clear old constraints), act, verify, clean up, final snapshot.

Every write goes through PlanContext.write (the write guard, journaled by the runner). Reads use
PlanContext.read. Facts shared between steps live in ctx.facts under "failover.*".
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from services.cluster_model import CrmStatus
from services.failover.constraints import (
    CONSTRAINTS_ARGV,
    LocationConstraint,
    cli_constraints_for,
    parse_constraints_xml,
)
from services.failover.observe import FailoverObservation, observe
from services.failover.preflight import FailoverKind, Preflight, run_preflight
from services.inventory.model import Cluster, Host
from services.inventory.names import database_operand, operand
from services.plans import Action, HostCommand, HostCommandStep, PlanContext, Step, StepFailed, StepState
from services.plans.step import ssh_action
from services.status.model import ClusterStatus
from services.words import plural

SnapshotFn = Callable[[PlanContext], Awaitable[ClusterStatus]]
ObserveFn = Callable[[FailoverObservation], None]

PREFLIGHT = "failover.preflight"
ACT_DONE = "failover.act_done"  # the act step found the takeover already done when checked
OBSERVATION = "failover.observation"
FINAL = "failover.final"
NEW_FAILED = "failover.new_failed"


async def gather_snapshot(ctx: PlanContext) -> ClusterStatus:
    """Return a fresh ClusterStatus of ctx.cluster over ctx.runner (the status service's gatherer); a
    part with no answer within ctx.status_deadline_s (settings) is marked timed out, not waited for."""
    from services.status.service import gather_cluster_status

    return await gather_cluster_status(ctx.cluster, ctx.runner, deadline_s=ctx.status_deadline_s)


@dataclass
class FailoverSettings:
    """What every step of one failover shares."""

    cluster: Cluster
    target: str
    kind: FailoverKind
    clone: str
    snapshot: SnapshotFn = gather_snapshot
    timeout_s: float = 60.0
    poll_interval_s: float = 0.5
    use_sudo: bool = True
    acknowledge_failed_actions: bool = False
    clear_constraints: bool = False
    on_observe: ObserveFn | None = None
    baseline_failed: frozenset[tuple[str, str, str]] = field(default_factory=frozenset)
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic

    @property
    def target_host(self) -> Host:
        host = self.cluster.host(self.target)
        if host is None:  # build_failover_plan only builds steps for a known target
            raise StepFailed(f"{self.target} is not a host of {self.cluster.name}: pick one of its Db2 hosts")
        return host

    @property
    def require_peer(self) -> bool:
        """A forced takeover leaves HADR without its old primary: PEER is not waited for."""
        return self.kind != "forced"

    def pcmk(self, *argv: str) -> tuple[str, ...]:
        """Return a Pacemaker-changing argv, under `sudo -n` unless the ssh user is root.

        Raises UnsafeOperand for a word that starts with '-' (crm reads options anywhere): the resource and
        node names come from the inventory and from crm_mon's output.
        """
        for word in argv:
            operand(word, "Pacemaker name")
        as_root = self.target_host.user == "root"  # every Pacemaker change runs on the target
        return ("sudo", "-n", *argv) if self.use_sudo and not as_root else argv

    def takeover_argv(self) -> tuple[str, ...]:
        argv = ("db2", "takeover", "hadr", "on", "db", database_operand(self.cluster.database))
        return argv + ("by", "force", "peer", "window", "only") if self.kind == "forced" else argv


# ---------------------------------------------------------------- reads


async def read_constraints(
    ctx: PlanContext, settings: FailoverSettings
) -> tuple[tuple[LocationConstraint, ...], tuple[LocationConstraint, ...]]:
    """Return the clone's cli-* constraints from the CIB (read on the target); StepFailed when unreadable."""
    result = await ctx.read(settings.target_host, CONSTRAINTS_ARGV)
    if result.exit_status != 0:
        why = (result.stderr or result.stdout).strip().splitlines()
        raise StepFailed(
            f"`{' '.join(CONSTRAINTS_ARGV)}` exited {result.exit_status} on {settings.target}"
            + (f": {why[-1]}" if why else "")
        )
    rows = parse_constraints_xml(result.stdout)
    return rows, cli_constraints_for((settings.clone, settings.clone.removesuffix("-clone")), rows)


async def read_crm(ctx: PlanContext, settings: FailoverSettings) -> CrmStatus:
    """Return crm_mon's view from the target host; StepFailed when it does not answer."""
    from services.parsers.crm_mon_xml import parse_crm_mon_xml
    from services.status.service import CRM_MON

    result = await ctx.read(settings.target_host, CRM_MON)
    if result.exit_status != 0:
        raise StepFailed(f"crm_mon exited {result.exit_status} on {settings.target}: is Pacemaker running?")
    return parse_crm_mon_xml(result.stdout)


async def read_hadr_role(ctx: PlanContext, settings: FailoverSettings, host: Host) -> str | None:
    """Return the HADR role `db2pd -hadr` reports on `host` (None when the database is not active)."""
    from services.parsers.db2pd_hadr import parse_db2pd_hadr
    from services.status.service import db2pd_argv

    result = await ctx.read(host, db2pd_argv(database_operand(settings.cluster.database)))
    return parse_db2pd_hadr(result.stdout).role


def _failed_keys(crm: CrmStatus) -> set[tuple[str, str, str]]:
    return {(f.resource, f.operation, f.node) for f in crm.failed_actions}


# ---------------------------------------------------------------- steps


class PreflightStep(Step):
    """Read-only checks on a fresh snapshot; a blocking failure refuses the whole failover here."""

    def __init__(self, settings: FailoverSettings) -> None:
        self.s = settings
        self.id = "preflight"
        self.title = f"Preflight: may {settings.cluster.name} fail over to {settings.target}?"
        self.target = settings.target
        self.explain = (
            "HADR PEER/CONNECTED, log gap, quorum, qdevice, failed actions, cli-* constraints, target "
            "online, overlay route, maintenance mode — read again right before acting"
        )

    async def check(self, ctx: PlanContext) -> StepState:
        status = await self.s.snapshot(ctx)
        constraints, error = None, None
        try:
            constraints, _ = await read_constraints(ctx, self.s)
        except (StepFailed, ValueError) as exc:
            error = str(exc)
        pf = run_preflight(
            self.s.cluster,
            status,
            self.s.target,
            kind=self.s.kind,
            constraints=constraints,
            constraints_error=error,
            acknowledge_failed_actions=self.s.acknowledge_failed_actions,
            clear_constraints=self.s.clear_constraints,
        )
        ctx.facts[PREFLIGHT] = pf
        if pf.already_done:
            return StepState(True, pf.summary())
        if not pf.runnable:
            raise StepFailed(pf.refusal)
        return StepState(False, pf.summary())

    def describe(self, ctx: PlanContext) -> list[Action]:
        return []  # reads only

    async def apply(self, ctx: PlanContext) -> None:
        return None  # the checks ran in check(); this entry records them in the journal

    async def verify(self, ctx: PlanContext) -> bool | str:
        pf: Preflight | None = ctx.facts.get(PREFLIGHT)
        return True if pf is not None and pf.runnable else "preflight did not pass"


class ClearConstraintsStep(HostCommandStep):
    """`crm resource clear <clone>`: before acting (left-over constraints) or after a `crm resource move`."""

    def __init__(self, settings: FailoverSettings, *, after_move: bool) -> None:
        self.s = settings
        self.after_move = after_move
        title = (
            f"Clear the move constraint on {settings.clone}"
            if after_move
            else f"Clear left-over move/ban constraints on {settings.clone}"
        )
        super().__init__(
            id="clear-move" if after_move else "clear-constraints",
            title=title,
            host=settings.target_host,
            explain="a cli-prefer/cli-ban constraint pins the clone until cleared; the next move fails (108)",
        )

    async def check(self, ctx: PlanContext) -> StepState:
        if self.after_move and not ctx.facts.get(ACT_DONE):
            return StepState(False, "the move creates a cli-prefer constraint: cleared after the move")
        _, cli = await read_constraints(ctx, self.s)
        if not cli:
            return StepState(True, "no cli-* constraint on the clone")
        return StepState(False, "to clear: " + ", ".join(c.id for c in cli))

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        return [HostCommand(self.s.pcmk("crm", "resource", "clear", self.s.clone))]

    async def verify(self, ctx: PlanContext) -> bool | str:
        _, cli = await read_constraints(ctx, self.s)
        return True if not cli else "still there: " + ", ".join(c.id for c in cli)


class TakeoverStep(HostCommandStep):
    """On the standby, as the instance owner: `db2 takeover hadr on db DB` (Pacemaker follows the role)."""

    def __init__(self, settings: FailoverSettings) -> None:
        self.s = settings
        forced = settings.kind == "forced"
        super().__init__(
            id="takeover",
            title=("FORCED takeover" if forced else "Takeover") + f" HADR on {settings.target}",
            host=settings.target_host,
            explain=(
                "the ssh user must be the instance owner; the old primary becomes the standby and Pacemaker "
                "promotes the new one"
                + (" — BY FORCE PEER WINDOW ONLY: the old primary is not asked to stop" if forced else "")
            ),
        )

    async def check(self, ctx: PlanContext) -> StepState:
        role = await read_hadr_role(ctx, self.s, self.host)
        done = role == "PRIMARY"
        ctx.facts[ACT_DONE] = done
        return StepState(done, f"HADR role on {self.s.target} is {role or 'unknown'}")

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        note = "the standby takes over; expect DB20000I"
        return [HostCommand(self.s.takeover_argv(), note=note)]

    async def verify(self, ctx: PlanContext) -> bool | str:
        role = await read_hadr_role(ctx, self.s, self.host)
        return (
            True if role == "PRIMARY" else f"HADR role on {self.s.target} is {role or 'unknown'}, not PRIMARY"
        )


class MoveStep(HostCommandStep):
    """`crm resource move <clone> <target>`: Pacemaker promotes the clone there (its agent takes over)."""

    def __init__(self, settings: FailoverSettings) -> None:
        self.s = settings
        super().__init__(
            id="move",
            title=f"Move the promoted role of {settings.clone} to {settings.target}",
            host=settings.target_host,
            explain="creates a cli-prefer constraint that the clean-up step clears",
        )

    async def check(self, ctx: PlanContext) -> StepState:
        crm = await read_crm(ctx, self.s)
        done = self.s.target in crm.promoted_nodes
        ctx.facts[ACT_DONE] = done
        return StepState(done, f"promoted node: {', '.join(crm.promoted_nodes) or 'none'}")

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        return [HostCommand(self.s.pcmk("crm", "resource", "move", self.s.clone, self.s.target))]

    async def verify(self, ctx: PlanContext) -> bool | str:
        crm = await read_crm(ctx, self.s)
        if self.s.target in crm.promoted_nodes:
            return True
        _, cli = await read_constraints(ctx, self.s)
        if any(c.id.startswith("cli-prefer-") and c.node == self.s.target for c in cli):
            return True  # accepted; the verify step waits for the promotion
        return f"no cli-prefer constraint to {self.s.target} and it is not promoted"


class WaitForTargetStep(Step):
    """Poll the status until Pacemaker, HADR (PEER) and the overlay route all point at the target."""

    def __init__(self, settings: FailoverSettings) -> None:
        self.s = settings
        self.id = "verify"
        peer = " in PEER" if settings.require_peer else ""
        self.title = f"Verify: {settings.target} promoted, HADR primary{peer}, route → {settings.target}"
        self.target = settings.target
        self.explain = (
            f"reads the status every {settings.poll_interval_s:g} s for up to {settings.timeout_s:g} s"
        )
        self.last: FailoverObservation | None = None

    async def _look(self, ctx: PlanContext, started: float) -> FailoverObservation:
        status = await self.s.snapshot(ctx)
        seen = observe(
            self.s.cluster, status, self.s.target, self.s.clock() - started, require_peer=self.s.require_peer
        )
        self.last = seen
        ctx.facts[OBSERVATION] = seen
        if self.s.on_observe is not None:
            self.s.on_observe(seen)
        return seen

    async def check(self, ctx: PlanContext) -> StepState:
        if not ctx.facts.get(ACT_DONE):
            return StepState(False, f"waits up to {self.s.timeout_s:g} s after the takeover")
        seen = await self._look(ctx, self.s.clock())
        return StepState(seen.complete, seen.summary() if seen.complete else "; ".join(seen.problems))

    def describe(self, ctx: PlanContext) -> list[Action]:
        return []  # reads only

    async def apply(self, ctx: PlanContext) -> None:
        started = self.s.clock()
        while True:
            seen = await self._look(ctx, started)
            if seen.complete:
                return
            if seen.elapsed_s >= self.s.timeout_s:
                raise StepFailed(
                    f"not settled after {self.s.timeout_s:g} s: "
                    + "; ".join(seen.problems)
                    + ". Look at `crm status` and `db2pd -hadr`, then re-run to verify again"
                )
            await self.s.sleep(self.s.poll_interval_s)

    async def verify(self, ctx: PlanContext) -> bool | str:
        seen = self.last
        return True if seen is not None and seen.complete else "the cluster did not settle on the target"


class CleanupFailedActionsStep(Step):
    """`crm resource cleanup <rsc> <node>` for failed actions that appeared during the failover only."""

    def __init__(self, settings: FailoverSettings) -> None:
        self.s = settings
        self.id = "cleanup"
        self.title = "Clean up failed actions created during the failover"
        self.target = settings.target
        self.explain = "failed actions that were there before are left alone (acknowledged in preflight)"

    async def check(self, ctx: PlanContext) -> StepState:
        if not ctx.facts.get(ACT_DONE):
            return StepState(False, "runs after the takeover (only if new failed actions appear)")
        new = sorted(_failed_keys(await read_crm(ctx, self.s)) - self.s.baseline_failed)
        ctx.facts[NEW_FAILED] = new
        return StepState(
            not new, "no new failed actions" if not new else plural(len(new), "new failed action")
        )

    def _argv(self, resource: str, node: str) -> tuple[str, ...]:
        return self.s.pcmk("crm", "resource", "cleanup", resource.split(":", 1)[0], node)

    def describe(self, ctx: PlanContext) -> list[Action]:
        new = ctx.facts.get(NEW_FAILED)
        host = self.s.target
        if new:
            return [ssh_action(host, self._argv(r, n)) for r, _, n in new]
        note = "only for failed actions that appear during the failover"
        return [ssh_action(host, self.s.pcmk("crm", "resource", "cleanup", self.s.clone), note=note)]

    async def apply(self, ctx: PlanContext) -> None:
        new = sorted(_failed_keys(await read_crm(ctx, self.s)) - self.s.baseline_failed)
        ctx.facts[NEW_FAILED] = new
        for resource, node in sorted({(r, n) for r, _, n in new}):
            await ctx.write(self.s.target_host, self._argv(resource, node))

    async def verify(self, ctx: PlanContext) -> bool | str:
        left = sorted(_failed_keys(await read_crm(ctx, self.s)) - self.s.baseline_failed)
        return True if not left else "still failed: " + ", ".join(f"{r} {o} on {n}" for r, o, n in left)


class FinalSnapshotStep(Step):
    """Record the state the failover ended in (kept in ctx.facts for the summary and the timeline)."""

    def __init__(self, settings: FailoverSettings) -> None:
        self.s = settings
        self.id = "final"
        self.title = "Final snapshot"
        self.target = settings.cluster.name
        self.explain = "one more status read: what the summary and the incident timeline show"

    async def check(self, ctx: PlanContext) -> StepState:
        if ctx.facts.get(ACT_DONE):
            return StepState(True, "the failover was already done before this run")
        return StepState(False, "taken at the end")

    def describe(self, ctx: PlanContext) -> list[Action]:
        return []

    async def apply(self, ctx: PlanContext) -> None:
        ctx.facts[FINAL] = await self.s.snapshot(ctx)

    async def verify(self, ctx: PlanContext) -> bool | str:
        status: ClusterStatus | None = ctx.facts.get(FINAL)
        if status is None:
            return "no final snapshot"
        seen = observe(self.s.cluster, status, self.s.target, 0.0, require_peer=self.s.require_peer)
        return True if seen.complete else "final state differs: " + "; ".join(seen.problems)
