"""db2diag.log records: an incremental splitter and lazily parsed records.

Records are split on the Db2 timestamp at a line start (FORMATS.md section 1), never on blank lines.
Splitting is one C-level `re.split` per chunk so that 100k records parse at a few times `grep -c`;
each record keeps only its exact text (`raw`) and `offset`, and parses its fields on first access
(header line first, the rest when a body field is read). Pasted copies are tolerated: CRLF, NO-BREAK
SPACE padding, author `...` lines and `<==` annotations, a leading TAB, and newline-collapsed copies
(several records on one line are split again on the full header pattern).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from itertools import accumulate, repeat
from typing import Generic, TypeVar

from services.parsers.db2diag_fields import DataBlock, DiagDetails, parse_details
from services.parsers.errors import ParseError

__all__ = [
    "DataBlock",
    "DiagRecord",
    "Db2DiagParser",
    "DiagSplitter",
    "parse_db2diag",
    "looks_like_db2diag",
    "ParseError",
]

# Regex text of a Db2 timestamp `YYYY-MM-DD-HH.MM.SS.ffffff±MMM` (public for services.logs.diag_entries).
TIMESTAMP = _TS = r"[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{6}[+-][0-9]{3}"
# The newline before a record header; the lookahead keeps the header in the next piece.
# `(?=[0-9 \t])` first: most lines start with a letter, and that cheap test rejects them ~10% faster.
_SPLIT_AT = r"\n(?=[0-9 \t])"
_SPLIT_RE = re.compile(_SPLIT_AT + r"(?=[ \t]?" + _TS + ")")
# Regex text of the header layout Db2 writes between the timestamp and `LEVEL:` (a record id between
# spaces, `LEVEL:` before column 170). A piece that starts with a timestamp and this layout and holds
# no other `LEVEL:` is exactly one record: no other header can hide in it.
HEADER_LAYOUT = r" {1,40}[0-9A-Za-z]{1,40} {1,60}"
# The same split points, capturing "L" when the header is in that layout (None otherwise). `.{30}` is
# the timestamp only when the piece starts with it: a TAB or space copy never matches the layout.
_SPLIT_LAYOUT_RE = re.compile(
    _SPLIT_AT + r"(?:(?=.{30}" + HEADER_LAYOUT + r"(L)EVEL:)|(?=[ \t]?" + _TS + "))"
)
_HEADER_START_RE = re.compile(r"[ \t]?" + _TS)
# Inside a line only a full header (timestamp, record id, LEVEL:) starts a record: newline-collapsed
# copies, and copies that lost the newline before a header ("...command.2023-06-09-20.26.10...").
_MIDLINE_RE = re.compile(r"(?<![0-9])(?=" + _TS + r"[ \t\xa0]+\S+[ \t\xa0]+LEVEL:)")
_HEAD_RE = re.compile(
    r"[ \t]?(?P<ts>[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{6})(?P<tz>[+-][0-9]{3})"
    r"(?:[ \t\xa0]+(?!LEVEL:)(?P<rid>[^\s]+))?(?:[ \t\xa0]+LEVEL:[ \t\xa0]*(?P<level>\w*))?"
)
# A normal header line ends before column ~75; a longer first line may hold collapsed records.
_COLLAPSED_MIN = 100
_plus_one = (1).__add__  # piece length + the newline that separated it
_TZ_CACHE: dict[str, timezone] = {}


def _tz(offset_text: str) -> timezone:
    tz = _TZ_CACHE.get(offset_text)
    if tz is None:
        tz = timezone(timedelta(minutes=int(offset_text)))
        _TZ_CACHE[offset_text] = tz
    return tz


def _timestamp(ts: str, tz: str) -> datetime | None:
    try:
        return datetime(
            int(ts[0:4]),
            int(ts[5:7]),
            int(ts[8:10]),
            int(ts[11:13]),
            int(ts[14:16]),
            int(ts[17:19]),
            int(ts[20:26]),
            tzinfo=_tz(tz),
        )
    except ValueError:  # impossible date such as month 13 or minute offset beyond a day
        return None


# A record's header fields: timestamp text, record id, level, minute offset, time (None: impossible date).
_Head = tuple[str, str, str, str, datetime | None]


class DiagRecord:
    """One db2diag record. `raw` is its exact text (without the newline that precedes the next header),
    `offset` the character offset of `raw` in the stream. Every other attribute is parsed from `raw` on
    first access and cached; absent fields are "".

    A plain slotted class (not a dataclass) so the parser can build 100k of them with one C-level
    `map`; equality and hash are by (raw, offset). Treat it as immutable.
    """

    __slots__ = ("raw", "offset", "_head", "_details")

    def __init__(self, raw: str, offset: int = 0) -> None:
        self.raw = raw
        self.offset = offset
        self._head: _Head | None = None
        self._details: DiagDetails | None = None

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not DiagRecord:
            return NotImplemented
        return self.raw == other.raw and self.offset == other.offset

    def __hash__(self) -> int:
        return hash((self.raw, self.offset))

    def __repr__(self) -> str:
        return f"DiagRecord(raw={self.raw!r}, offset={self.offset!r})"

    # ------------------------------------------------------------------ header line (cheap)
    def _header(self) -> _Head:
        head = self._head
        if head is None:
            m = _HEAD_RE.match(self.raw)
            if m is None:  # only for records built by hand from non-db2diag text
                head = ("", "", "", "", None)
            else:
                ts, tz = m["ts"], m["tz"]
                head = (ts + tz, m["rid"] or "", m["level"] or "", tz, _timestamp(ts, tz))
            self._head = head
        return head

    @property
    def timestamp_text(self) -> str:
        """The Db2 timestamp as written, with its minute offset: `2023-06-09-20.26.08.204400-420`."""
        return self._header()[0]

    @property
    def record_id(self) -> str:
        return self._header()[1]

    @property
    def level(self) -> str:
        """LEVEL as written (Critical, Severe, Error, Warning, Info, Event, ...); "" when missing."""
        return self._header()[2]

    @property
    def utc_offset_minutes(self) -> int:
        tz = self._header()[3]
        return int(tz) if tz else 0

    @property
    def timestamp(self) -> datetime | None:
        """Timezone-aware time of the record (UTC = local - offset); None for an impossible date."""
        return self._header()[4]

    # ------------------------------------------------------------------ body (parsed on demand)
    @property
    def details(self) -> DiagDetails:
        d = self._details
        if d is None:
            d = parse_details(self.raw)
            self._details = d
        return d

    pid = property(lambda self: self.details.pid)
    tid = property(lambda self: self.details.tid)
    proc = property(lambda self: self.details.proc)
    instance = property(lambda self: self.details.instance)
    node = property(lambda self: self.details.node)
    db = property(lambda self: self.details.db)
    apphdl = property(lambda self: self.details.apphdl)
    appid = property(lambda self: self.details.appid)
    authid = property(lambda self: self.details.authid)
    hostname = property(lambda self: self.details.hostname)
    eduid = property(lambda self: self.details.eduid)
    eduname = property(lambda self: self.details.eduname)
    function = property(lambda self: self.details.function)
    message = property(lambda self: self.details.message)
    retcode = property(lambda self: self.details.retcode)
    event_kind = property(lambda self: self.details.event_kind)
    event_text = property(lambda self: self.details.event_text)
    data = property(lambda self: self.details.data)
    callstack = property(lambda self: self.details.callstack)

    @property
    def text(self) -> str:
        """The record without trailing blank lines, author `...` lines and HTML leftovers."""
        return self.details.text

    @property
    def summary(self) -> str:
        """One line for list views: the MESSAGE, else the event text, else the FUNCTION."""
        d = self.details
        line = d.message or d.event_text or d.function or d.retcode
        if not line and d.data:
            line = d.data[0].payload
        return line.split("\n", 1)[0].strip()

    def to_dict(self) -> dict[str, object]:
        """Every field as JSON-ready values (timestamp ISO-8601, data blocks as dicts)."""
        d = self.details
        ts = self.timestamp
        return {
            "timestamp": ts.isoformat() if ts else None,
            "timestamp_text": self.timestamp_text,
            "record_id": self.record_id,
            "level": self.level,
            **{name: getattr(d, name) for name in DiagDetails.TEXT_FIELDS},
            "data": [
                {"number": b.number, "type": b.type, "size": b.size, "payload": b.payload} for b in d.data
            ],
            "callstack": list(d.callstack),
            "offset": self.offset,
            "raw": self.raw,
        }


def _records_from_piece(piece: str, offset: int) -> list[DiagRecord]:
    """One split piece is one record, unless it holds another header inside a line: a newline-collapsed
    run of records (a long first line) or a header glued to a line (a `LEVEL:` below the header line)."""
    nl = piece.find("\n", 0, _COLLAPSED_MIN)
    if nl >= 0 and piece.find("LEVEL:", nl) < 0 or nl < 0 and len(piece) <= _COLLAPSED_MIN:
        return [DiagRecord(piece, offset)]
    starts = [m.start() for m in _MIDLINE_RE.finditer(piece, 1)]
    if not starts:
        return [DiagRecord(piece, offset)]
    bounds = [0, *starts, len(piece)]
    return [DiagRecord(piece[a:b], offset + a) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


def _all_ordinary(body: list[str], buf: str, lo: int, hi: int) -> bool:
    """True when every piece of `body` (the text of buf[lo:hi]) is one ordinary record: a first line
    shorter than _COLLAPSED_MIN and no `LEVEL:` below it, so no header can hide inside a line.

    C-level maps and one count over the buffer instead of two finds per piece in a Python loop."""
    nls = list(map(str.find, body, repeat("\n"), repeat(0), repeat(_COLLAPSED_MIN)))
    if -1 in nls:
        return False
    # The pieces are joined by "\n", which no `LEVEL:` spans: the buffer count is the sum per piece.
    return buf.count("LEVEL:", lo, hi) == sum(map(str.count, body, repeat("LEVEL:"), repeat(0), nls))


_Out = TypeVar("_Out")


class DiagSplitter(Generic[_Out]):
    """Incremental db2diag splitter that returns `_Out` objects: `feed()` text, `flush()` at the end.

    Db2DiagParser returns DiagRecords; services.logs.diag_entries.DiagEntryParser returns log-view entries.

    A record is complete when the next record header arrives (or at flush). Chunks may cut anywhere.
    Text before the first header is kept verbatim in `preamble` (with `skipped_lines` non-blank lines);
    nothing is dropped: preamble + "\\n" + each record's raw, joined, rebuild the input.

    Subclasses turn pieces into `_Out` objects (`_emit_ordinary`, `_convert`) and may split with a
    pattern that also captures header fields at each split point (`_split_re` with `_groups` groups,
    `_layout_group` None unless the header is in Db2's layout); services.logs.diag_entries does, to build
    log-view entries without DiagRecords.
    """

    # The split pattern, its number of groups, and the one that is None unless the header is in
    # Db2's layout (see _SPLIT_LAYOUT_RE).
    _split_re = _SPLIT_LAYOUT_RE
    _groups = 1
    _layout_group = 1

    def __init__(self) -> None:
        self._pending = ""
        self._pending_offset = 0
        self._started = False  # a record header has been seen: pending is a record, not preamble
        self.preamble = ""
        self.skipped_lines = 0
        self.records_emitted = 0

    def feed(self, chunk: str) -> list[_Out]:
        """Add text; return the records it completed, in order. Never raises on odd text."""
        if not chunk:
            return []
        buf = self._pending + chunk
        # A header cut by the previous chunk boundary starts at most ~32 chars before it.
        if _SPLIT_RE.search(buf, max(0, len(self._pending) - 40)) is None:
            self._pending = buf
            return []
        # No split point lies in pending before that, so one C-level split of the whole buffer yields
        # the same pieces without copying the tail.
        parts = self._split_re.split(buf)
        stride = self._groups + 1
        pieces = parts[::stride]
        first, last = pieces[0], pieces[-1]
        out = self._convert(self._take_first(first))
        body = pieces[1:-1]
        if body:
            start = self._pending_offset + len(first) + 1
            lo, hi = len(first) + 1, len(buf) - len(last) - 1
            g = self._layout_group  # a piece's groups precede it: the layout group of pieces 1..n
            layouts = parts[g : g + len(body) * stride : stride]
            # Every header in Db2's layout and as many `LEVEL:` as pieces: each piece's only `LEVEL:` is
            # its header's, so no header hides inside a line (one C-level count, no per-piece work).
            if None not in layouts and buf.count("LEVEL:", lo, hi) == len(body):
                out.extend(self._emit_ordinary(body, parts, start))
            elif _all_ordinary(body, buf, lo, hi):
                out.extend(self._emit_ordinary(body, parts, start))
            else:
                records: list[DiagRecord] = []
                for piece in body:
                    records.extend(_records_from_piece(piece, start))
                    start += len(piece) + 1
                out.extend(self._convert(records))
        self._pending = last
        self._pending_offset += len(buf) - len(last)
        self._started = True
        self.records_emitted += len(out)
        return out

    def flush(self) -> list[_Out]:
        """Return the last pending record (or keep trailing text as preamble when no header was seen)."""
        out = self._convert(self._take_first(self._pending, final=True)) if self._pending else []
        self._pending = ""
        self.records_emitted += len(out)
        return out

    def _emit_ordinary(self, body: list[str], parts: list[str | None], start: int) -> list[_Out]:
        """Objects for `body` (pieces that are one ordinary record each; the first at offset `start`).
        `parts` is the whole split result with the groups (None: a group that did not match); a
        piece's groups precede it."""
        raise NotImplementedError

    def _convert(self, records: list[DiagRecord]) -> list[_Out]:
        """What feed/flush return for records built one by one."""
        raise NotImplementedError

    def _take_first(self, text: str, final: bool = False) -> list[DiagRecord]:
        """Records of `text` (which ends right before a split point or at the end), or nothing when it
        is preamble (text before any header)."""
        if self._started or _HEADER_START_RE.match(text):
            return _records_from_piece(text, self._pending_offset)
        kept = text if final else text + "\n"
        self.preamble += kept
        self.skipped_lines += sum(1 for line in kept.splitlines() if line.strip())
        return []


class Db2DiagParser(DiagSplitter[DiagRecord]):
    """Incremental db2diag splitter to DiagRecords: `feed()` text as it arrives, `flush()` at the end
    (see DiagSplitter)."""

    def _emit_ordinary(self, body: list[str], parts: list[str | None], start: int) -> list[DiagRecord]:
        offsets = accumulate(map(_plus_one, map(len, body)), initial=start)
        return list(map(DiagRecord, body, offsets))

    def _convert(self, records: list[DiagRecord]) -> list[DiagRecord]:
        return records


def parse_db2diag(text: str, *, strict: bool = False) -> list[DiagRecord]:
    """Parse a whole db2diag text into records (see Db2DiagParser).

    Raises ParseError in strict mode when the text holds no record header at all.
    """
    parser = Db2DiagParser()
    records = parser.feed(text)
    records.extend(parser.flush())
    if strict and not records:
        first = next((line for line in text.splitlines() if line.strip()), "")
        raise ParseError(
            "db2diag",
            "a record header `YYYY-MM-DD-HH.MM.SS.ffffff±MMM <record id> LEVEL: <level>`",
            line=1 if text else None,
            excerpt=first,
            hint="is this a db2diag.log? `db2diag -fmt` or JSON output is not supported",
        )
    return records


def looks_like_db2diag(text: str) -> bool:
    """True when `text` holds at least one db2diag record header at a line start."""
    return bool(_HEADER_START_RE.match(text) or _SPLIT_RE.search(text))
