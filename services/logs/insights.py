"""CloudWatch Logs Insights: presets, time ranges, and start → poll (with backoff) → results → stop.

Statuses follow AWS: Scheduled → Running → Complete, or Failed / Cancelled / Timeout / Unknown. Who
evaluates the query is an InsightsEngine: AWS itself (AwsInsights), or, where the endpoint cannot (the lab's
moto: only fields/sort/limit understood, malformed queries accepted), an engine that fetches the events
with a plain query and evaluates the real one itself (lab/insights_local.py); the result says which in
`evaluated_by`. The composition root picks the engine (tui/backends.py). No Textual here.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

MAX_ROWS = 10_000
TERMINAL = ("Complete", "Failed", "Cancelled", "Timeout", "Unknown")


class InsightsError(Exception):
    """A query could not run; the message says why and what to do (shown as is in the UI)."""


class TimeRangeError(ValueError):
    """A time range the user typed cannot be read; the message shows the accepted forms."""


@dataclass(frozen=True)
class InsightsPreset:
    key: str
    title: str
    source: str  # "diag" or "audit": which log group it queries
    query: str


PRESETS: tuple[InsightsPreset, ...] = (
    InsightsPreset(
        "errors",
        "Errors and severes (by LEVEL field)",
        "diag",
        "fields @timestamp, @logStream, @message"
        " | parse @message /LEVEL: (?<level>\\w+)/"
        " | filter @message like /LEVEL: (Critical|Severe|Error)/"
        " | sort @timestamp desc | limit 1000",
    ),
    InsightsPreset(
        "unauthorized",
        "Access to SAMPLE.WORKER by anyone but APPUSR",
        "audit",
        "fields @timestamp, @logStream, @message"
        " | filter @message like /(?i)worker/ and @message not like /authid=APPUSR;/"
        " | sort @timestamp desc | limit 1000",
    ),
    InsightsPreset(
        "takeover",
        "HADR takeover and role changes",
        "diag",
        "fields @timestamp, @logStream, @message"
        " | filter @message like /TAKEOVER HADR|takeover|HADR database role set to|HADR role set to/"
        " | sort @timestamp desc | limit 1000",
    ),
    InsightsPreset("per5m", "Events per 5 minutes", "diag", "stats count(*) by bin(5m)"),
)


def preset(key: str) -> InsightsPreset:
    """Return the preset named `key`. Raises KeyError listing the known keys."""
    for p in PRESETS:
        if p.key == key:
            return p
    raise KeyError(f"unknown preset {key!r}: use one of {', '.join(p.key for p in PRESETS)}")


# ---------------------------------------------------------------------- time ranges
@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime
    label: str


_RELATIVE = re.compile(r"(?:last\s+)?(\d+)\s*(s|sec|m|min|h|hr|d|day|w|wk)s?", re.IGNORECASE)
_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400, "day": 86400}
_UNITS |= {"w": 604800, "wk": 604800}
_ABS_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d")
_HELP = "use 15m, 2h, 1d, `since last failover`, or `2026-11-26 10:00..2026-11-26 11:00` (UTC)"


def _absolute(text: str) -> datetime:
    text = text.strip().removesuffix("Z").removesuffix("UTC").strip()
    for fmt in _ABS_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise TimeRangeError(f"cannot read the time {text!r}: write it as YYYY-MM-DD HH:MM[:SS] (UTC)")


def parse_time_range(text: str, now: datetime, last_failover: datetime | None = None) -> TimeRange:
    """Return the TimeRange for `15m`/`2h`/`1d`/`1w` (ending `now`), `since last failover` (from the
    last takeover the caller knows of), or `START..END` / `START..` absolute UTC times.

    Raises TimeRangeError with the accepted forms when the text cannot be read or the range is empty."""
    raw = text.strip()
    if not raw:
        raise TimeRangeError(f"no time range given: {_HELP}")
    lowered = raw.lower()
    if lowered in ("since last failover", "last failover", "failover", "since failover"):
        if last_failover is None:
            raise TimeRangeError("no takeover seen yet on this cluster: pick a relative range such as 1h")
        if last_failover >= now:
            raise TimeRangeError("the last failover is not in the past: check the host clocks")
        return TimeRange(last_failover, now, f"since last failover ({format_ts(_ms(last_failover))} UTC)")
    m = _RELATIVE.fullmatch(raw)
    if m:
        seconds = int(m.group(1)) * _UNITS[m.group(2).lower()]
        if seconds <= 0:
            raise TimeRangeError(f"the range {raw!r} is empty: {_HELP}")
        return TimeRange(now - timedelta(seconds=seconds), now, f"last {m.group(1)}{m.group(2).lower()[0]}")
    if ".." in raw:
        left, _, right = raw.partition("..")
        start = _absolute(left)
        end = _absolute(right) if right.strip() else now
        if start >= end:
            raise TimeRangeError(f"the range starts ({left.strip()}) at or after it ends: swap the two times")
        return TimeRange(start, end, f"{format_ts(_ms(start))[:16]} .. {format_ts(_ms(end))[:16]} UTC")
    raise TimeRangeError(f"cannot read the time range {raw!r}: {_HELP}")


_AGO = re.compile(r"-\s*(\d+)\s*(s|m|h|d)", re.IGNORECASE)


def parse_instant(text: str, now: datetime) -> datetime:
    """Return the UTC time the log view should jump to: `YYYY-MM-DD HH:MM[:SS]`, `HH:MM[:SS]` (today,
    UTC) or `-15m` / `-2h` (ago). Raises TimeRangeError naming the accepted forms."""
    raw = text.strip().removesuffix("Z").removesuffix("UTC").strip()
    m = _AGO.fullmatch(raw)
    if m:
        return now - timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2).lower()])
    for fmt in ("%H:%M:%S", "%H:%M"):
        try:
            t = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        return now.replace(hour=t.hour, minute=t.minute, second=t.second, microsecond=0)
    try:
        return _absolute(raw)
    except TimeRangeError:
        raise TimeRangeError(
            f"cannot read the time {text.strip()!r}: use 2026-11-26 10:05, 10:05[:30] (today, UTC) or -15m"
        ) from None


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def format_ts(ms: int) -> str:
    """Return epoch milliseconds as Logs Insights prints @timestamp: `2026-11-26 10:00:00.000` (UTC)."""
    dt = datetime.fromtimestamp(ms / 1000, UTC)
    return f"{dt:%Y-%m-%d %H:%M:%S}.{ms % 1000:03d}"


# ---------------------------------------------------------------------- who evaluates a query
Row = dict[str, Any]


class InsightsEngine(Protocol):
    """Who evaluates a Logs Insights query: `prepare` the query string to send, then turn the raw rows
    (`@ptr` dropped) into (fields, rows). `evaluated_by` is shown with the result (None: AWS)."""

    evaluated_by: str | None
    truncated_note: str  # said when the rows hit MAX_ROWS
    # True where the endpoint does not apply filter patterns (the lab's moto): db2ops then filters the tail's
    # and the timeline's events itself, with the evaluator the product uses
    filters_locally: bool

    def prepare(self, query: str) -> str:
        """Return the query string to send; raise InsightsError for a query this engine cannot run."""
        ...

    def results(self, query: str, raw_rows: list[Row]) -> tuple[tuple[str, ...], tuple[Row, ...]]:
        """Return the result's (fields, rows) of `query` from the rows the endpoint answered. Raises
        InsightsError. Called in a worker thread (it may chew 10,000 rows)."""
        ...


class AwsInsights:
    """AWS evaluates the query: sent as typed, its rows shown as answered."""

    evaluated_by: str | None = None
    truncated_note = ""
    filters_locally = False

    def prepare(self, query: str) -> str:
        return query

    def results(self, query: str, raw_rows: list[Row]) -> tuple[tuple[str, ...], tuple[Row, ...]]:
        return tuple(dict.fromkeys(k for r in raw_rows for k in r)), tuple(raw_rows)


# ---------------------------------------------------------------------- running a query
@dataclass(frozen=True)
class InsightsResult:
    status: str
    fields: tuple[str, ...] = ()
    rows: tuple[dict[str, str], ...] = ()
    query_id: str = ""
    message: str = ""
    statistics: dict[str, Any] | None = None
    evaluated_by: str | None = None  # None: AWS evaluated the query
    truncated: bool = False  # hit the 10,000-row limit


def _client_error(exc: BaseException) -> InsightsError:
    code = getattr(exc, "response", {}).get("Error", {}).get("Code", "") if hasattr(exc, "response") else ""
    message = getattr(exc, "response", {}).get("Error", {}).get("Message", "") if code else str(exc)
    if code == "MalformedQueryException":
        return InsightsError(
            f"Logs Insights rejected the query: {message or 'malformed query'}. Fix the syntax and run it again"
        )
    if code == "LimitExceededException":
        return InsightsError(
            "too many Logs Insights queries are running in this account and region (the concurrency quota): "
            "wait for some to finish or cancel them, then run this one again"
        )
    if code == "ResourceNotFoundException":
        return InsightsError(f"log group not found ({message}): check the log group names in the inventory")
    if code == "InvalidParameterException":
        return InsightsError(
            f"AWS refused the query parameters: {message}. Check the time range and log groups"
        )
    from services.aws_clients import describe_aws_error

    return InsightsError(describe_aws_error(exc, "logs"))


async def run_query(
    client: Any,
    groups: Sequence[str],
    query: str,
    time_range: TimeRange,
    *,
    engine: InsightsEngine | None = None,
    on_status: Callable[[str], None] | None = None,
    poll_initial_s: float = 0.5,
    poll_max_s: float = 5.0,
    timeout_s: float = 900.0,
    sleep: Callable[[float], Any] = asyncio.sleep,
) -> InsightsResult:
    """Run `query` over `groups` in `time_range`; return the InsightsResult (≤ 10,000 rows).

    Polls get_query_results with growing intervals; `on_status` gets each new status. Cancelling the
    awaiting task calls stop_query (an endpoint that lacks it, like moto, is tolerated). `engine` evaluates
    the query (default: AWS). Raises InsightsError for an empty or malformed query, the concurrency limit,
    missing groups and other AWS errors."""
    if not query.strip():
        raise InsightsError(
            "the query is empty: pick a preset or type a query, e.g. fields @timestamp, @message | limit 20"
        )
    engine = engine if engine is not None else AwsInsights()
    sent = engine.prepare(query)
    kwargs = {
        "logGroupNames": list(groups),
        # StartQuery takes whole epoch seconds, both ends inclusive: the end rounds up, or "last 15m"
        # left out the events of its last, partial second (a takeover seen a moment ago, say)
        "startTime": math.floor(time_range.start.timestamp()),
        "endTime": math.ceil(time_range.end.timestamp()),
        "queryString": sent,
        "limit": MAX_ROWS,
    }
    try:
        started = await asyncio.to_thread(lambda: client.start_query(**kwargs))
    except Exception as exc:
        raise _client_error(exc) from exc
    query_id = started["queryId"]
    status, delay, waited = "Scheduled", poll_initial_s, 0.0
    if on_status:
        on_status(status)
    try:
        while True:
            try:
                page = await asyncio.to_thread(lambda: client.get_query_results(queryId=query_id))
            except Exception as exc:
                raise _client_error(exc) from exc
            new = page.get("status", "Unknown")
            if new != status:
                status = new
                if on_status:
                    on_status(status)
            if status in TERMINAL:
                break
            if waited >= timeout_s:
                await _stop(client, query_id)
                return InsightsResult(
                    "Timeout",
                    query_id=query_id,
                    message=f"no result after {timeout_s:.0f} s: narrow the time range",
                )
            await sleep(delay)
            waited += delay
            delay = min(delay * 1.5, poll_max_s)
    except asyncio.CancelledError:
        await asyncio.shield(_stop(client, query_id))
        raise
    # A local engine may chew 10,000 rows with user regexes: never on the event loop.
    return await asyncio.to_thread(_result, page, status, query_id, query, engine)


async def _stop(client: Any, query_id: str) -> str:
    """stop_query, tolerating endpoints that lack it; return a note for the UI."""
    try:
        await asyncio.to_thread(lambda: client.stop_query(queryId=query_id))
        return "stopped"
    except Exception as exc:  # moto answers 500 (not implemented); a finished query raises too
        return f"stop_query failed ({type(exc).__name__}); the query ends by itself"


def _result(
    page: dict[str, Any], status: str, query_id: str, query: str, engine: InsightsEngine
) -> InsightsResult:
    raw_rows = [
        {f["field"]: f.get("value", "") for f in row if f.get("field") != "@ptr"}
        for row in page.get("results", [])
    ]
    stats = page.get("statistics")
    if status != "Complete":
        messages = {
            "Failed": "the query failed in Logs Insights: check the query and the time range, then retry",
            "Cancelled": "the query was cancelled",
            "Timeout": "Logs Insights timed out (60 minutes): narrow the time range",
            "Unknown": "Logs Insights reports an unknown status: try again",
        }
        return InsightsResult(
            status, query_id=query_id, message=messages.get(status, status), statistics=stats
        )
    fields, rows = engine.results(query, raw_rows)
    truncated = len(raw_rows) >= MAX_ROWS
    note = engine.truncated_note if truncated else ""
    return InsightsResult(status, fields, rows, query_id, note, stats, engine.evaluated_by, truncated)
