"""Runbook "Installation steps": IBM Db2 Pacemaker on both Db2 hosts, as root.

Which one follows the Db2 level (install_method auto, services/ha_setup/pcmk_source.py); an explicit one
that does not fit the level is refused by prereq-db2.
tarball (the runbook, Db2 11.5.5): tar -zxf the tarball in /tmp, dnf install the EPEL release rpm and
every rpm of RPMS/*/ (the exact paths listed from the tarball by prereq-media, so no shell glob is
needed), copy db2cm into sqllib/adm (chmod 755), `db2cm -copy_resources <dir>/Db2agents -host <host>`.
media (Db2 11.5.6+): `<image>/db2/<platform>/pcmk/db2installPCMK -i`, then
`<Db2 install path>/install/pcmk/db2cppcmk -i`.
"""

from __future__ import annotations

import posixpath
from abc import abstractmethod

from services.ha_setup.common import db2cm_path, first_line, root
from services.ha_setup.params import CLUSTER_PACKAGES, DB2_AGENTS, OCF_HEARTBEAT, HaParams
from services.ha_setup.pcmk_source import effective_method
from services.ha_setup.prereq_steps import DB2_PATH_FACT, MEDIA_FACT
from services.inventory.model import Cluster, Host
from services.inventory.names import operand
from services.plans import HostCommand, HostCommandStep, PlanContext, StepFailed, StepState, VerifiedByCheck

EXTRACTED_FACT = "ha:extracted:"  # + host name -> True when the tarball's directory exists


class _MediaStep(VerifiedByCheck, HostCommandStep):
    """A step that may need the tarball extracted first (extraction is repeated only when missing).
    Subclasses implement `_installed`, the check proper."""

    def __init__(self, host: Host, params: HaParams, *, id: str, title: str, explain: str) -> None:
        super().__init__(id=id, title=title, host=host, explain=explain)
        self.params = params

    async def check(self, ctx: PlanContext) -> StepState:
        await self._note_extracted(ctx)
        return await self._installed(ctx)

    @abstractmethod
    async def _installed(self, ctx: PlanContext) -> StepState:
        """Return whether what this step installs is in place (reads only)."""

    async def _note_extracted(self, ctx: PlanContext) -> None:
        if self._method(ctx) == "tarball":
            result = await ctx.read(self.host, ["test", "-d", self.params.extract_dir])
            ctx.facts[EXTRACTED_FACT + self.host.name] = result.exit_status == 0

    def _extract(self, ctx: PlanContext) -> list[HostCommand]:
        p = self.params
        if self._method(ctx) != "tarball" or ctx.facts.get(EXTRACTED_FACT + self.host.name):
            return []
        # The runbook's `cd /tmp; tar -zxf ...` without the cd: -C says where.
        return [
            HostCommand(root(p, "tar", "-zxf", p.tarball_path, "-C", p.media_dir), note="unpack the media")
        ]

    def _method(self, ctx: PlanContext) -> str:
        return effective_method(self.params.install_method, ctx)

    async def apply(self, ctx: PlanContext) -> None:
        await self._note_extracted(ctx)  # an earlier step of this run may have extracted it already
        await super().apply(ctx)


class PacemakerInstallStep(_MediaStep):
    """Pacemaker, corosync, crmsh and the qdevice client installed from the IBM media."""

    def __init__(self, host: Host, params: HaParams) -> None:
        how = {
            "tarball": "tar -zxf the tarball, dnf install the EPEL release rpm, then every rpm of RPMS/*/",
            "media": "db2installPCMK -i from the Db2 install image",
            "auto": "db2installPCMK -i from the Db2 install image (Db2 11.5.6+), or for 11.5.5 the tarball's "
            "rpms with dnf",
        }[params.install_method]
        super().__init__(
            host,
            params,
            id=f"pcmk-install@{host.name}",
            title=f"Install IBM Db2 Pacemaker on {host.name}",
            explain=f"Runbook: {how}, as root. Done when rpm -q finds {', '.join(CLUSTER_PACKAGES)}.",
        )

    async def _installed(self, ctx: PlanContext) -> StepState:
        result = await ctx.read(self.host, ["rpm", "-q", *CLUSTER_PACKAGES])
        if result.exit_status == 0:
            return StepState(True, " ".join(result.stdout.split()))
        missing = [p for p in CLUSTER_PACKAGES if f"package {p} is not installed" in result.stdout]
        return StepState(False, f"not installed: {', '.join(missing) or 'pacemaker packages'}")

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        p = self.params
        if self._method(ctx) == "media":
            return [HostCommand(root(p, posixpath.join(p.pcmk_media_dir, "db2installPCMK"), "-i"))]
        rpms = ctx.facts.get(MEDIA_FACT + self.host.name)
        if not rpms:
            raise StepFailed(
                f"the rpm list of the media on {self.host.name} is unknown: fix prereq-media first"
            )
        packages = [r for r in rpms if posixpath.basename(posixpath.dirname(posixpath.dirname(r))) == "RPMS"]
        out = self._extract(ctx)
        if p.epel_rpm:
            out.append(HostCommand(root(p, "dnf", "install", "-y", p.epel_rpm), note="EPEL: dependencies"))
        out.append(HostCommand(root(p, "dnf", "install", "-y", *packages), note="the runbook's */*.rpm"))
        return out


class Db2cmCopyStep(_MediaStep):
    """The runbook copies db2cm from the tarball into the instance's sqllib/adm and makes it executable."""

    def __init__(self, host: Host, cluster: Cluster, params: HaParams) -> None:
        self.target_path = db2cm_path(cluster)
        super().__init__(
            host,
            params,
            id=f"db2cm-copy@{host.name}",
            title=f"db2cm in {posixpath.dirname(self.target_path)} on {host.name}",
            explain=f"Runbook: cp .../Db2/db2cm {self.target_path}; chmod 755 {self.target_path}.",
        )

    async def _installed(self, ctx: PlanContext) -> StepState:
        if self._method(ctx) == "media":  # install_method auto on Db2 11.5.6+
            return StepState(True, f"not needed: the Db2 11.5.6+ install has {self.target_path}")
        result = await ctx.read(self.host, ["stat", "-c", "%a", self.target_path])
        mode = result.stdout.strip()
        if result.exit_status == 0 and mode == "755":
            return StepState(True, f"{self.target_path} mode 755")
        if result.exit_status == 0:
            return StepState(False, f"{self.target_path} has mode {mode}, wanted 755")
        return StepState(False, f"{self.target_path} does not exist")

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        p = self.params
        return [
            *self._extract(ctx),
            HostCommand(root(p, "cp", "--", f"{p.extract_dir}/Db2/db2cm", self.target_path)),
            HostCommand(root(p, "chmod", "755", self.target_path)),
        ]


class ResourceAgentsStep(_MediaStep):
    """Db2's resource agents (db2hadr, db2inst, db2ethmon) in /usr/lib/ocf/resource.d/heartbeat."""

    def __init__(self, host: Host, cluster: Cluster, params: HaParams) -> None:
        how = {
            "tarball": f"{db2cm_path(cluster)} -copy_resources <media>/Db2agents -host {host.name}",
            "media": "<Db2 install path>/install/pcmk/db2cppcmk -i",
            "auto": "<Db2 install path>/install/pcmk/db2cppcmk -i (Db2 11.5.6+), or for 11.5.5 "
            f"{db2cm_path(cluster)} -copy_resources <media>/Db2agents -host {host.name}",
        }[params.install_method]
        super().__init__(
            host,
            params,
            id=f"agents@{host.name}",
            title=f"Db2 resource agents on {host.name}",
            explain=f"Runbook: {how}; verified with ls -alL {OCF_HEARTBEAT}/db2*.",
        )
        self.cluster = cluster
        self.paths = [f"{OCF_HEARTBEAT}/{agent}" for agent in DB2_AGENTS]

    async def _installed(self, ctx: PlanContext) -> StepState:
        result = await ctx.read(self.host, ["ls", "-alL", "--", *self.paths])
        if result.exit_status == 0:
            return StepState(True, f"{', '.join(DB2_AGENTS)} in {OCF_HEARTBEAT}")
        return StepState(False, f"not all of {', '.join(DB2_AGENTS)} are there: {first_line(result)}")

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        p = self.params
        if self._method(ctx) == "media":
            base = p.db2_install_path or ctx.facts.get(DB2_PATH_FACT + self.host.name) or "/opt/ibm/db2/V11.5"
            return [HostCommand(root(p, posixpath.join(base, "install", "pcmk", "db2cppcmk"), "-i"))]
        return [
            *self._extract(ctx),
            HostCommand(
                root(
                    p,
                    db2cm_path(self.cluster),
                    "-copy_resources",
                    f"{p.extract_dir}/Db2agents",
                    "-host",
                    operand(self.host.name, "host name"),  # db2cm has no `--`
                )
            ),
        ]
