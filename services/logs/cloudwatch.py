"""CloudWatch Logs for one cluster: follow its diag and audit log groups, run Logs Insights, read recent
events. The pieces live in services/logs/tail.py (Live Tail / polling) and services/logs/insights.py
(queries, presets, time ranges); this module binds them to a cluster's AwsSettings and its own streams
(services/logs/streams.py: the log groups are shared by every cluster of the runbook). No Textual here.

Where the endpoint is the lab (aws.endpoint_url set), moto mis-evaluates filter patterns, so db2ops applies
them itself. Insights queries are evaluated by the service's InsightsEngine, which the composition root
picks (tui/backends.py): AWS, or the lab's evaluator where moto ignores `filter`/`stats`; the result says
which (`evaluated_by`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from services.aws_clients import LazyClient
from services.inventory.model import AwsSettings, Cluster
from services.logs.insights import (
    PRESETS,
    AwsInsights,
    InsightsEngine,
    InsightsError,
    InsightsPreset,
    InsightsResult,
    TimeRange,
    TimeRangeError,
    parse_instant,
    parse_time_range,
    preset,
    run_query,
)
from services.logs.model import LogEntry, entries_from_event
from services.logs.streams import StreamMap, StreamScope, read_events, stream_map
from services.logs.tail import Event, LogTail, TailStatus

__all__ = [
    "CloudWatchLogs",
    "InsightsError",
    "InsightsPreset",
    "InsightsResult",
    "PRESETS",
    "TailStatus",
    "TimeRange",
    "TimeRangeError",
    "parse_instant",
    "parse_time_range",
    "preset",
]


class CloudWatchLogs:
    """The log groups of one cluster (`aws.diag_log_group`, `aws.audit_log_group`)."""

    def __init__(
        self,
        aws: AwsSettings,
        *,
        client: Any = None,
        hosts: dict[str, str] | None = None,
        insights_engine: InsightsEngine | None = None,
        streams: StreamMap | None = None,
    ) -> None:
        self.aws = aws
        self._client = client
        # Whose streams are read (services/logs/streams.py); without one, the whole groups (tests, tools).
        self.streams = streams or StreamMap("", {})
        self.scope = StreamScope(self.streams)
        self.hosts = dict(self.streams.hosts) | (hosts or {})  # stream name -> host name, for the host column
        self.insights_engine: InsightsEngine = insights_engine or AwsInsights()

    @classmethod
    def for_cluster(
        cls, cluster: Cluster, *, client: Any = None, insights_engine: InsightsEngine | None = None
    ) -> CloudWatchLogs:
        """Return the service for `cluster`, reading only its hosts' streams (stream_map: the
        `{instance_id}` and `Db2 - {instance_id}` styles) and naming their hosts; `insights_engine`
        evaluates its queries (default: AWS)."""
        return cls(cluster.aws, client=client, insights_engine=insights_engine, streams=stream_map(cluster))

    client = LazyClient("logs")

    @property
    def filters_locally(self) -> bool:
        """True when db2ops applies filter patterns itself (the endpoint does not: the lab's moto); the
        cluster's InsightsEngine, chosen by the composition root, says so."""
        return self.insights_engine.filters_locally

    def group_for(self, source: str) -> str:
        """Return the log group of "diag" or "audit". Raises ValueError for another source."""
        if source == "diag":
            return self.aws.diag_log_group
        if source == "audit":
            return self.aws.audit_log_group
        raise ValueError(f"unknown log source {source!r}: use diag or audit")

    def source_of(self, group: str) -> str:
        """Return "diag" or "audit" for one of this cluster's log groups ("diag" for anything else)."""
        return "audit" if group == self.aws.audit_log_group else "diag"

    def to_entries(self, events: list[Event]) -> list[LogEntry]:
        """Return the log-view entries of tail events (each names its logGroupName)."""
        out: list[LogEntry] = []
        for event in events:
            out.extend(entries_from_event(event, self.source_of(event.get("logGroupName", "")), self.hosts))
        return self._mark_unknown(out)

    def _mark_unknown(self, entries: list[LogEntry]) -> list[LogEntry]:
        # A stream no host of this cluster writes (a prefix match, an old agent config) shows as its raw
        # name, marked: never as the HOSTNAME its records claim, which may be another cluster's host.
        if self.streams.scoped:
            for entry in entries:
                if entry.stream and entry.stream not in self.hosts:
                    entry.host = self.streams.label(entry.stream)
        return entries

    def result_entries(self, result: InsightsResult, source: str) -> list[LogEntry]:
        """Return the log-view entries of Insights result rows: rows with @message become parsed
        records; stats rows become one line each ("bin(5m)=… count(*)=…")."""
        out: list[LogEntry] = []
        for row in result.rows:
            ms = _row_ms(row)
            if "@message" in row:
                event = {
                    "timestamp": ms,
                    "message": row["@message"],
                    "logStreamName": row.get("@logStream", ""),
                }
                out.extend(entries_from_event(event, source, self.hosts))
            else:
                line = "  ".join(f"{k}={v}" for k, v in row.items())
                out.append(LogEntry(ms * 1000, source, "", "", line, line))
        out.sort(key=lambda e: e.ts_us)
        return self._mark_unknown(out)

    def tail(
        self,
        on_entries: Callable[[list[LogEntry]], None],
        on_status: Callable[[TailStatus], None] | None = None,
        *,
        sources: Sequence[str] = ("diag", "audit"),
        history_minutes: int = 15,
        filter_pattern: str = "",
        poll_interval_s: float = 1.0,
        history_ms: int | None = None,
    ) -> LogTail:
        """Return a LogTail (not started: call `.start()` on the event loop) whose events arrive as
        LogEntry batches. Raises FilterPatternError for a bad `filter_pattern` where db2ops filters locally (AWS checks it
        itself)."""
        return LogTail(
            self._client,  # None until the tail builds it off the event loop
            [self.group_for(s) for s in sources],
            lambda events: on_entries(self.to_entries(events)),
            on_status,
            history_ms=history_minutes * 60_000 if history_ms is None else history_ms,
            poll_interval_s=poll_interval_s,
            filter_pattern=filter_pattern,
            local_filter=self.filters_locally,
            client_factory=lambda: self.client,
            scope=self.scope,
        )

    async def insights(
        self,
        query: str | InsightsPreset,
        time_range: TimeRange,
        *,
        sources: Sequence[str] | None = None,
        on_status: Callable[[str], None] | None = None,
        **poll: Any,
    ) -> InsightsResult:
        """Run a Logs Insights query (text or preset) over the sources' groups (a preset picks its own).

        Only this cluster's streams are read: `filter @logStream in [...]` goes before every query (a
        preset or a typed one). Returns the InsightsResult; raises InsightsError with a message for the UI."""
        if isinstance(query, InsightsPreset):
            sources = sources or (query.source,)
            query = query.query
        query = self.streams.scope_query(query)  # an empty query stays empty: run_query says so
        groups = [self.group_for(s) for s in (sources or ("diag",))]
        try:  # building the client resolves credentials: off the event loop, and its errors explained
            client = await asyncio.to_thread(lambda: self.client)
        except Exception as exc:
            from services.aws_clients import describe_aws_error

            raise InsightsError(describe_aws_error(exc, "logs")) from exc
        return await run_query(
            client, groups, query, time_range, engine=self.insights_engine, on_status=on_status, **poll
        )

    async def recent_events(self, source: str, since: datetime, limit: int = 1000) -> list[Event]:
        """Return up to `limit` events of `source`'s group since `since`, oldest first (the wizard tests
        a filter pattern on these). Every stream of the group, on purpose: the metric filter the pattern
        goes into matches the whole group, other clusters' streams included. Raises botocore errors
        (describe them with describe_aws_error)."""
        group = self.group_for(source)

        def fetch() -> list[Event]:
            events: list[Event] = []
            kwargs: dict[str, Any] = {"logGroupName": group, "startTime": int(since.timestamp() * 1000)}
            while len(events) < limit:
                page = self.client.filter_log_events(**kwargs)
                events.extend(page.get("events", []))
                token = page.get("nextToken")
                if not token or token == kwargs.get("nextToken"):
                    break
                kwargs["nextToken"] = token
            return [{**e, "logGroupName": group} for e in events[:limit]]

        return await asyncio.to_thread(fetch)

    async def cluster_events(
        self, sources: Sequence[str], since: datetime, until: datetime, *, limit: int = 100_000
    ) -> list[Event]:
        """Return the events of this cluster's streams in the sources' groups between `since` and `until`,
        oldest first, at most `limit` per group (`db2ops logs`). Raises botocore errors (describe them
        with describe_aws_error); ResourceNotFoundException when a group does not exist."""
        window = {"startTime": int(since.timestamp() * 1000), "endTime": int(until.timestamp() * 1000)}

        def fetch() -> list[Event]:
            events: list[Event] = []
            for source in sources:
                group = self.group_for(source)
                events += read_events(self.client, self.scope, group, window, max_events=limit)
            events.sort(key=lambda e: int(e.get("timestamp", 0)))
            return events

        return await asyncio.to_thread(fetch)


def _row_ms(row: dict[str, str]) -> int:
    """Epoch ms of a result row: its @timestamp, else a bin(...) value, else 0."""
    for key, value in row.items():
        if key == "@timestamp" or key.startswith("bin("):
            text = str(value)
            if text.isdigit():
                return int(text)
            try:
                when = datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC)
            except ValueError:
                continue
            return int(when.timestamp() * 1000)
    return 0
