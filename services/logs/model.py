"""The log view-model: one `LogEntry` per db2diag record, audit record or raw CloudWatch event, and a
`LogStore` that keeps them merged by time with a filter index and search. No Textual here.

Entries keep only what the one-line view needs (time, source, level, host, summary, full text); the
parsed record is rebuilt from the text on demand, so 100k records cost about their raw size, not 4x.
"""

from __future__ import annotations

import gc
import re
import sys
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, cast

from services.logs.diag_header import clean_record_text, fast_diag_header, has_junk_tail
from services.logs.summary import audit_level, audit_summary, diag_summary, one_line
from services.private_file import open_private
from services.text_safety import safe_line, safe_text

if TYPE_CHECKING:  # the parsers are imported when first needed: opening the console does not parse logs
    from services.logs.filter_pattern import FilterPattern
    from services.parsers.db2audit import AuditRecord
    from services.parsers.db2diag import DiagRecord

    Record = DiagRecord | AuditRecord

LEVELS: tuple[str, ...] = ("Critical", "Severe", "Error", "Warning", "Event", "Info")
"""The db2diag levels in severity order; the log view's level toggles 1..6 follow this order."""

SOURCES: tuple[str, ...] = ("diag", "audit")
MARKER = "marker"  # source of a marker line: always visible, never exported as a record

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


def to_us(when: datetime) -> int:
    """Return `when` as integer microseconds since the epoch (naive datetimes are taken as UTC)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - _EPOCH) // _US


def from_us(ts_us: int) -> datetime:
    """Return the aware UTC datetime for integer microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=ts_us)


class LogEntry:
    """One line of the log view. `ts_us` is UTC microseconds (the sort key); `text` is the full record as
    written (it may end with a newline), less any terminal escape sequence or control character other than
    newline and tab (services/text_safety.py): remote db2diag or CloudWatch text never drives the terminal,
    in a row, in the detail panel or in an export. Host and summary are cleaned the same way.

    Plain class with slots (identity equality) so the view can key caches and expansions by entry.
    """

    __slots__ = ("ts_us", "source", "level", "_host", "stream", "_summary", "text", "event_id", "_record")

    def __init__(
        self,
        ts_us: int,
        source: str,
        level: str,
        host: str | None,
        summary: str | None,
        text: str,
        *,
        stream: str = "",
        event_id: str | None = None,
        record: Record | None = None,
    ) -> None:
        clean = safe_text(text)
        self.ts_us = ts_us
        self.source = source
        self.level = level
        self._host = None if host is None else safe_line(host)  # None: from the record when first shown
        self.stream = stream
        # None: likewise (parsing every field of 100k records up front is slow)
        self._summary = None if summary is None else safe_line(summary)
        self.text = clean
        self.event_id = event_id
        # a record parsed from text that held escapes is dropped: re-parsed from the clean text when needed
        self._record = record if clean is text else None

    def __repr__(self) -> str:
        return (
            f"LogEntry({self.time.isoformat()}, {self.source}, {self.level}, {self.host!r}, {self.summary!r})"
        )

    @property
    def time(self) -> datetime:
        """The entry's time as an aware UTC datetime."""
        return from_us(self.ts_us)

    @property
    def record(self) -> Record | None:
        """The parsed DiagRecord/AuditRecord (re-parsed from `text` when not kept), or None for raw text."""
        if self._record is None and self.source in SOURCES:
            try:
                records = parse_entries_text(self.text, self.source)
            except ValueError:
                return None
            self._record = records[0] if records else None
        return self._record

    @property
    def host(self) -> str:
        """Host column: HOSTNAME of a diag record, hostname= of an audit record, else the stream."""
        if self._host is None:
            record = self.record
            found = "" if record is None else record.hostname  # both record kinds have one ("" if none)
            self._host = sys.intern(safe_line(found or self.stream))
        return self._host

    @host.setter
    def host(self, value: str) -> None:
        self._host = safe_line(value)

    @property
    def summary(self) -> str:
        """The one-line summary (computed from the record on first use, then kept)."""
        if self._summary is None:
            record = self.record
            if record is None:
                summary = one_line(self.text.strip().split("\n", 1)[0])
            elif self.source == "diag":  # the source names the record's kind
                summary = diag_summary(cast("DiagRecord", record))
            else:
                summary = audit_summary(cast("AuditRecord", record))
            self._summary = safe_line(summary)
        return self._summary

    @classmethod
    def from_diag(
        cls,
        record: DiagRecord,
        *,
        stream: str = "",
        event_id: str | None = None,
        keep: bool = False,
        fallback_us: int = 0,
    ) -> Self:
        """Return the entry for a DiagRecord: time and level from its header line (fast path), host and
        summary worked out when first shown. A header without a readable time gets `fallback_us`."""
        raw = record.raw
        head = fast_diag_header(raw)
        if head is None:
            when = record.timestamp
            head = (to_us(when) if when is not None else fallback_us, sys.intern(record.level))
        return cls(
            head[0],
            "diag",
            head[1],
            None,
            None,
            clean_record_text(raw) if has_junk_tail(raw) else raw,
            stream=stream,
            event_id=event_id,
            record=record if keep else None,
        )

    @classmethod
    def from_audit(
        cls,
        record: AuditRecord,
        *,
        ts_us: int | None = None,
        stream: str = "",
        event_id: str | None = None,
        keep: bool = False,
    ) -> Self:
        """Return the entry for an AuditRecord. Audit timestamps carry no offset: pass the CloudWatch
        event time as `ts_us` when there is one, else the record time is taken as UTC."""
        when = ts_us if ts_us is not None else (to_us(record.timestamp) if record.timestamp else 0)
        host = record.fields.get("hostname") or stream
        return cls(
            when,
            "audit",
            audit_level(record),
            host,
            audit_summary(record),
            record.raw.rstrip("\r\n"),
            stream=stream,
            event_id=event_id,
            record=record if keep else None,
        )

    @classmethod
    def marker(cls, ts_us: int, label: str = "") -> LogEntry:
        """Return a marker line (always visible, shown as a rule across the view)."""
        text = label or f"marked at {from_us(ts_us):%Y-%m-%d %H:%M:%S} UTC"
        return cls(ts_us, MARKER, "", "", text, text)


def parse_entries_text(text: str, source: str) -> list[DiagRecord] | list[AuditRecord]:
    """Return the parsed records of `text` (db2diag for "diag", db2audit for "audit").

    Raises ParseError (a ValueError) for text the parser rejects."""
    if source == "diag":
        from services.parsers.db2diag import parse_db2diag

        return list(parse_db2diag(text))
    from services.parsers.db2audit import parse_db2audit

    return list(parse_db2audit(text))


@contextmanager
def gc_paused(count: int) -> Iterator[None]:
    """Pause the cyclic GC while `count` (> 10,000) new objects are built: with 100k records it otherwise
    rescans the growing heap again and again (more than half of the build time). Entries hold no cycles."""
    pause = count > 10_000 and gc.isenabled()
    if pause:
        gc.disable()
    try:
        yield
    finally:
        if pause:
            gc.enable()


def entries_from_records(
    records: list[DiagRecord] | list[AuditRecord], source: str, *, keep: bool = False
) -> list[LogEntry]:
    """Return one entry per parsed DiagRecord ("diag") or AuditRecord ("audit")."""
    with gc_paused(len(records)):
        if source == "diag":  # the source names the records' kind
            return [LogEntry.from_diag(r, keep=keep) for r in cast("list[DiagRecord]", records)]
        return [LogEntry.from_audit(r, keep=keep) for r in cast("list[AuditRecord]", records)]


def entries_from_text(text: str, source: str, *, keep: bool = False) -> list[LogEntry]:
    """Return one entry per record of a db2diag ("diag") or db2audit extract ("audit") text.

    Raises ParseError when the text is not in that format."""
    if source == "diag" and not keep:  # straight from the text: no DiagRecord per record
        from services.logs.diag_entries import diag_entries_from_text

        with gc_paused(len(text) // 200):
            return diag_entries_from_text(text)
    return entries_from_records(parse_entries_text(text, source), source, keep=keep)


def entries_from_event(
    event: Mapping[str, Any], source: str, hosts: Mapping[str, str] | None = None
) -> list[LogEntry]:
    """Return the entries of one CloudWatch event (`timestamp` ms, `message`, `logStreamName`, `eventId`).

    The message normally holds one db2diag/audit record (the agent's multi_line_start_pattern); text that
    is no record becomes one raw entry at the event time. `hosts` maps stream names ("Db2 - i-0abc") to
    host names for the host column."""
    message = str(event.get("message", ""))
    stream = str(event.get("logStreamName", ""))
    event_us = int(event.get("timestamp", 0)) * 1000
    event_id = event.get("eventId")
    try:
        records = parse_entries_text(message, source)
    except ValueError:
        records = []
    if not records:
        first = message.strip().splitlines()[0] if message.strip() else ""
        host = (hosts or {}).get(stream, stream)
        return [
            LogEntry(
                event_us,
                source,
                "",
                host,
                one_line(first),
                message.rstrip("\n"),
                stream=stream,
                event_id=event_id,
            )
        ]
    out = []
    for i, rec in enumerate(records):
        eid = event_id if i == 0 or event_id is None else f"{event_id}#{i}"
        if source == "diag":  # the source names the records' kind
            entry = LogEntry.from_diag(
                cast("DiagRecord", rec), stream=stream, event_id=eid, fallback_us=event_us
            )
        else:
            entry = LogEntry.from_audit(
                cast("AuditRecord", rec), ts_us=event_us or None, stream=stream, event_id=eid
            )
        if hosts and stream in hosts:
            entry.host = hosts[stream]
        out.append(entry)
    return out


@dataclass(frozen=True)
class LogFilter:
    """What the view shows: sources, levels hidden by the toggles, and a filter pattern (`!` inverts).

    Raises FilterPatternError (from `with_pattern`) for a pattern the evaluator rejects."""

    sources: frozenset[str] = frozenset(SOURCES)
    hidden_levels: frozenset[str] = frozenset()
    pattern_text: str = ""
    invert: bool = False
    compiled: FilterPattern | None = field(default=None, compare=False, repr=False)

    def with_pattern(self, text: str) -> LogFilter:
        """Return a copy filtering by `text` (filter-pattern syntax; a leading `!` inverts)."""
        text = text.strip()
        invert = text.startswith("!")
        body = text[1:].strip() if invert else text
        if not body:
            return LogFilter(self.sources, self.hidden_levels)
        from services.logs.filter_pattern import compile_pattern

        return LogFilter(self.sources, self.hidden_levels, body, invert, compile_pattern(body))

    def accepts(self, entry: LogEntry) -> bool:
        """Return True when `entry` is visible under this filter (markers always are)."""
        if entry.source == MARKER:
            return True
        if entry.source not in self.sources or entry.level in self.hidden_levels:
            return False
        if self.compiled is None:
            return True
        return self.compiled.matches(entry.text) != self.invert


class LogStore:
    """Entries sorted by time (ties keep arrival order), the visible subset under a LogFilter, dedup by
    CloudWatch eventId, level counts, search and export. Appends at the tail are O(1); late entries are
    placed by binary search (O(log n) comparisons, one list insert)."""

    def __init__(self, max_entries: int = 500_000) -> None:
        self.max_entries = max_entries
        self.entries: list[LogEntry] = []
        self._keys: list[int] = []
        self.visible: list[LogEntry] = []
        self._vkeys: list[int] = []
        self.filter = LogFilter()
        self.level_counts: Counter[str] = Counter()
        self._seen_ids: set[str] = set()
        self.generation = 0  # bumped when `visible` is rebuilt (filter change, trim): views reset caches

    def __len__(self) -> int:
        return len(self.entries)

    def add(self, entry: LogEntry) -> int:
        """Add one entry; return its index in `visible`, or -1 when hidden or a duplicate eventId."""
        if entry.event_id is not None:
            if entry.event_id in self._seen_ids:
                return -1
            self._seen_ids.add(entry.event_id)
        ts = entry.ts_us
        if not self._keys or ts >= self._keys[-1]:
            self.entries.append(entry)
            self._keys.append(ts)
        else:
            at = bisect_right(self._keys, ts)
            self.entries.insert(at, entry)
            self._keys.insert(at, ts)
        self.level_counts[entry.level] += 1
        if len(self.entries) > self.max_entries:
            self._trim()
            return self.index_of(entry)
        if not self.filter.accepts(entry):
            return -1
        if not self._vkeys or ts >= self._vkeys[-1]:
            self.visible.append(entry)
            self._vkeys.append(ts)
            return len(self.visible) - 1
        at = bisect_right(self._vkeys, ts)
        self.visible.insert(at, entry)
        self._vkeys.insert(at, ts)
        return at

    def extend(self, entries: Iterable[LogEntry]) -> list[int]:
        """Add many entries; return the visible indices they landed at (hidden/duplicates left out).

        A bulk load into an empty store sorts once instead of inserting one by one."""
        batch = list(entries)
        if not self.entries and len(batch) > 1000:
            return self._bulk_load(batch)
        return [i for i in (self.add(e) for e in batch) if i >= 0]

    def _bulk_load(self, batch: list[LogEntry]) -> list[int]:
        unique: list[LogEntry] = []
        for e in batch:
            if e.event_id is not None:
                if e.event_id in self._seen_ids:
                    continue
                self._seen_ids.add(e.event_id)
            unique.append(e)
        unique.sort(key=lambda e: e.ts_us)  # stable: ties keep arrival order
        self.entries = unique[-self.max_entries :]
        self._keys = [e.ts_us for e in self.entries]
        self.level_counts = Counter(e.level for e in self.entries)
        self.refilter()
        return list(range(len(self.visible)))

    def _trim(self) -> None:
        # Drop the oldest tenth in one go so trimming stays rare.
        drop = max(1, len(self.entries) - self.max_entries + self.max_entries // 10)
        for e in self.entries[:drop]:
            self.level_counts[e.level] -= 1
            # the dedup set follows the entries kept: a live tail's ids would otherwise grow it forever
            if e.event_id is not None:
                self._seen_ids.discard(e.event_id)
        del self.entries[:drop]
        del self._keys[:drop]
        self.refilter()

    def remove(self, entries: Iterable[LogEntry]) -> int:
        """Drop `entries` (by identity; ones not held are ignored), keeping the filter, the hidden levels and
        the rest's order; return how many of them were visible. A replay stepping back in time takes its
        later records out this way: rebuilding the store instead would lose what the DBA set on it."""
        drop = {id(e): e for e in entries}  # held while it runs: an id stays that entry's
        if not drop:
            return 0
        kept: list[LogEntry] = []
        gone: list[LogEntry] = []
        for e in self.entries:
            (gone if id(e) in drop else kept).append(e)
        if not gone:
            return 0
        for e in gone:
            self.level_counts[e.level] -= 1
            if e.event_id is not None:
                self._seen_ids.discard(e.event_id)
        self.entries = kept
        self._keys = [e.ts_us for e in kept]
        before = len(self.visible)
        self.visible = [e for e in self.visible if id(e) not in drop]
        self._vkeys = [e.ts_us for e in self.visible]
        self.generation += 1  # views drop their caches: a freed entry's id may be reused by a new one
        return before - len(self.visible)

    def set_filter(self, log_filter: LogFilter) -> None:
        """Show the entries `log_filter` accepts (rebuilds `visible`)."""
        self.filter = log_filter
        self.refilter()

    def refilter(self) -> None:
        """Rebuild `visible` from `entries` under the current filter."""
        accepts = self.filter.accepts
        if self.filter == LogFilter():
            self.visible = list(self.entries)
        else:
            self.visible = [e for e in self.entries if accepts(e)]
        self._vkeys = [e.ts_us for e in self.visible]
        self.generation += 1

    def index_of(self, entry: LogEntry) -> int:
        """Return the visible index of `entry` (by identity), or -1 when it is hidden."""
        at = bisect_left(self._vkeys, entry.ts_us)
        while at < len(self.visible) and self._vkeys[at] == entry.ts_us:
            if self.visible[at] is entry:
                return at
            at += 1
        return -1

    def index_at_time(self, when: datetime) -> int:
        """Return the visible index of the first entry at or after `when` (len(visible) when none)."""
        return bisect_left(self._vkeys, to_us(when))

    def find(self, term: str, start: int, backwards: bool = False) -> int:
        """Return the visible index of the next entry (after `start`, wrapping) whose text contains
        `term` case-insensitively, or -1 when none does."""
        if not term or not self.visible:
            return -1
        needle = re.compile(re.escape(term), re.IGNORECASE)
        n = len(self.visible)
        step = -1 if backwards else 1
        for k in range(1, n + 1):
            i = (start + step * k) % n
            if needle.search(self.visible[i].text):
                return i
        return -1

    def add_marker(self, label: str = "", now: datetime | None = None) -> LogEntry:
        """Add a marker line at the later of now and the newest entry; return it."""
        now_us = to_us(now or datetime.now(UTC))
        entry = LogEntry.marker(max(now_us, self._keys[-1] if self._keys else now_us), label)
        self.add(entry)
        return entry

    def export(self, path: Path) -> int:
        """Write the visible entries' full text to `path`; return the number of records written.

        Raises OSError when the file cannot be written."""
        return export_entries(self.visible, path)


def export_entries(entries: list[LogEntry], path: Path) -> int:
    """Write the records' full text (separated by a blank line; markers left out) to `path`, creating
    its directory. Returns the number of records written; raises OSError when it cannot write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    records = [e for e in entries if e.source != MARKER]
    with open_private(path) as out:  # 0600: log lines stay the operator's, like the journal
        for e in records:
            out.write(e.text.rstrip("\n") + "\n\n")
    return len(records)
