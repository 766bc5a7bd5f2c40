"""Test helpers: run the failover against a lab cluster in-process (lab command handlers, no SSH)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from in_process_lab import Result, lab_inventory_cluster, run_on_lab

from lab.state import LabCluster
from services.inventory.model import Cluster, Host
from services.plans import PlanContext
from services.status.model import ClusterStatus
from services.status.service import gather_cluster_status


@dataclass
class InProcessLabRunner:
    """A HostRunner answering from the lab's command handlers; records every argv per host."""

    lab: LabCluster
    ran: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    async def run(self, host: Host, argv: Sequence[str], *, timeout=None, input=None, check=False) -> Result:
        self.ran.append((host.name, tuple(argv)))
        return run_on_lab(self.lab, host, argv, input)

    def writes(self) -> list[tuple[str, tuple[str, ...]]]:
        """The commands that change something (takeover, crm resource ...)."""
        changing = ("takeover", "move", "clear", "cleanup")
        return [(h, a) for h, a in self.ran if any(w in a for w in changing) and a[0] != "cibadmin"]


def lab_cluster(lab: LabCluster, *, read_only: bool = False) -> Cluster:
    """The inventory Cluster of an in-process lab cluster (no AWS route: nothing to contact)."""
    cluster = lab_inventory_cluster(lab, endpoint_url=None, read_only=read_only, user=None)
    return replace(cluster, environment="lab")


async def snapshot(ctx: PlanContext) -> ClusterStatus:
    return await gather_cluster_status(ctx.cluster, ctx.runner, aws_route=False)


def in_process(read_only: bool = False) -> tuple[LabCluster, Cluster, InProcessLabRunner]:
    lab = LabCluster("lab1", failover_delay_s=0)
    return lab, lab_cluster(lab, read_only=read_only), InProcessLabRunner(lab)
