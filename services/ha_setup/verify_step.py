"""The last step: the same status snapshot the console shows (services/status), with no verdict left.

Pacemaker, quorum, qdevice, qnetd, HADR and the overlay route are read together, so a setup that
"finished" but left, say, the route on the standby or the qdevice disconnected is not called done.
"""

from __future__ import annotations

import asyncio

from services.plans import Action, PlanContext, Step, StepState
from services.status.model import ClusterStatus

SNAPSHOT_ATTEMPTS = 5  # x 2 s: a just-started resource or a reconnecting qdevice settles quickly


def verdict_text(status: ClusterStatus) -> str:
    """Return the verdicts as one line: "code: message (hint); ..."."""
    return "; ".join(f"{v.code}: {v.message}" + (f" ({v.hint})" if v.hint else "") for v in status.verdicts)


class StatusSnapshotStep(Step):
    """Read-only: a status snapshot of the cluster must come back without verdicts."""

    def __init__(self) -> None:
        self.id = "verify-status"
        self.title = "Cluster status: no problems"
        self.target = "cluster"
        self.explain = (
            "Runbook: validate with crm status (and db2cm -list, corosync-qnetd-tool -l). db2ops reads the "
            "whole status snapshot (crm_mon, quorum, qdevice, qnetd, db2pd -hadr, the overlay route) and "
            "wants no verdict; it changes nothing."
        )

    async def _snapshot(self, ctx: PlanContext) -> ClusterStatus:
        from services.status.service import gather_cluster_status

        aws_route = bool(ctx.cluster.aws.route_table_id and ctx.cluster.aws.overlay_ip)
        return await gather_cluster_status(ctx.cluster, ctx.runner, aws_route=aws_route)

    async def check(self, ctx: PlanContext) -> StepState:
        status = await self._snapshot(ctx)
        if status.verdicts:
            return StepState(False, verdict_text(status))
        return StepState(True, "no verdicts: Pacemaker, quorum, qdevice, HADR and the overlay route agree")

    def describe(self, ctx: PlanContext) -> list[Action]:
        return []  # nothing to run: verify reads the snapshot again after the other steps

    async def apply(self, ctx: PlanContext) -> None:
        return None

    async def verify(self, ctx: PlanContext) -> bool | str:
        state = await self.check(ctx)
        for _ in range(SNAPSHOT_ATTEMPTS - 1):
            if state.done:
                break
            await asyncio.sleep(2)
            state = await self.check(ctx)
        return True if state.done else state.detail
