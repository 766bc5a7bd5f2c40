"""Times as people type them: `db2ops bundle --since 10m`, `--since 03:12`, `--until 2026-11-30T03:14:10Z`,
`db2ops replay --at 03:12`, the replay's `at -5m` / `at +30s`. One grammar, two readings:

- `parse_when(text, now)` (the CLI's --since/--until): a duration ago, a clock time today on this
  machine's clock (yesterday's when that is still to come), a date and time. A sign is refused: a span
  starts in the past.
- `parse_moment(text, base=..., forward_ok=...)` (the replay): the same, and "-5m" / "+30s" from `base`
  (the replay's position); a clock time is on the day of `base` (the caller decides about yesterday).

Durations are a number and a unit (s, sec, m, min, h, d), combined ("1h30m", "10 min"); a clock time is
"03:12" or "03:12:33[.5]"; a date and time is "2026-11-30[ T]03:12[:33]" (this machine's zone) with "Z" for
UTC, or any ISO 8601 form with an offset ("2026-11-30T03:12:33+01:00"). Fields out of range (25:00,
2026-13-01, 2026-02-30) are refused as "not a valid time"; anything else as unreadable.
"""

from __future__ import annotations

import calendar
import re
import time
from datetime import datetime, timedelta
from typing import Literal

_UNIT = r"(?:sec|min|s|m|h|d)"
_DURATION = re.compile(rf"^([+-]?)\s*((?:\d+(?:\.\d+)?\s*{_UNIT}\s*)+)$", re.IGNORECASE)
_DURATION_PART = re.compile(rf"(\d+(?:\.\d+)?)\s*({_UNIT})", re.IGNORECASE)
_UNIT_S = {"s": 1.0, "sec": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?$")
_DATE_TIME = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}(?:\.\d+)?))?)?(Z)?$")

CLI_FORMS = (
    "a duration ago (10m, 2h, 1d), a clock time (03:12, 03:12:33) or a date and time (2026-11-30T03:12:33Z)"
)

Why = Literal["empty", "unreadable", "invalid", "future", "signed"]


class WhenError(ValueError):
    """A time that cannot be read; `why` says which way (the callers word their own message)."""

    def __init__(self, text: str, why: Why, message: str) -> None:
        super().__init__(message)
        self.text = text
        self.why = why


def is_clock_time(text: str) -> bool:
    """Whether `text` is a bare clock time ("03:12", "03:12:33"): its day is the caller's choice."""
    return _CLOCK.match(text.strip()) is not None


def parse_when(text: str, now: float | None = None) -> float:
    """Return epoch seconds for `text`: a duration ago (90s, 10m, 2h, 1d, 1h30m), a clock time today on
    this machine's clock (03:12 or 03:12:33; yesterday's when that is still to come), or a date and time
    (a missing zone is this machine's). Raise WhenError (a ValueError) with the accepted forms otherwise."""
    now = time.time() if now is None else now
    raw = text.strip()
    if (m := _DURATION.match(raw)) and m.group(1):
        raise WhenError(raw, "signed", f"{text!r} is not a time: give {CLI_FORMS}")
    try:
        at = _read(raw, now)
    except WhenError as exc:
        words = "is not a valid time" if exc.why == "invalid" else "is not a time"
        raise WhenError(raw, exc.why, f"{text!r} {words}: give {CLI_FORMS}") from None
    if is_clock_time(raw) and at > now:
        at = _yesterday(raw, now)
    return at


def parse_moment(text: str, *, base: float, forward_ok: bool = True) -> float:
    """Return the epoch time `text` names relative to `base`: a clock time on the day of `base`, a date
    and time, or a duration before `base` ("10m", "-10m") or after it ("+30s", only when `forward_ok`).
    Raise WhenError (`why`: empty, unreadable, invalid, future)."""
    raw = text.strip()
    if (m := _DURATION.match(raw)) and m.group(1) == "+":
        if not forward_ok:
            raise WhenError(raw, "future", f"{raw!r} is in the future")
        return base + _seconds(m.group(2))
    return _read(raw, base)


def parse_duration(text: str) -> float:
    """Seconds in a positive length of time: a bare number of seconds ("90") or this module's durations
    ("90s", "10m", "1h30m"). Raise ValueError saying what is expected otherwise (`db2ops record --for`)."""
    raw = text.strip()
    m = _DURATION.match(raw)
    seconds = _seconds(m.group(2)) if m and not m.group(1) else _bare_seconds(raw)
    if seconds is None or seconds <= 0:
        raise ValueError(f"{text!r} is not a duration; use a number with s, m, h or d, e.g. 10m or 2h")
    return seconds


def _bare_seconds(raw: str) -> float | None:
    return float(raw) if re.fullmatch(r"\d+(?:\.\d+)?", raw) else None


def _read(raw: str, base: float) -> float:
    """A duration before `base`, a clock time on the day of `base`, or a date and time."""
    if not raw:
        raise WhenError(raw, "empty", "no time given")
    if m := _DURATION.match(raw):
        return base - _seconds(m.group(2))
    if m := _CLOCK.match(raw):
        day = time.localtime(base)
        hour, minute, sec = int(m.group(1)), int(m.group(2)), float(m.group(3) or 0)
        return _local(raw, day.tm_year, day.tm_mon, day.tm_mday, hour, minute, sec)
    if m := _DATE_TIME.match(raw):
        y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
        hour, minute, sec = int(m.group(4) or 0), int(m.group(5) or 0), float(m.group(6) or 0)
        if m.group(7):
            _check(raw, y, mo, d, hour, minute, sec)
            return calendar.timegm((y, mo, d, hour, minute, 0, 0, 0, 0)) + sec
        return _local(raw, y, mo, d, hour, minute, sec)
    try:  # other ISO 8601 forms, e.g. with an offset
        return datetime.fromisoformat(raw.replace("Z", "+00:00")).timestamp()
    except ValueError:
        pass
    raise WhenError(raw, "unreadable", f"cannot read the time {raw!r}")


def _seconds(parts: str) -> float:
    return sum(float(n) * _UNIT_S[u.lower()] for n, u in _DURATION_PART.findall(parts))


def _check(raw: str, y: int, mo: int, d: int, hour: int, minute: int, sec: float) -> None:
    try:
        datetime(y, mo, d)
    except ValueError:
        raise WhenError(raw, "invalid", f"{raw!r} is not a valid time") from None
    if not (hour < 24 and minute < 60 and sec < 61):
        raise WhenError(raw, "invalid", f"{raw!r} is not a valid time")


def _local(raw: str, y: int, mo: int, d: int, hour: int, minute: int, sec: float) -> float:
    _check(raw, y, mo, d, hour, minute, sec)
    whole = int(sec)
    return time.mktime((y, mo, d, hour, minute, whole, 0, 0, -1)) + (sec - whole)


def _yesterday(raw: str, now: float) -> float:
    m = _CLOCK.match(raw)
    assert m is not None
    day = datetime.fromtimestamp(now).date() - timedelta(days=1)  # the calendar day before
    hour, minute, sec = int(m.group(1)), int(m.group(2)), float(m.group(3) or 0)
    return _local(raw, day.year, day.month, day.day, hour, minute, sec)
