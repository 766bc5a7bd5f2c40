"""How the :failover screen reaches the cluster (status reads, plan context, runner, timeline, clocks):
FailoverServices, and context_services() building it from the console's context."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from services.context import ConsoleContext
from services.failover.run import FailoverRun
from services.inventory.model import Cluster
from services.plans import PlanContext, PlanResult, run_plan
from services.status.model import ClusterStatus
from services.timeline.model import Timeline


@dataclass
class FailoverServices:
    """How the screen reaches the cluster. Tests pass fakes; the console builds it from the app."""

    snapshot: Callable[[Cluster], Awaitable[ClusterStatus]]
    make_context: Callable[[Cluster], Awaitable[PlanContext]]
    run_plan: Callable[..., Awaitable[PlanResult]] = run_plan
    plan_snapshot: Callable[[PlanContext], Awaitable[ClusterStatus]] | None = None
    timeline: Timeline | None = None
    runs: dict[str, FailoverRun] = field(default_factory=dict)  # cluster -> its last failover from here
    state_dir: Path | None = None
    inventory_source: str = ""
    clock: Callable[[], float] = time.time  # wall time (timeline)
    monotonic: Callable[[], float] = time.monotonic  # elapsed times
    timeout_s: float = 60.0
    poll_interval_s: float = 0.5
    animate: bool = True  # spinner on the running step (tests turn it off for stable snapshots)


def context_services(context: ConsoleContext, cluster: Cluster | None) -> FailoverServices:
    """Return FailoverServices over the console's context: its status source and SSH pool, the journal,
    the failover runs, and `cluster`'s timeline (shared with :timeline)."""
    timeline = context.timeline(cluster.name) if cluster is not None else None

    async def make_context(cluster: Cluster) -> PlanContext:
        return PlanContext(
            cluster=cluster,
            runner=await context.host_runner(),
            journal=context.journal(cluster),
            inventory_source=context.inventory.source,
            aws_deadline_s=context.settings.aws_call_deadline_s,
            status_deadline_s=context.settings.status_deadline_s,
        )

    async def plan_snapshot(ctx: PlanContext) -> ClusterStatus:
        status = await context.snapshot(ctx.cluster)
        if timeline is not None:
            timeline.add_snapshot(status)  # the verify polls land on the timeline as they happen
        return status

    return FailoverServices(
        snapshot=context.snapshot,
        make_context=make_context,
        plan_snapshot=plan_snapshot,
        timeline=timeline,
        runs=context.failover_runs,
        inventory_source=context.inventory.source,
    )
