"""Runbook "Quorum device setup": corosync-qnetd on the third host, then `db2cm -create -qdevice <host>`
from a Db2 host; verified with `db2cm -list`, `corosync-qdevice-tool -s` on the Db2 hosts and
`corosync-qnetd-tool -l` on the QDevice host.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from services.cluster_model import QdeviceStatus
from services.ha_setup.common import PrimaryHostStep, db2cm_path, root, rpm_state, tool_missing
from services.ha_setup.pacemaker_steps import _MediaStep
from services.ha_setup.params import HaParams
from services.ha_setup.prereq_steps import MEDIA_FACT, qnetd_port_hint
from services.inventory.model import Cluster, Host
from services.inventory.names import operand
from services.plans import HostCommand, PlanContext, StepFailed, StepState
from services.words import plural

if TYPE_CHECKING:
    from services.cluster_model import QdeviceStatus


class QnetdInstallStep(_MediaStep):
    """Only the corosync-qnetd package on the QDevice host (runbook: dnf install */corosync-qnetd* -y)."""

    def __init__(self, host: Host, params: HaParams) -> None:
        super().__init__(
            host,
            params,
            id=f"qnetd-install@{host.name}",
            title=f"corosync-qnetd on {host.name}",
            explain="Runbook: unpack the same Pacemaker media on the QDevice host and install only "
            "corosync-qnetd (a lightweight tie breaker; no Pacemaker there).",
        )

    async def _installed(self, ctx: PlanContext) -> StepState:
        return await rpm_state(ctx, self.host, "corosync-qnetd")

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        rpms = [
            r
            for r in ctx.facts.get(MEDIA_FACT + self.host.name) or []
            if posixpath.basename(r).startswith("corosync-qnetd")
        ]
        if not rpms:
            raise StepFailed(
                f"no corosync-qnetd rpm known in the media on {self.host.name}: fix prereq-media first"
            )
        return [*self._extract(ctx), HostCommand(root(self.params, "dnf", "install", "-y", *rpms))]


class QdeviceStep(PrimaryHostStep):
    """db2cm -create -qdevice QHOST, run on the HADR primary."""

    def __init__(self, cluster: Cluster, params: HaParams) -> None:
        super().__init__(
            id="qdevice",
            title=f"Quorum device on {params.qdevice_host}",
            cluster=cluster,
            explain="Runbook: db2cm -create -qdevice <qdevice host> from one Db2 host; the QDevice breaks "
            f"ties so a network split cannot leave two primaries. Needs {qnetd_port_hint(params.qdevice_host or '')}.",
        )
        self.params = params

    async def _qdevice(self, ctx: PlanContext, host: Host) -> QdeviceStatus | None:
        from services.parsers.corosync import parse_qdevice_tool

        result = await ctx.read(host, root(self.params, "corosync-qdevice-tool", "-s"))
        if tool_missing(result) or result.exit_status != 0:
            return None
        return parse_qdevice_tool(result.stdout)

    async def check(self, ctx: PlanContext) -> StepState:
        status = await self._qdevice(ctx, await self._to_primary(ctx))
        if status is None:
            return StepState(
                False, f"no quorum device configured (corosync-qdevice-tool on {self.host.name})"
            )
        qnetd = status.qnetd_host.rsplit(":", 1)[0]
        if qnetd != self.params.qdevice_host and qnetd != await self._address(ctx):
            raise StepFailed(
                f"the cluster already uses the quorum device {status.qnetd_host}, not "
                f"{self.params.qdevice_host}: db2ops will not replace it (db2cm -delete -qdevice first)"
            )
        return StepState(True, f"qnetd {status.qnetd_host}, algorithm {status.algorithm}, {status.state}")

    async def _address(self, ctx: PlanContext) -> str:
        """Return the qdevice host's address as the primary resolves it (qdevice-tool may show either)."""
        result = await ctx.read(
            self.host, ["getent", "hosts", operand(self.params.qdevice_host or "", "qdevice host")]
        )
        words = result.stdout.split()
        return words[0] if result.exit_status == 0 and words else ""

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        return [
            HostCommand(
                root(
                    self.params,
                    db2cm_path(self.cluster),
                    "-create",
                    "-qdevice",
                    operand(self.params.qdevice_host or "", "qdevice host"),
                )
            )
        ]

    async def verify(self, ctx: PlanContext) -> bool | str:
        from services.parsers.corosync import parse_qnetd_tool

        for host in self.cluster.db_hosts:
            status = await self._qdevice(ctx, host)
            if status is None or status.state != "Connected":
                state = status.state if status else "not running"
                return f"qdevice on {host.name}: {state}; {qnetd_port_hint(self.params.qdevice_host or '')}"
        qhost = self.cluster.host(self.params.qdevice_host or "")
        if qhost is None:
            return f"{self.params.qdevice_host} is not in the inventory"
        result = await ctx.read(qhost, root(self.params, "corosync-qnetd-tool", "-l"))
        if result.exit_status != 0:
            return f"corosync-qnetd-tool -l on {qhost.name} exited {result.exit_status}: is corosync-qnetd running?"
        clients = {c.node_id for cl in parse_qnetd_tool(result.stdout).clusters for c in cl.clients}
        if len(clients) < len(self.cluster.db_hosts):
            return f"qnetd on {qhost.name} sees {plural(len(clients), 'node')}, wanted {len(self.cluster.db_hosts)}"
        return True
