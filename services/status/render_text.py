"""A short plain-text view of a ClusterStatus for `db2ops status` without --json (and for logs)."""

from __future__ import annotations

import time

from services.cluster_model import ClusterAlarm
from services.status.alarm_verdicts import alarm_age, firing_alarms
from services.status.incident import INCIDENT_CODES, build_headline
from services.status.model import ClusterStatus, Part
from services.words import plural


def _age(p: Part[object] | None, now: float) -> str:
    if p is None:
        return ""
    mark = " STALE" if p.stale else ""
    return f"[{p.source}, {p.age(now):.1f}s{mark}]"


def alarms_line(p: Part[tuple[ClusterAlarm, ...]], now: float) -> str:
    """Return "  alarms [source, age] 1 of 2 in ALARM: name (for 3m)" (or the error)."""
    if p.value is None:
        return f"  alarms: {p.error}"
    firing = firing_alarms(p.value)
    if not p.value:
        summary = "none for this cluster (`setup monitoring` creates them)"
    elif firing:
        listed = ", ".join(f"{a.name} ({alarm_age(a, now)})" for a in firing)
        summary = f"{len(firing)} of {plural(len(p.value), 'alarm')} in ALARM: {listed}"
    else:
        summary = f"{plural(len(p.value), 'alarm')}, none in ALARM"
    return f"  alarms {_age(p, now)} {summary}"


def render_status_text(s: ClusterStatus, now: float | None = None) -> str:
    """Return the snapshot as text: the headline (what happened, its consequences, what to do), the other
    verdicts, then one line per part. A host whose connection failed is explained once, in its verdict;
    its parts say "unreachable (above)"."""
    now = time.time() if now is None else now

    def error(p: Part[object]) -> str:
        down = s.host_errors.get(p.source)
        return "unreachable (above)" if down is not None and p.error == down else str(p.error)

    head = build_headline(s, now)
    lines = [f"cluster {s.cluster}: {s.severity.value.upper()}: {head.title}"]
    said = {head.title}
    messages = {v.message for v in s.verdicts}
    lines += [f"  · {c}" for c in head.consequences if c not in messages]
    if head.hint:
        lines.append(f"  -> {head.hint}")
    for v in s.verdicts:
        if v.message in said or (v.code == head.code and v.code in INCIDENT_CODES):
            continue  # the headline says it (with ages at `now`)
        lines.append(f"  ! {v.severity.value:<8} {v.message}" + (f"  -> {v.hint}" if v.hint else ""))
    if s.crm is not None and s.crm.value is not None:
        crm = s.crm.value
        nodes = ", ".join(
            f"{n.name}{'(DC)' if n.is_dc else ''}:{'online' if n.online else 'OFFLINE'}{'/standby' if n.standby else ''}"
            for n in crm.nodes
        )
        lines.append(
            f"  pacemaker {_age(s.crm, now)} promoted={s.promoted_node or '-'} quorum={crm.with_quorum} nodes: {nodes}"
        )
    elif s.crm is not None:
        answered = [h for h in s.crm.source.split(",") if h not in s.host_errors]
        lines.append(
            f"  pacemaker: {s.crm.error}" if answered else "  pacemaker: no Db2 host answered (above)"
        )
    for host, p in sorted(s.hadr.items()):
        if p.value is not None and p.value.streams:
            st = p.value.streams[0]
            gap = f" gap={st.log_gap_bytes}" if st.log_gap_bytes is not None else ""
            lines.append(
                f"  hadr {host} {_age(p, now)} {st.role} {st.state} {st.syncmode} {st.connect_status}{gap}"
            )
        elif p.value is not None:
            lines.append(f"  hadr {host} {_age(p, now)} not active: {p.value.message}")
        else:
            lines.append(f"  hadr {host}: {error(p)}")
    for host, qp in sorted(s.quorum.items()):
        if qp.value is not None:
            q = qp.value
            lines.append(
                f"  quorum {host} {_age(qp, now)} quorate={q.quorate} votes {q.total_votes}/{q.expected_votes}"
            )
        else:
            lines.append(f"  quorum {host}: {error(qp)}")
    for host, dp in sorted(s.qdevice.items()):
        lines.append(
            f"  qdevice {host} {_age(dp, now)} {dp.value.state}"
            if dp.value
            else f"  qdevice {host}: {error(dp)}"
        )
    if s.qnetd is not None:
        if s.qnetd.value is not None:
            votes = ", ".join(
                f"node {c.node_id}: {c.vote}" for cl in s.qnetd.value.clusters for c in cl.clients
            )
            lines.append(f"  qnetd {_age(s.qnetd, now)} {votes or 'no clients'}")
        else:
            lines.append(f"  qnetd: {error(s.qnetd)}")
    if s.overlay_route is not None:
        r = s.overlay_route
        target = r.value.instance_id if r.value else r.error
        lines.append(f"  overlay route {_age(r, now)} -> {target}")
    if s.alarms is not None:
        lines.append(alarms_line(s.alarms, now))
    return "\n".join(lines)
