"""How the :failover screen reaches the cluster (status reads, plan context, runner, timeline, clocks):
FailoverServices, and app_services() building it from the running console."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.inventory_model import Cluster
from services.plans import PlanContext, PlanResult, run_plan
from services.plans.journal import journal_for
from services.status_model import ClusterStatus
from services.timeline import Timeline


@dataclass
class FailoverServices:
    """How the screen reaches the cluster. Tests pass fakes; the console builds it from the app."""

    snapshot: Callable[[Cluster], Awaitable[ClusterStatus]]
    make_context: Callable[[Cluster], Awaitable[PlanContext]]
    run_plan: Callable[..., Awaitable[PlanResult]] = run_plan
    plan_snapshot: Callable[[PlanContext], Awaitable[ClusterStatus]] | None = None
    timeline: Timeline | None = None
    state_dir: Path | None = None
    inventory_source: str = ""
    clock: Callable[[], float] = time.time  # wall time (timeline)
    monotonic: Callable[[], float] = time.monotonic  # elapsed times
    timeout_s: float = 60.0
    poll_interval_s: float = 0.5
    animate: bool = True  # spinner on the running step (tests turn it off for stable snapshots)


def app_services(app: Any) -> FailoverServices:
    """Return FailoverServices for the running console: its status source and SSH pool, the journal, and
    the cluster's timeline (shared with :timeline)."""
    own: dict[str, Any] = {}

    def runner() -> Any:
        found = getattr(app.current_status_source, "runner", None)
        if found is not None:
            return found
        if "pool" not in own:
            from services.ssh import SshPool

            st = app.settings
            own["pool"] = SshPool(
                connect_timeout=st.ssh_connect_timeout_s, command_timeout=st.ssh_command_timeout_s
            )
        return own["pool"]

    async def snapshot(cluster: Cluster) -> ClusterStatus:
        source = app.current_status_source
        if source is not None:
            return await source.snapshot(cluster)
        from services.status import gather_cluster_status

        return await gather_cluster_status(cluster, runner())

    async def make_context(cluster: Cluster) -> PlanContext:
        return PlanContext(
            cluster=cluster,
            runner=runner(),
            journal=journal_for(cluster),
            inventory_source=app.inventory.source,
        )

    async def plan_snapshot(ctx: PlanContext) -> ClusterStatus:
        status = await snapshot(ctx.cluster)
        if timeline is not None:
            timeline.add_snapshot(status)  # the verify polls land on the timeline as they happen
        return status

    from screens.timeline import timeline_for

    cluster = app.current_cluster
    timeline = timeline_for(app, cluster.name) if cluster is not None else None
    return FailoverServices(
        snapshot=snapshot,
        make_context=make_context,
        plan_snapshot=plan_snapshot,
        timeline=timeline,
        inventory_source=app.inventory.source,
    )
