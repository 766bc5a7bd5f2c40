"""Fast reading of a db2diag record's header (time and level) and cleanup of pasted-copy tails, for the
log view's 100k-entry loads. The full parser (services.parsers.db2diag) stays the authority: anything
not in the exact layout Db2 writes returns None here and goes to the parser."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

_LEVEL_NAMES = {
    name: name for name in ("Critical", "Severe", "Error", "Warning", "Event", "Info", "Alert", "Debug")
}


_MINUTES: dict[str, int] = {}  # "YYYY-MM-DD-HH.MM" + "±ZZZ" -> UTC microseconds of that minute


def _minute_us(raw: str) -> int | None:
    digits = raw[0:4] + raw[5:7] + raw[8:10] + raw[11:13] + raw[14:16] + raw[27:30]
    if not digits.isdigit() or raw[4] != "-" or raw[7] != "-" or raw[10] != "-" or raw[13] != ".":
        return None
    try:
        local = datetime(
            int(raw[0:4]), int(raw[5:7]), int(raw[8:10]), int(raw[11:13]), int(raw[14:16]), tzinfo=UTC
        )
    except ValueError:
        return None
    return (local - _EPOCH) // _US - int(raw[26:30]) * 60_000_000


def fast_diag_header(raw: str) -> tuple[int, str] | None:
    """Return (UTC microseconds, level) from a db2diag header in the exact layout Db2 writes
    (`YYYY-MM-DD-HH.MM.SS.ffffff±MMM ... LEVEL: x`), or None for anything else (the parser then decides).

    Slicing and a per-minute cache: the regex-based header parse costs several µs per record."""
    if len(raw) < 31 or raw[26] not in "+-" or raw[30] != " " or raw[16] != "." or raw[19] != ".":
        return None
    key = raw[:16] + raw[26:30]
    base = _MINUTES.get(key)
    if base is None:
        base = _minute_us(raw)
        if base is None:
            return None
        if len(_MINUTES) > 50_000:
            _MINUTES.clear()
        _MINUTES[key] = base
    seconds, micros = raw[17:19], raw[20:26]
    if not (seconds.isdigit() and micros.isdigit()) or seconds > "59":
        return None
    at = raw.find("LEVEL:", 30, 200)
    if at < 0:
        return None
    end = raw.find("\n", at, at + 60)
    level = raw[at + 6 : end if end > 0 else at + 40].strip()
    if level not in _LEVEL_NAMES:
        level = sys.intern(level.split()[0] if level else "")
    return base + int(seconds) * 1_000_000 + int(micros), _LEVEL_NAMES.get(level, level)


_JUNK_LINES = ("...", "…", "</p>", "</pre>")


def has_junk_tail(raw: str) -> bool:
    # Real db2diag.log records end with their last line (+ the blank separator): keep them uncopied.
    # `</`, not `<`: every junk line holds one of these, and a CHANGE record's `<automatic>` does not.
    tail = raw[-16:]
    return "..." in tail or "…" in tail or "</" in tail


def clean_record_text(raw: str) -> str:
    """Return a record's text without trailing blank lines and pasted-copy leftovers (`...`, `</p>`)."""
    text = raw.rstrip()
    while True:
        head, _, last = text.rpartition("\n")
        if not head or last.strip() not in _JUNK_LINES:
            return text
        text = head.rstrip()
