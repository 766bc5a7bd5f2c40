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
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from services.parsers.db2diag_fields import DataBlock, DiagDetails, parse_details
from services.parsers.errors import ParseError

__all__ = [
    "DataBlock",
    "DiagRecord",
    "Db2DiagParser",
    "parse_db2diag",
    "looks_like_db2diag",
    "ParseError",
]

_TS = r"[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{6}[+-][0-9]{3}"
# The newline before a record header; the lookahead keeps the header in the next piece.
_SPLIT_RE = re.compile(r"\n(?=[ \t]?" + _TS + ")")
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


@dataclass(frozen=True, slots=True)
class DiagRecord:
    """One db2diag record. `raw` is its exact text (without the newline that precedes the next header),
    `offset` the character offset of `raw` in the stream. Every other attribute is parsed from `raw` on
    first access and cached; absent fields are "".
    """

    raw: str
    offset: int = 0
    _head: tuple | None = field(default=None, repr=False, compare=False)
    _details: DiagDetails | None = field(default=None, repr=False, compare=False)

    # ------------------------------------------------------------------ header line (cheap)
    def _header(self) -> tuple:
        head = self._head
        if head is None:
            m = _HEAD_RE.match(self.raw)
            if m is None:  # only for records built by hand from non-db2diag text
                head = ("", "", "", "", None)
            else:
                ts, tz = m["ts"], m["tz"]
                head = (ts + tz, m["rid"] or "", m["level"] or "", tz, _timestamp(ts, tz))
            object.__setattr__(self, "_head", head)
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
            object.__setattr__(self, "_details", d)
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

    def to_dict(self) -> dict:
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


# Building records through the slot descriptors skips the frozen __init__: half the cost per record,
# which matters at 100k records per parse.
_new_object = object.__new__
_set_raw = DiagRecord.raw.__set__
_set_offset = DiagRecord.offset.__set__
_set_head = DiagRecord._head.__set__
_set_details = DiagRecord._details.__set__


def _record(raw: str, offset: int) -> DiagRecord:
    rec = _new_object(DiagRecord)
    _set_raw(rec, raw)
    _set_offset(rec, offset)
    _set_head(rec, None)
    _set_details(rec, None)
    return rec


def _records_from_piece(piece: str, offset: int) -> list[DiagRecord]:
    """One split piece is one record, unless it holds another header inside a line: a newline-collapsed
    run of records (a long first line) or a header glued to a line (a `LEVEL:` below the header line)."""
    nl = piece.find("\n", 0, _COLLAPSED_MIN)
    if nl >= 0 and piece.find("LEVEL:", nl) < 0 or nl < 0 and len(piece) <= _COLLAPSED_MIN:
        return [_record(piece, offset)]
    starts = [m.start() for m in _MIDLINE_RE.finditer(piece, 1)]
    if not starts:
        return [_record(piece, offset)]
    bounds = [0, *starts, len(piece)]
    return [_record(piece[a:b], offset + a) for a, b in zip(bounds, bounds[1:], strict=False) if b > a]


class Db2DiagParser:
    """Incremental db2diag splitter: `feed()` text as it arrives, `flush()` at the end.

    A record is complete when the next record header arrives (or at flush). Chunks may cut anywhere.
    Text before the first header is kept verbatim in `preamble` (with `skipped_lines` non-blank lines);
    nothing is dropped: preamble + "\\n" + each record's raw, joined, rebuild the input.
    """

    def __init__(self) -> None:
        self._pending = ""
        self._pending_offset = 0
        self._started = False  # a record header has been seen: pending is a record, not preamble
        self.preamble = ""
        self.skipped_lines = 0
        self.records_emitted = 0

    def feed(self, chunk: str) -> list[DiagRecord]:
        """Add text; return the records it completed, in order. Never raises on odd text."""
        if not chunk:
            return []
        buf = self._pending + chunk
        # A header cut by the previous chunk boundary starts at most ~32 chars before it.
        m = _SPLIT_RE.search(buf, max(0, len(self._pending) - 40))
        if m is None:
            self._pending = buf
            return []
        # No split point lies before m (pending never holds one), so one C-level split of the whole
        # buffer yields the same pieces without copying the tail.
        pieces = _SPLIT_RE.split(buf)
        out: list[DiagRecord] = []
        offset = self._take_first(pieces[0], out)
        append = out.append
        for piece in pieces[1:-1]:
            nl = piece.find("\n", 0, _COLLAPSED_MIN)
            if nl >= 0 and piece.find("LEVEL:", nl) < 0:  # the common case: one ordinary record
                append(_record(piece, offset))
            else:
                out.extend(_records_from_piece(piece, offset))
            offset += len(piece) + 1
        self._pending = pieces[-1]
        self._pending_offset = offset
        self._started = True
        self.records_emitted += len(out)
        return out

    def flush(self) -> list[DiagRecord]:
        """Return the last pending record (or keep trailing text as preamble when no header was seen)."""
        out: list[DiagRecord] = []
        if self._pending:
            self._take_first(self._pending, out, final=True)
        self._pending = ""
        self.records_emitted += len(out)
        return out

    def _take_first(self, text: str, out: list[DiagRecord], final: bool = False) -> int:
        """Emit `text` (which ends right before a split point or at the end) as a record or preamble.

        Returns the offset just after it plus the separating newline.
        """
        start = self._pending_offset
        if self._started or _HEADER_START_RE.match(text):
            out.extend(_records_from_piece(text, start))
        else:
            kept = text if final else text + "\n"
            self.preamble += kept
            self.skipped_lines += sum(1 for line in kept.splitlines() if line.strip())
        return start + len(text) + 1


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
