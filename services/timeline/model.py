"""One incident timeline per cluster: status changes, operator journal, alarm states and log records of
interest, merged in time order, exportable as a Markdown incident report. Headless (no Textual).

Feed it as things happen (`add_snapshot`, `add_status_events`, `add_journal`, `add_alarm_states`,
`add_alarm_history`, `add_log_entries`); adding the same item twice is a no-op, so callers may re-feed
whole lists on every refresh. services/timeline/sources.py reads the log records and alarm changes of a
cluster into one by itself.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from services.logs.summary import visible_controls
from services.status.events import StatusEvent, diff_snapshots
from services.status.model import ClusterStatus, Severity

if TYPE_CHECKING:  # what the timeline is fed; their modules are not needed to build one
    from services.alarms.model import AlarmHistory, AlarmView
    from services.logs.model import LogEntry
    from services.plans.journal import JournalEntry
    from services.plans.runner import StepEvent

Source = Literal["status", "journal", "alarm", "log"]
SOURCES: tuple[str, ...] = ("status", "journal", "alarm", "log")
MAX_ENTRIES = 5000
SAME_CHANGE_WINDOW_S = 15.0  # two pollers (console, failover verify) report one change at nearby times
# A db2diag record that repeats (same level and message, numbers aside) within this many seconds of its last
# occurrence joins that one's line: a routine error written every minute must not bury the takeover.
REPEAT_WINDOW_S = 600.0
_NUMBERS = re.compile(r"0x[0-9A-Fa-f]+|\d+")

_ALARM_SEVERITY = {"ALARM": Severity.CRITICAL, "INSUFFICIENT_DATA": Severity.WARNING, "OK": Severity.OK}
_LOG_SEVERITY = {
    "Critical": Severity.CRITICAL,
    "Severe": Severity.CRITICAL,
    "Error": Severity.WARNING,
    "Warning": Severity.WARNING,
    "Event": Severity.INFO,
    "Info": Severity.INFO,
}
_ALWAYS_LEVELS = {"Critical", "Severe", "Error"}
_HADR_WORDS = re.compile(r"\bHADR\b|takeover", re.IGNORECASE)
_SEVERITY_MARK = {"ok": "✔", "info": "·", "warning": "⚠", "critical": "✖"}


@dataclass(frozen=True)
class TimelineEntry:
    """One line of the timeline. `at` is epoch seconds (UTC); `ref` says where it came from (unique)."""

    at: float
    source: str  # status | journal | alarm | log
    severity: Severity
    title: str
    detail: str = ""
    ref: str = ""

    @property
    def when(self) -> datetime:
        return datetime.fromtimestamp(self.at, UTC)

    def stamp(self) -> str:
        """Return the UTC time as "2025-09-01 04:59:54Z" (milliseconds when the source has them)."""
        seconds, ms = divmod(round(self.at * 1000), 1000)
        text = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S")
        return f"{text}.{ms:03d}Z" if ms else f"{text}Z"


def parse_utc(text: str) -> float:
    """Return epoch seconds for an ISO 8601 UTC time ("2025-09-01T04:59:54Z"); raise ValueError otherwise."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


@dataclass
class _Repeats:
    """The later occurrences of a db2diag record folded into the line of its first one."""

    first: TimelineEntry
    level: str
    summary: str
    last_at: float
    hosts: list[str]
    times: list[float] = field(default_factory=list)
    refs: list[str] = field(default_factory=list)

    def entry(self) -> TimelineEntry:
        """Return the first occurrence's line, saying how often, until when and on which hosts it repeated."""
        if not self.times:
            return self.first
        last = datetime.fromtimestamp(self.last_at, UTC).strftime("%H:%M:%S")
        title = f"db2diag {self.level} ×{len(self.times) + 1} until {last}Z on {', '.join(self.hosts)}: "
        stamps = ", ".join(datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S") for t in sorted(self.times))
        more = f"repeated {len(self.times)} more time(s), at {stamps} (UTC)"
        return replace(
            self.first,
            title=visible_controls(title + self.summary),
            detail=f"{self.first.detail.rstrip()}\n\n{more}",
        )


@dataclass
class Timeline:
    """The merged timeline of one cluster (newest entries are kept when `max_entries` is exceeded)."""

    cluster: str
    max_entries: int = MAX_ENTRIES
    _entries: list[tuple[float, int, TimelineEntry]] = field(default_factory=list, repr=False)
    _refs: set[str] = field(default_factory=set, repr=False)
    _seq: Iterator[int] = field(default_factory=itertools.count, repr=False)
    _last_status: ClusterStatus | None = field(default=None, repr=False)
    _alarm_states: dict[str, str] = field(default_factory=dict, repr=False)
    _live_steps: dict[tuple[str, str, str], list[float]] = field(default_factory=dict, repr=False)
    _changes: dict[tuple[str, str], list[float]] = field(default_factory=dict, repr=False)
    _repeats: dict[tuple[str, str], list[_Repeats]] = field(default_factory=dict, repr=False)
    _folded: dict[str, _Repeats] = field(default_factory=dict, repr=False)  # first line's ref -> repeats
    version: int = 0  # bumped on every change: views redraw only when it moved
    # Called with each log record the timeline keeps, once (a record read again is not new): the
    # console's recorder hangs here (ConsoleContext.timeline), so the recording holds what the timeline used.
    on_log: Callable[[LogEntry], None] | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ adding

    def add(self, entry: TimelineEntry) -> bool:
        """Add one entry; return False (and keep nothing) when an entry with the same `ref` exists.

        Control characters in the title and detail are made visible: log records can carry text a
        database user chose, and the timeline must show it, never let the terminal obey it.
        """
        title, detail = visible_controls(entry.title), visible_controls(entry.detail)
        if title != entry.title or detail != entry.detail:
            entry = replace(entry, title=title, detail=detail)
        ref = entry.ref or f"{entry.source}:{entry.at}:{entry.title}"
        if ref in self._refs:
            return False
        self._refs.add(ref)
        self._entries.append((entry.at, next(self._seq), entry))
        if len(self._entries) > self.max_entries:
            self._entries.sort(key=lambda item: (item[0], item[1]))
            for _, _, gone in self._entries[: len(self._entries) - self.max_entries]:
                self._refs.discard(gone.ref or f"{gone.source}:{gone.at}:{gone.title}")
                folded = self._folded.pop(gone.ref, None)
                if folded is not None:
                    self._refs.difference_update(folded.refs)
            del self._entries[: len(self._entries) - self.max_entries]
        self.version += 1
        return True

    def add_status_events(self, events: Iterable[StatusEvent]) -> int:
        """Add state-change events (services.status.events); return how many were new.

        The same change seen by another poller within SAME_CHANGE_WINDOW_S (same kind and message) is
        the same fact and is not added again.
        """
        added = 0
        for ev in events:
            if ev.cluster != self.cluster:
                continue
            seen = self._changes.setdefault((ev.kind, ev.message), [])
            if any(abs(ev.at - t) <= SAME_CHANGE_WINDOW_S for t in seen):
                continue
            seen.append(ev.at)
            ref = f"status:{ev.kind}:{ev.at:.6f}:{ev.message}"
            added += self.add(TimelineEntry(ev.at, "status", ev.severity, ev.message, _event_detail(ev), ref))
        return added

    def add_snapshot(self, status: ClusterStatus) -> list[StatusEvent]:
        """Diff `status` against the previous snapshot given here; add and return the changes."""
        if status.cluster != self.cluster:
            return []
        events = diff_snapshots(self._last_status, status)
        self._last_status = status
        self.add_status_events(events)
        return events

    def add_journal(self, entries: Iterable[JournalEntry]) -> int:
        """Add operator-journal entries (services.plans.journal.JournalEntry) of this cluster."""
        added = 0
        for e in entries:
            if e.cluster != self.cluster:
                continue
            try:
                at = parse_utc(e.when)
            except ValueError:
                continue  # a hand-edited line: the journal screen reports it
            live = self._live_steps.get((e.plan, e.step_id, e.result), [])
            if any(-1.0 <= t - at < 2.0 for t in live):
                continue  # already here, with its exact time, from add_step_event
            failed = e.result == "failed"
            commands = [a.get("command") or f"{a.get('service')}:{a.get('operation')}" for a in e.actions]
            detail = "\n".join(
                [f"{e.plan} run {e.run_id} by {e.who}, target {e.target}"]
                + ([e.message] if e.message else [])
                + [f"$ {c}" for c in commands]
            )
            title = f"{e.step_title} [{e.result}]"
            ref = f"journal:{e.run_id}/{e.step_id}/{e.result}/{e.when}"
            sev = Severity.WARNING if failed else Severity.INFO
            added += self.add(TimelineEntry(at, "journal", sev, title, detail, ref))
        return added

    def add_step_event(self, plan: str, event: StepEvent, at: float, *, target: str = "") -> bool:
        """Add a plan step as it finishes (services.plans.StepEvent, phase "finished") at its exact time.

        The journal stamps whole seconds; entries added here win over the same step read back from the
        journal later (`add_journal` skips it), so the order against status changes stays exact.
        """
        if event.phase != "finished" or event.status not in ("applied", "failed"):
            return False
        result = "verified" if event.status == "applied" else "failed"
        self._live_steps.setdefault((plan, event.step_id, result), []).append(at)
        detail = event.message + (f" (target {target})" if target else "")
        sev = Severity.WARNING if result == "failed" else Severity.INFO
        ref = f"step:{plan}/{event.step_id}/{result}/{at:.6f}"
        return self.add(TimelineEntry(at, "journal", sev, f"{event.title} [{result}]", detail, ref))

    def add_alarm_states(self, views: Iterable[AlarmView], at: float) -> int:
        """Add alarm state changes from a list of services.alarms.service.AlarmView seen at `at`.

        The first sighting of an alarm adds an entry only when it is not OK; later sightings add one per
        change of state, dated by the alarm's own `state_since` when AWS gave it.
        """
        added = 0
        for v in views:
            before = self._alarm_states.get(v.name)
            self._alarm_states[v.name] = v.state
            if before == v.state or (before is None and v.state == "OK"):
                continue
            when = v.state_since.timestamp() if v.state_since is not None else at
            was = f"{before} → " if before else ""
            title = f"alarm {v.name}: {was}{v.state}"
            ref = f"alarm:{v.name}:{v.state}:{when:.3f}"
            sev = _ALARM_SEVERITY.get(v.state, Severity.INFO)
            added += self.add(TimelineEntry(when, "alarm", sev, title, v.reason, ref))
        return added

    def add_alarm_history(self, history: AlarmHistory) -> int:
        """Add the StateUpdate items of a services.alarms.service.AlarmHistory (older changes than we watched)."""
        added = 0
        for item in history.items:
            if item.kind != "StateUpdate" or item.timestamp is None:
                continue
            when = item.timestamp.timestamp()
            words = item.summary.split()  # "Alarm updated from OK to ALARM"
            state = words[-1] if words else ""
            sev = _ALARM_SEVERITY.get(state, Severity.INFO)
            ref = f"alarm:{history.alarm_name}:history:{when:.3f}:{item.summary}"
            added += self.add(
                TimelineEntry(when, "alarm", sev, f"alarm {history.alarm_name}: {item.summary}", "", ref)
            )
        return added

    def add_log_entries(self, entries: Iterable[LogEntry]) -> int:
        """Add the log records of interest from services.logs.model.LogEntry objects: every db2diag
        Critical/Severe/Error record, and Event/Info/Warning records about HADR or a takeover."""
        added = 0
        for e in entries:
            if e.source != "diag" or not _interesting(e):
                continue
            at = e.ts_us / 1_000_000
            # By content, not eventId: the same record arrives from the :logs screen's Live Tail (no
            # eventId), its polling and the timeline's own reads (services/timeline/sources.py).
            digest = hashlib.blake2b(e.text.encode("utf-8", "replace"), digest_size=10).hexdigest()
            ref = f"log:{e.ts_us}:{e.stream}:{digest}"
            if ref in self._refs:
                continue
            host = e.host or "?"
            title = f"db2diag {e.level} on {host}: {e.summary}"
            entry = TimelineEntry(at, "log", _LOG_SEVERITY.get(e.level, Severity.INFO), title, e.text, ref)
            new = self._add_or_fold(entry, host, e)
            added += new
            if new and self.on_log is not None:
                self.on_log(e)
        return added

    def _add_or_fold(self, entry: TimelineEntry, host: str, record: LogEntry) -> int:
        """Add a db2diag line, or fold it into the line of the same record seen shortly before (HADR and
        takeover records always get their own line: each one is a step of the story)."""
        entry = replace(entry, title=visible_controls(entry.title), detail=visible_controls(entry.detail))
        if _HADR_WORDS.search(record.text):
            return int(self.add(entry))
        key = (record.level, _NUMBERS.sub("#", record.summary))
        groups = self._repeats.setdefault(key, [])
        groups[:] = [g for g in groups if g.first.ref in self._folded]  # forget lines that were dropped
        near = [g for g in groups if g.first.at - REPEAT_WINDOW_S <= entry.at <= g.last_at + REPEAT_WINDOW_S]
        if not near:
            if not self.add(entry):
                return 0
            group = _Repeats(entry, record.level, record.summary, entry.at, [host])
            self._folded[entry.ref] = group
            groups.append(group)
            return 1
        group = near[0]
        self._refs.add(entry.ref)
        if entry.at < group.first.at:
            # An older occurrence read later (streams arrive one after the other): it becomes the line.
            entry, group.first = group.first, self._relocate(group.first, entry)
            self._folded[group.first.ref] = self._folded.pop(entry.ref)
        group.refs.append(entry.ref)
        group.times.append(entry.at)
        group.last_at = max(group.last_at, entry.at)
        if host not in group.hosts:
            group.hosts.append(host)
        self.version += 1
        return 1

    def _relocate(self, old: TimelineEntry, new: TimelineEntry) -> TimelineEntry:
        """Put `new` where the line `old` is (same arrival order), and return it."""
        for i, (_, seq, e) in enumerate(self._entries):
            if e is old:
                self._entries[i] = (new.at, seq, new)
                break
        return new

    # ------------------------------------------------------------------ reading

    def entries(
        self, since: float | None = None, sources: Iterable[str] | None = None
    ) -> list[TimelineEntry]:
        """Return the entries in time order (ties in arrival order), from `since` on, of `sources`."""
        wanted = set(sources) if sources is not None else None
        ordered = sorted(self._entries, key=lambda item: (item[0], item[1]))
        return [
            self._folded[e.ref].entry() if e.ref in self._folded else e
            for _, _, e in ordered
            if (since is None or e.at >= since) and (wanted is None or e.source in wanted)
        ]

    def __len__(self) -> int:
        return len(self._entries)

    def to_markdown(
        self,
        *,
        title: str | None = None,
        since: float | None = None,
        sources: Iterable[str] | None = None,
        now: float | None = None,
    ) -> str:
        """Return an incident report: summary (span, counts, worst severity) and every entry with detail."""
        return export_markdown(
            self.entries(since, sources), cluster=self.cluster, title=title, generated_at=now
        )


def _event_detail(ev: StatusEvent) -> str:
    return f"status change `{ev.kind}` seen in the snapshot of {datetime.fromtimestamp(ev.at, UTC):%H:%M:%S}Z"


def _interesting(entry: LogEntry) -> bool:
    if entry.level in _ALWAYS_LEVELS:
        return True
    return entry.level in ("Event", "Info", "Warning") and bool(_HADR_WORDS.search(entry.text))


def _fence(text: str) -> str:
    longest = max((len(m.group()) for m in re.finditer(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}\n{text.rstrip()}\n{ticks}"


def export_markdown(
    entries: list[TimelineEntry],
    *,
    cluster: str,
    title: str | None = None,
    generated_at: float | None = None,
) -> str:
    """Return `entries` as a Markdown incident report (headings, a summary, one bullet per entry)."""
    lines = [f"# {title or f'Incident timeline: {cluster}'}", ""]
    if generated_at is not None:
        stamp = datetime.fromtimestamp(generated_at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        lines += [f"Generated {stamp} by db2ops.", ""]
    if not entries:
        lines.append("_Nothing recorded in this range._")
        return "\n".join(lines) + "\n"
    counts = {s: sum(1 for e in entries if e.source == s) for s in SOURCES}
    worst = max((e.severity for e in entries), key=lambda s: s.rank)
    lines += [
        "## Summary",
        "",
        f"- Cluster: `{cluster}`",
        f"- From {entries[0].stamp()} to {entries[-1].stamp()} (UTC)",
        "- Entries: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n),
        f"- Worst severity: {worst.value}",
        "",
        "## Timeline",
        "",
    ]
    for e in entries:
        mark = _SEVERITY_MARK.get(e.severity.value, "·")
        lines.append(f"- `{e.stamp()}` {mark} **{e.source}** {e.title}")
        if e.detail:
            lines += ["", "  " + _fence(e.detail).replace("\n", "\n  "), ""]
    return "\n".join(lines).rstrip("\n") + "\n"
