"""The recent HADR log gap of each host, for the sparkline on its HADR panel.

One sample per snapshot: the log gap the host's `db2pd -hadr` reported, or None when that part failed
(or the host gave no part). A failed poll is a gap in the picture, never a zero: the last good value a
stale part carries is not a new reading.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: the poll loop imports this module
    from services.status.model import ClusterStatus

MAX_SAMPLES = 60
BLOCKS = "▁▂▃▄▅▆▇█"


class GapHistory:
    """The last MAX_SAMPLES log-gap readings per host (bytes, or None for a poll without a reading)."""

    def __init__(self, size: int = MAX_SAMPLES) -> None:
        if size < 1:
            raise ValueError("a gap history holds at least 1 sample")
        self.size = size
        self._samples: dict[str, deque[int | None]] = {}

    def add(self, status: ClusterStatus) -> None:
        """Take one snapshot's readings; a host known before but absent now gets a gap."""
        for host in set(self._samples) | set(status.hadr):
            part = status.hadr.get(host)
            value: int | None = None
            if part is not None and part.ok and part.value is not None and part.value.streams:
                value = part.value.streams[0].log_gap_bytes
            self._samples.setdefault(host, deque(maxlen=self.size)).append(value)

    def samples(self, host: str) -> list[int | None]:
        return list(self._samples.get(host, ()))


def sparkline(values: Sequence[int | float | None], width: int | None = None) -> str:
    """Return one block character per value (the last `width` values), scaled to the largest shown:
    ▁ for zero, ▂..█ for a gap above zero (so a small gap never reads as none), a space for no reading.
    Empty when there is no value at all."""
    shown = list(values[-width:] if width else values)
    top = max((v for v in shown if v is not None), default=None)
    if top is None:
        return ""
    out = []
    for v in shown:
        if v is None:
            out.append(" ")
        elif v <= 0 or top <= 0:
            out.append(BLOCKS[0])
        else:
            out.append(BLOCKS[1 + min(6, int(v / top * 6))])
    return "".join(out)


TREND_WIDTH = 20


def gap_trend(history: GapHistory, host: str, width: int = TREND_WIDTH) -> str:
    """The sparkline of `host`'s last `width` polls, or "" while fewer than two readings show or each is
    zero (one bar, or a flat line, says nothing the "log gap 0 B" beside it does not)."""
    shown = history.samples(host)[-width:]
    if sum(v is not None for v in shown) < 2 or not any(v for v in shown):
        return ""
    return sparkline(shown)
