"""Turn parsed facts into panel text (Textual Content). Pure functions: no widgets, no I/O.

Styles use theme variables ($success, $error, ...) so a theme switch restyles everything, and every state is
also a word ("online", "OFFLINE") so the screen reads the same with NO_COLOR.
"""

from __future__ import annotations

from textual.content import Content

from services.cluster_model import (
    CrmClone,
    CrmNode,
    CrmResource,
    CrmStatus,
    HadrStatus,
    OverlayRoute,
    QdeviceStatus,
    QnetdStatus,
    QuorumStatus,
)
from services.text_safety import safe_line
from services.words import plural
from tui.widgets.format import format_bytes, format_clock

OK = "$success"
BAD = "$error bold"
WARN = "$warning"
MUTED = "$foreground-muted"  # not $text-muted: "auto 60%" draws full white in a Content style
KEY = "$foreground-muted"

Line = list[str | tuple[str, str]]


def _join(lines: list[Line]) -> Content:
    # Every panel line passes here: parsed tool values (node, resource, qnetd cluster names, HADR fields) lose
    # escape sequences whole (the render filter would leave their printable rest, "[2J", on screen).
    return Content("\n").join(Content.assemble(*(_safe(part) for part in line)) for line in lines)


def _safe(part: str | tuple[str, str]) -> str | tuple[str, str]:
    return safe_line(part) if isinstance(part, str) else (safe_line(part[0]), part[1])


def node_state(node: CrmNode | None) -> tuple[str, str]:
    """Return (word, style) for a Pacemaker node: online, standby, OFFLINE, UNCLEAN, ..."""
    if node is None:
        return "not in cluster", BAD
    if node.unclean:
        return "UNCLEAN", "$error bold reverse"
    if not node.online:
        return "OFFLINE", BAD
    if node.pending:
        return "pending", WARN
    if node.shutdown:
        return "shutting down", WARN
    if node.maintenance:
        return "maintenance", WARN
    if node.standby or node.standby_onfail:
        return "standby", WARN
    return "online", OK


def render_nodes(crm: CrmStatus) -> Content:
    """Return one line per node: name, state word, DC marker, resources running."""
    if not crm.connected:
        reason = "; ".join(crm.status_errors) or crm.status_message
        return _join([[("Pacemaker not running on this host: ", BAD), reason]])
    lines: list[Line] = []
    width = max((len(n.name) for n in crm.nodes), default=4)
    for node in crm.nodes:
        word, style = node_state(node)
        lines.append(
            [
                (node.name.ljust(width), "bold"),
                "  ",
                (word.ljust(13), style),
                (" DC " if node.is_dc else "    ", "$accent bold"),
                (f" resources {node.resources_running}", MUTED),
            ]
        )
    if not crm.nodes:
        lines.append([("no nodes reported", WARN)])
    dc = crm.dc or "NONE"
    quorum = {True: ("yes", OK), False: ("NO", BAD), None: ("?", WARN)}[crm.with_quorum]
    lines.append([("DC ", KEY), (dc, "bold" if crm.dc else BAD), ("  partition with quorum ", KEY), quorum])
    if crm.maintenance_mode:
        lines.append([("cluster in MAINTENANCE MODE: resources are not managed", WARN)])
    return _join(lines)


def _role_cell(instances: tuple[CrmResource, ...], node: str) -> tuple[str, str]:
    for res in instances:
        if node in res.nodes:
            word = res.role or ("Started" if res.active else "Stopped")
            if res.failed:
                return f"{word} FAILED", BAD
            if res.blocked:
                return f"{word} BLOCKED", BAD
            style = {"Promoted": "$success bold", "Unpromoted": OK, "Started": OK}.get(word, WARN)
            return word if res.managed else f"{word} (unmanaged)", style
    return "·", MUTED


def resource_rows(crm: CrmStatus) -> list[tuple[str, tuple[CrmResource, ...], str]]:
    """Return (label, instances, note) rows: promotable clones first, then other clones, groups, primitives."""

    def clone_row(clone: CrmClone) -> tuple[str, tuple[CrmResource, ...], str]:
        note = "promotable" if clone.promotable else "clone"
        if clone.disabled:
            note += ", disabled"
        return clone.id, clone.instances, note

    rows = [clone_row(c) for c in crm.clones if c.promotable]
    rows += [clone_row(c) for c in crm.clones if not c.promotable]
    for group in crm.groups:
        rows += [(f"{group.id}/{m.id}", (m,), "group") for m in group.members]
    rows += [(r.id, (r,), "") for r in crm.resources]
    return rows


def render_resources(crm: CrmStatus, nodes: list[str]) -> Content:
    """Return a resource × node matrix of roles (the promotable Db2 clone first)."""
    rows = resource_rows(crm)
    if not rows:
        return _join([[("no resources configured", WARN)]])
    label_w = min(max(len(r[0]) + (2 if r[2] == "promotable" else 0) for r in rows), 48) + 2
    cell_w = max([len(n) for n in nodes] + [12]) + 2
    lines: list[Line] = [[("resource".ljust(label_w), KEY), *[(n.ljust(cell_w), KEY) for n in nodes]]]
    for label, instances, note in rows:
        text = (label + (" ★" if note == "promotable" else ""))[:label_w].ljust(label_w)
        line: Line = [(text, "bold" if note == "promotable" else "")]
        cells = [_role_cell(instances, node) for node in nodes]
        line += [(word.ljust(cell_w), style) for word, style in cells]
        if all(word == "·" for word, _ in cells):
            roles = "/".join(sorted({r.role or "Stopped" for r in instances}))
            if instances and not any(r.managed for r in instances):
                # as crm_mon prints it ("Stopped (unmanaged)"): Pacemaker leaves it alone, by design or not yet
                line.append((f"{roles} (unmanaged): Pacemaker will not start it (crm resource manage)", WARN))
            else:
                line.append((f"{roles}: not running on any node", BAD))
        lines.append(line)
    return _join(lines)


def render_failed_actions(crm: CrmStatus) -> Content:
    """Return one line per failed action, or a quiet "none"."""
    if not crm.failed_actions:
        return _join([[("no failed actions", OK)]])
    lines: list[Line] = []
    for fa in crm.failed_actions:
        rc = f"rc={fa.rc} {fa.rc_text}".strip() if fa.rc is not None else fa.status
        reason = f" '{fa.exit_reason}'" if fa.exit_reason else ""
        when = f" at {fa.last_rc_change}" if fa.last_rc_change else ""
        lines.append([(f"{fa.resource} {fa.operation}", BAD), f" on {fa.node}: {rc}{reason}{when}"])
    return _join(lines)


def render_quorum(quorum: QuorumStatus | None, qdevice: QdeviceStatus | None) -> Content:
    """Return corosync quorum (votes, flags, members) and the qdevice connection as seen from one host."""
    lines: list[Line] = []
    if quorum is not None:
        lines.append(
            [
                ("quorate ", KEY),
                ("yes", OK) if quorum.quorate else ("NO", BAD),
                ("  votes ", KEY),
                f"{quorum.total_votes}/{quorum.expected_votes}",
                ("  quorum ", KEY),
                str(quorum.quorum),
            ]
        )
        if quorum.activity_blocked:
            lines.append([("activity blocked (not enough votes)", BAD)])
        lines.append([("flags   ", KEY), " ".join(quorum.flags) or "—"])
        members = "  ".join(f"{m.name}({m.votes})" for m in quorum.members) or "—"
        lines.append([("members ", KEY), members])
    if qdevice is not None:
        state_style = OK if qdevice.connected else BAD
        lines.append([("qdevice ", KEY), (qdevice.state or "?", state_style)])
        if qdevice.qnetd_host:
            lines.append([("qnetd   ", KEY), qdevice.qnetd_host, (f"  {qdevice.algorithm}", MUTED)])
    return _join(lines or [[("no quorum data", WARN)]])


def render_qnetd(qnetd: QnetdStatus, cluster_name: str | None = None) -> Content:
    """Return the clusters and client votes qnetd knows (only `cluster_name`'s when it is listed)."""
    only = qnetd.cluster(cluster_name) if cluster_name else None
    clusters = (only,) if only is not None else qnetd.clusters
    if not clusters:
        return _join([[("qnetd has no connected clusters", BAD)]])
    lines: list[Line] = []
    for cluster in clusters:
        lines.append([("cluster ", KEY), (cluster.name, "bold"), (f"  {cluster.algorithm}", MUTED)])
        for client in cluster.clients:
            vote_ok = "ACK" in client.vote and "NACK" not in client.vote
            lines.append(
                [
                    f"  node {client.node_id}  ",
                    (client.client_address or "?", MUTED),
                    "  ",
                    (client.vote or "?", OK if vote_ok else BAD),
                ]
            )
        if not cluster.clients:
            lines.append([("  no clients connected", BAD)])
    return _join(lines)


def render_hadr(hadr: HadrStatus, now: float | None = None, gap_trend: str = "") -> Content:
    """Return role, state, sync mode, connect status, log gap, peer window end and last takeover.

    `gap_trend` (services.status.gap_history.sparkline of the recent polls) follows the log gap."""
    if not hadr.activated or not hadr.streams:
        return _join([[("HADR not active: ", BAD), hadr.message or f"database {hadr.database}"]])
    s = hadr.streams[0]
    state_style = OK if s.state == "PEER" else BAD if s.state == "DISCONNECTED" else WARN
    connect_style = OK if s.connect_status == "CONNECTED" else BAD
    since = f" since {format_clock(s.connect_status_time, now)}" if s.connect_status_time else ""
    window = ""
    if s.peer_window_seconds:
        window = f" ({s.peer_window_seconds} s window)"
    lines: list[Line] = [
        [("role     ", KEY), (s.role, "bold"), ("   state ", KEY), (s.state, state_style)],
        [("syncmode ", KEY), s.syncmode or "—"],
        [("connect  ", KEY), (s.connect_status or "—", connect_style), (since, MUTED)],
        [
            ("log gap  ", KEY),
            format_bytes(s.log_gap_bytes),
            *([("  ", ""), (gap_trend, "$accent")] if gap_trend else []),
        ],
        [
            ("peer window end ", KEY),
            format_clock(s.peer_window_end, now) if s.peer_window_end else "—",
            window,
        ],
        [("last takeover   ", KEY), format_clock(s.last_takeover_time, now) if s.last_takeover_time else "—"],
    ]
    if len(hadr.streams) > 1:
        lines.append([(f"+{plural(len(hadr.streams) - 1, 'more standby stream')}", MUTED)])
    return _join(lines)


def render_route(
    route: OverlayRoute, target_host: str | None, promoted: str | None, overlay_ip: str | None
) -> Content:
    """Return where the overlay-IP route points and whether that is the promoted node."""
    target = route.instance_id or route.network_interface_id or "nothing"
    lines: list[Line] = [
        [("route    ", KEY), route.destination or overlay_ip or "?", ("  in ", KEY), route.route_table_id],
        [
            ("target   ", KEY),
            (target, "bold"),
            (f" ({target_host})" if target_host else " (not a cluster host)", MUTED),
            ("  ", ""),
            (route.state or "?", OK if route.state == "active" else BAD),
        ],
    ]
    if promoted is None:
        lines.append([("promoted ", KEY), ("none: cannot check the route", WARN)])
    elif target_host == promoted:
        lines.append([("promoted ", KEY), promoted, ("  ✔ route follows the primary", OK)])
    else:
        lines.append(
            [
                ("promoted ", KEY),
                promoted,
                (f"  ✘ ROUTE MISMATCH: traffic goes to {target_host or target}", BAD),
            ]
        )
    return _join(lines)
