"""Log-view entries straight from db2diag text, without a DiagRecord per record (no Textual here).

The log view needs only time, level and text up front (host and summary come when a row is first
shown). `DiagEntryParser` splits exactly like Db2DiagParser (same split points, same pasted-copy
handling) but its split pattern also captures each header's time and level and the last characters
before it, so ordinary records become entries through C-level maps: no Python code runs per record.
Anything else (a header not in Db2's layout, an impossible date, the first record of a chunk) goes
through LogEntry.from_diag, so every entry equals the one LogEntry.from_diag builds for that record.
"""

from __future__ import annotations

import re
from itertools import repeat
from typing import cast

from services.logs.diag_header import clean_record_text, fast_diag_header, has_junk_tail
from services.logs.model import LogEntry
from services.parsers.db2diag import HEADER_LAYOUT, TIMESTAMP, DiagRecord, DiagSplitter
from services.text_safety import is_safe, safe_text

_LEVELS = ("Critical", "Severe", "Error", "Warning", "Event", "Info", "Alert", "Debug")
_LEVEL = {name: name for name in _LEVELS}  # captured text -> the one shared string
# Db2DiagParser's split points. For a header in Db2's layout (what fast_diag_header reads: a level
# word followed by white space) also its minute, "SS.ffffff", UTC offset and level; at every split
# point, the 16 characters before it: the tail of the previous record, for has_junk_tail.
_SPLIT_HEAD_RE = re.compile(
    r"\n(?=[0-9 \t])(?:(?=([0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}\.[0-9]{2})\.([0-5][0-9]\.[0-9]{6})"
    r"([+-][0-9]{3})" + HEADER_LAYOUT + r"LEVEL: {0,20}(" + "|".join(_LEVELS) + r")(?=\s))"
    r"|(?=[ \t]?" + TIMESTAMP + r"))(?:(?<=(?s:(.{16}))\n)|)"
)
_GROUPS = 5  # minute, "SS.ffffff", offset, level (None: not in layout), tail of the previous piece
_MINUTE_US: dict[str, int | None] = {}  # "YYYY-MM-DD-HH.MM±ZZZ" -> UTC µs of that minute (None: no date)
_JUNK_MARKS = ("...", "…", "</")  # has_junk_tail's marks
_JUNK_ENDS = ("...", "…", "</p>", "</pre>")  # clean_record_text's junk lines


class _TextDiagEntry(LogEntry):
    """A LogEntry read from db2diag text. `source`, `stream` and `event_id` are class constants
    (never assigned after construction): three fewer stores per entry when 100k are built at once."""

    __slots__ = ()
    source = "diag"
    stream = ""
    event_id = None

    def __init__(self, ts_us: int, level: str, text: str) -> None:
        self.ts_us = ts_us
        self.level = level
        self.text = text
        self._host = None
        self._summary = None
        self._record = None


def _minute_bases(keys: list[str], pieces: list[str], fracs: list[int]) -> None:
    """Fill _MINUTE_US for the minutes of `keys` not seen yet, from one record of each minute."""
    missing = set(keys).difference(_MINUTE_US)
    if len(_MINUTE_US) + len(missing) > 50_000:
        _MINUTE_US.clear()
        missing = set(keys)
    if not missing:
        return
    where = dict(zip(keys, range(len(keys)), strict=True))  # a record of each minute (any one will do)
    for key in missing:
        i = where[key]
        head = fast_diag_header(pieces[i])
        _MINUTE_US[key] = None if head is None else head[0] - fracs[i]


def _texts(pieces: list[str], tails: list[str | None], safe: bool) -> list[str]:
    """The entry text of each piece: the piece, cleaned where has_junk_tail says so, then without
    escape sequences and control characters (as LogEntry.__init__ makes from_diag's). `safe`: the fed
    text was checked whole and holds none (the usual case: no check per piece)."""
    texts = _junk_cleaned(pieces, tails)
    if safe or all(map(is_safe, texts)):
        return texts
    return list(map(safe_text, texts))


def _junk_cleaned(pieces: list[str], tails: list[str | None]) -> list[str]:
    if None in tails:
        return [clean_record_text(p) if has_junk_tail(p) else p for p in pieces]
    known = cast("list[str]", tails)  # no None: checked above, without a per-item loop
    joined = "\0".join(known)
    if not any(mark in joined for mark in _JUNK_MARKS):
        return pieces
    return [clean_record_text(p) if has_junk_tail(t) else p for p, t in zip(pieces, known, strict=True)]


def _bulk(pieces: list[str], cols: list[list[str | None]], safe: bool) -> list[LogEntry]:
    """Entries for pieces whose headers are all in Db2's layout (cols: the captured groups; `safe`: the
    pieces hold no escape sequence or control character other than newline and tab)."""
    # Headers in Db2's layout matched every header group: only the tails (the last column) may be None.
    minutes, fractions, offsets, levels = cast("list[list[str]]", cols[:4])
    tails = cols[4]
    keys = list(map(str.__add__, minutes, offsets))
    fracs = list(map(int, map(str.replace, fractions, repeat("."), repeat(""))))  # µs in the minute
    _minute_bases(keys, pieces, fracs)
    bases = list(map(_MINUTE_US.__getitem__, keys))
    texts = _texts(pieces, tails, safe)
    if None not in bases:
        known = cast("list[int]", bases)  # no None: checked above, without a per-item loop
        return list(
            map(_TextDiagEntry, map(int.__add__, known, fracs), map(_LEVEL.__getitem__, levels), texts)
        )
    from_diag = LogEntry.from_diag  # an impossible date: from_diag decides (fallback time)
    return [
        from_diag(DiagRecord(p)) if b is None else _TextDiagEntry(b + f, _LEVEL[lv], t)
        for p, b, f, lv, t in zip(pieces, bases, fracs, levels, texts, strict=True)
    ]


class DiagEntryParser(DiagSplitter[LogEntry]):
    """Incremental db2diag text to LogEntry objects: `feed()` chunks, `flush()` at the end.

    Returns the entries LogEntry.from_diag would build for the records Db2DiagParser returns, in the
    same order (`preamble`, `skipped_lines` and `records_emitted` as there). Never raises on odd text.
    """

    _split_re = _SPLIT_HEAD_RE
    _groups = _GROUPS
    _layout_group = 4
    _fed_safe = False  # what feed() last checked: the buffer it splits holds no control character

    def feed(self, chunk: str) -> list[LogEntry]:
        # One C-level check of everything this feed can emit from (pending + chunk: about 2x faster
        # than a check per record); a record with an escape sequence is then cleaned alone.
        self._fed_safe = is_safe(chunk) and is_safe(self._pending)
        return super().feed(chunk)

    def _convert(self, records: list[DiagRecord]) -> list[LogEntry]:
        from_diag = LogEntry.from_diag
        return [from_diag(r) for r in records]

    def _emit_ordinary(self, body: list[str], parts: list[str | None], start: int) -> list[LogEntry]:
        n = len(body)
        stride = _GROUPS + 1
        # A piece's header groups precede it; its tail is captured at the split point after it.
        cols = [parts[g : g + n * stride : stride] for g in range(1, _GROUPS)]
        cols.append(parts[_GROUPS + stride : _GROUPS + stride + n * stride : stride])
        levels = cols[3]
        if None not in levels:
            return _bulk(body, cols, self._fed_safe)
        out: list[LogEntry] = []
        i = 0
        for j in [k for k, level in enumerate(levels) if level is None] + [n]:
            if j > i:
                out.extend(_bulk(body[i:j], [c[i:j] for c in cols], self._fed_safe))
            if j < n:  # a header not in Db2's layout: from_diag reads it
                out.append(LogEntry.from_diag(DiagRecord(body[j])))
            i = j + 1
        return out


# Text is fed in slices of this size: each pass of the split stays in the CPU cache (a 50 MB text in
# one piece parses ~20% slower), and a slice still holds hundreds of records for the bulk path.
FEED_SIZE = 256 * 1024


def diag_entries_from_text(text: str) -> list[LogEntry]:
    """Return one LogEntry per db2diag record of `text` (text before the first header is left out)."""
    parser = DiagEntryParser()
    entries: list[LogEntry] = []
    for at in range(0, len(text), FEED_SIZE):
        entries.extend(parser.feed(text[at : at + FEED_SIZE]))
    entries.extend(parser.flush())
    return entries
