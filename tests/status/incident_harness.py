"""An in-process lab cluster polled like the console polls it, on a clock the test moves.

`DrillWalk` holds a lab.state.LabCluster (its own fake clock), a HostRunner that answers from the lab's
command handlers and refuses hosts that are down (as the lab's sshd does), the overlay route the lab's
aws-vpc-move-ip keeps, and the status service's last-good cache (so a dead host's parts go stale as in the
console). `snap()` is one poll at the current fake time.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from in_process_lab import Result, lab_inventory_cluster, run_on_lab  # noqa: E402

from lab.state import LabCluster  # noqa: E402
from services.cluster_model import OverlayRoute  # noqa: E402
from services.inventory.model import AwsSettings, Host  # noqa: E402
from services.ssh.errors import HostUnreachable  # noqa: E402
from services.status import service as status_service  # noqa: E402
from services.status.model import ClusterStatus, Part  # noqa: E402
from services.status.service import LastGoodParts, gather_cluster_status  # noqa: E402
from services.status.verdicts import derive_verdicts  # noqa: E402

START = 1_796_000_000.0  # a fixed moment (2026-11-30), so every time in a headline is reproducible


@dataclass
class FakeClock:
    now: float = START

    def __call__(self) -> float:
        return self.now


@dataclass
class LabRunner:
    """Answers from the lab's handlers; a host that is down refuses the connection like the lab's sshd."""

    lab: LabCluster
    ran: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)

    async def run(self, host: Host, argv: Sequence[str], *, timeout=None, input=None, check=False) -> Result:
        if not self.lab.hosts[host.name].up:
            raise HostUnreachable(
                f"{host.name}: cannot connect to 127.0.0.1:22 (Connection refused); check the address in "
                "the inventory and that sshd runs there",
                host.name,
            )
        self.ran.append((host.name, tuple(argv)))
        return run_on_lab(self.lab, host, argv, input)


class DrillWalk:
    """One lab cluster, polled on demand at fake times (failover after `failover_delay_s`)."""

    def __init__(self, failover_delay_s: float = 8.0, monkeypatch=None) -> None:
        self.clock = FakeClock()
        self.lab = LabCluster("lab1", failover_delay_s=failover_delay_s, clock=self.clock)
        cluster = lab_inventory_cluster(self.lab, endpoint_url=None, user=None)
        self.cluster = replace(
            cluster, aws=AwsSettings(region="us-east-1", route_table_id="rtb-lab", overlay_ip="192.168.1.81")
        )
        self.runner = LabRunner(self.lab)
        self.last_good = LastGoodParts()
        if monkeypatch is not None:
            monkeypatch.setattr(status_service, "overlay_route_part", self._route)

    async def _route(self, cluster, clock, *, deadline_s=None) -> Part[OverlayRoute]:
        # the lab's aws-vpc-move-ip: the route points to the promoted node while one is promoted
        promoted = self.lab.promoted if self.lab.promoted in self.lab.online_nodes() else None
        target = promoted or self.lab.hadr_primary
        value = OverlayRoute("rtb-lab", "192.168.1.81/32", self.lab.hosts[target].instance_id, state="active")
        return Part(source="lab:moto ec2", fetched_at=clock(), value=value, command="describe_route_tables")

    def advance(self, seconds: float) -> None:
        self.clock.now += seconds

    async def snap(self) -> ClusterStatus:
        status = await gather_cluster_status(self.cluster, self.runner, clock=self.clock)
        carried = self.last_good.carry(
            status
        )  # as StatusService.snapshot: verdicts again with last good parts
        return replace(carried, verdicts=derive_verdicts(carried))
