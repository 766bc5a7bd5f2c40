"""The incident timeline's own sources, headless (no Textual): the db2diag records of interest from the
cluster's CloudWatch diag log group and the alarm state changes from the alarm history, over the incident
window, read incrementally. The :timeline screen polls a `TimelineSources`; so can any other caller.

The incident window reaches back to the earliest status change or journal step on the timeline, at least
DEFAULT_WINDOW_S and at most MAX_WINDOW_S. Each poll reads the log group from where the last one ended
(minus LATE_MS: agents deliver late); an entry older than the window read so far makes the next poll read
back to it once. Polls never overlap (a poll asked for while one runs waits for it), every
boto3 call runs in a worker thread, and AWS errors become `notes` (one per source), never exceptions.

Only the cluster's own streams are read (services/logs/streams.py: the log groups are shared by every
cluster of the runbook). Against real AWS the filter pattern LOG_PATTERN narrows what CloudWatch returns; on the lab (moto
mis-evaluates patterns) db2ops applies the same pattern itself, as services/logs/tail.py does. Either way
services.timeline.model keeps only the records `Timeline.add_log_entries` finds of interest.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from services.alarms.service import OURS_PREFIX, AlarmService, AlarmServiceError
from services.inventory.model import Cluster
from services.logs.cloudwatch import CloudWatchLogs
from services.logs.model import LogEntry
from services.logs.streams import is_missing_stream
from services.timeline.model import Timeline

# Levels by their header text (a bare "Error" would match any record that mentions one); HADR / takeover in
# the spellings Db2 writes. Case-sensitive like every CloudWatch term.
LOG_PATTERN = (
    '?"LEVEL: Critical" ?"LEVEL: Severe" ?"LEVEL: Error" ?HADR ?Hadr ?hadr ?TAKEOVER ?Takeover ?takeover'
)
DEFAULT_WINDOW_S = 3 * 3600.0
MAX_WINDOW_S = 24 * 3600.0
LATE_MS = 60_000
LOG_INTERVAL_S = 5.0  # the screen asks every 2 s; CloudWatch is read at most this often...
ALARM_INTERVAL_S = 15.0  # ...and the alarms (one history call per changed alarm) this often
HISTORY_RETRY_S = 300.0  # after the alarm history failed, use the alarm list's states for this long
MAX_PAGES_PER_POLL = 50  # a busy window is read over several polls (the page token is kept)
_SCOPE_KEYS = ("logStreamNames", "nextToken")  # what a job read again from its start drops


class TimelineSources:
    """Reads one cluster's log records of interest and alarm changes into `timeline`.

    `logs` / `alarms` default to the cluster's CloudWatchLogs and AlarmService (tests pass their own);
    `notes` maps "logs" / "alarms" / "aws" to why that source is missing or incomplete.
    """

    def __init__(
        self,
        cluster: Cluster,
        timeline: Timeline,
        *,
        logs: CloudWatchLogs | None = None,
        alarms: AlarmService | None = None,
        clock: Callable[[], float] = time.time,
        log_interval_s: float = LOG_INTERVAL_S,
        alarm_interval_s: float = ALARM_INTERVAL_S,
    ) -> None:
        self.cluster = cluster
        self.timeline = timeline
        self.logs = logs if logs is not None else CloudWatchLogs.for_cluster(cluster)
        self.alarms = alarms if alarms is not None else AlarmService(cluster)
        self.clock = clock
        self.log_interval_s = log_interval_s
        self.alarm_interval_s = alarm_interval_s
        self.notes: dict[str, str] = {}
        self._running: asyncio.Future[int] | None = None
        self._last_logs = self._last_alarms = float("-inf")
        self._from_ms: int | None = None  # the log window read (or being read) starts here
        self._next_ms = 0  # the next forward read starts here
        self._jobs: list[tuple[str, dict[str, Any]]] = []  # ("back" | "forward", filter_log_events kwargs)
        self._local: Any = None  # LOG_PATTERN compiled, on the lab (db2ops evaluates it there)
        self._alarm_marks: dict[str, tuple[str, Any]] = {}
        self._history_failed_at = float("-inf")
        self._history_note = ""

    # ------------------------------------------------------------------ public
    def window_start(self, now: float) -> float:
        """Return the start (epoch s) of the incident window: the earliest status change or journal step
        on the timeline, clamped to [now - MAX_WINDOW_S, now - DEFAULT_WINDOW_S]. (Not the log records and
        alarm changes read here: a record stamped a little early must not widen the window again.)"""
        entries = self.timeline.entries(sources=("status", "journal"))
        earliest = entries[0].at if entries else now
        return max(now - MAX_WINDOW_S, min(now - DEFAULT_WINDOW_S, earliest))

    def note_text(self) -> str:
        """Return the notes as one line ("logs: … · alarms: …"), "" when every source was read."""
        return " · ".join(f"{source}: {text}" for source, text in sorted(self.notes.items()))

    async def poll(self, *, force: bool = False) -> int:
        """Read what is due (everything when `force`) into the timeline; return how many entries were new.

        Never raises for AWS trouble (see `notes`). A call while a poll runs waits for that poll instead
        of starting another; cancelling the caller does not cancel the poll.
        """
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._poll(force))
        return await asyncio.shield(self._running)

    # ------------------------------------------------------------------ one poll
    async def _poll(self, force: bool) -> int:
        if self.cluster.lab and not self.cluster.aws.is_lab:
            # A lab started without AWS has no log groups or alarms; its cluster must never reach real AWS.
            self.notes = {"aws": "this lab runs without AWS (--no-aws): no log records or alarms to show"}
            return 0
        now = self.clock()
        work = []
        if force or now - self._last_logs >= self.log_interval_s:
            self._last_logs = now
            work.append(self._poll_logs(now))
        if force or now - self._last_alarms >= self.alarm_interval_s:
            self._last_alarms = now
            work.append(self._poll_alarms(now))
        return sum(await asyncio.gather(*work))

    async def _poll_logs(self, now: float) -> int:
        from services.aws_clients import describe_aws_error

        group = self.logs.group_for("diag")
        start_ms = int(self.window_start(now) * 1000)
        if self.logs.filters_locally and self._local is None:
            from services.logs.filter_pattern import compile_pattern

            self._local = compile_pattern(LOG_PATTERN)
        base: dict[str, Any] = {"logGroupName": group}
        if self._local is None:
            base["filterPattern"] = LOG_PATTERN
        if self._from_ms is not None and start_ms < self._from_ms:  # an older entry arrived: read back once
            self._jobs.append(("back", {**base, "startTime": start_ms, "endTime": self._from_ms + LATE_MS}))
        if self._from_ms is None or self._from_ms > start_ms:
            self._from_ms = start_ms
        if not any(kind == "forward" for kind, _ in self._jobs):
            self._jobs.append(("forward", {**base, "startTime": max(self._next_ms, self._from_ms)}))
        try:
            client = await asyncio.to_thread(lambda: self.logs.client)
            entries, left, forward_done = await asyncio.to_thread(self._read, client, list(self._jobs))
        except Exception as exc:
            code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
            if code == "ResourceNotFoundException":
                self.notes["logs"] = (
                    f"log group {group} not found: check aws.diag_log_group in the inventory, or run the "
                    "monitoring setup that creates it"
                )
            else:
                self.notes["logs"] = describe_aws_error(exc, "logs")
            return 0  # the jobs stay: the next poll retries them
        self._jobs = left
        if forward_done:
            self._next_ms = int(now * 1000) - LATE_MS
        self.notes.pop("logs", None)
        streams = self.logs.streams
        if not streams.scoped:  # said where the DBA looks: these records may be another cluster's
            self.notes["logs"] = f"reading {streams.describe()}"
        elif self.logs.scope.cached(group) == ():  # listed, none of them there
            self.notes["logs"] = (
                f"no log stream of {', '.join(sorted(set(streams.hosts.values())))} in {group} yet (looked for "
                f"{', '.join(streams.names)}): check the CloudWatch agent on the hosts, or run setup monitoring"
            )
        return self.timeline.add_log_entries(entries)

    def _read(
        self, client: Any, jobs: list[tuple[str, dict[str, Any]]]
    ) -> tuple[list[LogEntry], list[tuple[str, dict[str, Any]]], bool]:
        """Blocking: run the filter_log_events jobs within the page budget. Returns the parsed entries,
        the unfinished jobs (with their page token) and whether the forward read finished."""
        events: list[dict[str, Any]] = []
        left: list[tuple[str, dict[str, Any]]] = []
        forward_done = False
        budget = MAX_PAGES_PER_POLL
        scope = self.logs.scope
        for kind, job in jobs:
            # this cluster's streams only (listed once a minute); none yet: nothing to read in this window
            scoped = scope.filter_kwargs(client, job["logGroupName"], dict(job))
            if scoped is None:  # kept from where it starts: read in full once the agent made a stream
                left.append((kind, job))
                continue
            kwargs = scoped
            while True:
                if budget <= 0:
                    left.append((kind, kwargs))
                    break
                budget -= 1
                try:
                    page = client.filter_log_events(**kwargs)
                except Exception as exc:
                    if not is_missing_stream(exc):
                        raise
                    scope.forget(job["logGroupName"])  # a listed stream went away: list again, read again
                    left.append((kind, {k: v for k, v in job.items() if k not in _SCOPE_KEYS}))
                    break
                events.extend(page.get("events", []))
                token = page.get("nextToken")
                if not token or token == kwargs.get("nextToken"):
                    forward_done = forward_done or kind == "forward"
                    break
                kwargs["nextToken"] = token
        events = [e for e in events if scope.streams.keeps(str(e.get("logStreamName", "")))]
        if self._local is not None:
            events = [e for e in events if self._local.matches(str(e.get("message", "")))]
        group = jobs[0][1]["logGroupName"] if jobs else ""
        return self.logs.to_entries([{**e, "logGroupName": group} for e in events]), left, forward_done

    async def _poll_alarms(self, now: float) -> int:
        try:
            views = await self.alarms.list_alarms()
        except AlarmServiceError as exc:
            self.notes["alarms"] = str(exc)
            return 0
        self.notes.pop("alarms", None)
        groups = {self.cluster.aws.diag_log_group, self.cluster.aws.audit_log_group}
        mine = [
            v
            for v in views
            if v.name.startswith(f"{OURS_PREFIX}{self.cluster.name}-")
            or (v.log_group and v.log_group in groups)
        ]
        start = self.window_start(now)
        added = 0
        for view in mine:
            mark = (view.state, view.state_since)
            if self._alarm_marks.get(view.name) == mark:
                continue  # no change since the last read: its history has nothing new
            history = None
            if now - self._history_failed_at >= HISTORY_RETRY_S:
                try:
                    history = await self.alarms.alarm_history(view.name)
                except AlarmServiceError as exc:
                    self._history_failed_at = now
                    self._history_note = f"no alarm history, showing the state changes seen ({exc})"
            if history is not None:
                recent = tuple(i for i in history.items if i.timestamp and i.timestamp.timestamp() >= start)
                added += self.timeline.add_alarm_history(replace(history, items=recent))
            else:
                added += self.timeline.add_alarm_states([view], now)
            self._alarm_marks[view.name] = mark
        if now - self._history_failed_at < HISTORY_RETRY_S:
            self.notes["alarms"] = self._history_note
        return added
