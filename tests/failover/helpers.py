"""Test helpers: run the failover against a lab cluster in-process (lab command handlers, no SSH)."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

from lab.commands import run_command
from lab.state import LabCluster
from services.inventory_model import AwsSettings, Cluster, Host
from services.plans import PlanContext
from services.status import gather_cluster_status
from services.status_model import ClusterStatus


@dataclass(frozen=True)
class Result:
    host: str
    argv: tuple[str, ...]
    command: str
    exit_status: int
    stdout: str
    stderr: str


@dataclass
class InProcessLabRunner:
    """A HostRunner answering from the lab's command handlers; records every argv per host."""

    lab: LabCluster
    ran: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    async def run(self, host: Host, argv: Sequence[str], *, timeout=None, input=None, check=False) -> Result:
        args = tuple(argv)
        self.ran.append((host.name, args))
        code, out, err = run_command(self.lab, self.lab.hosts[host.name], list(args), input or "")
        return Result(host.name, args, shlex.join(args), code, out, err)

    def writes(self) -> list[tuple[str, tuple[str, ...]]]:
        """The commands that change something (takeover, crm resource ...)."""
        changing = ("takeover", "move", "clear", "cleanup")
        return [(h, a) for h, a in self.ran if any(w in a for w in changing) and a[0] != "cibadmin"]


def lab_cluster(lab: LabCluster, *, read_only: bool = False) -> Cluster:
    """The inventory Cluster of an in-process lab cluster (no AWS route: nothing to contact)."""
    hosts = tuple(
        Host(
            name=h.name,
            address="127.0.0.1",
            role="db" if h.role == "db" else "qdevice",
            instance_id=h.instance_id,
        )
        for h in lab.hosts.values()
    )
    return Cluster(
        name=lab.name,
        environment="lab",
        read_only=read_only,
        instance=lab.instance,
        database=lab.database,
        hosts=hosts,
        aws=AwsSettings(),
        lab=True,
    )


async def snapshot(ctx: PlanContext) -> ClusterStatus:
    return await gather_cluster_status(ctx.cluster, ctx.runner, aws_route=False)


def in_process(read_only: bool = False) -> tuple[LabCluster, Cluster, InProcessLabRunner]:
    lab = LabCluster("lab1", failover_delay_s=0)
    return lab, lab_cluster(lab, read_only=read_only), InProcessLabRunner(lab)
