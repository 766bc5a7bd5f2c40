"""Lab host answers for a failover: `db2 takeover hadr on db DB [by force [peer window only]]`, crmsh's
`crm resource move|clear|cleanup`, `crm_resource --move|--ban|--clear` and `cibadmin --query --scope
constraints`. Registered on import (lab/commands.py imports this module at its end).

Messages copy the real tools: the CLP's DB20000I / SQL1770N lines, crmsh 4.4.1's coloured INFO lines on
stderr (corpus pacemaker-lab/02-after-move *ACTION* files), crm_resource's warning for a ban (03b-ban) and
its exit 108 "Requested item already exists" while a cli-prefer constraint exists (notes/pacemaker-lab.md).
The `cli-*` location constraints those commands create live here, per cluster, until cleared.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass

from lab.command_registry import CommandContext, Result, register_command
from lab.state import LabCluster, LabEvents

DB = ("db",)
TAKEOVER_OK = "DB20000I  The TAKEOVER HADR ON DATABASE command completed successfully.\n"
CLP_ERROR_EXIT = 4  # the CLP's exit status when a command ends with an SQLnnnnN error
INFO = "\x1b[32mINFO\x1b[0m"  # crmsh colours its level even without a TTY (notes/pacemaker-lab.md)
CRM_EX_EXISTS = 108


def sql1770n(reason: int) -> str:
    """Return the CLP's SQL1770N line for `reason` (1: not a standby, 2: not in peer state, 9: outside the
    peer window with PEER WINDOW ONLY)."""
    return f'SQL1770N  Takeover HADR cannot complete. Reason code = "{reason}".\n'


# ---------------------------------------------------------------- cli-* constraints per cluster


@dataclass(frozen=True)
class LabConstraint:
    """One rsc_location made by crm_resource: cli-prefer-<rsc> (INFINITY) or cli-ban-<rsc>-on-<node>."""

    id: str
    rsc: str
    node: str
    score: str
    role: str = "Started"


_LOCK = threading.Lock()
_CONSTRAINTS: weakref.WeakKeyDictionary[LabCluster, dict[str, LabConstraint]] = weakref.WeakKeyDictionary()


def cli_constraints(cluster: LabCluster) -> list[LabConstraint]:
    """Return the cli-* constraints currently in `cluster`'s (simulated) CIB, oldest first."""
    with _LOCK:
        return list(_CONSTRAINTS.get(cluster, {}).values())


def _put(cluster: LabCluster, constraint: LabConstraint) -> None:
    with _LOCK:
        _CONSTRAINTS.setdefault(cluster, {})[constraint.id] = constraint


def _clear(cluster: LabCluster, rsc: str) -> list[str]:
    with _LOCK:
        table = _CONSTRAINTS.get(cluster, {})
        gone = [cid for cid, c in table.items() if c.rsc == rsc]
        for cid in gone:
            del table[cid]
        return gone


def _prefer_id(rsc: str) -> str:
    return f"cli-prefer-{rsc}"


# ---------------------------------------------------------------- db2 takeover hadr


def _words(argv: list[str]) -> list[str]:
    # `db2 takeover hadr on db X` and `db2 "takeover hadr on db X"` are the same CLP command
    return " ".join(argv[1:]).split()


def is_takeover(argv: list[str]) -> bool:
    """True for `db2 takeover hadr on db|database NAME ...` (any case)."""
    words = [w.lower() for w in _words(argv)]
    return len(words) >= 5 and words[:3] == ["takeover", "hadr", "on"] and words[3] in ("db", "database")


def _takeover(ctx: CommandContext) -> Result:
    words = _words(ctx.argv)
    lower = [w.lower() for w in words]
    database, options = words[4], lower[5:]
    if "user" in options:  # USER x USING pw: credentials are not checked by the lab
        i = options.index("user")
        options = options[:i] + options[i + 4 :]
    forced = options[:2] == ["by", "force"]
    window_only = forced and options[2:5] == ["peer", "window", "only"]
    expected = [] if not forced else (["by", "force"] + (["peer", "window", "only"] if window_only else []))
    if options != expected:
        return _clp_syntax_error(words)
    cluster, node = ctx.cluster, ctx.host.name
    if database.upper() != cluster.database.upper():
        return (
            CLP_ERROR_EXIT,
            f'SQL1013N  The database alias name or database name "{database.upper()}" could not be found.  '
            "SQLSTATE=42705\n",
            "",
        )
    with cluster.lock:
        now = cluster.clock()
        role = cluster.role_of(node)
        state = cluster.hadr_state(now)
        in_window = state == "PEER" or (
            not cluster.hadr_connected() and now - cluster.connect_status_time < cluster.peer_window_s
        )
    if role == "PRIMARY":
        return CLP_ERROR_EXIT, sql1770n(1), ""
    if not forced and state != "PEER":
        return CLP_ERROR_EXIT, sql1770n(2), ""
    if window_only and not in_window:
        return CLP_ERROR_EXIT, sql1770n(9), ""
    if state == "PEER":
        cluster.move_primary(node)  # graceful: the old primary becomes the standby, Pacemaker follows
    else:
        _force_takeover(cluster, node)
    return 0, TAKEOVER_OK, ""


def _force_takeover(cluster: LabCluster, node: str) -> None:
    """BY FORCE without a connected peer: the standby becomes primary from the log it has received
    (the same transition the lab uses when Pacemaker fails over after a crash)."""

    def action(now: float, events: LabEvents) -> None:
        if cluster.hadr_primary != node:
            cluster._promote(node, now, events, takeover=True)

    cluster._change(action)


def _clp_syntax_error(words: list[str]) -> Result:
    token = words[-1] if words else ""
    return (
        CLP_ERROR_EXIT,
        f'SQL0104N  An unexpected token "{token}" was found following "TAKEOVER HADR ON DATABASE".  '
        'Expected tokens may include:  "BY FORCE".  SQLSTATE=42601\n',
        "",
    )


# ---------------------------------------------------------------- crmsh: crm resource move|clear|cleanup

_CRM_VERBS = ("move", "clear", "cleanup", "unmove")


def is_crm_resource_change(argv: list[str]) -> bool:
    """True for `crm resource move|clear|cleanup|unmove ...`."""
    return len(argv) >= 3 and argv[1] == "resource" and argv[2] in _CRM_VERBS


def _known_resource(cluster: LabCluster, rsc: str) -> bool:
    names = {cluster.clone_rsc, cluster.hadr_rsc, cluster.oip_rsc}
    names.update(cluster.instance_rsc(n) for n in cluster.db_nodes)
    return rsc in names


def _crm_resource(ctx: CommandContext) -> Result:
    cluster = ctx.cluster
    verb, rest = ctx.argv[2], ctx.argv[3:]
    if verb == "cleanup":
        return _cleanup(cluster, rest)
    if not rest:
        return 1, "", f"ERROR: resource.{verb}: Not enough arguments\n"
    rsc = rest[0]
    if not _known_resource(cluster, rsc):
        return 1, "", f"ERROR: resource.{verb}: Resource {rsc} not found\n"
    if verb in ("clear", "unmove"):
        _clear(cluster, rsc)
        return 0, "", f"{INFO}: Removed migration constraints for {rsc}\n"
    if len(rest) < 2:
        return 1, "", "ERROR: resource.move: Not enough arguments\n"
    if rest[1] not in cluster.db_nodes:
        return 1, "", f"ERROR: resource.move: Node {rest[1]} not found\n"
    node = rest[1]
    if any(c.id == _prefer_id(rsc) for c in cli_constraints(cluster)):
        return 1, "", "crm_resource: Error performing operation: Requested item already exists\n"
    _put(cluster, LabConstraint(_prefer_id(rsc), rsc, node, "INFINITY"))
    _follow_preference(cluster, rsc, node)
    return (
        0,
        "",
        f"{INFO}: Move constraint created for {rsc} to {node}\n"
        f"{INFO}: Use `crm resource clear {rsc}` to remove this constraint\n",
    )


def _follow_preference(cluster: LabCluster, rsc: str, node: str) -> None:
    """Pacemaker promotes the clone where the move wants it (the Db2 agent's promote is a takeover)."""
    if rsc not in (cluster.clone_rsc, cluster.hadr_rsc):
        return
    try:
        cluster.move_primary(node)
    except ValueError:
        # The agent's promote fails when HADR is not in PEER: Pacemaker records a failed promote.
        cluster.add_failed_action(node, cluster.hadr_rsc, task="promote", rc=1)


def _cleanup(cluster: LabCluster, rest: list[str]) -> Result:
    rsc = rest[0] if rest else None
    node = rest[1] if len(rest) > 1 else None
    if rsc is not None and not _known_resource(cluster, rsc):
        return 1, "", f"ERROR: resource.cleanup: Resource {rsc} not found\n"
    wanted = {rsc, cluster.hadr_rsc} if rsc == cluster.clone_rsc else {rsc}
    with cluster.lock:
        kept, cleaned = [], []
        for fa in cluster.failed_actions:
            if (rsc is None or fa.resource in wanted) and (node is None or fa.node == node):
                cleaned.append(fa)
            else:
                kept.append(fa)
        cluster.failed_actions[:] = kept
        nodes = [node] if node else cluster.online_nodes()
    shown = rsc or "all resources"
    out = "".join(f"Cleaned up {shown} on {n}\n" for n in nodes)
    return 0, out, ""


# ---------------------------------------------------------------- crm_resource --move|--ban|--clear


def is_crm_resource_tool_change(argv: list[str]) -> bool:
    return any(a in ("--move", "-M", "--ban", "-B", "--clear", "-U") for a in argv[1:])


def _option(args: list[str], *names: str) -> str | None:
    for i, arg in enumerate(args):
        for name in names:
            if arg == name and i + 1 < len(args):
                return args[i + 1]
            if name.startswith("--") and arg.startswith(name + "="):
                return arg.split("=", 1)[1]
    return None


def _crm_resource_tool(ctx: CommandContext) -> Result:
    cluster, args = ctx.cluster, ctx.args
    rsc = _option(args, "--resource", "-r")
    node = _option(args, "--node", "-N")
    if rsc is None or not _known_resource(cluster, rsc):
        return (
            105,
            "",
            f"crm_resource: Resource '{rsc}' not found\nError performing operation: No such object\n",
        )
    if any(a in ("--clear", "-U") for a in args):
        gone = _clear(cluster, rsc)
        return 0, "".join(f"Removing constraint: {cid}\n" for cid in gone), ""
    promoted = "--promoted" in args or "--master" in args
    if any(a in ("--ban", "-B") for a in args):
        node = node or (cluster.promoted if promoted else None)
        if node is None:
            return 64, "", "crm_resource: Resource must be given a node to ban from\n"
        cid = f"cli-ban-{rsc}-on-{node}"
        _put(cluster, LabConstraint(cid, rsc, node, "-INFINITY", "Promoted" if promoted else "Started"))
        if promoted and node == cluster.promoted:
            other = cluster.other(node)
            try:
                cluster.move_primary(other)
            except ValueError:
                cluster.add_failed_action(other, cluster.hadr_rsc, task="promote", rc=1)
        what = "promoted" if promoted else "running"
        return (
            0,
            "",
            f"WARNING: Creating rsc_location constraint '{cid}' with a score of -INFINITY for resource {rsc} "
            f"on {node}.\n\tThis will prevent {rsc} from being {what} on {node} until the constraint is "
            "removed using the clear option or by editing the CIB with an appropriate tool\n"
            f"\tThis will be the case even if {node} is the last node in the cluster\n",
        )
    if node is None or node not in cluster.db_nodes:
        return 64, "", "crm_resource: Resource must be given a node to move to\n"
    if any(c.id == _prefer_id(rsc) for c in cli_constraints(cluster)):
        return CRM_EX_EXISTS, "", "crm_resource: Error performing operation: Requested item already exists\n"
    _put(
        cluster, LabConstraint(_prefer_id(rsc), rsc, node, "INFINITY", "Promoted" if promoted else "Started")
    )
    _follow_preference(cluster, rsc, node)
    return 0, "", ""


# ---------------------------------------------------------------- cibadmin --query --scope constraints


def is_constraints_query(argv: list[str]) -> bool:
    args = argv[1:]
    query = any(a in ("-Q", "--query") for a in args)
    scope = _option(args, "--scope", "-o")
    return query and scope == "constraints"


def render_constraints(cluster: LabCluster) -> str:
    """Return `cibadmin --query --scope constraints` for `cluster`: the constraints `crm configure show`
    lists (db2cm's no-probe, prefer and attribute rules, the HA plan's overlay-IP colocation, order and
    locations), as CIB XML, then any cli-* constraints of a move or ban."""
    a, b = cluster.db_nodes
    hadr, clone, oip, nic, inst = (
        cluster.hadr_rsc,
        cluster.clone_rsc,
        cluster.oip_rsc,
        cluster.nic,
        cluster.instance,
    )
    promoted_role = cluster.release.xml_roles[0]  # Master before Pacemaker 2.1, Promoted from 2.1
    lines = ["<constraints>"]
    for node, other in ((a, b), (b, a)):
        for rsc in (cluster.ethmon_rsc(node), cluster.instance_rsc(node)):
            lines.append(
                f'  <rsc_location id="no-probe-{rsc}" rsc="{rsc}" resource-discovery="never" '
                f'score="-INFINITY" node="{other}"/>'
            )
            lines.append(f'  <rsc_location id="prefer-{rsc}" rsc="{rsc}" score="100" node="{node}"/>')
    for node in (a, b):
        for kind, attribute in (("nic", f"db2ethmon-{nic}"), ("node", f"db2inst-{node}_{inst}_0")):
            rule = f"loc-rule-{hadr}-{kind if kind == 'node' else nic}-{node}"
            lines += [
                f'  <rsc_location id="{rule}" rsc="{clone}">',
                f'    <rule score="-INFINITY" id="{rule}-rule">',
                f'      <expression operation="eq" value="0" attribute="{attribute}" id="{rule}-rule-expression"/>',
                "    </rule>",
                "  </rsc_location>",
            ]
        lines.append(
            f'  <rsc_location id="prefer-{node}-{inst}-{clone}" rsc="{clone}" score="100" node="{node}"/>'
        )
    lines.append(
        f'  <rsc_colocation id="{hadr}_AWS_primary-colocation" score="INFINITY" rsc="{oip}" '
        f'rsc-role="Started" with-rsc="{clone}" with-rsc-role="{promoted_role}"/>'
    )
    lines.append(
        f'  <rsc_order id="order-rule-{hadr}-then-primary-oip" kind="Mandatory" first="{clone}" then="{oip}"/>'
    )
    for i, node in enumerate((a, b), start=1):
        lines.append(f'  <rsc_location id="prefer-node{i}_{oip}" rsc="{oip}" score="100" node="{node}"/>')
    for c in cli_constraints(cluster):
        lines.append(
            f'  <rsc_location id="{c.id}" rsc="{c.rsc}" role="{c.role}" node="{c.node}" score="{c.score}"/>'
        )
    lines.append("</constraints>")
    return "\n".join(lines) + "\n"


def _cibadmin(ctx: CommandContext) -> Result:
    return 0, render_constraints(ctx.cluster), ""


def _cibadmin_other(ctx: CommandContext) -> Result:
    return 1, "", "cibadmin: the db2ops lab emulates only `cibadmin --query --scope constraints`\n"


register_command("db2", _takeover, roles=DB, match=is_takeover)
register_command("crm", _crm_resource, roles=DB, match=is_crm_resource_change)
register_command("crm_resource", _crm_resource_tool, roles=DB, match=is_crm_resource_tool_change)
register_command("cibadmin", _cibadmin_other, roles=DB)
register_command("cibadmin", _cibadmin, roles=DB, match=is_constraints_query)
