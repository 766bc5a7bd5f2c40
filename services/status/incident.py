"""The incident headline: one ranked answer to "what is happening" for one cluster.

The console banner, the fleet row, `db2ops status` and `status --json` all show `build_headline(status)`,
so they never disagree. The headline leads with the event (a failover under way or done) and its
consequences (the old primary is down, the route followed, no standby left), not with the symptoms the
event explains (an unreachable host, a DISCONNECTED HADR pair).

Facts come from one snapshot: Pacemaker's operation history (`promote` on the new primary and its time),
`last_change`, HADR roles and HADR_CONNECT_STATUS_TIME, the overlay route, and the old primary's last good
parts (kept by the status service from earlier snapshots: their `fetched_at` is when it last answered). A
one-shot headless `status` has all of these but the last one.

`incident_verdicts` is a verdict rule like the others (derive_verdicts runs it); `rank_verdicts` orders
any verdict list generically: the incident codes first, then by severity, so a new rule (alarms...) slots
in by its severity without this module knowing it.
"""

from __future__ import annotations

import calendar
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from services.cluster_model import CrmOperation, CrmResource, CrmStatus
from services.status.model import ClusterStatus, Part, Severity, Verdict

FAILOVER_IN_PROGRESS = "failover_in_progress"
FAILOVER_COMPLETED = "failover_completed"
# Verdicts that state the event itself: they lead whatever their severity.
INCIDENT_CODES = (FAILOVER_IN_PROGRESS, FAILOVER_COMPLETED)
# Then what stops or endangers the database as a whole, before any one host's trouble.
LEAD_CODES = (*INCIDENT_CODES, "hadr_dual_primary", "multiple_promoted", "no_quorum")
# A promotion not finished this long after the primary was lost is stuck, not in progress (Pacemaker
# promotes within token timeout + promote timeout: 8 s on the real lab, 2 s on the embedded one).
PROMOTION_WINDOW_S = 120.0
# A promote this recent, with nothing else dating the loss, is taken as the takeover that followed it.
RECENT_PROMOTE_S = 600.0
# Once healthy again, the takeover stays in the healthy line this long (HADR_LAST_TAKEOVER_TIME): the DBA
# paged at 3 a.m. who looks an hour later still sees that the primary moved, and when.
TAKEOVER_MENTION_S = 3600.0
# Roles (or `pending` actions) of a resource while Pacemaker is acting on it.
_MOVING_ROLES = {"Promoting", "Demoting", "Starting", "Stopping", "Migrating"}


@dataclass(frozen=True)
class Failover:
    """A failover (or switchover) seen in one snapshot."""

    done: bool  # False: Pacemaker has not promoted the new primary yet
    new_primary: str
    old_primary: str | None
    lost_at: float | None  # when the old primary stopped answering (epoch), when known
    promoted_at: float | None  # Pacemaker's promote on the new primary (epoch), when done and known
    old_down: str  # why the old primary does not serve: "offline per Pacemaker", "does not answer"...
    route: str  # "follows db2b", "still points to db2a", "" when unknown
    planned: bool = False  # a `crm resource move` (both nodes online): a switchover


@dataclass(frozen=True)
class Headline:
    """What the banner, the fleet row and `status` say first.

    `title` is one line (event and consequence); `consequences` the further facts, most important first;
    `hint` what to do now (from the hint table, right for this state); `since` when the event started.
    """

    severity: Severity
    code: str  # the leading verdict's code, or "healthy" / "unknown"
    title: str
    consequences: tuple[str, ...] = ()
    hint: str = ""
    since: float | None = None
    short: str = ""  # the title in a few words, for a fleet row ("" when the title is short already)

    @property
    def brief(self) -> str:
        return self.short or self.title

    def as_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity.value,
            "code": self.code,
            "title": self.title,
            "short": self.brief,
            "consequences": list(self.consequences),
            "hint": self.hint,
            "since": self.since,
        }


# ---------------------------------------------------------------- ranking


# symptom code -> the codes of its cause: at equal severity a cause is said before what it explains
CAUSES: dict[str, tuple[str, ...]] = {
    "qdevice_disconnected": ("qnetd_down",),
    "qnetd_missing_cluster": ("qnetd_down",),
    "hadr_disconnected": ("node_offline", "host_unreachable", "node_standby"),
    "hadr_not_peer": ("node_offline",),
    "no_promoted_node": ("no_quorum",),
}


def rank_verdicts(verdicts: Iterable[Verdict]) -> tuple[Verdict, ...]:
    """Return `verdicts` in headline order: the incident codes first; then worst first, where a cause
    (CAUSES) ranks as high as the worst symptom it explains and is said before it; else the rules' order.
    Any code this module does not know ranks by its own severity."""
    found = list(verdicts)
    present = {v.code for v in found}
    worst_symptom: dict[str, int] = {}
    for v in found:
        for cause in CAUSES.get(v.code, ()):
            worst_symptom[cause] = max(worst_symptom.get(cause, 0), v.severity.rank)

    def key(v: Verdict) -> tuple[int, int, int]:
        event = LEAD_CODES.index(v.code) if v.code in LEAD_CODES else len(LEAD_CODES)
        rank = max(v.severity.rank, worst_symptom.get(v.code, 0))
        symptom = int(any(c in present for c in CAUSES.get(v.code, ())))
        return (event, -rank, symptom)

    return tuple(sorted(found, key=key))


# ---------------------------------------------------------------- Pacemaker times


def _naive_epoch(text: str) -> float | None:
    """'Thu Nov 26 15:00:07 2026' (crm_mon's ctime) read as if UTC; None when it is not that format."""
    try:
        parsed = datetime.strptime(" ".join(text.split()), "%a %b %d %H:%M:%S %Y")
    except ValueError:
        return None
    return float(calendar.timegm(parsed.timetuple()))


def crm_epoch(part: Part[CrmStatus], text: str) -> float | None:
    """Return crm_mon time `text` (the node's local clock, no zone) as epoch seconds on this console's
    clock, or None when unknown.

    The node's clock (zone and skew) is learnt from the same answer: `last_update` is the node's time at
    which crm_mon ran, `fetched_at` ours when its answer arrived. Mapping by that whole difference keeps
    Pacemaker's times comparable with our own (when a host last answered); a node clock a minute ahead
    otherwise dated a takeover after the snapshot. A time still later than the answer is no past event.
    """
    local = _naive_epoch(text)
    if local is None:
        return None
    crm = part.value
    offset = 0.0
    now_local = _naive_epoch(crm.last_update) if crm is not None else None
    if now_local is not None:
        offset = now_local - part.fetched_at
        if abs(offset) > 14 * 3600:  # clocks that far apart: trust nothing but the text
            offset = 0.0
    epoch = local - offset
    if epoch > part.fetched_at + 1:  # crm_mon's times have 1 s resolution
        return None
    return epoch


def clock_time(epoch: float) -> str:
    """'03:12:41' in this machine's local time (what the DBA's other tools show)."""
    return time.strftime("%H:%M:%S", time.localtime(epoch))


def _last_op(crm: CrmStatus, node: str, task: str) -> CrmOperation | None:
    ops = [o for o in crm.operations if o.node == node and o.task == task and (o.rc or 0) == 0]
    return max(ops, key=lambda o: o.call or 0) if ops else None


def _demoted_at(crm: CrmStatus, node: str) -> float | None:
    """When Pacemaker last demoted the clone on `node` (the node's clock; only compared between nodes)."""
    op = _last_op(crm, node, "demote")
    return _naive_epoch(op.last_rc_change) if op is not None else None


# ---------------------------------------------------------------- the state of the transition


def _crm(s: ClusterStatus) -> CrmStatus | None:
    crm = s.crm.value if s.crm is not None and s.crm.ok else None
    return crm if crm is not None and crm.connected else None


def transition_pending(s: ClusterStatus) -> bool:
    """True while Pacemaker is acting: a promotion under way (after a failover or a move), an action
    recorded as pending, or a resource shown Promoting/Demoting/Starting/Stopping. `crm resource cleanup`
    now would restart what is being done."""
    crm = _crm(s)
    if crm is None:
        return False
    if any(o.pending for o in crm.operations):
        return True
    resources = [*crm.resources, *(r for c in crm.clones for r in c.instances)]
    resources += [r for g in crm.groups for r in g.members]
    if any(r.pending or r.role in _MOVING_ROLES for r in resources):
        return True
    failover = find_failover(s)
    return failover is not None and not failover.done


def _down_cause(s: ClusterStatus, host: str) -> str | None:
    """Why `host` does not serve as a Db2 node, from what else knows it; None when it seems up."""
    crm = _crm(s)
    node = crm.node(host) if crm is not None else None
    unreachable = host in s.host_errors
    if node is not None and node.unclean:
        return "UNCLEAN per Pacemaker (fencing pending)"
    if node is not None and not node.online:
        return "host down or instance stopped (Pacemaker reports it offline)"
    if node is None and unreachable:  # Pacemaker seeing it online outweighs a failed SSH login
        return "does not answer SSH"
    return None


def _last_seen(s: ClusterStatus, host: str) -> float | None:
    """When `host` last answered: the newest `fetched_at` of its stale parts (kept from earlier polls)."""
    parts: list[Part[object]] = [
        p for group in (s.hadr, s.quorum, s.qdevice) for h, p in group.items() if h == host and p.stale
    ]
    return max((p.fetched_at for p in parts), default=None)


def _disconnected_since(s: ClusterStatus, host: str) -> float | None:
    """HADR_CONNECT_STATUS_TIME of `host` while its HADR reports DISCONNECTED."""
    part = s.hadr.get(host)
    if part is None or not part.ok or part.value is None:
        return None
    for st in part.value.streams:
        if st.connect_status == "DISCONNECTED" and st.connect_status_time:
            return st.connect_status_time
    return None


def _latest(*times: float | None) -> float | None:
    return max((t for t in times if t is not None), default=None)


def _route(s: ClusterStatus, node: str) -> str:
    part = s.overlay_route
    if part is None or not part.ok or part.value is None or not part.value.instance_id:
        return ""
    want = s.instance_ids.get(node)
    if want and part.value.instance_id == want:
        return f"overlay route follows {node}"
    owner = next((h for h, i in s.instance_ids.items() if i == part.value.instance_id), None)
    return f"overlay route still points to {owner or part.value.instance_id}"


def _hadr_role(s: ClusterStatus, host: str, *, stale_ok: bool = False) -> str | None:
    part = s.hadr.get(host)
    if part is None or part.value is None or not (part.ok or (stale_ok and part.stale)):
        return None
    return part.value.role if part.value.activated else None


def find_failover(s: ClusterStatus) -> Failover | None:
    """Return the failover this snapshot shows (under way, or done with the old primary still down), or
    None. A switchover by `crm resource move` is reported while it runs; once both nodes serve again it
    is no incident."""
    crm = _crm(s)
    if crm is None or crm.with_quorum is False:
        return None
    clones = crm.promotable_clones
    if not clones:
        return None
    clone = clones[0]
    db_nodes = [n.name for n in crm.nodes]
    promoted = clone.promoted_nodes
    if len(promoted) > 1:
        return None
    if promoted:
        demoting = any(r.pending == "Demoting" for r in clone.instances if promoted[0] in r.nodes)
        if demoting:  # a switchover's first step: the primary is being demoted
            return _demoting(s, crm, promoted[0], clone.instances)
        return _completed(s, crm, promoted[0], db_nodes)
    return _in_progress(s, crm, clone.instances, db_nodes)


def _switch_started(s: ClusterStatus, crm: CrmStatus, old: str | None) -> float | None:
    """When a switchover began: the later of the old primary's last demote and a `crm resource move`
    (last_change by crm_resource); None when neither is recent."""
    if s.crm is None:
        return None
    demote = _last_op(crm, old, "demote") if old else None
    times = [crm_epoch(s.crm, demote.last_rc_change) if demote is not None else None]
    if "crm_resource" in crm.last_change_by:
        times.append(crm_epoch(s.crm, crm.last_change))
    started = _latest(*times)
    if started is None or s.taken_at - started > PROMOTION_WINDOW_S:
        return None
    return started


def _demoting(
    s: ClusterStatus, crm: CrmStatus, old: str, instances: Iterable[CrmResource]
) -> Failover | None:
    others = [n for r in instances if r.role == "Unpromoted" for n in r.nodes if n != old]
    if not others:
        return None
    return Failover(False, others[0], old, _switch_started(s, crm, old), None, "being demoted", "", True)


def _in_progress(
    s: ClusterStatus, crm: CrmStatus, instances: Iterable[CrmResource], nodes: list[str]
) -> Failover | None:
    running: dict[str, str] = {}  # node -> role or pending action of its clone instance
    for r in instances:
        for n in r.nodes:
            running[n] = r.pending or r.role

    def can_serve(name: str) -> bool:
        node = crm.node(name)
        return node is None or (node.online and not node.standby)

    candidates = [
        n for n, role in running.items() if role in ("Unpromoted", "Promoting", "Started") and can_serve(n)
    ]
    if not candidates:
        return None
    # a promote that already failed there: stuck, not in progress (the failed action says why)
    failed = {fa.node for fa in crm.failed_actions if fa.operation == "promote"}
    promoting = [n for n in candidates if running[n] == "Promoting"]
    if not promoting and len(candidates) > 1:
        # a switchover between its demote and its promote: the node demoted last is the one leaving
        candidates = sorted(candidates, key=lambda n: _demoted_at(crm, n) or 0.0)
    new = promoting[0] if promoting else next((n for n in candidates if n not in failed), None)
    if new is None or (not promoting and new in failed):
        return None
    others = [n for n in nodes if n != new]
    old = others[0] if others else None
    cause = _down_cause(s, old) if old else None
    # both nodes up and none promoted: a switchover (dated by the demote or the move) or a promotion
    planned = cause is None and old is not None
    since = _disconnected_since(s, new)
    if since is not None and s.taken_at - since > PROMOTION_WINDOW_S:
        since = None  # HADR broke long before (a link down, then the primary lost): it does not date this
    lost_at = _latest(_last_seen(s, old) if old else None, since)
    if planned:
        lost_at = _switch_started(s, crm, old)
    if lost_at is not None and s.taken_at - lost_at > PROMOTION_WINDOW_S:
        return None
    return Failover(False, new, old, lost_at, None, cause or "up", "", planned)


def _completed(s: ClusterStatus, crm: CrmStatus, new: str, nodes: list[str]) -> Failover | None:
    others = [n for n in nodes if n != new]
    old = others[0] if others else None
    cause = _down_cause(s, old) if old else None
    if old is None or cause is None:
        return None  # both nodes serve: no incident
    primary = _hadr_role(s, new)
    if primary not in (None, "PRIMARY"):
        return None  # Pacemaker and HADR disagree: the mismatch verdict speaks
    promote = _last_op(crm, new, "promote")
    promoted_at = crm_epoch(s.crm, promote.last_rc_change) if promote and s.crm else None
    # the loss is after the last answer; HADR's disconnect time dates it exactly when it precedes the promote
    since = raw_since = _disconnected_since(s, new)
    # HADR disconnected since the very promote: it became primary without a peer (a forced takeover)
    took_over_alone = raw_since is not None and promoted_at is not None and abs(raw_since - promoted_at) <= 5
    if since is not None and promoted_at is not None and since >= promoted_at:
        since = None  # reset by the takeover itself: it dates the promote, not the loss
    if since is not None and promoted_at is not None and promoted_at - since > PROMOTION_WINDOW_S:
        since = None  # HADR broke long before the promote: not the loss that caused it
    lost_at = _latest(_last_seen(s, old), since)
    # A takeover when the old node was the primary when last seen, or the promote followed its loss, or
    # HADR has had no peer since the promote, or (nothing else dating it) the promote is recent.
    # Otherwise the standby died: node_offline says so.
    last_role = _hadr_role(s, old, stale_ok=True)
    after_loss = lost_at is not None and promoted_at is not None and promoted_at >= lost_at - 1
    recent = promoted_at is not None and s.taken_at - promoted_at <= RECENT_PROMOTE_S
    if last_role is not None and last_role != "PRIMARY":
        return None  # it was the standby when last seen: node_offline / host_unreachable say so
    if not (last_role == "PRIMARY" or after_loss or took_over_alone or (lost_at is None and recent)):
        return None
    return Failover(True, new, old, lost_at, promoted_at, cause, _route(s, new))


# ---------------------------------------------------------------- the verdict rule


def ago(seconds: float) -> str:
    """Return "just now", "49 s ago", "12 min ago", "1.5 h ago" (the headline's ages)."""
    seconds = max(0.0, seconds)
    if seconds < 1:
        return "just now"
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    return f"{seconds / 3600:.1f} h ago"


def failover_message(f: Failover, now: float) -> str:
    """The first line of the headline for failover `f` at time `now`."""
    if not f.done:
        if f.planned and f.lost_at is not None:
            head = f"switchover in progress: Pacemaker is moving the primary role from {f.old_primary} to {f.new_primary}"
        elif f.planned:
            head = f"promotion in progress: Pacemaker is promoting {f.new_primary} ({f.old_primary} is up)"
        else:
            head = f"failover in progress: Pacemaker is promoting {f.new_primary} after {f.old_primary} stopped answering"
        return head + (f", started {ago(now - f.lost_at)}" if f.lost_at is not None else "")

    when = f" at {clock_time(f.promoted_at)}" if f.promoted_at is not None else ""
    if f.promoted_at is not None and f.lost_at is not None and f.promoted_at - f.lost_at >= 1:
        how = f" (Pacemaker promoted it {f.promoted_at - f.lost_at:.0f} s after {f.old_primary} stopped answering)"
    else:
        how = f" ({f.old_primary}: {f.old_down})"
    tail = [f.route] if f.route else []
    tail.append("running without a standby")
    return f"{f.new_primary} took over as HADR primary{when}{how}; " + "; ".join(tail)


def incident_verdicts(s: ClusterStatus) -> Iterator[Verdict]:
    """The event verdict (failover_in_progress / failover_completed), when the snapshot shows one."""
    from services.status.hints import hint_for

    f = find_failover(s)
    if f is None:
        return
    values = {
        "new": f.new_primary,
        "old": f.old_primary or "",
        "old_instance_id": s.instance_ids.get(f.old_primary or "", ""),
    }
    if not f.done:
        yield Verdict(
            FAILOVER_IN_PROGRESS,
            Severity.CRITICAL,
            failover_message(f, s.taken_at),
            hint_for(FAILOVER_IN_PROGRESS, s, **values),
        )
        return
    yield Verdict(
        FAILOVER_COMPLETED,
        Severity.WARNING,
        failover_message(f, s.taken_at),
        hint_for(FAILOVER_COMPLETED, s, **values),
    )


# ---------------------------------------------------------------- the headline


def recent_takeover(status: ClusterStatus, now: float) -> float | None:
    """When the current primary took over (its HADR_LAST_TAKEOVER_TIME), if at most TAKEOVER_MENTION_S
    before `now`; None otherwise, and for a time after the answer that reported it (a clock gone wrong)."""
    promoted = status.promoted_node
    part = status.hadr.get(promoted) if promoted else None
    if part is None or not part.ok or part.value is None:
        return None
    times = [st.last_takeover_time for st in part.value.streams if st.last_takeover_time]
    at = max(times, default=None)
    if at is None or at > part.fetched_at + 1 or now - at > TAKEOVER_MENTION_S:
        return None
    return at


def healthy_sentence(status: ClusterStatus, now: float | None = None) -> str | None:
    """Return "Healthy: db2a is primary, HADR PEER, quorum with qdevice", or None when data is missing.
    With `now`, a takeover in the last hour is said: "db2b is primary since the takeover at 03:12:41
    (12 min ago)"."""
    promoted = status.promoted_node
    if promoted is None:
        return None
    hadr = status.hadr.get(promoted)
    hadr_state = hadr.value.state if hadr is not None and hadr.ok and hadr.value is not None else None
    quorum_parts = [p.value for p in status.quorum.values() if p.ok and p.value is not None]
    if hadr_state is None or not quorum_parts:
        return None
    quorate = any(q.quorate for q in quorum_parts)
    with_qdevice = any(q.has_qdevice for q in quorum_parts)
    quorum = "quorum with qdevice" if quorate and with_qdevice else "quorum" if quorate else "NO quorum"
    took_over = recent_takeover(status, now) if now is not None else None
    since = (
        f" since the takeover at {clock_time(took_over)} ({ago(now - took_over)})"
        if took_over is not None and now is not None
        else ""
    )
    return f"Healthy: {promoted} is primary{since}, HADR {hadr_state}, {quorum}"


def _pair_title(s: ClusterStatus, ranked: tuple[Verdict, ...]) -> tuple[str, tuple[Verdict, ...]]:
    """One line for the HADR pair when its two hosts say the same thing (a link down, a standby catching
    up), and the verdicts that line folds; ("", ()) otherwise."""
    lead = ranked[0]
    same = tuple(v for v in ranked if v.code == lead.code)
    primary = s.hadr_primary_host
    standby = next(
        (h for h, p in s.hadr.items() if h != primary and p.ok and p.value and p.value.activated), None
    )
    if primary is None or standby is None:
        return "", ()
    if lead.code == "hadr_disconnected" and _crm_online(s, primary) and _crm_online(s, standby):
        return (
            f"HADR link down between {primary} (primary) and {standby} (standby), both instances running: "
            f"{standby} has not received the latest logs, so a takeover now loses data"
        ), same
    if lead.code == "hadr_not_peer":
        part = s.hadr[standby]
        state = part.value.streams[0].state if part.value and part.value.streams else "not PEER"
        return (
            f"{standby} is back as standby and catching up ({state}); {primary} stays primary; "
            "a takeover before PEER could lose data"
        ), same
    return "", ()


def _crm_online(s: ClusterStatus, host: str) -> bool:
    crm = _crm(s)
    node = crm.node(host) if crm is not None else None
    return node is None or (node.online and not node.standby)


def _explained_by(f: Failover, v: Verdict) -> bool:
    """True for the symptoms a failover explains (folded into one consequence line)."""
    old, new = f.old_primary or "", f.new_primary
    if v.code in ("host_unreachable", "node_offline") and v.message.startswith((f"{old} ", f"node {old} ")):
        return True
    if v.code == "hadr_disconnected" and (f" on {new} " in v.message or f" on {old} " in v.message):
        return True
    return v.code in ("no_promoted_node", "hadr_unknown") and not f.done


def build_headline(status: ClusterStatus | None, now: float | None = None) -> Headline:
    """Return the headline of `status` at time `now` (ages are computed then, not at the snapshot)."""
    if status is None:
        return Headline(Severity.INFO, "unknown", "Waiting for the first status…")
    now = time.time() if now is None else now
    ranked = rank_verdicts(v for v in status.verdicts if v.severity is not Severity.OK)
    if not ranked:
        sentence = healthy_sentence(status, now)
        if sentence is None:
            missing = (
                ", ".join(f"{h}: {e.message}" for h, e in status.host_errors.items())
                or "no Pacemaker/HADR data"
            )
            return Headline(Severity.WARNING, "unknown", f"Status unknown: {missing}")
        return Headline(Severity.OK, "healthy", sentence)
    lead = ranked[0]
    f = find_failover(status) if lead.code in INCIDENT_CODES else None
    if f is None:
        title, folded = _pair_title(status, ranked)
        rest = tuple(v.message for v in ranked[1:] if v not in folded)
        return Headline(lead.severity, lead.code, title or lead.message, rest, lead.hint)
    title = failover_message(f, now)
    lines: list[str] = []
    if f.old_primary and not f.planned:
        lines.append(f"{f.old_primary}: {f.old_down}")
    lines += [v.message for v in ranked[1:] if not _explained_by(f, v)]
    since = f.lost_at if not f.done else (f.promoted_at or f.lost_at)
    severity = max((v.severity for v in ranked), key=lambda sev: sev.rank)
    return Headline(severity, lead.code, title, tuple(lines), lead.hint, since, _short(f, now))


def _short(f: Failover, now: float) -> str:
    if not f.done:
        started = f", started {ago(now - f.lost_at)}" if f.lost_at is not None else ""
        what = "switchover" if f.planned else "failover"
        return f"{what} in progress: promoting {f.new_primary}{started}"
    when = f" at {clock_time(f.promoted_at)}" if f.promoted_at is not None else ""
    return f"{f.new_primary} took over{when}; {f.old_primary} down; no standby"
