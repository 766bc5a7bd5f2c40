"""Runbook "Prerequisites for installing Db2 Pacemaker", one read-only step per host and topic.

Each check reads the host and raises PrerequisiteFailed with what to fix there; nothing is changed,
except ksh, which the runbook installs (`yum install ksh -y`). Facts the later steps need (rpm paths in
the media, the Db2 install path, the HADR primary) are stored in ctx.facts.
"""

from __future__ import annotations

import posixpath
import re

from services.ha_setup.common import (
    PRIMARY_FACT,
    PrerequisiteFailed,
    ReadOnlyStep,
    first_line,
    hadr_role,
    root,
    rpm_state,
    tool_missing,
)
from services.ha_setup.params import QNETD_PORT, SUPPORTED_OS, HaParams, level_tuple
from services.ha_setup.pcmk_source import (
    DB2_LEVEL_FACT,
    METHOD_FACT,
    OS_FACT,
    MethodMismatch,
    decide_method,
    effective_method,
    media_mismatch,
)
from services.inventory.model import Cluster, Host
from services.inventory.names import operand
from services.plans import HostCommand, HostCommandStep, PlanContext, StepState, VerifiedByCheck
from services.words import plural

MEDIA_FACT = "ha:media:"  # + host name -> list of rpm paths (absolute, after extraction)
DB2_PATH_FACT = "ha:db2path:"  # + host name -> Db2 install path from db2ls


def _fail(host: Host, problem: str, fix: str) -> PrerequisiteFailed:
    return PrerequisiteFailed(f"prerequisite not met on {host.name}: {problem}; {fix}")


class OsReleaseStep(ReadOnlyStep):
    """RHEL 8.1+ or SLES 15 (the runbook: Db2 Pacemaker is supported there)."""

    def __init__(self, host: Host, params: HaParams) -> None:
        super().__init__(id=f"prereq-os@{host.name}", title=f"Supported OS on {host.name}", host=host)
        self.explain = "IBM Db2 Pacemaker runs on RHEL 8.1+ and SLES 15 (runbook overview)."
        self.params = params

    async def check(self, ctx: PlanContext) -> StepState:
        result = await ctx.read(self.host, ["cat", "/etc/os-release"])
        if result.exit_status != 0:
            raise _fail(self.host, "/etc/os-release is unreadable", "is this a Linux host?")
        info = dict(re.findall(r'^([A-Z_]+)="?([^"\n]*)"?$', result.stdout, re.MULTILINE))
        os_id, version = info.get("ID", "?"), info.get("VERSION_ID", "0")
        ctx.facts[OS_FACT + self.host.name] = (os_id, version)  # the media's build must be for this OS
        pretty = info.get("PRETTY_NAME", f"{os_id} {version}")
        try:
            major_minor = tuple(int(p) for p in version.split(".")[:2])
        except ValueError:
            major_minor = (0,)
        minimum = {"rhel": (8, 1)}.get(os_id, (15,))
        if os_id in SUPPORTED_OS and major_minor >= minimum:
            return StepState(True, pretty)
        if self.params.allow_unsupported_os:
            return StepState(True, f"{pretty} (not supported by IBM; allowed by allow_unsupported_os)")
        raise _fail(
            self.host,
            f"it runs {pretty}",
            "Db2 Pacemaker is supported on RHEL 8.1+ and SLES 15; use such a host (or set "
            "allow_unsupported_os=true to go on at your own risk)",
        )


class HostsFileStep(ReadOnlyStep):
    """Every cluster host name is in /etc/hosts (not on a loopback address), and `hostname -s` is ours."""

    def __init__(self, host: Host, cluster: Cluster) -> None:
        super().__init__(id=f"prereq-hosts@{host.name}", title=f"/etc/hosts on {host.name}", host=host)
        self.names = [h.name for h in cluster.hosts]
        self.explain = (
            "Runbook: host names of all cluster hosts (both Db2 hosts and the QDevice host) in /etc/hosts "
            "on every host, as `ipaddress fully_qualified_domain_name alias`."
        )

    async def check(self, ctx: PlanContext) -> StepState:
        name = (await ctx.read(self.host, ["hostname", "-s"])).stdout.strip()
        if name != self.host.name:
            raise _fail(
                self.host,
                f"`hostname -s` says {name!r}, the inventory (and Pacemaker) call it {self.host.name!r}",
                "set the host name (hostnamectl set-hostname) or rename the host in the inventory",
            )
        result = await ctx.read(self.host, ["cat", "/etc/hosts"])
        mapped: dict[str, str] = {}
        for line in result.stdout.splitlines():
            words = line.split("#", 1)[0].split()
            for alias in words[1:]:
                for key in (alias, alias.split(".", 1)[0]):  # the FQDN and its short alias
                    mapped.setdefault(key, words[0])
        missing = [n for n in self.names if n not in mapped]
        loopback = [n for n in self.names if mapped.get(n, "").startswith(("127.", "::1"))]
        if missing:
            raise _fail(
                self.host,
                f"/etc/hosts has no line for {', '.join(missing)}",
                "add `ipaddress fully_qualified_domain_name alias` for each of them",
            )
        if loopback:
            raise _fail(
                self.host,
                f"/etc/hosts maps {', '.join(loopback)} to a loopback address",
                "map every cluster host name to its private IP (corosync binds to it)",
            )
        return StepState(True, ", ".join(f"{n}={mapped[n]}" for n in self.names))


class TimeSyncStep(ReadOnlyStep):
    """chrony is synchronised (Amazon Time Sync) and the offset is small (qdevice TLS, log ordering)."""

    def __init__(self, host: Host, params: HaParams) -> None:
        super().__init__(id=f"prereq-time@{host.name}", title=f"Clock in sync on {host.name}", host=host)
        self.params = params
        self.explain = (
            "Not in the runbook, but needed: the qdevice uses TLS certificates and Pacemaker compares "
            "times across nodes. EC2 hosts sync with chrony to 169.254.169.123."
        )

    async def check(self, ctx: PlanContext) -> StepState:
        result = await ctx.read(self.host, ["chronyc", "tracking"])
        if tool_missing(result) or result.exit_status != 0:
            raise _fail(
                self.host,
                f"chronyc tracking failed ({first_line(result)})",
                "install and start chrony (dnf install -y chrony; systemctl enable --now chronyd)",
            )
        fields = dict(
            (k.strip(), v.strip())
            for k, _, v in (line.partition(":") for line in result.stdout.splitlines())
            if v
        )
        leap = fields.get("Leap status", "")
        match = re.match(r"([0-9.]+) seconds (fast|slow)", fields.get("System time", ""))
        if leap != "Normal" or match is None:
            raise _fail(
                self.host,
                f"chrony is not synchronised (Leap status: {leap or 'unknown'})",
                "check `chronyc sources`; on EC2 use server 169.254.169.123 prefer iburst",
            )
        offset = float(match.group(1))
        if offset > self.params.max_clock_offset_s:
            raise _fail(
                self.host,
                f"the clock is {offset:.3f} s {match.group(2)}",
                "let chrony step the clock (chronyc makestep) and check again",
            )
        return StepState(True, f"synchronised to {fields.get('Reference ID', '?')}, offset {offset:.6f} s")


class InstanceUserStep(ReadOnlyStep):
    """The instance owner exists and is in the instance group (runbook: grep db2iadm1/db2inst1 /etc/group)."""

    def __init__(self, host: Host, cluster: Cluster, params: HaParams) -> None:
        super().__init__(
            id=f"prereq-users@{host.name}",
            title=f"Instance owner {cluster.instance} on {host.name}",
            host=host,
        )
        self.instance, self.group = cluster.instance, params.instance_group
        self.explain = "Runbook: instance user id and group id set up as part of the Db2 server install."

    async def check(self, ctx: PlanContext) -> StepState:
        result = await ctx.read(self.host, ["id", operand(self.instance, "instance owner")])
        if result.exit_status != 0:
            raise _fail(
                self.host,
                f"user {self.instance} does not exist ({first_line(result)})",
                "create the instance owner as the Db2 install does (db2icrt) before setting up HA",
            )
        groups = re.findall(r"\d+\(([^)]+)\)", result.stdout.partition("groups=")[2])
        if self.group not in groups:
            raise _fail(
                self.host,
                f"{self.instance} is not in group {self.group} (groups: {', '.join(groups) or 'none'})",
                f"add it (usermod -aG {self.group} {self.instance}) or set instance_group",
            )
        return StepState(True, result.stdout.strip())


class Db2LevelStep(ReadOnlyStep):
    """Db2 >= min_db2_level is installed (db2ls); its path is kept for db2cppcmk."""

    def __init__(self, host: Host, params: HaParams) -> None:
        super().__init__(id=f"prereq-db2@{host.name}", title=f"Db2 level on {host.name}", host=host)
        self.params = params
        self.explain = f"Db2 Pacemaker needs Db2 {params.min_db2_level} or later (the runbook uses 11.5.5)."

    async def check(self, ctx: PlanContext) -> StepState:
        result = await ctx.read(self.host, ["db2ls"])
        installs = []
        for line in result.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[0].startswith("/") and re.match(r"^\d+(\.\d+)+$", parts[1]):
                installs.append((level_tuple(parts[1]), parts[1], parts[0]))
        if not installs:
            raise _fail(
                self.host,
                f"db2ls lists no Db2 installation ({first_line(result)})",
                "install Db2 (Advanced or Standard Edition) first",
            )
        best = max(installs)
        if best[0] < level_tuple(self.params.min_db2_level):
            raise _fail(
                self.host,
                f"Db2 {best[1]} at {best[2]} is older than {self.params.min_db2_level}",
                "apply a Db2 11.5 mod pack that includes Pacemaker support",
            )
        seen = ctx.facts.get(DB2_LEVEL_FACT)
        if seen and seen != best[1]:
            raise _fail(
                self.host,
                f"Db2 {best[1]} here but {seen} on the other db host",
                "HADR and db2cm need the same Db2 level on both hosts: update the older one first",
            )
        try:
            method = decide_method(self.params.install_method, best[1])
        except MethodMismatch as exc:
            raise _fail(self.host, exc.problem, exc.fix) from None
        ctx.facts[DB2_LEVEL_FACT] = best[1]
        ctx.facts[METHOD_FACT] = method
        ctx.facts[DB2_PATH_FACT + self.host.name] = best[2]
        how = "the Db2 install media" if method == "media" else "IBM's separate Pacemaker tarball"
        return StepState(True, f"Db2 {best[1]} at {best[2]}; Pacemaker from {how}")


class HadrPeerStep(ReadOnlyStep):
    """HADR is active and in PEER (runbook: "Activate HADR for the Db2 database cluster")."""

    def __init__(self, host: Host, cluster: Cluster) -> None:
        super().__init__(id=f"prereq-hadr@{host.name}", title=f"HADR in PEER on {host.name}", host=host)
        self.database = cluster.database
        self.explain = (
            "db2cm -create -db needs an HADR pair that is connected and in PEER; the primary found here "
            "runs the db2cm and crm commands and gets the overlay IP route."
        )

    async def check(self, ctx: PlanContext) -> StepState:
        role, state = await hadr_role(ctx, self.host)
        if role is None:
            raise _fail(
                self.host,
                f"database {self.database} is not active with HADR",
                f"start HADR (db2 start hadr on db {self.database} as standby, then as primary)",
            )
        if state != "PEER":
            raise _fail(
                self.host,
                f"HADR state is {state}",
                "wait for PEER (check the HADR ports in db cfg and the security group) and check again",
            )
        if role == "PRIMARY":
            ctx.facts[PRIMARY_FACT] = self.host.name
        return StepState(True, f"{role}, {state}")


class MediaStep(ReadOnlyStep):
    """The Pacemaker software is on the host: the runbook's tarball (listed, not extracted) or the
    Db2 image's pcmk directory. The rpm paths found are what the install steps pass to dnf."""

    def __init__(self, host: Host, params: HaParams) -> None:
        where = {
            "tarball": params.tarball_path,
            "media": params.pcmk_media_dir,
            "auto": f"{params.pcmk_media_dir} for Db2 11.5.6+, {params.tarball_path} for 11.5.5",
        }[params.install_method]
        super().__init__(id=f"prereq-media@{host.name}", title=f"Pacemaker media on {host.name}", host=host)
        self.params = params
        self.explain = (
            f"Runbook: the IBM Db2 Pacemaker binaries available on the host ({where}); their build must be "
            "the one IBM ships with the installed Db2 level, for this host's RHEL release."
        )

    async def check(self, ctx: PlanContext) -> StepState:
        p = self.params
        if effective_method(p.install_method, ctx) == "tarball":
            result = await ctx.read(self.host, ["tar", "-tzf", p.tarball_path])
            if result.exit_status != 0:
                raise _fail(
                    self.host,
                    f"{p.tarball_path} is missing or unreadable ({first_line(result)})",
                    f"copy {p.pcmk_tarball} (IBM download site) to {p.media_dir} on every host",
                )
            members = [posixpath.join(p.media_dir, m.strip()) for m in result.stdout.splitlines()]
            needed = ["/Db2/db2cm", "/Db2agents/"] if self.host.role == "db" else []
        else:
            result = await ctx.read(self.host, ["find", p.pcmk_media_dir, "-name", "*.rpm"])
            if result.exit_status != 0:
                raise _fail(
                    self.host,
                    f"{p.pcmk_media_dir} is missing ({first_line(result)})",
                    "unpack the Db2 11.5.6+ install image there or set db2_image_dir / db2_platform",
                )
            members = [m.strip() for m in result.stdout.splitlines() if m.strip()]
            needed = []
        rpms = sorted(m for m in members if m.endswith(".rpm"))
        want = "corosync-qnetd" if self.host.role == "qdevice" else "pacemaker-"
        if not any(posixpath.basename(r).startswith(want) for r in rpms):
            raise _fail(self.host, f"the media holds no {want}* rpm", "check that the download is complete")
        for suffix in needed:
            if not any(suffix in m for m in members):
                raise _fail(self.host, f"the tarball has no ...{suffix}", "download the tarball again")
        level = ctx.facts.get(DB2_LEVEL_FACT)
        mismatch = media_mismatch(rpms, level, ctx.facts.get(OS_FACT + self.host.name))
        if mismatch is not None:
            problem, fix = mismatch
            raise _fail(self.host, problem, fix)
        ctx.facts[MEDIA_FACT + self.host.name] = rpms
        return StepState(True, f"{plural(len(rpms), 'rpm')} in the media")


class RootSshStep(ReadOnlyStep):
    """Password-less root ssh to the other hosts (runbook: `ssh <host name> -l root ls`)."""

    def __init__(self, host: Host, cluster: Cluster, params: HaParams) -> None:
        super().__init__(id=f"prereq-ssh@{host.name}", title=f"Root ssh from {host.name}", host=host)
        self.params = params
        self.others = [h.name for h in cluster.hosts if h.name != host.name]
        self.explain = (
            "db2cm runs commands on the other hosts over root ssh (both Db2 hosts and the QDevice host). "
            "BatchMode makes a password prompt fail instead of hanging."
        )

    async def check(self, ctx: PlanContext) -> StepState:
        for other in self.others:
            # `--` ends ssh's options: a host name can never be read as one (e.g. -oProxyCommand=...)
            argv = ("ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "-l", "root", "--", other, "ls")
            result = await ctx.read(self.host, root(self.params, *argv))
            if result.exit_status != 0:
                raise _fail(
                    self.host,
                    f"`ssh -l root {other} ls` failed as root ({first_line(result)})",
                    f"add root's public key of {self.host.name} to /root/.ssh/authorized_keys on {other} "
                    "and accept its host key once",
                )
        return StepState(True, f"root ssh to {', '.join(self.others)} works")


class InstanceOwnerSshStep(ReadOnlyStep):
    """Password-less ssh as the instance owner to the other Db2 host (runbook: set up for root AND the
    instance owner; db2cm and the Db2 resource agents use both)."""

    def __init__(self, host: Host, cluster: Cluster, params: HaParams) -> None:
        owner = cluster.instance
        super().__init__(id=f"prereq-owner-ssh@{host.name}", title=f"{owner} ssh from {host.name}", host=host)
        self.owner = owner
        self.others = [h.name for h in cluster.db_hosts if h.name != host.name]
        self.explain = (
            f"The runbook sets up password-less ssh between the Db2 hosts for root and for {owner}; "
            "BatchMode makes a password prompt fail instead of hanging."
        )

    def _argv(self, other: str) -> tuple[str, ...]:
        # `--` ends ssh's options: a host name can never be read as one (e.g. -oProxyCommand=...)
        ssh = ("ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10", "--", other, "ls")
        user = self.host.user or ""
        if user == self.owner:
            return ssh
        owner = operand(self.owner, "instance owner")
        if user == "root":  # root needs no sudo rule (and hosts without sudo exist): util-linux's runuser
            return ("runuser", "-u", owner, "--", *ssh)
        return ("sudo", "-n", "-u", owner, "--", *ssh)

    async def check(self, ctx: PlanContext) -> StepState:
        for other in self.others:
            result = await ctx.read(self.host, self._argv(other))
            if result.exit_status != 0:
                raise _fail(
                    self.host,
                    f"`ssh {other} ls` as {self.owner} failed ({first_line(result)})",
                    f"add {self.owner}'s public key of {self.host.name} to ~{self.owner}/.ssh/authorized_keys "
                    f"on {other} and accept its host key once (as {self.owner})",
                )
        return StepState(True, f"{self.owner} ssh to {', '.join(self.others)} works")


class QnetdPortStep(ReadOnlyStep):
    """TCP 5403 from this Db2 host to the QDevice host, before `db2cm -create -qdevice` (nc -v -z)."""

    def __init__(self, host: Host, params: HaParams) -> None:
        qdevice = params.qdevice_host or ""
        super().__init__(
            id=f"prereq-qnetd-port@{host.name}", title=f"TCP {QNETD_PORT} {host.name} -> {qdevice}", host=host
        )
        self.qdevice = qdevice
        self.explain = (
            f"corosync-qdevice on each Db2 host connects to corosync-qnetd on TCP {QNETD_PORT}. Checked with "
            "`nc -v -z`: 'connection refused' is fine before qnetd runs (the packet got through); a time-out "
            "means a security group or firewall drops it."
        )

    async def check(self, ctx: PlanContext) -> StepState:
        # -v: with -z alone nmap-ncat prints nothing, and "refused" (got through) would look like a drop
        argv = ("nc", "-v", "-z", "-w", "5", "--", operand(self.qdevice, "qdevice host"), str(QNETD_PORT))
        result = await ctx.read(self.host, argv)
        said = ncat_said(result.stdout + result.stderr)
        if tool_missing(result):
            raise _fail(
                self.host,
                "nc is not installed, so TCP 5403 to the quorum host cannot be checked",
                "install it (dnf install -y nmap-ncat), or check the port by hand, then re-run",
            )
        if result.exit_status == 0:
            return StepState(True, f"{self.qdevice}:{QNETD_PORT} accepts connections")
        if "refused" in said.lower():
            return StepState(True, f"{self.qdevice}:{QNETD_PORT} reachable (nothing listens yet: {said})")
        raise _fail(
            self.host,
            f"TCP {QNETD_PORT} to {self.qdevice} does not get through ({said or f'exit {result.exit_status}'})",
            qnetd_port_hint(self.qdevice),
        )


class AwsCliStep(ReadOnlyStep):
    """The AWS CLI and the profile aws-vpc-move-ip uses are set up for root."""

    def __init__(self, host: Host, params: HaParams) -> None:
        super().__init__(id=f"prereq-awscli@{host.name}", title=f"AWS CLI profile on {host.name}", host=host)
        self.params = params
        self.explain = (
            f"The aws-vpc-move-ip agent runs `aws --profile {params.agent_profile} ec2 ...` as root to move "
            "the route on failover; the profile needs a region (credentials come from the instance role)."
        )

    async def check(self, ctx: PlanContext) -> StepState:
        p = self.params
        version = await ctx.read(self.host, root(p, "aws", "--version"))
        if tool_missing(version) or version.exit_status != 0:
            raise _fail(self.host, "the AWS CLI is not installed", "install AWS CLI v2 for root")
        region = await ctx.read(
            self.host, root(p, "aws", "configure", "get", "region", "--profile", p.agent_profile)
        )
        if region.exit_status != 0 or not region.stdout.strip():
            raise _fail(
                self.host,
                f"root's AWS CLI profile {p.agent_profile!r} has no region",
                f"run `aws configure set region <region> --profile {p.agent_profile}` as root",
            )
        return StepState(
            True, f"{version.stdout.split()[0]}; profile {p.agent_profile}: {region.stdout.strip()}"
        )


class KshStep(VerifiedByCheck, HostCommandStep):
    """Runbook prerequisite: "Install kornshell (ksh) on both of the hosts" (the Db2 agents need it)."""

    def __init__(self, host: Host, params: HaParams) -> None:
        super().__init__(
            id=f"ksh@{host.name}",
            title=f"Korn shell (ksh) on {host.name}",
            host=host,
            explain="Runbook: sudo yum install ksh -y.",
        )
        self.params = params

    async def check(self, ctx: PlanContext) -> StepState:
        return await rpm_state(ctx, self.host, "ksh")

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        return [HostCommand(root(self.params, "yum", "install", "ksh", "-y"))]


def ncat_said(text: str) -> str:
    """Return what `nc -v` said about the connection, on one line, without its version banner."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return " ".join(line for line in lines if not line.startswith("Ncat: Version "))


def qnetd_port_hint(qdevice_host: str) -> str:
    """Return what to check when the qdevice cannot reach qnetd."""
    return (
        f"allow TCP {QNETD_PORT} from both Db2 hosts to {qdevice_host} (security group and firewalld), "
        "runbook: quorum device prerequisites"
    )
