"""Build the guided failover as a plan of services/plans steps (run with services.plans.run_plan).

Planned (the IBM-documented way for Db2 with integrated Pacemaker): `db2 takeover hadr on db DB` on the
standby; Pacemaker follows the role change. `kind="pacemaker"`: `crm resource move <clone> <target>`, then
`crm resource clear`. `kind="forced"`: `... by force peer window only`, with an explicit warning.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.failover.constraints import LocationConstraint
from services.failover.preflight import KINDS, FailoverKind, Preflight, run_preflight
from services.failover.steps import (
    CleanupFailedActionsStep,
    ClearConstraintsStep,
    FailoverSettings,
    FinalSnapshotStep,
    MoveStep,
    ObserveFn,
    PreflightStep,
    SnapshotFn,
    TakeoverStep,
    WaitForTargetStep,
    gather_snapshot,
)
from services.inventory.model import Cluster
from services.plans import Plan, Step
from services.status.model import ClusterStatus

PLAN_NAME = "failover"


@dataclass
class FailoverPlan(Plan):
    """A Plan plus what the screen shows before running it: the preflight, the target and the kind."""

    preflight: Preflight | None = None
    target: str | None = None
    kind: str = "planned"
    settings: FailoverSettings | None = field(default=None, repr=False)

    @property
    def runnable(self) -> bool:
        """False when a blocking preflight check failed (the run would stop at the preflight step)."""
        return self.preflight is not None and self.preflight.runnable and self.settings is not None

    @property
    def refusal(self) -> str:
        """Why the failover cannot run now, with what to do ("" when runnable)."""
        if self.preflight is None:
            return "no preflight"
        return self.preflight.refusal


def build_failover_plan(
    cluster: Cluster,
    status: ClusterStatus,
    target: str | None = None,
    *,
    kind: FailoverKind = "planned",
    constraints: Sequence[LocationConstraint] | None = None,
    acknowledge_failed_actions: bool = False,
    clear_constraints: bool = False,
    snapshot: SnapshotFn | None = None,
    timeout_s: float = 60.0,
    poll_interval_s: float = 0.5,
    use_sudo: bool = True,
    on_observe: ObserveFn | None = None,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> FailoverPlan:
    """Return the failover of `cluster` to `target` (default: the HADR standby) as a FailoverPlan.

    The preflight is judged on `status` now (shown before running) and again on a fresh snapshot when the
    plan runs. A plan whose preflight fails has `runnable` False and `refusal` says why; running it stops
    at the preflight step before any change. Raises ValueError for an unknown `kind` or a non-positive
    timeout.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown failover kind {kind!r}; use one of {', '.join(KINDS)}")
    if timeout_s <= 0 or poll_interval_s <= 0:
        raise ValueError("timeout_s and poll_interval_s must be greater than 0 seconds")
    preflight = run_preflight(
        cluster,
        status,
        target,
        kind=kind,
        constraints=constraints,
        acknowledge_failed_actions=acknowledge_failed_actions,
        clear_constraints=clear_constraints,
    )
    title = _title(cluster, preflight, kind)
    hint = "the guided failover (:failover) with the same target"
    target = preflight.target
    if target is None or cluster.host(target) is None or target not in {h.name for h in cluster.db_hosts}:
        # Nothing can be built for an unknown target: an empty plan the screen shows as refused.
        return FailoverPlan(
            PLAN_NAME,
            cluster,
            [],
            title=title,
            rerun_hint=hint,
            preflight=preflight,
            target=target,
            kind=kind,
        )
    baseline: frozenset[tuple[str, str, str]] = frozenset()
    if status.crm is not None and status.crm.value is not None:
        baseline = frozenset((f.resource, f.operation, f.node) for f in status.crm.value.failed_actions)
    settings = FailoverSettings(
        cluster=cluster,
        target=target,
        kind=kind,
        clone=preflight.clone,
        snapshot=snapshot or gather_snapshot,
        timeout_s=timeout_s,
        poll_interval_s=poll_interval_s,
        use_sudo=use_sudo,
        acknowledge_failed_actions=acknowledge_failed_actions,
        clear_constraints=clear_constraints,
        on_observe=on_observe,
        baseline_failed=baseline,
        sleep=sleep,
        clock=clock,
    )
    steps: list[Step] = [PreflightStep(settings)]
    if clear_constraints:
        steps.append(ClearConstraintsStep(settings, after_move=False))
    steps.append(MoveStep(settings) if kind == "pacemaker" else TakeoverStep(settings))
    steps.append(WaitForTargetStep(settings))
    if kind == "pacemaker":
        steps.append(ClearConstraintsStep(settings, after_move=True))
    steps += [CleanupFailedActionsStep(settings), FinalSnapshotStep(settings)]
    return FailoverPlan(
        PLAN_NAME,
        cluster,
        steps,
        title=title,
        rerun_hint=hint,
        preflight=preflight,
        target=target,
        kind=kind,
        settings=settings,
    )


def _title(cluster: Cluster, preflight: Preflight, kind: str) -> str:
    how = {"planned": "planned takeover", "forced": "FORCED takeover", "pacemaker": "crm resource move"}[kind]
    return f"Failover of {cluster.name}: {preflight.source or '?'} → {preflight.target or '?'} ({how})"
