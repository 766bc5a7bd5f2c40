"""Times on the command line: `--since 10m`, `--since 03:12`, `--until 2026-11-30T03:14:10Z`."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)$", re.IGNORECASE)
_UNIT_S = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}


def parse_when(text: str, now: float | None = None) -> float:
    """Return epoch seconds for `text`: a duration ago (90s, 10m, 2h, 1d), a clock time today on this
    machine's clock (03:12 or 03:12:33; yesterday's when that is still to come), or an ISO 8601 date and
    time (a missing zone is this machine's). Raise ValueError with the accepted forms otherwise."""
    now = time.time() if now is None else now
    value = text.strip()
    m = _DURATION.match(value)
    if m:
        return now - float(m.group(1)) * _UNIT_S[m.group(2).lower()]
    for fmt in ("%H:%M:%S", "%H:%M"):
        try:
            clock = datetime.strptime(value, fmt).time()
        except ValueError:
            continue
        today = datetime.fromtimestamp(now).replace(
            hour=clock.hour, minute=clock.minute, second=clock.second, microsecond=0
        )
        if today.timestamp() > now:
            today -= timedelta(days=1)
        return today.timestamp()
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        pass
    raise ValueError(
        f"{text!r} is not a time: give a duration ago (10m, 2h, 1d), a clock time (03:12, 03:12:33) "
        "or a date and time (2026-11-30T03:12:33Z)"
    )
