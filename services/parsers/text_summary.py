"""Plain text of a parsed tool output, for `db2ops parse KIND FILE` without --json.

A few lines a DBA reads at a glance (state first, then the detail that explains it), derived from the
parsed value; `--json` stays the complete, scriptable form. db2diag and db2audit records are rendered
one line each by services.logs.cli.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from services.cluster_model import (
    CrmClone,
    CrmNode,
    CrmResource,
    CrmStatus,
    Db2cmList,
    DbCfgHadr,
    HadrStatus,
    HadrStream,
    LogPosition,
    QdeviceStatus,
    QnetdStatus,
    QuorumStatus,
)
from services.parsers.db2audit import AuditDescribe
from services.words import plural

__all__ = ["render_parse_text"]


def render_parse_text(kind: str, value: Any) -> str:
    """Return the text view of `value`, the result of services.parsers.PARSERS[`kind`] (no trailing
    newline). Raises KeyError for a kind without a text view (db2diag/db2audit: see services.logs.cli)."""
    return _RENDERERS[kind](value)


def _ids(values: Iterable[object]) -> str:
    return ", ".join(str(v) for v in values) or "none"


def _yes(flag: bool | None, yes: str, no: str, unknown: str = "unknown") -> str:
    return unknown if flag is None else yes if flag else no


# ---------------------------------------------------------------- Pacemaker


def _node_words(n: CrmNode) -> str:
    words = ["online" if n.online else "OFFLINE"]
    words += [w for w, on in (("standby", n.standby), ("maintenance", n.maintenance)) if on]
    words += [
        w for w, on in (("pending", n.pending), ("UNCLEAN", n.unclean), ("shutting down", n.shutdown)) if on
    ]
    if n.is_dc:
        words.append("DC")
    return ", ".join(words)


def _where(r: CrmResource) -> str:
    text = r.role or ("active" if r.active else "inactive")
    if r.nodes:
        text += " on " + ", ".join(r.nodes)
    flags = [
        w for w, on in (("FAILED", r.failed), ("blocked", r.blocked), ("unmanaged", not r.managed)) if on
    ]
    return text + (f" ({', '.join(flags)})" if flags else "")


def _clone_line(c: CrmClone) -> str:
    kind = "promotable clone" if c.promotable else "clone"
    flags = [
        w for w, on in (("FAILED", c.failed), ("disabled", c.disabled), ("unmanaged", not c.managed)) if on
    ]
    where = "; ".join(_where(r) for r in c.instances) or "no instance"
    return f"  {kind} {c.id}: {where}" + (f" ({', '.join(flags)})" if flags else "")


def _crm_text(s: CrmStatus) -> str:
    if not s.connected:
        lines = [f"pacemaker: NOT connected: {s.status_message} (code {s.status_code})"]
        lines += [f"  {e}" for e in s.status_errors]
        return "\n".join(lines)
    quorum = _yes(s.with_quorum, "with quorum", "WITHOUT quorum", "quorum unknown")
    dc = f"DC {s.dc}" + (f" ({s.dc_version})" if s.dc_version else "") if s.dc else "no DC"
    lines = [f"pacemaker: connected, {quorum}, {dc}" + (f", stack {s.stack}" if s.stack else "")]
    if s.promotable_clones:
        lines.append(f"promoted on: {_ids(s.promoted_nodes)}")
    lines.append(
        f"stonith {_yes(s.stonith_enabled, 'enabled', 'disabled')}, maintenance mode "
        f"{_yes(s.maintenance_mode, 'ON', 'off')}, no-quorum-policy {s.no_quorum_policy or 'unknown'}"
    )
    if s.last_change:
        lines.append(
            f"last change: {s.last_change}" + (f" by {s.last_change_by}" if s.last_change_by else "")
        )
    lines.append(f"nodes ({s.nodes_configured} configured):")
    width = max((len(n.name) for n in s.nodes), default=0)
    lines += [
        f"  {n.name:<{width}}  {_node_words(n)}, {plural(n.resources_running, 'resource')}" for n in s.nodes
    ]
    lines.append(f"resources ({s.resources_configured} configured):")
    lines += [f"  {r.id}  {r.agent}  {_where(r)}" for r in s.resources]
    lines += [_clone_line(c) for c in s.clones]
    for g in s.groups:
        lines.append(f"  group {g.id}: " + "; ".join(f"{r.id} {_where(r)}" for r in g.members))
    if s.failed_actions:
        lines.append(f"failed actions ({len(s.failed_actions)}):")
        for a in s.failed_actions:
            why = a.rc_text or (f"rc {a.rc}" if a.rc is not None else a.status)
            lines.append(
                f"  {a.resource} {a.operation} on {a.node}: {why}"
                + (f" ({a.exit_reason})" if a.exit_reason else "")
            )
    for b in s.bans:
        role = " (promoted role only)" if b.promoted_only else ""
        lines.append(f"ban {b.id}: {b.resource} kept off {b.node}{role}")
    return "\n".join(lines)


# ---------------------------------------------------------------- corosync


def _quorum_text(q: QuorumStatus) -> str:
    state = "quorate" if q.quorate else "NOT quorate"
    if q.activity_blocked:
        state += ", activity blocked"
    lines = [
        f"quorum: {state}; votes {q.total_votes} of {q.expected_votes} expected, {q.quorum} needed",
        f"this node {q.node_id if q.node_id is not None else '?'}; {plural(q.nodes, 'node')} in the membership, "
        f"ring {q.ring_id or '?'}" + (f", flags {' '.join(q.flags)}" if q.flags else ""),
    ]
    if q.members:
        lines.append("members:")
        width = max(len(m.name) for m in q.members)
        for m in q.members:
            local = " (local)" if m.local else ""
            device = f"  qdevice {m.qdevice}" if m.qdevice else ""
            lines.append(f"  {m.node_id:>3}  {m.name:<{width}}  {m.votes} vote(s){device}{local}")
    return "\n".join(lines)


def _qdevice_line(q: QdeviceStatus) -> str:
    how = ", ".join(
        p
        for p in (f"model {q.model}" if q.model else "", f"algorithm {q.algorithm}" if q.algorithm else "")
        if p
    )
    return f"qdevice: {q.state or 'state unknown'}, qnetd {q.qnetd_host or 'unknown'}" + (
        f" ({how})" if how else ""
    )


def _qdevice_text(q: QdeviceStatus) -> str:
    lines = [_qdevice_line(q)]
    if q.cluster_name or q.node_id is not None:
        lines.append(
            f"cluster {q.cluster_name or '?'}, this node {q.node_id if q.node_id is not None else '?'}"
        )
    lines.append(f"configured nodes {_ids(q.configured_node_ids)}; membership {_ids(q.membership_node_ids)}")
    if q.tie_breaker:
        lines.append(f"tie-breaker: {q.tie_breaker}")
    return "\n".join(lines)


def _qnetd_text(q: QnetdStatus) -> str:
    if not q.clusters:
        return "qnetd: no cluster connected"
    lines = [f"qnetd: {plural(len(q.clusters), 'cluster')}"]
    for c in q.clusters:
        how = ", ".join(p for p in (c.algorithm, c.tie_breaker) if p)
        lines.append(
            f"cluster {c.name}" + (f" ({how})" if how else "") + f": {plural(len(c.clients), 'client')}"
        )
        for client in c.clients:
            lines.append(
                f"  node {client.node_id}  {client.client_address or '?'}  vote {client.vote or '?'}  "
                f"membership {_ids(client.membership_node_ids)}"
            )
    return "\n".join(lines)


# ---------------------------------------------------------------- Db2


def _log(pos: LogPosition | None) -> str:
    if pos is None:
        return "?"
    return pos.file + (f" page {pos.page}" if pos.page is not None else "")


def _stream_lines(st: HadrStream) -> list[str]:
    head = " ".join(p for p in (st.role, st.state, st.syncmode) if p)
    lines = [f"stream: {head}" + (f", {st.connect_status}" if st.connect_status else "")]
    lines.append(
        f"  primary {st.primary_host or '?'} ({st.primary_instance or '?'}) -> "
        f"standby {st.standby_host or '?'} ({st.standby_instance or '?'})"
    )
    facts = []
    if st.log_gap_bytes is not None:
        facts.append(f"log gap {st.log_gap_bytes} bytes")
    if st.heartbeat_missed is not None:
        facts.append(f"heartbeats missed {st.heartbeat_missed}")
    if st.peer_window_seconds is not None:
        facts.append(f"peer window {st.peer_window_seconds} s")
    if st.flags:
        facts.append("flags " + " ".join(st.flags))
    if facts:
        lines.append("  " + ", ".join(facts))
    if st.primary_log is not None or st.standby_log is not None:
        lines.append(
            f"  logs: primary {_log(st.primary_log)}, standby {_log(st.standby_log)}, "
            f"replay {_log(st.standby_replay_log)}"
        )
    return lines


def _hadr_text(h: HadrStatus) -> str:
    if not h.activated:
        return f"database {h.database}: not activated" + (f": {h.message}" if h.message else "")
    member = f", member {h.member}" if h.member is not None else ""
    up = f", up {h.uptime}" if h.uptime else ""
    lines = [f"database {h.database}: {h.db_state or 'state unknown'}{member}{up}"]
    if not h.streams:
        lines.append("no HADR stream")
    for st in h.streams:
        lines += _stream_lines(st)
    return "\n".join(lines)


def _db2cm_text(d: Db2cmList) -> str:
    lines = [
        f"db2cm: {d.ha_configuration or '?'} domain {d.domain_name or '?'}, leader {d.domain_leader or '?'}",
        f"pacemaker {d.pacemaker_version or '?'}, corosync {d.corosync_version or '?'}",
        "nodes: " + (", ".join(f"{n} {state}" for n, state in d.nodes.items()) or "none"),
    ]
    lines.append(f"resources ({len(d.resources)}):")
    for r in d.resources:
        fields = ", ".join(f"{k} {v}" for k, v in r.fields.items() if (k, v) != ("Managed", "true"))
        lines.append(f"  {r.name} [{r.type or '?'}]" + (f": {fields}" if fields else ""))
    lines.append(f"fencing: {d.fencing or '?'}; quorum: {d.quorum or '?'}")
    if d.qdevice is not None:
        lines.append(_qdevice_line(d.qdevice))
    return "\n".join(lines)


def _dbcfg_text(c: DbCfgHadr) -> str:
    lines = [f"HADR database role: {c.role or 'unknown'}"]
    width = max((len(k) for k in c.params), default=0)
    lines += [f"  {k:<{width}}  {v or '(not set)'}" for k, v in c.params.items()]
    return "\n".join(lines)


def _audit_describe_text(a: AuditDescribe) -> str:
    message = f" ({a.message_id} {a.message})" if a.message_id else ""
    lines = [f"audit: {'ACTIVE' if a.active else 'not active'}{message}"]
    lines.append("categories: " + (", ".join(f"{k} {v}" for k, v in a.categories.items()) or "none"))
    lines.append(f"return SQLCA on audit error: {'yes' if a.return_sqlca_on_error else 'no'}")
    lines.append(f"data path: {a.data_path or '(default)'}")
    lines.append(f"archive path: {a.archive_path or '(not set)'}")
    return "\n".join(lines)


_RENDERERS: dict[str, Callable[[Any], str]] = {
    "crm_mon-xml": _crm_text,
    "quorum": _quorum_text,
    "qdevice": _qdevice_text,
    "qnetd": _qnetd_text,
    "db2pd-hadr": _hadr_text,
    "db2cm-list": _db2cm_text,
    "dbcfg-hadr": _dbcfg_text,
    "db2audit-describe": _audit_describe_text,
}
