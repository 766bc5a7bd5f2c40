"""A short plain-text view of a ClusterStatus for `db2ops status` without --json (and for logs)."""

from __future__ import annotations

import time

from services.status_model import ClusterStatus, Part


def _age(p: Part | None, now: float) -> str:
    if p is None:
        return ""
    mark = " STALE" if p.stale else ""
    return f"[{p.source}, {p.age(now):.1f}s{mark}]"


def render_status_text(s: ClusterStatus, now: float | None = None) -> str:
    now = time.time() if now is None else now
    lines = [f"cluster {s.cluster}: {s.severity.value.upper()}"]
    for v in s.verdicts:
        lines.append(f"  ! {v.severity.value:<8} {v.message}" + (f"  -> {v.hint}" if v.hint else ""))
    if s.crm is not None and s.crm.value is not None:
        crm = s.crm.value
        nodes = ", ".join(
            f"{n.name}{'(DC)' if n.is_dc else ''}:{'online' if n.online else 'OFFLINE'}{'/standby' if n.standby else ''}"
            for n in crm.nodes
        )
        lines.append(f"  pacemaker {_age(s.crm, now)} promoted={s.promoted_node or '-'} quorum={crm.with_quorum} nodes: {nodes}")
    elif s.crm is not None:
        lines.append(f"  pacemaker: {s.crm.error}")
    for host, p in sorted(s.hadr.items()):
        if p.value is not None and p.value.streams:
            st = p.value.streams[0]
            gap = f" gap={st.log_gap_bytes}" if st.log_gap_bytes is not None else ""
            lines.append(f"  hadr {host} {_age(p, now)} {st.role} {st.state} {st.syncmode} {st.connect_status}{gap}")
        elif p.value is not None:
            lines.append(f"  hadr {host} {_age(p, now)} not active: {p.value.message}")
        else:
            lines.append(f"  hadr {host}: {p.error}")
    for host, p in sorted(s.qdevice.items()):
        lines.append(f"  qdevice {host} {_age(p, now)} " + (p.value.state if p.value else f"error: {p.error}"))
    if s.qnetd is not None:
        if s.qnetd.value is not None:
            votes = ", ".join(f"node {c.node_id}: {c.vote}" for cl in s.qnetd.value.clusters for c in cl.clients)
            lines.append(f"  qnetd {_age(s.qnetd, now)} {votes or 'no clients'}")
        else:
            lines.append(f"  qnetd: {s.qnetd.error}")
    if s.overlay_route is not None:
        r = s.overlay_route
        target = r.value.instance_id if r.value else r.error
        lines.append(f"  overlay route {_age(r, now)} -> {target}")
    for host, err in sorted(s.host_errors.items()):
        lines.append(f"  unreachable {host}: {err}")
    return "\n".join(lines)
