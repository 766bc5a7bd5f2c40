"""The refresh loop and what it keeps per cluster (no Textual here: plain asyncio, easy to test).

`StatusPoller` runs one loop per cluster: poll, then wait `interval` (or until `refresh_now()`), then poll
again — so polls of one cluster never overlap and a slow host backs off by itself.
`ClusterFeed` keeps the latest snapshot, the last 500 state-change events, each host's recent HADR log gap
(the sparkline) and the snapshots where the failover strip's facts changed (the timeline's strip). The last good value of a
failed part (so a panel greys out with the old value instead of blanking) comes from the status service's
one cache (services.status.service.LastGoodParts): the snapshot's failed parts already carry it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from services.inventory.model import Cluster
from services.part_errors import ErrorKind, PartError
from services.status.gap_history import GapHistory

if TYPE_CHECKING:  # types only: keeps the first frame's imports small
    from services.status.events import StatusEvent
    from services.status.model import ClusterStatus, Part

MAX_EVENTS = 500
MAX_MOMENTS = 48  # snapshots where the failover picture changed (services.record.strip.strip_key)
STALE_FACTOR = 3.0  # a part older than 3 refresh intervals is stale


class StatusSource(Protocol):
    async def snapshot(self, cluster: Cluster) -> ClusterStatus: ...


@dataclass(frozen=True)
class PartView:
    """What a panel shows for one part: the freshest good value, and why it may be stale."""

    key: str
    source: str
    shown: Part[Any] | None  # the current part, with the last good value when it failed (or None)
    error: PartError | None  # why the current value is missing (None when the current part is good)
    stale: bool
    age: float | None  # seconds since `shown` was fetched (None when nothing was ever fetched)
    command: str = ""  # the command (or API call) of the last attempt, for the detail view

    @property
    def value(self) -> Any:
        return None if self.shown is None else self.shown.value


def iter_parts(status: ClusterStatus) -> Iterator[tuple[str, Part[Any]]]:
    """Yield (key, part) for every part of a snapshot: "crm", "qnetd", "route", "alarms", "hadr:db2a", ..."""
    if status.crm is not None:
        yield "crm", status.crm
    if status.qnetd is not None:
        yield "qnetd", status.qnetd
    if status.overlay_route is not None:
        yield "route", status.overlay_route
    if status.alarms is not None:
        yield "alarms", status.alarms
    for prefix, parts in (("quorum", status.quorum), ("qdevice", status.qdevice), ("hadr", status.hadr)):
        for host, part in parts.items():
            yield f"{prefix}:{host}", part


class ClusterFeed:
    """Latest snapshot of one cluster and the event history (last good values: see the module doc)."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.status: ClusterStatus | None = None
        self.poll_error: str | None = None  # the last poll raised (the snapshot itself failed)
        self.poll_error_at: float | None = None
        self.events: deque[StatusEvent] = deque(maxlen=MAX_EVENTS)
        self.events_total = 0  # grows forever; tells views the deque changed even when full
        self.version = 0  # bumped on every apply/fail
        self._last_seen: dict[str, Part[Any]] = {}
        self.gap_history = GapHistory()  # per host, for the HADR panel's sparkline
        # the snapshots where the failover strip's facts changed (the timeline draws the strip from them)
        self.moments: deque[ClusterStatus] = deque(maxlen=MAX_MOMENTS)
        self._moment_key: object = None

    def apply(
        self,
        status: ClusterStatus,
        diff: Callable[[ClusterStatus | None, ClusterStatus], list[StatusEvent]] | None = None,
    ) -> list[StatusEvent]:
        """Take a new snapshot; return the state-change events `diff(prev, cur)` found (also kept)."""
        previous = self.status
        self.status = status
        self.poll_error = None
        self._last_seen = dict(iter_parts(status))
        self.gap_history.add(status)
        from services.record.strip import strip_key  # the timeline's picture; not needed for a first frame

        key = strip_key(status)
        if key != self._moment_key:
            self.moments.append(status)
            self._moment_key = key
        new_events = list(diff(previous, status)) if diff is not None else []
        self.events.extend(new_events)
        self.events_total += len(new_events)
        self.version += 1
        return new_events

    def clear(self) -> None:
        """Forget the snapshot (a replay moved to before this cluster's first recorded frame)."""
        self.status = None
        self.poll_error = None
        self._last_seen = {}
        self.version += 1

    def fail(self, message: str, at: float) -> None:
        """Record that the last poll raised; panels keep their values and turn stale."""
        self.poll_error = message
        self.poll_error_at = at
        self.version += 1

    def view(self, key: str, now: float, interval: float) -> PartView:
        """Return the PartView for `key` ("crm", "hadr:db2a", ...) at time `now`."""
        current = self._last_seen.get(key)
        # a failed part carries its last good value with the error (the status service's cache does that)
        good = current if current is not None and current.value is not None else None
        host = key.split(":", 1)[1] if ":" in key else None
        error: PartError | None = None
        if current is None:
            if self.status is not None:
                error = self._missing_reason(host)
        elif not current.ok:
            error = current.error or PartError(ErrorKind.NO_ANSWER, "no value in the last snapshot")
        if self.poll_error and error is None:
            error = PartError(ErrorKind.POLL_FAILED, f"last poll failed: {self.poll_error}")
        age = None if good is None else good.age(now)
        stale = error is not None or (age is not None and age > STALE_FACTOR * interval)
        # `good` is `current` or None: the current part names the source and command
        source = current.source if current is not None else (host or "")
        command = current.command if current is not None else ""
        return PartView(key, source, good, error, stale, age, command)

    def _missing_reason(self, host: str | None) -> PartError:
        if self.status is not None and host is not None and host in self.status.host_errors:
            return self.status.host_errors[host]
        return PartError(ErrorKind.NO_ANSWER, "not in the last snapshot", host=host or "")


class StatusPoller:
    """Polls each cluster in its own loop; the next poll starts only after the previous one finished."""

    def __init__(
        self,
        get_source: Callable[[], Awaitable[StatusSource]],
        on_status: Callable[[Cluster, ClusterStatus], None],
        on_error: Callable[[Cluster, BaseException], None],
        interval: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        deadline: float | None = None,
    ) -> None:
        self._get_source = get_source
        # a backstop over the whole snapshot (the status service bounds each part itself): a poll that
        # never ends would freeze the cluster's panels and stop its loop
        self.deadline = deadline
        self._on_status = on_status
        self._on_error = on_error
        self.interval = interval
        self.paused = False
        self._clock = clock
        self._kick: dict[str, asyncio.Event] = {}
        self._forced: set[str] = set()
        self.polls: dict[str, int] = {}
        self._poll_done = asyncio.Event()

    async def run(self, cluster: Cluster) -> None:
        """Poll `cluster` until cancelled. Errors of one poll are reported, never end the loop."""
        name = cluster.name
        self._kick.setdefault(name, asyncio.Event())
        source = await self._get_source()
        while True:
            self._forced.discard(name)
            try:
                async with asyncio.timeout(self.deadline) as budget:
                    status = await source.snapshot(cluster)
            except asyncio.CancelledError:
                raise
            except TimeoutError as exc:
                if not budget.expired():
                    self._on_error(cluster, exc)
                else:
                    self._on_error(
                        cluster,
                        TimeoutError(f"no status within {self.deadline:g} s (status_deadline_s in settings)"),
                    )
            except Exception as exc:  # one failed poll must not stop the console
                self._on_error(cluster, exc)
            else:
                self._on_status(cluster, status)
            self.polls[name] = self.polls.get(name, 0) + 1
            done, self._poll_done = self._poll_done, asyncio.Event()
            done.set()
            await self._wait_until_due(name, self._clock())

    async def _wait_until_due(self, name: str, finished_at: float) -> None:
        kick = self._kick[name]
        while name not in self._forced:
            timeout = None if self.paused else finished_at + self.interval - self._clock()
            if timeout is not None and timeout <= 0:
                return
            kick.clear()
            try:
                await asyncio.wait_for(kick.wait(), timeout)
            except TimeoutError:
                pass

    def refresh_now(self, name: str | None = None) -> None:
        """Poll `name` (or every cluster) as soon as its current poll, if any, has finished."""
        names = [name] if name is not None else list(self._kick)
        self._forced.update(n for n in names if n in self._kick)
        self._wake()

    def set_paused(self, paused: bool) -> None:
        """Stop (or resume) scheduled polls; `refresh_now` still polls while paused."""
        self.paused = paused
        self._wake()

    def set_interval(self, seconds: float) -> None:
        """Change the time between the end of one poll and the start of the next (takes effect now)."""
        if seconds <= 0:
            raise ValueError("the refresh interval must be greater than 0 seconds")
        self.interval = seconds
        self._wake()

    async def wait_polls(self, name: str, count: int) -> int:
        """Wait until `name` has completed at least `count` polls; return the number completed."""
        while self.polls.get(name, 0) < count:
            await self._poll_done.wait()
        return self.polls[name]

    def _wake(self) -> None:
        for kick in self._kick.values():
            kick.set()
