"""What a recording holds and how screens, replay, incidents and bundles read it (the contract of issue 13).

A recording is, per cluster, a sequence of *frames* (one recorded ClusterStatus each, in time order) and of
*items* (everything else on the timeline: state-change events, alarm state changes, log records of interest,
journal entries, and raw evidence such as each crm_mon XML or db2pd text that a frame was parsed from).

`RecordingReader` is the read side. The SQLite store (services/record/store.py) and `MemoryRecording`
(bundles opened in memory, tests) both implement it, so replay, incidents and bundles never know which.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from services.status.model import ClusterStatus

# RecordedItem.kind values
EVENT = "event"  # a services.status.events.StatusEvent: {"kind", "message", "severity"}
ALARM = "alarm"  # an alarm state change: {"name", "state", "previous", "reason"}
LOG = "log"  # a log record the timeline uses: {"group", "stream", "message", "source"[, "host"]}
JOURNAL = "journal"  # an operator-journal entry, as services.plans.journal writes it
RAW = "raw"  # a tool's raw output a frame was parsed from: {"host", "command", "text"}
MARK = "mark"  # the recorder's own notes: {"what": "started"|"paused"|"resumed"|"stopped", "why"}
KINDS = (EVENT, ALARM, LOG, JOURNAL, RAW, MARK)


@dataclass(frozen=True)
class RecordedItem:
    at: float  # epoch seconds
    cluster: str
    kind: str  # one of KINDS
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Frame:
    at: float  # the snapshot's taken_at
    status: ClusterStatus


class RecordingReader(Protocol):
    def clusters(self) -> list[str]:
        """The recorded clusters, sorted."""
        ...

    def span(self, cluster: str) -> tuple[float, float] | None:
        """(first, last) frame time of `cluster`, or None when it has no frame."""
        ...

    def change_times(
        self, cluster: str, since: float | None = None, until: float | None = None
    ) -> list[float]:
        """Times of the frames that differ from the frame before them (the first frame always counts),
        ascending: what the replay scrubber steps through."""
        ...

    def status_at(self, cluster: str, at: float) -> ClusterStatus | None:
        """The latest frame at or before `at` (None before the first)."""
        ...

    def frames(self, cluster: str, since: float | None = None, until: float | None = None) -> Iterable[Frame]:
        """Every recorded frame in [since, until], ascending."""
        ...

    def items(
        self,
        cluster: str,
        since: float | None = None,
        until: float | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[RecordedItem]:
        """Items in [since, until] of the given kinds (all when None), ascending by time."""
        ...


def _within(at: float, since: float | None, until: float | None) -> bool:
    return (since is None or at >= since) and (until is None or at <= until)


class MemoryRecording:
    """A recording held in memory: a bundle opened for replay, or a test's frames."""

    def __init__(self, frames: Iterable[Frame] = (), items: Iterable[RecordedItem] = ()) -> None:
        self._frames: dict[str, list[Frame]] = {}
        self._items: dict[str, list[RecordedItem]] = {}
        for frame in frames:
            self.add_frame(frame)
        for item in items:
            self.add_item(item)

    def add_frame(self, frame: Frame) -> None:
        rows = self._frames.setdefault(frame.status.cluster, [])
        bisect.insort(rows, frame, key=lambda f: f.at)

    def add_item(self, item: RecordedItem) -> None:
        rows = self._items.setdefault(item.cluster, [])
        bisect.insort(rows, item, key=lambda i: i.at)

    def clusters(self) -> list[str]:
        return sorted(set(self._frames) | set(self._items))

    def span(self, cluster: str) -> tuple[float, float] | None:
        rows = self._frames.get(cluster)
        return (rows[0].at, rows[-1].at) if rows else None

    def change_times(
        self, cluster: str, since: float | None = None, until: float | None = None
    ) -> list[float]:
        times: list[float] = []
        prev: ClusterStatus | None = None
        for frame in self._frames.get(cluster, []):
            if prev is None or not same_state(prev, frame.status):
                if _within(frame.at, since, until):
                    times.append(frame.at)
            prev = frame.status
        return times

    def status_at(self, cluster: str, at: float) -> ClusterStatus | None:
        rows = self._frames.get(cluster, [])
        i = bisect.bisect_right(rows, at, key=lambda f: f.at)
        return rows[i - 1].status if i else None

    def frames(self, cluster: str, since: float | None = None, until: float | None = None) -> list[Frame]:
        return [f for f in self._frames.get(cluster, []) if _within(f.at, since, until)]

    def items(
        self,
        cluster: str,
        since: float | None = None,
        until: float | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[RecordedItem]:
        rows = self._items.get(cluster, [])
        # sorted by time: a playing replay asks for its last few seconds of a week's items on every tick
        lo = 0 if since is None else bisect.bisect_left(rows, since, key=lambda i: i.at)
        hi = len(rows) if until is None else bisect.bisect_right(rows, until, key=lambda i: i.at)
        return [i for i in rows[lo:hi] if kinds is None or i.kind in kinds]


# Fields that change on every poll of a steady cluster: when a thing was read, clocks, log positions.
# A change of only these is not a change of state (the scrubber would otherwise stop at every frame).
VOLATILE_FIELDS = frozenset(
    {
        "taken_at",
        "fetched_at",
        "duration_s",
        "last_update",  # crm_mon's own clock
        "date",  # corosync-quorumtool's
        "date_text",  # db2pd's
        "uptime",
        "fields",  # db2pd's raw NAME = value pairs (log positions and times among them)
        "primary_log",
        "standby_log",
        "standby_replay_log",
        "primary_log_time",
        "standby_log_time",
        "standby_replay_log_time",
        "log_gap_bytes",
        "heartbeat_missed",
        "connect_status_time",
        "peer_window_end",  # now + HADR_PEER_WINDOW while in PEER
        "since",  # an alarm's state time (its state is compared)
    }
)


def state_key(status: ClusterStatus) -> Any:
    """The snapshot's state without its VOLATILE_FIELDS, as comparable plain data."""
    from services.record.codec import encode

    return _strip(encode(status))


def _strip(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _strip(v) for k, v in data.items() if k not in VOLATILE_FIELDS}
    if isinstance(data, list):
        return [_strip(v) for v in data]
    return data


def same_state(a: ClusterStatus, b: ClusterStatus) -> bool:
    """Whether two snapshots show the same state (equal but for VOLATILE_FIELDS)."""
    return bool(state_key(a) == state_key(b))
