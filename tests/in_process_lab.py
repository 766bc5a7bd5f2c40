"""Shared by the plan, wizard and failover tests: what a fake HostRunner returns, running an argv on an
in-process lab cluster's command handlers (no SSH), and the inventory Cluster of such a lab."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from services.inventory.model import AwsSettings, Cluster, Host


@dataclass(frozen=True)
class Result:
    """services.ssh.pool.CommandResult without the duration: what the fake runners return."""

    host: str
    argv: tuple[str, ...]
    command: str
    exit_status: int
    stdout: str
    stderr: str


def run_on_lab(lab_cluster, host: Host, argv: Sequence[str], input: str | None = None) -> Result:
    """Return what `argv` gives on `host` of a lab.state.LabCluster, with the lab sshd's argv round trip
    (shlex.join, then shlex.split)."""
    from lab.commands import run_command

    command = shlex.join(argv)
    status, out, err = run_command(
        lab_cluster, lab_cluster.hosts[host.name], shlex.split(command), input or ""
    )
    return Result(host.name, tuple(argv), command, status, out, err)


def lab_inventory_cluster(
    lab_cluster, *, endpoint_url: str | None, read_only: bool = False, user: str | None = "db2inst1"
) -> Cluster:
    """Return the inventory Cluster for a lab.state.LabCluster (hosts never contacted over the network)."""
    hosts = tuple(
        Host(name=h.name, address="127.0.0.1", role=h.role, user=user, instance_id=h.instance_id)
        for h in lab_cluster.hosts.values()
    )
    return Cluster(
        name=lab_cluster.name,
        read_only=read_only,
        instance=lab_cluster.instance,
        database=lab_cluster.database,
        hosts=hosts,
        aws=AwsSettings(region="us-east-1", endpoint_url=endpoint_url),
        lab=True,
    )
