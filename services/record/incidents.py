"""Incidents in a recording: spans from the first degraded snapshot to the return to healthy (issue 13).

"Degraded" is what the console's headline says (services/status/incident.py build_headline): WARNING or
CRITICAL. INFO is not an incident (a note, not a fault), and neither is OK, which includes the healthy line
that still mentions a takeover of the last hour. An incident ends at the first healthy snapshot after it;
one still degraded at the end of the recording is open (`end` None).

Only the recording's change times are read (`RecordingReader.change_times`): the headline's severity can only
change where the state does, so a week of steady polls costs nothing. Numbers are 1-based per cluster over
the whole recording, so `--incident 2` means the same incident whatever span is asked for (until retention
drops older ones).

Each incident's one-line summary reuses the headline (find_failover: who took over from whom, when promoted)
and the state-change events (services/status/events.py: when the overlay route moved), in the console's clock
format (clock_time): "03:12:33–03:14:10 db2b took over from db2a (crash), route moved in 6 s, 1 alarm".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from services.record.model import ALARM, EVENT, RecordingReader
from services.status.events import StatusEvent, diff_snapshots
from services.status.incident import (  # the private helpers: how find_failover reads a snapshot
    Failover,
    _down_cause,
    _last_op,
    build_headline,
    clock_time,
    crm_epoch,
    find_failover,
)
from services.status.model import ClusterStatus, Severity

# Seconds of recording kept before and after an incident in its bundle: the healthy state before it, and
# the settled state after it, so a replay shows the whole story.
INCIDENT_PAD_S = 60.0
_MAX_TITLE = 90  # characters of a headline in a summary (the rest is in the report)


@dataclass(frozen=True)
class Incident:
    number: int  # 1-based per cluster, in time order
    cluster: str
    start: float  # the first degraded snapshot
    end: float | None  # the first healthy snapshot after it; None while still open
    summary: str  # one line
    severity: Severity  # the worst headline severity seen in it
    code: str = ""  # the worst headline's code (failover_completed, hadr_disconnected, ...)
    title: str = ""  # that headline's first line
    new_primary: str | None = None  # when a failover happened in it
    old_primary: str | None = None
    lost_at: float | None = None
    promoted_at: float | None = None
    route_moved_at: float | None = None
    alarms: tuple[str, ...] = field(default=())  # the alarms that went into ALARM during it

    @property
    def open(self) -> bool:
        return self.end is None

    def span(self, pad: float = INCIDENT_PAD_S) -> tuple[float, float | None]:
        """(since, until) of the incident with `pad` seconds either side; until None while open."""
        return self.start - pad, (self.end + pad if self.end is not None else None)


def degraded(status: ClusterStatus) -> Severity | None:
    """The headline severity of `status` when it is an incident's (WARNING, CRITICAL), else None."""
    severity = build_headline(status, now=status.taken_at).severity
    return severity if severity.rank >= Severity.WARNING.rank else None


@dataclass
class _Open:
    start: float
    statuses: list[ClusterStatus] = field(default_factory=list)


def find_incidents(
    reader: RecordingReader, cluster: str, since: float | None = None, until: float | None = None
) -> list[Incident]:
    """Return the incidents of `cluster` that overlap [since, until], oldest first."""
    found: list[Incident] = []
    current: _Open | None = None
    for at in reader.change_times(cluster):
        status = reader.status_at(cluster, at)
        if status is None:
            continue
        if degraded(status) is not None:
            if current is None:
                current = _Open(at)
            current.statuses.append(status)
        elif current is not None:
            found.append(_incident(reader, cluster, len(found) + 1, current, at, status))
            current = None
    if current is not None:
        found.append(_incident(reader, cluster, len(found) + 1, current, None, None))
    return [
        i
        for i in found
        if (until is None or i.start <= until) and (since is None or i.end is None or i.end >= since)
    ]


def incident_events(
    reader: RecordingReader, cluster: str, since: float | None, until: float | None
) -> list[StatusEvent]:
    """The state-change events of the span: the recorded ones, or (a recording without them) the changes
    between its frames, as the console derives them."""
    recorded = reader.items(cluster, since, until, kinds=(EVENT,))
    if recorded:
        return [
            StatusEvent(
                i.at,
                cluster,
                str(i.payload.get("kind", "")),
                str(i.payload.get("message", "")),
                _severity(i.payload.get("severity")),
            )
            for i in recorded
        ]
    events: list[StatusEvent] = []
    prev = reader.status_at(cluster, since) if since is not None else None
    for frame in reader.frames(cluster, since, until):
        events += diff_snapshots(prev, frame.status)
        prev = frame.status
    return events


def _severity(value: object) -> Severity:
    try:
        return Severity(str(value))
    except ValueError:
        return Severity.INFO


def fired_alarms(
    reader: RecordingReader, cluster: str, since: float | None, until: float | None
) -> list[str]:
    """Names of the alarms that went into ALARM in the span (recorded alarm changes, else status events)."""
    names = [
        str(i.payload.get("name", "?"))
        for i in reader.items(cluster, since, until, kinds=(ALARM,))
        if i.payload.get("state") == "ALARM"
    ]
    if not names:
        names = [
            e.message.split()[1]
            for e in incident_events(reader, cluster, since, until)
            if e.kind == "alarm_fired" and len(e.message.split()) > 1
        ]
    return list(dict.fromkeys(names))


def _incident(
    reader: RecordingReader,
    cluster: str,
    number: int,
    current: _Open,
    end: float | None,
    healthy: ClusterStatus | None,
) -> Incident:
    # the last of the worst: a failover's completed line (who, when) rather than its first "in progress"
    worst = max(reversed(current.statuses), key=lambda s: build_headline(s, now=s.taken_at).severity.rank)
    headline = build_headline(worst, now=worst.taken_at)
    failover = _completed_by(_last_failover(current.statuses), current.statuses, healthy)
    lost_at = _lost_at(current.statuses, current.start) if failover is not None else None
    events = incident_events(reader, cluster, current.start, end)
    alarms = tuple(fired_alarms(reader, cluster, current.start, end))
    route_moved = next((e.at for e in events if e.kind == "route_moved"), None)
    summary = _summary(current.start, end, headline.title, failover, route_moved, lost_at, alarms)
    return Incident(
        number=number,
        cluster=cluster,
        start=current.start,
        end=end,
        summary=summary,
        severity=headline.severity,
        code=headline.code,
        title=headline.title,
        new_primary=failover.new_primary if failover else None,
        old_primary=failover.old_primary if failover else None,
        lost_at=lost_at,
        promoted_at=failover.promoted_at if failover else None,
        route_moved_at=route_moved,
        alarms=alarms,
    )


def _last_failover(statuses: Iterable[ClusterStatus]) -> Failover | None:
    """The failover the incident shows: its completed form when seen (it carries the promote's time)."""
    seen = [f for f in (find_failover(s) for s in statuses) if f is not None]
    done = [f for f in seen if f.done]
    chosen = done or seen
    return chosen[-1] if chosen else None


def _completed_by(
    f: Failover | None, statuses: Iterable[ClusterStatus], healthy: ClusterStatus | None
) -> Failover | None:
    """`f` completed when the healthy snapshot that ends the incident has its new primary promoted.

    find_failover says nothing of a switchover once both nodes serve again (no incident), so an incident
    whose last degraded snapshot showed the promotion under way would otherwise read "not completed" when
    it ended precisely because it completed (seen on real Pacemaker: `crm resource move`, a standby node,
    the promotion after quorum returns). The old primary down in any snapshot of the incident makes it no
    switchover: the reason is that snapshot's. Promoted again where it was: no takeover (None)."""
    if f is None or f.done or healthy is None or healthy.promoted_node is None:
        return f
    if healthy.promoted_node == f.old_primary:
        return None
    if healthy.promoted_node != f.new_primary:
        return f
    crm = healthy.crm.value if healthy.crm is not None and healthy.crm.ok else None
    promote = _last_op(crm, f.new_primary, "promote") if crm is not None else None
    promoted_at = crm_epoch(healthy.crm, promote.last_rc_change) if promote and healthy.crm else None
    causes = [_down_cause(s, f.old_primary) for s in statuses] if f.old_primary else []
    down = next((c for c in causes if c is not None), None)
    if down is None:
        return replace(f, done=True, promoted_at=promoted_at)
    return replace(f, done=True, promoted_at=promoted_at, old_down=down, planned=False)


def _lost_at(statuses: Iterable[ClusterStatus], start: float) -> float:
    """When the old primary was lost: the earliest time a snapshot of the incident dates it (a later one
    can date it by HADR's disconnect at the takeover itself), never after the first degraded snapshot."""
    times = [
        f.lost_at for f in (find_failover(s) for s in statuses) if f is not None and f.lost_at is not None
    ]
    return min([*times, start])


def _why(f: Failover) -> str:
    if f.planned:
        return "switchover"
    if "UNCLEAN" in f.old_down:
        return "fenced"
    if "offline" in f.old_down:
        return "crash"
    if "SSH" in f.old_down or "answer" in f.old_down:
        return "unreachable"
    return f.old_down or "lost"


def short_title(title: str) -> str:
    """The headline cut to its first clause (the rest is advice and detail), at most _MAX_TITLE long."""
    head = title.split(": ", 1)[0] if len(title) > _MAX_TITLE else title
    if len(head) > _MAX_TITLE:
        head = head[: _MAX_TITLE - 1].rsplit(" ", 1)[0] + "…"
    return head


def _summary(
    start: float,
    end: float | None,
    title: str,
    f: Failover | None,
    route_moved: float | None,
    lost_at: float | None,
    alarms: tuple[str, ...],
) -> str:
    span = f"{clock_time(start)}–{clock_time(end) if end is not None else 'ongoing'}"
    parts: list[str] = []
    if f is not None and f.done and f.old_primary:
        parts.append(f"{f.new_primary} took over from {f.old_primary} ({_why(f)})")
    elif f is not None:
        what = "switchover" if f.planned else "failover"
        parts.append(f"{what} to {f.new_primary} not completed")
    else:
        parts.append(short_title(title))
    if route_moved is not None:
        began = lost_at if lost_at is not None else start
        parts.append(f"route moved in {max(0.0, route_moved - began):.0f} s")
    if alarms:
        parts.append(f"{len(alarms)} alarm" + ("s" if len(alarms) > 1 else ""))
    return f"{span} " + ", ".join(parts)
