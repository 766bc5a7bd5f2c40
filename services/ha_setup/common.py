"""What the HA steps share: root argv (sudo -n), the read-only prerequisite step shape, finding the HADR
primary, and reading `db2cm -list` / `crm configure show` in a way that tells "not there yet" from
"broken".
"""

from __future__ import annotations

from services.cluster_model import Db2cmList
from services.ha_setup.params import HaParams
from services.inventory.model import Cluster, Host
from services.inventory.names import instance_home
from services.plans import HostCommand, HostCommandStep, PlanContext, StepFailed, StepState, VerifiedByCheck
from services.plans.context import CommandLike

PRIMARY_FACT = "ha:primary"  # ctx.facts key: name of the HADR primary host (found once per run)
DB2CM_MISSING = "not installed yet"


class PrerequisiteFailed(StepFailed):
    """A prerequisite of the runbook is not met on a host; the message says what to fix there."""


def root(params: HaParams, *argv: str) -> tuple[str, ...]:
    """Return argv run as root: under `sudo -n` unless the ssh user is root (use_sudo false)."""
    return ("sudo", "-n", *argv) if params.use_sudo else argv


def db2cm_path(cluster: Cluster) -> str:
    """Return the runbook's db2cm location: /home/<instance>/sqllib/adm/db2cm."""
    return f"{instance_home(cluster.instance)}/sqllib/adm/db2cm"  # never a path from an unchecked name


def tool_missing(result: CommandLike) -> bool:
    """Return True when the command itself is not there (exit 127, "No such file" / "not found")."""
    text = f"{result.stderr}{result.stdout}"
    return result.exit_status == 127 or (
        result.exit_status != 0 and ("command not found" in text or "No such file or directory" in text)
    )


def first_line(result: CommandLike) -> str:
    """Return the first non-empty line of stderr (else stdout), for messages."""
    for text in (result.stderr, result.stdout):
        for line in str(text).splitlines():
            if line.strip():
                return line.strip()
    return f"exit status {result.exit_status}"


async def rpm_state(ctx: PlanContext, host: Host, package: str) -> StepState:
    """Return done with `rpm -q PACKAGE`'s answer when `package` is installed on `host`, else not done."""
    result = await ctx.read(host, ["rpm", "-q", package])
    if result.exit_status == 0:
        return StepState(True, result.stdout.strip())
    return StepState(False, f"{package} is not installed")


class ReadOnlyStep(VerifiedByCheck, HostCommandStep):
    """A prerequisite check: `check` reads and raises PrerequisiteFailed with what to fix; it never
    changes anything (no commands), so apply is a no-op and verify reads again."""

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        return []

    async def apply(self, ctx: PlanContext) -> None:
        return None


class PrimaryHostStep(HostCommandStep):
    """A step run on the HADR primary: `host` is the first db host until `_to_primary` finds the primary."""

    def __init__(self, *, id: str, title: str, cluster: Cluster, explain: str) -> None:
        super().__init__(id=id, title=title, host=cluster.db_hosts[0], explain=explain)
        self.cluster = cluster

    async def _to_primary(self, ctx: PlanContext) -> Host:
        """Point the step (host and target) at the HADR primary and return it; raises like find_primary."""
        self.host = await find_primary(ctx)
        self.target = self.host.name
        return self.host


async def hadr_role(ctx: PlanContext, host: Host) -> tuple[str | None, str | None]:
    """Return (role, state) that `db2pd -hadr -db DB` reports on `host` ((None, None): not active)."""
    from services.parsers.db2pd_hadr import parse_db2pd_hadr
    from services.status.service import db2pd_argv

    result = await ctx.read(host, db2pd_argv(ctx.cluster.database))
    status = parse_db2pd_hadr(result.stdout)
    if not status.activated or not status.streams:
        return None, None
    return status.role, status.state


async def find_primary(ctx: PlanContext) -> Host:
    """Return the db host whose database is the HADR primary (read once per run, kept in ctx.facts).

    Raises StepFailed when no host, or both, say PRIMARY: db2ops will not guess which one to act on.
    """
    name = ctx.facts.get(PRIMARY_FACT)
    if name:
        host = ctx.cluster.host(name)
        if host is not None:
            return host
    primaries = []
    for host in ctx.cluster.db_hosts:
        role, _ = await hadr_role(ctx, host)
        if role == "PRIMARY":
            primaries.append(host)
    if len(primaries) != 1:
        found = ", ".join(h.name for h in primaries) or "none"
        raise StepFailed(
            f"cannot tell the HADR primary (hosts saying PRIMARY: {found}); check `db2pd -hadr -db "
            f"{ctx.cluster.database}` on both hosts and fix HADR before setting up Pacemaker"
        )
    ctx.facts[PRIMARY_FACT] = primaries[0].name
    return primaries[0]


def standby_of(cluster: Cluster, primary: Host) -> Host:
    """Return the other db host."""
    return next(h for h in cluster.db_hosts if h.name != primary.name)


async def read_db2cm_list(ctx: PlanContext, host: Host, params: HaParams) -> Db2cmList | str:
    """Return `db2cm -list` parsed, or a string saying why there is no cluster to list yet.

    Raises StepFailed when db2cm answers something that is neither a listing nor "no cluster".
    """
    from services.parsers.db2cm import parse_db2cm_list
    from services.parsers.errors import ParseError

    result = await ctx.read(host, root(params, db2cm_path(ctx.cluster), "-list"))
    if tool_missing(result):
        return f"db2cm is {DB2CM_MISSING} on {host.name} ({db2cm_path(ctx.cluster)})"
    try:
        return parse_db2cm_list(result.stdout)
    except ParseError as exc:
        text = f"{result.stdout}\n{result.stderr}"
        if result.exit_status != 0 or "not configured" in text or "No cluster" in text:
            return f"no Pacemaker cluster on {host.name} yet ({first_line(result)})"
        raise StepFailed(f"{host.name}: unexpected `db2cm -list` output ({exc})") from exc


async def read_crm_config(ctx: PlanContext, host: Host, params: HaParams) -> str | None:
    """Return `crm configure show` text, or None when crm / the cluster is not there yet."""
    result = await ctx.read(host, root(params, "crm", "configure", "show"))
    if tool_missing(result) or result.exit_status != 0:
        return None
    return result.stdout
