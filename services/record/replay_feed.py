"""Replay, headless part: the recorded clock, what each cluster's feed holds at that clock, and where a
`db2ops replay` starts (`--at`, `--incident`, or the last frame), with errors that say what to do.

No Textual, no SSH, no AWS: the replay console (tui/replay.py) drives this; tests drive it directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from services.inventory.model import Cluster, Host
from services.record.model import ALARM, EVENT, JOURNAL, LOG, RecordedItem, RecordingReader
from services.record.when import WhenError, is_clock_time, parse_moment
from services.status.events import StatusEvent
from services.status.model import ClusterStatus, Severity
from services.status.poll import MAX_EVENTS, ClusterFeed

if TYPE_CHECKING:
    from services.logs.model import LogEntry
    from services.record.strip import Strip
    from services.timeline.model import Timeline

SPEEDS = (1.0, 10.0)


class ReplayError(ValueError):
    """Why a replay cannot open or a time cannot be reached; the message says what to do instead."""


# ---------------------------------------------------------------------------------------------- times

TIME_FORMS = '"03:12", "03:12:33", "2026-12-06 03:12:33", "10m" (ago) or "-5m"/"+30s" (from here)'
_REPLAY_WORDS = {
    "empty": "no time given: use {forms}",
    "unreadable": "cannot read the time {text!r}: use {forms}",
    "invalid": "{text!r} is not a valid time: use {forms}",
    "future": "{text!r} is in the future: give a time, or a duration ago such as 10m",
}


def parse_when(text: str, *, base: float, forward_ok: bool = True) -> float:
    """Return the epoch time `text` names (services/record/when.py parse_moment: a clock time on the day
    of `base`, a date and time, or a duration from `base`: "10m" and "-10m" before it, "+30s" after it,
    only when `forward_ok`). Raises ReplayError naming the forms understood.
    """
    try:
        return parse_moment(text, base=base, forward_ok=forward_ok)
    except WhenError as exc:
        words = _REPLAY_WORDS.get(exc.why, _REPLAY_WORDS["unreadable"])
        raise ReplayError(words.format(text=exc.text, forms=TIME_FORMS)) from None


def format_when(at: float) -> str:
    """Return "2026-12-06 03:12:33 UTC" (local time, its zone named): the header's recorded time."""
    local = time.localtime(at)
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", local)


def format_span(span: tuple[float, float]) -> str:
    return f"{format_when(span[0])} – {format_when(span[1])}"


# ---------------------------------------------------------------------------------------------- clock


class ReplayClock:
    """The recorded time every screen reads as "now" (ages, stale panels, headlines), and play state.

    Calling it returns the time, so it is the app's `clock`. `tick(wall_seconds)` moves it while playing
    (at 1× or 10×) and stops at `end`.
    """

    def __init__(self, at: float, start: float, end: float) -> None:
        self.start, self.end = start, end
        self.at = min(max(at, start), end)
        self.playing = False
        self.speed = SPEEDS[0]

    def __call__(self) -> float:
        return self.at

    def set(self, at: float) -> float:
        """Move to `at` (kept within the recording); return where it landed."""
        self.at = min(max(at, self.start), self.end)
        return self.at

    def tick(self, wall_seconds: float) -> float:
        if self.playing:
            self.set(self.at + wall_seconds * self.speed)
            if self.at >= self.end:
                self.playing = False
        return self.at

    def toggle_play(self) -> bool:
        self.playing = not self.playing and self.at < self.end
        return self.playing

    def cycle_speed(self) -> float:
        later = [s for s in SPEEDS if s > self.speed]
        self.speed = later[0] if later else SPEEDS[0]
        return self.speed


# ---------------------------------------------------------------------------------------------- feeder


def event_from_item(item: RecordedItem) -> StatusEvent:
    """Return the StatusEvent a recorded EVENT item holds."""
    p = item.payload
    try:
        severity = Severity(str(p.get("severity", "info")))
    except ValueError:
        severity = Severity.INFO
    return StatusEvent(item.at, item.cluster, str(p.get("kind", "")), str(p.get("message", "")), severity)


class ReplayFeeder:
    """Sets each cluster's ClusterFeed to what the recording held at a time: the latest frame at or before
    it and the recorded events up to it (the live feed's last MAX_EVENTS)."""

    def __init__(self, reader: RecordingReader, clusters: Sequence[str]) -> None:
        self.reader = reader
        self.clusters = list(clusters)
        self._changes = {name: reader.change_times(name) for name in self.clusters}
        self._events: dict[str, list[StatusEvent]] = {
            name: [event_from_item(i) for i in reader.items(name, kinds=[EVENT])] for name in self.clusters
        }

    def span(self) -> tuple[float, float]:
        spans = [s for s in (self.reader.span(n) for n in self.clusters) if s is not None]
        if not spans:
            raise ReplayError("the recording holds no status frame for " + ", ".join(self.clusters))
        return min(s[0] for s in spans), max(s[1] for s in spans)

    def change_times(self, cluster: str | None = None) -> list[float]:
        """Change times of `cluster`, or of every replayed cluster merged, ascending."""
        if cluster is not None:
            return list(self._changes.get(cluster, []))
        return sorted({t for times in self._changes.values() for t in times})

    def next_change(self, after: float, cluster: str | None = None) -> float | None:
        return next((t for t in self.change_times(cluster) if t > after + 1e-6), None)

    def prev_change(self, before: float, cluster: str | None = None) -> float | None:
        earlier = [t for t in self.change_times(cluster) if t < before - 1e-6]
        return earlier[-1] if earlier else None

    def apply(self, at: float, feeds: Mapping[str, ClusterFeed]) -> None:
        """Set each feed to the recording at `at` (a feed before its cluster's first frame is empty)."""
        for name in self.clusters:
            feed = feeds.get(name)
            if feed is None:
                continue
            status = self.reader.status_at(name, at)
            if status is not feed.status:
                if status is None:
                    feed.clear()
                else:
                    feed.apply(status)
            events = [e for e in self._events.get(name, []) if e.at <= at]
            if len(events) != feed.events_total:
                feed.events.clear()
                feed.events.extend(events[-MAX_EVENTS:])
                feed.events_total = len(events)
                feed.version += 1


# ---------------------------------------------------------------------------------------------- clusters


def cluster_from_status(status: ClusterStatus, known: Cluster | None = None) -> Cluster:
    """Return the Cluster the screens draw for a recorded cluster: the inventory's entry when it still
    has one, else one rebuilt from the snapshot (its db hosts, the qnetd host, instance ids). Never a lab
    cluster in replay: drills must not appear."""
    from dataclasses import replace

    if known is not None:
        return replace(known, lab=False)
    ids = status.instance_ids
    db_hosts = sorted(set(status.hadr) | set(status.quorum) | set(status.qdevice))
    if not db_hosts and status.crm is not None and status.crm.value is not None:
        db_hosts = [n.name for n in status.crm.value.nodes]
    hosts = [Host(name=h, address=h, instance_id=ids.get(h)) for h in db_hosts]
    if status.qnetd is not None and status.qnetd.source and status.qnetd.source not in db_hosts:
        q = status.qnetd.source
        hosts.append(Host(name=q, address=q, role="qdevice", instance_id=ids.get(q)))
    return Cluster(
        name=status.cluster,
        environment="recorded",
        instance=status.instance or "db2inst1",
        database=status.database or "SAMPLE",
        hosts=tuple(hosts),
    )


# ---------------------------------------------------------------------------------------------- start


@dataclass(frozen=True)
class ReplayStart:
    clusters: tuple[str, ...]  # the clusters replayed
    at: float  # where the clock starts
    cluster: str | None  # the cluster whose status screen opens (None: the fleet)
    note: str = ""  # e.g. "incident 2: 03:12:33–03:14:10 db2b took over …"


def resolve_start(
    reader: RecordingReader,
    *,
    cluster: str | None = None,
    at: str | None = None,
    incident: int | None = None,
    now: float | None = None,
    where: str = "the recording",
) -> ReplayStart:
    """Check the request against the recording; return what to replay and from when.

    Raises ReplayError: no recording, unknown cluster, a time outside the recorded span (named), an
    incident that is not there, `--at` with `--incident`.
    """
    recorded = [c for c in reader.clusters() if reader.span(c) is not None]
    if not recorded:
        raise ReplayError(
            f"{where} holds no status frame: recording starts with the console (or `db2ops record "
            "--cluster NAME`); let it record, then replay"
        )
    if cluster is not None and cluster not in recorded:
        raise ReplayError(f"no recording of cluster {cluster!r} in {where}; recorded: {', '.join(recorded)}")
    if at is not None and incident is not None:
        raise ReplayError("give --at or --incident, not both")
    names = (cluster,) if cluster is not None else tuple(recorded)
    feeder = ReplayFeeder(reader, names)
    span = feeder.span()
    if incident is not None:
        return _incident_start(reader, names, incident, cluster, where)
    if at is None:
        return ReplayStart(names, span[1], cluster or (names[0] if len(names) == 1 else None))
    when = parse_when(at, base=time.time() if now is None else now, forward_ok=False)
    # a bare clock time means the recording's day, not today's
    if is_clock_time(at):
        when = parse_when(at, base=span[1])
        if when > span[1] + 1:
            when -= 86400.0
    if not span[0] - 1e-6 <= when <= span[1] + 1e-6:
        who = cluster or "the recording"
        raise ReplayError(
            f"{format_when(when)} is outside {who}'s recorded span {format_span(span)}: "
            "give a time within it (--at)"
        )
    return ReplayStart(names, when, cluster or (names[0] if len(names) == 1 else None))


def _incident_start(
    reader: RecordingReader, names: tuple[str, ...], number: int, cluster: str | None, where: str
) -> ReplayStart:
    from services.record.incidents import find_incidents  # rec-bundle's module; read only when asked

    if cluster is None and len(names) != 1:
        raise ReplayError(f"--incident needs --cluster: {where} holds {', '.join(names)}")
    name = cluster or names[0]
    found = find_incidents(reader, name)
    match = next((i for i in found if i.number == number), None)
    if match is None:
        known = ", ".join(f"{i.number} ({format_when(i.start)})" for i in found) or "none"
        raise ReplayError(f"no incident {number} of {name} in {where}; incidents: {known}")
    return ReplayStart((name,), match.start, name, f"incident {match.number}: {match.summary}")


# ---------------------------------------------------------------------------------------------- open


@dataclass(frozen=True)
class OpenedRecording:
    reader: RecordingReader
    name: str  # how messages and the header name it: "bundle x.tar.gz", the store's path
    reopen: Callable[[], RecordingReader]  # a reader of the same recording for another thread (SQLite)


def open_reader(store: Path | None = None, bundle: Path | None = None) -> OpenedRecording:
    """Open a bundle (in memory) or the recording store read-only (services/record/open_store.py)."""
    if bundle is not None:
        from services.record.bundle import BundleError, open_bundle

        if not bundle.exists():
            raise ReplayError(f"no bundle at {bundle}: check the path (`db2ops bundle -o FILE` makes one)")
        try:
            memory = open_bundle(bundle)
        except BundleError as exc:
            raise ReplayError(f"cannot open the bundle {bundle}: {exc}") from exc
        return OpenedRecording(memory, f"bundle {bundle.name}", lambda: memory)
    from services.record.open_store import RecordingUnavailable, open_recording, store_path

    try:
        reader = open_recording(store)
    except RecordingUnavailable as exc:
        raise ReplayError(f"{exc}; or replay a bundle with --bundle FILE") from None
    return OpenedRecording(reader, str(store_path(store)), lambda: open_recording(store))


# ---------------------------------------------------------------------------------------------- timeline


STRIP_LOOKBACK_S = 6 * 3600.0  # the replay's strip looks this far back for the latest failover


def strip_until(reader: RecordingReader, cluster: str, at: float) -> Strip | None:
    """The failover strip as the console's timeline drew it at `at`: the latest failover among the frames
    of the hours before (the live console keeps its session's snapshots; a week is not decoded for it)."""
    from services.record.strip import failover_strip

    return failover_strip(reader.frames(cluster, at - STRIP_LOOKBACK_S, at))


def timeline_until(reader: RecordingReader, cluster: str, at: float) -> Timeline:
    """Return the timeline of `cluster` as the console would have shown it at `at`: the recorded events,
    alarm changes, log records and journal entries up to then."""
    from services.plans.journal import JournalEntry
    from services.timeline.model import Timeline, TimelineEntry

    timeline = Timeline(cluster)
    items = reader.items(cluster, until=at, kinds=[EVENT, ALARM, LOG, JOURNAL])
    timeline.add_status_events(event_from_item(i) for i in items if i.kind == EVENT)
    journal = []
    for item in items:
        p = item.payload
        if item.kind == ALARM:
            name, state, before = str(p.get("name", "?")), str(p.get("state", "?")), p.get("previous")
            title = f"alarm {name}: {before} → {state}" if before else f"alarm {name}: {state}"
            sev = _ALARM_SEVERITY.get(state, Severity.INFO)
            ref = f"alarm:{name}:{state}:{item.at:.3f}"
            timeline.add(TimelineEntry(item.at, "alarm", sev, title, str(p.get("reason", "")), ref))
        elif item.kind == JOURNAL:
            try:
                journal.append(JournalEntry.from_dict(p))
            except (TypeError, ValueError, KeyError):
                continue  # a line this version cannot read: the rest of the timeline still shows
    timeline.add_journal(journal)
    timeline.add_log_entries(log_entries([i for i in items if i.kind == LOG]))
    return timeline


def log_entries(items: Iterable[RecordedItem]) -> list[LogEntry]:
    """Return the log view's entries for recorded LOG items (each a CloudWatch event's message)."""
    from services.logs.model import entries_from_event

    out: list[LogEntry] = []
    for item in items:
        p = item.payload
        group = str(p.get("group", ""))
        source = str(p.get("source", ""))
        if source not in ("diag", "audit"):
            source = "audit" if "audit" in group.lower() else "diag"
        stream = str(p.get("stream", ""))
        event = {
            "timestamp": int(item.at * 1000),
            "message": str(p.get("message", "")),
            "logStreamName": stream,
        }
        host = str(p.get("host", ""))  # the host the console named for the stream, when recorded
        out += entries_from_event(event, source, {stream: host} if host else None)
    return out


_ALARM_SEVERITY = {"ALARM": Severity.CRITICAL, "INSUFFICIENT_DATA": Severity.WARNING, "OK": Severity.OK}
