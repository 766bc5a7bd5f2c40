"""The failover strip: "primary lost → promoted → route moved → peer again" with the time between each,
as a picture for the timeline (one line of text) and for the report (a small SVG).

Pure: it reads a sequence of snapshots (recorded frames, or the console's recent ones) and nothing else.
Times come from the snapshots the way the headline takes them (services.status.incident): the loss from
`find_failover` (when the old primary last answered, or HADR's disconnect time), the promotion from
Pacemaker's own promote operation when the snapshot carries it; the route and PEER phases are the time of
the first snapshot that showed them (so they are as exact as the poll interval, never earlier than seen).

A phase not reached by the last snapshot is pending (the strip says how long it has waited so far); a
cluster without an overlay route has no route phase; a switchover (`crm resource move`, the old primary
never down) is told from a crash by whether the old primary was seen down.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from services.record.model import Frame
from services.status.incident import PROMOTION_WINDOW_S, crm_epoch, find_failover
from services.status.model import ClusterStatus
from services.svg_text import svg_document, svg_text
from services.text_safety import safe_line

LOST, PROMOTED, ROUTE, PEER = "lost", "promoted", "route", "peer"


@dataclass(frozen=True)
class Phase:
    key: str  # LOST, PROMOTED, ROUTE or PEER
    at: float | None  # epoch seconds; None while not reached (or when nothing dates it)
    reached: bool = True  # False: not seen by the last snapshot (pending)


@dataclass(frozen=True)
class Strip:
    cluster: str
    old_primary: str | None
    new_primary: str
    planned: bool  # a switchover: the old primary was never seen down
    phases: tuple[Phase, ...]  # in order: lost, promoted, route (only with a route), peer
    until: float  # the last snapshot's time: how long a pending phase has waited so far

    def phase(self, key: str) -> Phase | None:
        return next((p for p in self.phases if p.key == key), None)

    def gaps(self) -> list[tuple[float | None, bool]]:
        """(seconds, waiting) between each phase and the next: seconds None when either end is undated;
        waiting True when the next phase is pending (seconds then is the wait so far, from the last
        snapshot)."""
        out: list[tuple[float | None, bool]] = []
        for a, b in zip(self.phases, self.phases[1:], strict=False):
            if not b.reached:
                out.append((None if a.at is None or not a.reached else max(0.0, self.until - a.at), True))
            elif a.at is None or b.at is None:
                out.append((None, False))
            else:
                out.append((max(0.0, b.at - a.at), False))
        return out

    @property
    def title(self) -> str:
        """ "db2b took over from db2a (crash)" / "switchover db2a → db2b" / "... in progress"."""
        old = self.old_primary or "the primary"
        done = all(p.reached for p in self.phases if p.key in (LOST, PROMOTED))
        if self.planned:
            head = f"switchover {old} → {self.new_primary}"
        else:
            head = f"{self.new_primary} took over from {old} (crash)"
        return head if done else f"{head}, in progress"


def _statuses(frames: Iterable[Frame | ClusterStatus]) -> list[ClusterStatus]:
    out = [f.status if isinstance(f, Frame) else f for f in frames]
    return sorted(out, key=lambda s: s.taken_at)


def _down(s: ClusterStatus, host: str | None) -> bool:
    """Whether `host` is seen down in `s`: no SSH answer, or Pacemaker reports it offline or unclean."""
    if host is None:
        return False
    if host in s.host_errors:
        return True
    crm = s.crm.value if s.crm is not None and s.crm.ok else None
    node = crm.node(host) if crm is not None and crm.connected else None
    return node is not None and (not node.online or node.unclean)


def _disturbed(s: ClusterStatus, old: str | None) -> bool:
    return _down(s, old) or s.promoted_node is None or find_failover(s) is not None


def _op_time(s: ClusterStatus, node: str | None, task: str) -> float | None:
    """Pacemaker's last successful `task` (promote, demote) on `node`, on our clock (None when the
    snapshot lacks it)."""
    crm = s.crm.value if s.crm is not None and s.crm.ok else None
    if crm is None or node is None:
        return None
    ops = [o for o in crm.operations if o.node == node and o.task == task and (o.rc or 0) == 0]
    if not ops or s.crm is None:
        return None
    op = max(ops, key=lambda o: o.call or 0)
    return crm_epoch(s.crm, op.last_rc_change)


def _route_on(s: ClusterStatus, node: str) -> bool:
    part = s.overlay_route
    if part is None or not part.ok or part.value is None:
        return False
    want = s.instance_ids.get(node)
    return want is not None and part.value.instance_id == want


def _peer_on(s: ClusterStatus, node: str) -> bool:
    part = s.hadr.get(node)
    if part is None or not part.ok or part.value is None or not part.value.streams:
        return False
    st = part.value.streams[0]
    return st.role == "PRIMARY" and st.state == "PEER"


def strip_key(s: ClusterStatus) -> tuple[object, ...]:
    """What the strip reads of one snapshot, cheaply: two snapshots with equal keys give the same phases,
    so a live view keeps only the snapshots where the key changed (ClusterFeed.moments)."""
    crm = s.crm.value if s.crm is not None and s.crm.ok else None
    down = tuple(n.name for n in crm.nodes if not n.online or n.unclean) if crm is not None else None
    route = s.overlay_route.value if s.overlay_route is not None and s.overlay_route.ok else None
    hadr = tuple(
        (h, p.ok, p.value.role, p.value.state) if p.value is not None else (h, p.ok, None, None)
        for h, p in sorted(s.hadr.items())
    )
    return (s.promoted_node, tuple(sorted(s.host_errors)), down, route and route.instance_id, hadr)


def failover_strip(frames: Iterable[Frame | ClusterStatus]) -> Strip | None:
    """Return the strip of the latest failover (or switchover) the snapshots show, or None when they show
    none. `frames` may be Frames or ClusterStatus snapshots of one cluster, in any order."""
    statuses = _statuses(frames)
    if not statuses:
        return None
    last = statuses[-1]
    now_failover = find_failover(last)
    # k: the first snapshot with the new primary promoted; old: the promoted node before it
    k: int | None = None
    old: str | None = None
    known: str | None = None
    for i, s in enumerate(statuses):
        p = s.promoted_node
        if p is not None and known is not None and p != known:
            k, old = i, known
        known = p if p is not None else known
    if now_failover is not None and not now_failover.done:
        k = None  # nothing promoted now: the latest failover is still under way
        old, new = now_failover.old_primary, now_failover.new_primary
    elif k is not None:
        new = statuses[k].promoted_node or ""
    elif now_failover is not None:  # the snapshots start after the promotion
        old, new = now_failover.old_primary, now_failover.new_primary
        k = next(i for i, s in enumerate(statuses) if s.promoted_node == new)
    else:
        return None
    end = k if k is not None else len(statuses) - 1
    # j: the first snapshot of the disturbance that led to the promotion (k itself when none was seen)
    j = end
    while j > 0 and _disturbed(statuses[j - 1], old):
        j -= 1
    if k is None and not _disturbed(statuses[j], old):
        j = end
    span = statuses[j : end + 1]
    failovers = [f for f in (find_failover(s) for s in statuses[j:]) if f is not None]
    lost_at = next((f.lost_at for f in failovers if f.lost_at is not None), None)
    if lost_at is None and j < end:
        lost_at = statuses[j].taken_at  # the first snapshot that showed the trouble
    planned = not any(_down(s, old) for s in span)
    if lost_at is None and planned and k is not None:
        # a switchover seen only once done: it began with the old primary's demote
        demoted = _op_time(statuses[k], old, "demote")
        promoted = _op_time(statuses[k], new, "promote")
        if demoted is not None and (promoted is None or 0 <= promoted - demoted <= PROMOTION_WINDOW_S):
            lost_at = demoted
    phases = [Phase(LOST, lost_at)]
    after = statuses[k:] if k is not None else []
    if k is not None:
        promoted_at = _op_time(statuses[k], new, "promote")
        if promoted_at is None or (lost_at is not None and promoted_at < lost_at - 1):
            # an older promote (or none in the snapshot): the first snapshot that showed it promoted
            promoted_at = next((f.promoted_at for f in failovers if f.promoted_at is not None), None)
        if promoted_at is None or (lost_at is not None and promoted_at < lost_at - 1):
            promoted_at = statuses[k].taken_at
        phases.append(Phase(PROMOTED, promoted_at))
    else:
        phases.append(Phase(PROMOTED, None, reached=False))
    if any(s.overlay_route is not None for s in statuses[j:]):
        route = next((s.taken_at for s in statuses[j:] if _route_on(s, new)), None)
        phases.append(Phase(ROUTE, route, reached=route is not None))
    peer = next((s.taken_at for s in after if _peer_on(s, new)), None)
    phases.append(Phase(PEER, peer, reached=peer is not None))
    return Strip(last.cluster, old, new, planned, tuple(phases), last.taken_at)


# ---------------------------------------------------------------- pictures

_LABELS = {
    LOST: ("lost", "lost"),
    PROMOTED: ("promoted", "promoted"),
    ROUTE: ("route moved", "route"),
    PEER: ("peer again", "peer"),
}


def _label(strip: Strip, phase: Phase, short: bool) -> str:
    if phase.key == LOST and strip.planned:
        return "switch" if short else "switchover"
    if phase.key == LOST and not short:
        return f"{strip.old_primary or 'primary'} lost"
    if phase.key == PROMOTED and not short:
        return f"{strip.new_primary} promoted"
    return _LABELS[phase.key][1 if short else 0]


def format_span(seconds: float) -> str:
    """6s, 2m05s, 1h02m: short enough to sit between two dots."""
    s = int(round(seconds))
    if s < 90:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{(s % 3600) // 60:02d}m"


def _gap_text(gap: tuple[float | None, bool]) -> str:
    seconds, waiting = gap
    if seconds is None:
        return "…" if waiting else "?"  # after a pending phase / between undated ones
    return f"{format_span(seconds)}+" if waiting else format_span(seconds)


def utc_clock(epoch: float) -> str:
    return time.strftime("%H:%M:%S", time.gmtime(epoch))


def strip_text(strip: Strip, width: int = 0) -> str:
    """One line: "● db2a lost 03:12:33 UTC ──6s── ● db2b promoted ──2s── ● route moved ──40s+── ○ peer again".

    ● a phase reached, ○ one not reached yet (its gap says the wait so far, "40s+"), "?" an undated gap.
    With `width` > 0 the line is fitted: short labels, then no time, then cut with "…"."""
    gaps = strip.gaps()
    first = strip.phases[0]

    def line(short: bool, with_time: bool, dash: str) -> str:
        bits: list[str] = []
        for i, phase in enumerate(strip.phases):
            dot = "●" if phase.reached else "○"
            text = f"{dot} {_label(strip, phase, short)}"
            if i == 0 and with_time and first.at is not None:
                text += f" {utc_clock(first.at)}" + ("" if short else " UTC")
            if i:
                bits.append(f"{dash}{_gap_text(gaps[i - 1])}{dash}")
            bits.append(text)
        return safe_line(" ".join(bits))  # host names from outside: no escape sequence reaches a terminal

    candidates = [
        line(False, True, "──"),
        line(True, True, "──"),
        line(True, True, "─"),
        line(True, False, "─"),
    ]
    if width <= 0:
        return candidates[0]
    for text in candidates:
        if len(text) <= width:
            return text
    return candidates[-1][: max(0, width - 1)] + "…" if width > 1 else "…"


def strip_svg(strip: Strip) -> str:
    """A small standalone SVG of the strip for the report: the phases as dots on a line, each with its
    label and UTC time, the time between each pair on the line; pending phases hollow on a dashed line."""
    width, height, margin = 640, 100, 80
    n = len(strip.phases)
    step = (width - 2 * margin) / max(1, n - 1)
    xs = [margin + i * step for i in range(n)]
    y = 60
    body = [
        f'<text x="12" y="20" font-size="13" font-weight="bold">{svg_text(strip.title)}</text>',
    ]
    gaps = strip.gaps()
    for i, gap in enumerate(gaps):
        x1, x2 = xs[i], xs[i + 1]
        waiting = gap[1]
        dash = ' stroke-dasharray="5,4"' if waiting else ""
        colour = "#8c959f" if waiting else "#24292f"
        body.append(
            f'<line x1="{x1:.1f}" y1="{y}" x2="{x2:.1f}" y2="{y}" stroke="{colour}" stroke-width="2"{dash}/>'
        )
        body.append(
            f'<text x="{(x1 + x2) / 2:.1f}" y="{y - 6}" text-anchor="middle" fill="#57606a">'
            f"{svg_text(_gap_text(gap))}</text>"
        )
    for x, phase in zip(xs, strip.phases, strict=True):
        crash = phase.key == LOST and not strip.planned
        fill = ("#cf222e" if crash else "#1f6feb") if phase.reached else "#ffffff"
        body.append(
            f'<circle cx="{x:.1f}" cy="{y}" r="6" fill="{fill}" stroke="#24292f" stroke-width="1.5"/>'
        )
        body.append(
            f'<text x="{x:.1f}" y="{y - 22}" text-anchor="middle">{svg_text(_label(strip, phase, False))}</text>'
        )
        when = (
            utc_clock(phase.at)
            if phase.at is not None and phase.reached
            else "not yet"
            if not phase.reached
            else "?"
        )
        body.append(f'<text x="{x:.1f}" y="{y + 22}" text-anchor="middle" fill="#57606a">{when}</text>')
    body.append(
        f'<text x="{width - 12}" y="{height - 6}" text-anchor="end" font-size="10" fill="#8c959f">'
        f"{svg_text(strip.cluster)} · times UTC</text>"
    )
    return svg_document(width, height, f"{strip.cluster}: {strip.title}", body)
