"""An in-process HA lab for tests: a lab cluster (fresh or seeded), its AWS side in the test's moto, the
inventory Cluster pointing at it and a runner that answers host commands from the lab's handlers."""

from __future__ import annotations

import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.inventory.model import AwsSettings, Cluster, Host
from services.plans import Journal, PlanContext


@dataclass
class HaLab:
    """One in-process lab cluster: the inventory Cluster, the runner, the lab state and its AWS side."""

    cluster: Cluster
    runner: Any  # plans.fakes.LabDirectRunner
    lab: Any  # lab.state.LabCluster
    aws: Any  # lab.aws.LabAws
    tmp_path: Path

    def context(self, **changes: Any) -> PlanContext:
        base: dict[str, Any] = {
            "cluster": self.cluster,
            "runner": self.runner,
            "journal": Journal(self.tmp_path / "journal"),
            "operator": "alice",
        }
        base.update(changes)
        return PlanContext(**base)


def make_lab(
    endpoint: str, tmp_path: Path, *, fresh: bool, read_only: bool = False, db2: str | None = None
) -> HaLab:
    from plans.fakes import LabDirectRunner

    from lab.aws import LabAws
    from lab.ha_state import start_fresh
    from lab.state import LabCluster

    lab = LabCluster("lab1", failover_delay_s=0, db2=db2)
    if fresh:
        start_fresh(lab)
    aws = LabAws()
    aws.endpoint_url = endpoint  # the test's moto (LabAws.start would start its own)
    facts = aws.seed(lab, fresh=fresh)
    hosts = tuple(
        Host(name=h.name, address="127.0.0.1", role=h.role, user="db2inst1", instance_id=h.instance_id)
        for h in lab.hosts.values()
    )
    cluster = Cluster(
        name="lab1",
        environment="lab",
        read_only=read_only,
        instance=lab.instance,
        database=lab.database,
        hosts=hosts,
        aws=AwsSettings(
            region="us-east-1",
            endpoint_url=endpoint,
            route_table_id=facts.route_table_id,
            overlay_ip=lab.overlay_ip,
        ),
        lab=True,
    )
    return HaLab(cluster, LabDirectRunner(lab), lab, aws, tmp_path)


def post(url: str, body: bytes = b"") -> None:
    """POST to moto's control API on loopback (reset, reset-auth)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback moto only
        response.read()
