"""`db2ops record --cluster NAME [--for DURATION]`: the console's recording without the console, for a
jump host's tmux or cron. The same poll loop (StatusPoller) feeds the same Recorder; Ctrl-C, SIGTERM or
SIGHUP end it cleanly (what is queued is written, the file stays consistent) with exit 0.

`logs`, when given, is the timeline's read of the cluster's log records and alarm changes
(TimelineSources.poll, whose timeline hands each new log record to the recorder): run every
`logs_interval` s beside the status polls, so the recording holds the log records the console's timeline
would have shown. It never raises for AWS trouble; `logs_note` says what it could not read."""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Awaitable, Callable
from typing import TextIO

from services.inventory.model import Cluster
from services.record.recorder import Recorder
from services.status.model import ClusterStatus
from services.status.poll import StatusPoller, StatusSource

STOP_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


async def record(
    cluster: Cluster,
    get_source: Callable[[], Awaitable[StatusSource]],
    recorder: Recorder,
    *,
    interval: float,
    for_s: float | None,
    out: TextIO,
    as_json: bool = False,
    logs: Callable[[], Awaitable[int]] | None = None,
    logs_note: Callable[[], str] = lambda: "",
    logs_interval: float = 5.0,
    stop: asyncio.Event | None = None,
) -> int:
    """Poll `cluster` every `interval` s into `recorder` (and `logs` every `logs_interval` s) until `for_s`
    passes or a stop signal; print a summary. Returns 0 when it recorded, 1 when the recording was paused
    at the end. `stop` (made here when not given) ends it as a stop signal does."""
    stop = stop if stop is not None else asyncio.Event()
    polls = 0
    errors: list[str] = []
    log_records = 0

    async def read_logs() -> None:
        nonlocal log_records
        assert logs is not None
        while True:
            try:
                log_records += await logs()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the status recording goes on without the log records
                errors.append(f"reading log records: {exc}")
            await asyncio.sleep(logs_interval)

    def on_status(_cluster: Cluster, status: ClusterStatus) -> None:
        nonlocal polls
        polls += 1
        recorder.record_status(status)

    def on_error(_cluster: Cluster, exc: BaseException) -> None:
        errors.append(str(exc) or type(exc).__name__)

    poller = StatusPoller(get_source, on_status, on_error, interval=interval)
    loop = asyncio.get_running_loop()
    installed = []
    for name in STOP_SIGNALS:
        signum = getattr(signal, name, None)
        if signum is not None:
            try:
                loop.add_signal_handler(signum, stop.set)
                installed.append(signum)
            except (NotImplementedError, RuntimeError):  # not the main thread (tests)
                pass
    recorder.start()
    if not as_json:
        print(
            f"recording {cluster.name} to {recorder.path} every {interval:g} s"
            + (f" for {for_s:g} s" if for_s else " until Ctrl-C"),
            file=out,
            flush=True,
        )
    tasks = [asyncio.ensure_future(poller.run(cluster))]
    if logs is not None:
        tasks.append(asyncio.ensure_future(read_logs()))
    try:
        try:
            await asyncio.wait_for(stop.wait(), for_s)
        except TimeoutError:
            pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for signum in installed:
            loop.remove_signal_handler(signum)
        await asyncio.to_thread(recorder.stop)
    state = recorder.state
    summary = {
        "cluster": cluster.name,
        "path": str(recorder.path),
        "polls": polls,
        "frames": state.frames,
        "dropped": state.dropped,
        "paused_reason": state.paused_reason,
        "poll_errors": errors[-5:],
        "log_records": log_records if logs is not None else None,
        "log_note": logs_note() if logs is not None else None,
    }
    if as_json:
        print(json.dumps(summary, indent=2), file=out)
    else:
        print(f"recorded {state.frames} snapshots of {cluster.name} to {recorder.path}", file=out)
        if logs is not None:
            note = logs_note()
            print(f"log records of interest: {log_records}" + (f" ({note})" if note else ""), file=out)
        if state.paused_reason:
            print(f"recording paused: {state.paused_reason}", file=out)
        for e in errors[-5:]:
            print(f"a poll failed: {e}", file=out)
    return 0 if state.paused_reason is None else 1
