"""The Recorder: snapshots in, the recording on disk out, on its own thread (issue 13).

`record_status` only puts the snapshot on a bounded queue, so the console's event loop and the poll loop
never wait for the disk. The thread writes the frame, the StatusEvents and alarm changes derived from it
(against the cluster's previous snapshot), and the journal lines written since (any process's: the file is
read, not hooked). A full disk, a locked or read-only file never raises: the recorder turns *paused* with
the reason (`paused_reason`, shown by the console; a MARK item when it can write one), drops what comes
meanwhile, and tries again every `retry_s`; recording resumes by itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.record.model import ALARM, EVENT, JOURNAL, LOG, MARK, RecordedItem
from services.record.store import RecordError, RecordStore, default_store_path
from services.status.model import ClusterStatus

if TYPE_CHECKING:
    from services.logs.model import LogEntry
    from services.settings import Settings

log = logging.getLogger(__name__)

QUEUE_SIZE = 256  # snapshots waiting for the disk before the recorder drops (and says so)
RETRY_S = 30.0
PRUNE_EVERY_S = 3600.0
BATCH_S = 0.5  # the recorder thread wakes at most this often while snapshots come in
# A log record already in the recording is not written again: the ones of this far back are looked up once
# per cluster (the timeline reads back at most 24 h: a restarted console reads its window again), and at
# most LOG_SEEN_MAX keys a cluster are kept in memory.
LOG_SEEN_S = 25 * 3600.0
LOG_SEEN_MAX = 50_000


@dataclass
class _Journal:
    path: Path
    offset: int


@dataclass
class RecorderState:
    """What the console shows: "REC", or "recording paused: <why>"."""

    recording: bool
    paused_reason: str | None = None
    frames: int = 0
    dropped: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return "REC" if self.paused_reason is None else f"recording paused: {self.paused_reason}"


class Recorder:
    """Records snapshots of the clusters `enabled(name)` allows into the store at `path`."""

    def __init__(
        self,
        path: Path | None = None,
        *,
        retention_days: float | None = 7.0,
        max_mb: float | None = 900.0,
        enabled: Callable[[str], bool] = lambda _name: True,
        queue_size: int = QUEUE_SIZE,
        retry_s: float = RETRY_S,
        opener: Callable[[Path], RecordStore] = RecordStore.open,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path if path is not None else default_store_path()
        self.retention_days = retention_days
        self.max_mb = max_mb
        self.enabled = enabled
        self.retry_s = retry_s
        self._open = opener
        self._clock = clock
        self._queue: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=queue_size)
        self._thread: threading.Thread | None = None
        self._store: RecordStore | None = None
        self._previous: dict[str, ClusterStatus] = {}
        self._seen: list[str] = []  # the clusters recorded so far: their timelines get the marks
        self._journals: dict[str, _Journal] = {}
        self._logs_seen: dict[str, dict[str, None]] = {}  # per cluster, insertion-ordered: LOG keys written
        self._pruned_at = 0.0
        self._retry_at = 0.0
        self._wake = threading.Event()
        self.paused_reason: str | None = None  # why, in a few words (the header's); None while recording
        self.paused_detail = ""  # the error itself and what to do
        self.frames = 0  # frames handed to the store
        self.dropped = 0  # snapshots dropped (queue full, or while paused)
        self.on_change: Callable[[RecorderState], None] | None = None  # called from the recorder thread

    # --- the caller's side (never blocks) ---------------------------------------------------------------

    @property
    def state(self) -> RecorderState:
        return RecorderState(self._thread is not None, self.paused_reason, self.frames, self.dropped)

    def start(self) -> Recorder:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="db2ops-recorder", daemon=True)
            self._thread.start()
        return self

    def record_status(self, status: ClusterStatus) -> None:
        """Queue one snapshot (dropped, and counted, when the recorder is behind or the cluster is off)."""
        if self.enabled(status.cluster):
            self._put(("status", status))

    def record_item(self, item: RecordedItem) -> None:
        if self.enabled(item.cluster):
            self._put(("item", item))

    def record_log(
        self,
        cluster: str,
        at: float,
        *,
        group: str,
        stream: str,
        message: str,
        source: str,
        host: str = "",
    ) -> None:
        """Queue one log record of interest (a LOG item), e.g. what the timeline's sources read; `host` is
        the host the console named for its stream (kept so a replay names it alike)."""
        payload = {"group": group, "stream": stream, "message": message, "source": source}
        if host:
            payload["host"] = host
        self.record_item(RecordedItem(at, cluster, LOG, payload))

    def record_log_entry(self, cluster: str, entry: LogEntry, *, group: str = "") -> None:
        """Queue one log record the timeline kept (services.logs.model.LogEntry): its text as written,
        so a replay parses it back into the same record. The same record twice is written once."""
        self.record_log(
            cluster,
            entry.ts_us / 1_000_000,
            group=group,
            stream=entry.stream,
            message=entry.text,
            source=entry.source,
            host=entry.host,
        )

    def watch_journal(self, cluster: str, path: Path) -> None:
        """Record the lines appended to `path` (a journal.jsonl) for `cluster` from now on."""
        self._put(("journal", (cluster, path, _size(path))))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until what was queued before this call is written (or dropped); False on timeout."""
        if self._thread is None:
            return True
        done = threading.Event()
        try:
            self._queue.put(("flush", done), timeout=timeout)
        except queue.Full:
            return False
        self._wake.set()
        return done.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Write what is queued, a "stopped" mark, and close the file (consistent: each write is one
        transaction). Safe to call twice."""
        thread, self._thread = self._thread, None
        if thread is None:
            return
        try:
            self._queue.put(("stop", None), timeout=timeout)
        except queue.Full:
            pass
        self._wake.set()
        thread.join(timeout)

    def _put(self, op: tuple[str, Any]) -> None:
        try:
            self._queue.put_nowait(op)
        except queue.Full:
            self.dropped += 1
            if self.paused_reason is None:
                self._pause("disk too slow", "the disk is not keeping up: snapshots were dropped")

    # --- the recorder thread ----------------------------------------------------------------------------

    def _run(self) -> None:
        self._ensure_open()
        while True:
            try:
                kind, payload = self._queue.get_nowait()
            except queue.Empty:
                # the queue is drained: let snapshots gather before the next round (fewer thread wake-ups
                # competing with the poll loop for the interpreter)
                self._wake.wait(BATCH_S)
                self._wake.clear()
                try:
                    kind, payload = self._queue.get(timeout=self.retry_s)
                except queue.Empty:
                    self._ensure_open()
                    continue
            if kind == "stop":
                self._mark("stopped", "")
                if self._store is not None:
                    try:
                        self._store.close()  # keeps each cluster's last snapshot
                    except sqlite3.Error as exc:
                        log.warning("closing the recording: %s", exc)
                    self._store = None
                return
            if kind == "flush":
                payload.set()
                continue
            if kind == "journal":
                cluster, path, offset = payload
                self._journals[cluster] = _Journal(path, offset)
                continue
            if not self._ensure_open():
                self.dropped += 1
                continue
            try:
                if kind == "status":
                    self._write_status(payload)
                else:
                    self._add(payload)
            except _Paused:
                self.dropped += 1

    def _ensure_open(self) -> bool:
        if self._store is not None:
            return True
        if self.paused_reason is not None and self._clock() < self._retry_at:
            return False
        try:
            self._store = self._open(self.path)
        except (RecordError, OSError, sqlite3.Error) as exc:
            self._pause(*_why(exc))
            return False
        if self.paused_reason is not None:
            why, self.paused_reason, self.paused_detail = self.paused_detail, None, ""
            self._notify()
            self._mark("resumed", f"after: {why}")
            self._pruned_at = 0.0  # a full recording makes room first
        self._prune()
        return True

    def _write(self, action: Callable[[RecordStore], Any]) -> Any:
        store = self._store
        if store is None:
            raise _Paused
        try:
            return action(store)
        except (sqlite3.Error, OSError, RecordError) as exc:
            self._pause(*_why(exc))
            raise _Paused from None

    def _add(self, item: RecordedItem) -> None:
        if item.kind == LOG:
            seen = self._log_keys(item.cluster)
            key = log_key(item)
            if key in seen:
                return
            self._write(lambda s: s.add_item(item))
            seen[key] = None
            if len(seen) > LOG_SEEN_MAX:
                del seen[next(iter(seen))]
            return
        self._write(lambda s: s.add_item(item))

    def _log_keys(self, cluster: str) -> dict[str, None]:
        """The keys of the LOG items of `cluster` written so far (the recent ones of the file, read once)."""
        seen = self._logs_seen.get(cluster)
        if seen is None:
            since = self._clock() - LOG_SEEN_S
            recorded = self._write(lambda s: s.items(cluster, since=since, kinds=[LOG]))
            seen = self._logs_seen[cluster] = dict.fromkeys(log_key(i) for i in recorded[-LOG_SEEN_MAX:])
        return seen

    def _pause(self, why: str, detail: str = "") -> None:
        first = self.paused_reason is None
        self.paused_reason = why
        self.paused_detail = detail or why
        self._retry_at = self._clock() + self.retry_s
        if self._store is not None:
            store, self._store = self._store, None
            if first:  # say so in the recording when it can still take a line
                try:
                    for cluster in self._seen:
                        store.add_item(
                            RecordedItem(
                                self._clock(), cluster, MARK, {"what": "paused", "why": self.paused_detail}
                            )
                        )
                except (sqlite3.Error, OSError, RecordError):
                    pass
            try:
                store.close()
            except sqlite3.Error:
                pass
        if first:
            log.warning("recording paused: %s", self.paused_detail)
            self._notify()

    def _notify(self) -> None:
        if self.on_change is not None:
            try:
                self.on_change(self.state)
            except Exception:  # a console gone away must not stop the recorder
                log.exception("recorder state callback failed")

    def _mark(self, what: str, why: str, clusters: list[str] | None = None) -> None:
        """A MARK item on each recorded cluster (marks belong to a cluster's timeline)."""
        if self._store is None:
            return
        for cluster in clusters if clusters is not None else list(self._seen):
            item = RecordedItem(self._clock(), cluster, MARK, {"what": what, "why": why})
            try:
                self._add(item)
            except _Paused:
                return

    def _prune(self) -> None:
        now = self._clock()
        if self._store is None or now - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = now
        max_age = None if self.retention_days is None else self.retention_days * 86_400
        max_bytes = None if self.max_mb is None else int(self.max_mb * 1_000_000)
        try:
            self._write(lambda s: s.prune(max_age_s=max_age, max_bytes=max_bytes, now=now))
        except _Paused:
            pass

    def _write_status(self, status: ClusterStatus) -> None:
        from services.status.events import diff_snapshots

        previous = self._previous.get(status.cluster)
        if status.cluster not in self._seen:
            self._seen.append(status.cluster)
            self._mark("started", "", [status.cluster])
        self._write(lambda s: s.add_frame(status))
        self.frames += 1
        self._previous[status.cluster] = status
        items = [
            RecordedItem(
                e.at, e.cluster, EVENT, {"kind": e.kind, "message": e.message, "severity": e.severity.value}
            )
            for e in diff_snapshots(previous, status)
        ]
        items += alarm_changes(previous, status)
        items += self._journal_lines(status.cluster)
        for item in items:
            self._add(item)
        if self._clock() - self._pruned_at >= PRUNE_EVERY_S:
            self._prune()

    def _journal_lines(self, cluster: str) -> list[RecordedItem]:
        watched = self._journals.get(cluster)
        if watched is None or _size(watched.path) <= watched.offset:
            return []
        try:
            with watched.path.open("rb") as fh:
                fh.seek(watched.offset)
                data = fh.read()
        except OSError:
            return []
        end = data.rfind(b"\n") + 1  # a line still being written waits for the next frame
        watched.offset += end
        items = []
        for line in data[:end].splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get("cluster") == cluster:
                items.append(RecordedItem(_epoch(entry.get("when")), cluster, JOURNAL, entry))
        return items


def recorder_from_settings(settings: Settings, path: Path | None = None) -> Recorder:
    """The Recorder the settings ask for (retention, size, the clusters switched off); not started."""
    off = frozenset(settings.record_off)
    return Recorder(
        path,
        retention_days=settings.record_retention_days,
        max_mb=settings.record_max_mb,
        enabled=lambda name: settings.record and name not in off,
    )


class _Paused(Exception):
    """A write failed and the recorder paused (the reason is in paused_reason)."""


def log_key(item: RecordedItem) -> str:
    """What tells one log record from another: its time, stream and text."""
    p = item.payload
    digest = hashlib.blake2b(str(p.get("message", "")).encode("utf-8", "replace"), digest_size=10)
    return f"{item.at:.6f}:{p.get('stream', '')}:{digest.hexdigest()}"


def alarm_changes(previous: ClusterStatus | None, status: ClusterStatus) -> list[RecordedItem]:
    """ALARM items for each alarm whose state differs from the previous snapshot's (both read)."""
    if previous is None or previous.alarms is None or status.alarms is None:
        return []
    if not (previous.alarms.ok and status.alarms.ok):
        return []
    before = {a.name: a.state for a in previous.alarms.value or ()}
    items = []
    for alarm in status.alarms.value or ():
        old = before.get(alarm.name)
        if old is not None and old != alarm.state:
            at = alarm.since if alarm.since is not None else status.taken_at
            payload = {"name": alarm.name, "state": alarm.state, "previous": old, "reason": ""}
            items.append(RecordedItem(at, status.cluster, ALARM, payload))
    return items


def _why(exc: BaseException) -> tuple[str, str]:
    """(a few words for the header, the error and what to do) for a failed open or write."""
    text = str(exc) or type(exc).__name__
    low = text.lower()
    if "full" in low or "no space" in low:
        return "disk full", f"{text}: free space on the disk, or lower record_max_mb in settings"
    if "locked" in low or "busy" in low:
        return "file locked", f"{text}: another program holds the recording; close it (or wait)"
    if "readonly" in low or "read-only" in low or "permission" in low:
        return "file not writable", f"{text}: check the permissions of the recording and its folder"
    if "not a db2ops recording" in low or "newer db2ops" in low:
        return "not a db2ops recording", text
    return (text if len(text) <= 40 else text[:39] + "…"), text


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _epoch(when: object) -> float:
    if isinstance(when, str):
        try:
            return datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp()
        except ValueError:
            pass
    return time.time()
