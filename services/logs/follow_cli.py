"""`db2ops logs --cluster NAME [--group audit|diag|all] [--since 15m] [--follow] [--json]`: one cluster's
db2diag and audit records from CloudWatch, read once or followed, in the spirit of `aws logs tail`.

Only the cluster's own streams are read (services/logs/streams.py), so a shared log group shows no other
cluster's record. `--json` prints one object a line (LOG_JSON_FIELDS); text is one line a record. Notes
(whose streams, how the feed arrives, errors) go to `err`, so `out` holds only records. No Textual here;
tui/cli_reads.py wires argparse, signals and the deadline to `run_logs`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from services.inventory.model import Cluster
from services.logs.cloudwatch import CloudWatchLogs, TailStatus
from services.logs.insights import TimeRangeError, parse_time_range
from services.logs.model import LogEntry
from services.logs.streams import UNKNOWN_MARK

GROUP_CHOICES = {"diag": ("diag",), "audit": ("audit",), "all": ("diag", "audit")}
LOG_JSON_FIELDS = (
    "time",
    "cluster",
    "host",
    "host_known",
    "stream",
    "group",
    "source",
    "level",
    "summary",
    "message",
)
EXIT_OK, EXIT_NOTHING, EXIT_ERROR = 0, 1, 2


def entry_json(entry: LogEntry, logs: CloudWatchLogs, cluster: str) -> dict[str, Any]:
    """Return the JSON object of one record (keys LOG_JSON_FIELDS): `time` ISO-8601 UTC with milliseconds,
    `host` the inventory's host of its stream (the raw stream marked "?" when no host of the cluster writes
    it: `host_known` false), `level` the db2diag level (audit: Warning when Db2 refused, else Info; null for
    a line that is no record), `message` the whole record."""
    return {
        "time": entry.time.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "cluster": cluster,
        "host": entry.host,
        "host_known": logs.streams.host_of(entry.stream) is not None,
        "stream": entry.stream,
        "group": logs.group_for(entry.source),
        "source": entry.source,
        "level": entry.level or None,
        "summary": entry.summary,
        "message": entry.text.rstrip("\n"),
    }


def entry_text(entry: LogEntry) -> str:
    """Return one line of text for a record: UTC time, host, source, level, summary."""
    stamp = entry.time.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    return f"{stamp}  {entry.host:<12} {entry.source:<5} {entry.level or '-':<8} {entry.summary}"


async def run_logs(
    cluster: Cluster,
    logs: CloudWatchLogs,
    out: TextIO,
    err: TextIO,
    *,
    group: str = "all",
    since: str = "15m",
    follow: bool = False,
    as_json: bool = False,
    stop: asyncio.Event | None = None,
    now: datetime | None = None,
) -> int:
    """Print the records of `cluster` in `since` (15m, 2h, 1d or `START..END` UTC), then with `follow`
    the new ones until `stop` is set. Returns 0 when records were printed (or the follow was stopped), 1
    when the window held none, 2 for bad input or when CloudWatch cannot be read (said on `err`). Raises
    BrokenPipeError when the reader of `out` left."""
    sources = GROUP_CHOICES.get(group)
    if sources is None:
        print(f"db2ops logs: unknown group {group!r}: use audit, diag or all", file=err)
        return EXIT_ERROR
    now = now or datetime.now(UTC)
    try:
        window = parse_time_range(since, now)
    except TimeRangeError as exc:
        print(f"db2ops logs: --since: {exc}", file=err)
        return EXIT_ERROR
    if cluster.lab and not cluster.aws.is_lab:
        print(f"db2ops logs: {cluster.name} is a lab without AWS (--no-aws): it has no log groups", file=err)
        return EXIT_ERROR
    if not logs.streams.scoped:
        print(f"db2ops logs: warning: reading {logs.streams.describe()}", file=err)

    def write(entries: list[LogEntry]) -> None:
        for entry in sorted(entries, key=lambda e: e.ts_us):
            line = json.dumps(entry_json(entry, logs, cluster.name)) if as_json else entry_text(entry)
            out.write(line + "\n")
        out.flush()

    if not follow:
        return await _read_once(cluster, logs, sources, window.start, window.end, write, err)
    return await _follow(cluster, logs, sources, window.start, now, write, err, stop or asyncio.Event())


async def _read_once(
    cluster: Cluster,
    logs: CloudWatchLogs,
    sources: Sequence[str],
    since: datetime,
    until: datetime,
    write: Any,
    err: TextIO,
) -> int:
    try:
        events = await logs.cluster_events(sources, since, until)
    except Exception as exc:
        print(f"db2ops logs: {_aws_problem(exc, logs, sources)}", file=err)
        return EXIT_ERROR
    entries = logs.to_entries(events)
    write(entries)
    if not entries:
        groups = [logs.group_for(s) for s in sources]
        if logs.streams.scoped and all(logs.scope.cached(g) == () for g in groups):
            why = (
                f"none of its streams exists in {', '.join(groups)} (looked for {', '.join(logs.streams.names)}): "
                "check the CloudWatch agent on the hosts, or run `db2ops setup monitoring`"
            )
        else:
            why = f"read {logs.streams.describe()}"
        print(
            f"db2ops logs: no record of {cluster.name} between {since:%Y-%m-%d %H:%M:%S} and "
            f"{until:%H:%M:%S} UTC in {', '.join(groups)}; {why}",
            file=err,
        )
        return EXIT_NOTHING
    unknown = sorted({e.stream for e in entries if e.host.startswith(UNKNOWN_MARK)})
    if unknown:
        print(f"db2ops logs: streams of no host in the inventory: {', '.join(unknown)}", file=err)
    return EXIT_OK


async def _follow(
    cluster: Cluster,
    logs: CloudWatchLogs,
    sources: Sequence[str],
    since: datetime,
    now: datetime,
    write: Any,
    err: TextIO,
    stop: asyncio.Event,
) -> int:
    broken: list[BrokenPipeError] = []
    # what was said last on `err`: the feed (mode, reason, error) and the scope note (the unscoped warning
    # was printed before the follow started)
    last: dict[str, Any] = {
        "feed": None,
        "note": "" if logs.streams.scoped else f"reading {logs.streams.describe()}",
    }

    def on_entries(entries: list[LogEntry]) -> None:
        if broken:
            return
        try:
            write(entries)
        except BrokenPipeError as exc:  # `| head`: stop following; main() ends quietly
            broken.append(exc)
            stop.set()

    def on_status(status: TailStatus) -> None:
        if status.scope_note != last["note"]:  # none of the cluster's streams yet, or there now
            last["note"] = status.scope_note
            text = (
                f"warning: {status.scope_note}"
                if status.scope_note
                else "the cluster's streams are there now"
            )
            print(f"db2ops logs: {text}", file=err)
        feed = (status.mode, status.reason, status.error)
        if feed == last["feed"] or status.mode == "stopped" and status.reason == "stopped":
            return
        last["feed"] = feed
        how = {"live-tail": "following by Live Tail", "polling": "following by polling"}.get(
            status.mode, "stopped"
        )
        print(
            f"db2ops logs: {how}: {status.reason}" + (f" ({status.error})" if status.error else ""), file=err
        )

    history_ms = max(0, int((now - since).total_seconds() * 1000))
    tail = logs.tail(on_entries, on_status, sources=sources, history_ms=history_ms)
    task = tail.start()
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
        failed = task.done() and tail.status.mode == "stopped" and tail.status.error
        tail.on_status = None
        await tail.stop()
    if broken:
        raise broken[0]
    if failed:
        print(f"db2ops logs: cannot follow {cluster.name}'s logs: {tail.status.error}", file=err)
        return EXIT_ERROR
    return EXIT_OK


def _aws_problem(exc: BaseException, logs: CloudWatchLogs, sources: Sequence[str]) -> str:
    from services.aws_clients import describe_aws_error

    code = str((getattr(exc, "response", None) or {}).get("Error", {}).get("Code", ""))
    if code == "ResourceNotFoundException":
        groups = ", ".join(logs.group_for(s) for s in sources)
        return (
            f"log group not found ({groups}): check aws.diag_log_group / aws.audit_log_group in the "
            "inventory, or run `db2ops setup monitoring --apply`, which creates them"
        )
    return describe_aws_error(exc, "logs")
