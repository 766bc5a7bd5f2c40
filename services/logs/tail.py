"""Follow CloudWatch log groups: Live Tail, falling back to `filter_log_events` polling once a second.

Live Tail (`start_live_tail`) is a blocking event stream, so it is iterated in a worker THREAD; each
update is handed to the asyncio side with `loop.call_soon_threadsafe`. A session ends after 3 hours (or
the stream closes): it is restarted. A stream that ends within seconds without AWS saying why (moto sends
one start + one update of stored events, then closes) or a StartLiveTail that fails (not implemented,
AccessDenied) switches to polling. The mode and the reason are exposed for the UI.

With a StreamScope (services/logs/streams.py) only one cluster's streams are followed: polling asks for
the ones that exist by name, and as StartLiveTail takes stream names only with a single log group, Live Tail
runs one session per group with the names as prefixes. No Textual here.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, TypeVar

from services.logs.streams import MAX_STREAM_NAMES, StreamScope, read_events

LIVE_TAIL_MAX_GROUPS = 10  # AWS limit for logGroupIdentifiers
QUICK_END_S = 10.0  # a session that ends sooner than this "without a reason" is not a real Live Tail
POLL_LOOKBACK_MS = 5_000  # re-read this much before the newest event: agents deliver a little late
DEDUP_WINDOW_MS = 10 * 60_000
MAX_RESTARTS_QUICK = 3

T = TypeVar("T")
Event = dict[str, Any]  # normalized: logGroupName, logStreamName, timestamp (ms), message, eventId


@dataclass(frozen=True)
class TailStatus:
    """What the log screen shows about the feed: mode "live-tail" | "polling" | "stopped", why, whether
    AWS sampled the Live Tail (more than 500 events/s), how many events arrived, the last error."""

    mode: str = "stopped"
    reason: str = ""
    sampled: bool = False
    events: int = 0
    error: str | None = None
    filter_by: str | None = None  # who evaluates the filter pattern: None (AWS) or "db2ops (lab: …)"
    # what the DBA must know about whose streams are read: every stream (no instance id known), or none of
    # the cluster's streams exists yet; "" when the cluster's streams are read
    scope_note: str = ""


def event_key(group: str, event: Event) -> str:
    """Return the dedup key of an event: a hash of group/stream/time/message.

    Not the eventId: Live Tail events carry none, and the same event must be recognised whether it came
    by history, Live Tail or polling. (Two identical messages in one stream in the same millisecond
    count as one.)"""
    raw = (
        f"{group}\0{event.get('logStreamName', '')}\0{event.get('timestamp', 0)}\0{event.get('message', '')}"
    )
    return "ev-" + hashlib.blake2b(raw.encode(), digest_size=12).hexdigest()


def group_arns(client: Any, names: Sequence[str]) -> dict[str, str]:
    """Return log group name -> ARN (without the trailing `:*`) for `names` (blocking).

    Raises ValueError naming the groups that do not exist; botocore errors pass through."""
    arns: dict[str, str] = {}
    for name in names:
        pages = client.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name)
        for page in pages:
            for group in page.get("logGroups", []):
                if group.get("logGroupName") == name:
                    arn = group.get("logGroupArn") or str(group.get("arn", "")).removesuffix(":*")
                    arns[name] = arn
    missing = [n for n in names if n not in arns]
    if missing:
        raise ValueError(
            f"log group(s) {', '.join(missing)} not found: check aws.diag_log_group / aws.audit_log_group "
            "in the inventory, or run the monitoring setup that creates them"
        )
    return arns


class LogTail:
    """Follows up to 10 log groups and calls `on_events(list[Event])` / `on_status(TailStatus)` on the
    event loop that called `start()`.

    `client` may be None with a `client_factory` (called in a thread at start; its errors stop the tail
    with the reason). `history_ms` of past events are loaded first (Live Tail has no history). `filter_pattern` is passed
    to AWS, except where `local_filter` is set (the lab: moto mis-evaluates patterns): then db2ops applies
    it to the events itself."""

    def __init__(
        self,
        client: Any,
        groups: Sequence[str],
        on_events: Callable[[list[Event]], None],
        on_status: Callable[[TailStatus], None] | None = None,
        *,
        history_ms: int = 15 * 60_000,
        poll_interval_s: float = 1.0,
        prefer_live_tail: bool = True,
        filter_pattern: str = "",
        local_filter: bool = False,
        clock: Callable[[], float] = time.time,
        client_factory: Callable[[], Any] | None = None,
        scope: StreamScope | None = None,
    ) -> None:
        if not groups:
            raise ValueError("no log group to follow: set aws.diag_log_group / aws.audit_log_group")
        if len(groups) > LIVE_TAIL_MAX_GROUPS:
            raise ValueError(
                f"Live Tail follows at most {LIVE_TAIL_MAX_GROUPS} log groups, got {len(groups)}"
            )
        self.client = client
        # Building a boto3 client resolves credentials (files, SSO, instance metadata): it blocks and can
        # raise, so when `client` is None the factory runs in a worker thread once the tail has started.
        self._client_factory = client_factory
        self.groups = tuple(groups)
        self.on_events = on_events
        self.on_status = on_status
        self.history_ms = history_ms
        self.poll_interval_s = poll_interval_s
        self.prefer_live_tail = prefer_live_tail
        self.clock = clock
        self._pattern_text = filter_pattern
        self._local = None
        if filter_pattern and local_filter:
            from services.logs.filter_pattern import compile_pattern

            self._local = compile_pattern(filter_pattern)  # raises FilterPatternError for a bad pattern
        self.status = TailStatus(filter_by="db2ops (lab: moto lacks this)" if self._local else None)
        self._seen: dict[str, int] = {}
        self._last_ts: dict[str, int] = {}
        # Nothing older than the history asked for: moto's Live Tail replays every stored event of a stream
        # (AWS sends only new ones), and `db2ops logs --since 10s` must not print an hour.
        self._floor_ms = 0
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop = threading.Event()
        self._streams: set[Any] = set()  # open Live Tail response streams (one per group when scoped)
        self._live_off = threading.Event()  # set when Live Tail gave up: sessions still open end
        self._arn_to_name: dict[str, str] = {}
        # Whose streams are followed (services/logs/streams.py); None: every stream of the groups.
        self.scope = scope if scope is not None and scope.streams.scoped else None
        if scope is not None and self.scope is None:
            self.status = replace(self.status, scope_note=f"reading {scope.streams.describe()}")

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> asyncio.Task[None]:
        """Start following (history, then Live Tail or polling); returns the running task."""
        self._loop = asyncio.get_running_loop()
        self._stop.clear()
        self._task = asyncio.create_task(self._run(), name="log-tail")
        return self._task

    async def stop(self) -> None:
        """Stop following; closes a Live Tail stream and waits for the task to end."""
        self._stop.set()
        streams, self._streams = list(self._streams), set()
        for stream in streams:
            await asyncio.to_thread(_close_quietly, stream)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        self._set_status(mode="stopped", reason="stopped")

    def _set_status(self, **changes: Any) -> None:
        self.status = replace(self.status, **changes)
        if self.on_status is not None:
            self.on_status(self.status)

    # ------------------------------------------------------------------ event intake (loop side)
    def _deliver(self, group: str, events: list[Event]) -> None:
        fresh: list[Event] = []
        for event in events:
            key = event_key(group, event)
            ts = int(event.get("timestamp", 0))
            if key in self._seen or ts < self._floor_ms:
                continue
            if self.scope is not None and not self.scope.streams.keeps(str(event.get("logStreamName", ""))):
                continue  # a longer name a Live Tail prefix matched: not one of this cluster's streams
            self._seen[key] = ts
            self._last_ts[group] = max(self._last_ts.get(group, 0), ts)
            if self._local is not None and not self._local.matches(str(event.get("message", ""))):
                continue
            fresh.append({**event, "logGroupName": group, "eventId": event.get("eventId") or key})
        self._prune()
        if fresh:
            fresh.sort(key=lambda e: e["timestamp"])
            self.status = replace(self.status, events=self.status.events + len(fresh))
            self.on_events(fresh)

    def _prune(self) -> None:
        if len(self._seen) < 50_000 or not self._last_ts:
            return
        horizon = min(self._last_ts.values()) - DEDUP_WINDOW_MS
        self._seen = {k: ts for k, ts in self._seen.items() if ts >= horizon}

    # ------------------------------------------------------------------ main task
    async def _run(self) -> None:
        now_ms = int(self.clock() * 1000)
        self._floor_ms = now_ms - self.history_ms
        try:
            if self.client is None and self._client_factory is not None:
                self.client = await asyncio.to_thread(self._client_factory)
            for group in self.groups:
                self._last_ts.setdefault(group, now_ms - self.history_ms)
                await self._poll_group(group, now_ms - self.history_ms)
        except Exception as exc:
            self._set_status(mode="stopped", reason="could not read the log groups", error=_describe(exc))
            return
        interval = f"{self.poll_interval_s:g} s"
        if not self.prefer_live_tail:
            self._set_status(mode="polling", reason=f"polling every {interval} (Live Tail not requested)")
            await self._poll_loop()
            return
        # Poll while Live Tail starts (and between sessions): no gap, and a slow refusal costs nothing.
        self._set_status(mode="polling", reason=f"polling every {interval} while Live Tail starts")
        poller = asyncio.create_task(self._poll_loop(), name="log-tail-poll")
        try:
            reason = await self._live_tail_loop()
            if not self._stop.is_set():
                self._set_status(mode="polling", reason=f"polling every {interval}: {reason}", sampled=False)
                await poller
        finally:
            poller.cancel()

    async def _live_tail_loop(self) -> str:
        """Run Live Tail sessions until stopped; return why it gave up (to explain polling)."""
        try:
            arns = await asyncio.to_thread(group_arns, self.client, self.groups)
        except Exception as exc:
            return f"could not resolve log group ARNs ({_describe(exc)})"
        self._arn_to_name = {arn: name for name, arn in arns.items()}
        self._live_off.clear()
        if self.scope is None:
            return await self._live_tail_sessions(list(arns.values()))
        # StartLiveTail takes stream names (or prefixes) only with a single log group: a session per group.
        loops = [asyncio.ensure_future(self._live_tail_sessions([arn])) for arn in arns.values()]
        try:
            done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_COMPLETED)
            return next(iter(done)).result()
        finally:
            # one group gave up: all poll (the sessions still open end, their threads with them)
            self._live_off.set()
            for loop in loops:
                loop.cancel()
            for stream in list(self._streams):
                await asyncio.to_thread(_close_quietly, stream)

    async def _live_tail_sessions(self, arns: list[str]) -> str:
        """Run Live Tail sessions over `arns` until stopped; return why they gave up."""
        quick_ends = 0
        while not self._stop.is_set():
            started = self.clock()
            outcome, detail = await _in_daemon_thread(self._live_tail_session, arns)
            if self._stop.is_set():
                return "stopped"
            if self.status.mode == "live-tail":
                self._set_status(mode="polling", reason="Live Tail session ended; polling until it restarts")
            if outcome == "failed":
                return f"Live Tail unavailable ({detail})"
            if outcome == "timeout":  # the 3-hour session end: start a new session at once
                self._set_status(reason="Live Tail session reached its 3-hour limit; restarted")
                continue
            if self.clock() - started < QUICK_END_S:
                quick_ends += 1
                # A quick clean close is an endpoint that does not stream (moto); quick errors get retries.
                if outcome == "closed" or quick_ends >= MAX_RESTARTS_QUICK:
                    return f"Live Tail stream closed after {self.clock() - started:.1f} s ({detail})"
            else:
                quick_ends = 0
            await asyncio.sleep(min(2**quick_ends, 30))
        return "stopped"

    def _live_tail_session(self, arns: list[str]) -> tuple[str, str]:
        """Blocking: iterate one Live Tail session in this worker thread. Returns (outcome, detail) where
        outcome is "failed" (StartLiveTail refused), "timeout" (3-hour end), "closed" or "error"."""
        kwargs: dict[str, Any] = {"logGroupIdentifiers": arns}
        if self.scope is not None:
            # Prefixes, not names: a stream the agent creates after the session started is followed too;
            # a longer name they also match is dropped in _deliver.
            kwargs["logStreamNamePrefixes"] = list(self.scope.streams.names[:MAX_STREAM_NAMES])
        if self._pattern_text and self._local is None:
            kwargs["logEventFilterPattern"] = self._pattern_text
        try:
            response = self.client.start_live_tail(**kwargs)
        except Exception as exc:
            return "failed", _short_reason(exc)
        stream = response["responseStream"]
        self._streams.add(stream)
        updates = 0
        try:
            for event in stream:
                if self._stop.is_set() or self._live_off.is_set():
                    break
                if "sessionStart" in event:
                    self._call_soon(self._session_started)
                elif "sessionUpdate" in event:
                    updates += 1
                    update = event["sessionUpdate"]
                    sampled = bool(update.get("sessionMetadata", {}).get("sampled", False))
                    self._call_soon(self._live_update, update.get("sessionResults", []), sampled)
        except Exception as exc:
            code = getattr(exc, "code", "") or type(exc).__name__
            if "SessionTimeout" in str(code) or "SessionTimeout" in str(exc):
                return "timeout", "session timeout"
            return "error", _describe(exc)
        finally:
            self._streams.discard(stream)
            _close_quietly(stream)
        return "closed", f"the endpoint closed the stream after {updates} update(s); moto does this"

    def _call_soon(self, fn: Callable[..., None], *args: Any, **kwargs: Any) -> None:
        if self._loop is None:
            return
        try:
            self._loop.call_soon_threadsafe(lambda: fn(*args, **kwargs))
        except RuntimeError:  # the loop closed (app quit) while the session was still open
            pass

    def _note_missing_streams(self) -> None:
        assert self.scope is not None
        empty = [g for g in self.groups if self.scope.cached(g) == ()]
        streams = self.scope.streams
        note = (
            f"no log stream of {', '.join(sorted(set(streams.hosts.values())))} in {', '.join(empty)} yet: "
            "check the CloudWatch agent on the hosts, or run setup monitoring"
            if empty
            else ""
        )
        if note != self.status.scope_note:
            self._set_status(scope_note=note)

    def _session_started(self) -> None:
        # Run on the loop, where Live Tail may have given up meanwhile (another group's session ended, or
        # stop()): a late start must not put the mode back to live-tail, or polling would never resume.
        if self._stop.is_set() or self._live_off.is_set():
            return
        self._set_status(mode="live-tail", reason="Live Tail session started", error=None)
        self._catch_up()

    def _catch_up(self) -> None:
        # Live Tail starts "now": one poll covers what arrived since the history load / previous session.
        async def catch_up() -> None:
            try:
                for group in self.groups:
                    await self._poll_group(group, self._last_ts.get(group, 0) - POLL_LOOKBACK_MS)
            except Exception as exc:
                self._set_status(error=_describe(exc))

        self._catch_up_task = asyncio.ensure_future(catch_up())

    def _live_update(self, results: list[Event], sampled: bool) -> None:
        if sampled != self.status.sampled:
            self._set_status(sampled=sampled)
        by_group: dict[str, list[Event]] = {}
        for event in results:
            ident = str(event.get("logGroupIdentifier", ""))
            group = self._arn_to_name.get(ident) or ident.rsplit(":log-group:", 1)[-1]
            by_group.setdefault(group, []).append(event)
        for group, events in by_group.items():
            self._deliver(group, events)

    # ------------------------------------------------------------------ polling
    async def _poll_loop(self) -> None:
        while not self._stop.is_set():
            if self.status.mode == "live-tail":
                await asyncio.sleep(self.poll_interval_s)
                continue
            try:
                for group in self.groups:
                    since = self._last_ts.get(group, 0) - POLL_LOOKBACK_MS
                    await self._poll_group(group, since)
                if self.status.error:
                    self._set_status(error=None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # keep polling: a throttle or network blip must not end the feed
                self._set_status(error=_describe(exc))
            # The next poll starts a full interval after this one ended: polls never overlap, and a slow
            # endpoint is polled less often by itself.
            await asyncio.sleep(self.poll_interval_s)

    async def _poll_group(self, group: str, since_ms: int) -> None:
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": max(0, since_ms)}
        if self._pattern_text and self._local is None:
            kwargs["filterPattern"] = self._pattern_text
        if self.scope is not None:  # this cluster's streams that exist (listed again now and then)
            self._deliver(group, await asyncio.to_thread(read_events, self.client, self.scope, group, kwargs))
            self._note_missing_streams()
            return
        while True:
            page = await asyncio.to_thread(partial(self.client.filter_log_events, **kwargs))
            self._deliver(group, page.get("events", []))
            token = page.get("nextToken")
            if not token or token == kwargs.get("nextToken"):
                return
            kwargs["nextToken"] = token


def _in_daemon_thread(fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
    """Run blocking `fn(*args)` in its own daemon thread; return a future for its result.

    Not asyncio.to_thread: a Live Tail session (or botocore retrying a refused StartLiveTail) can block
    for seconds to hours, and the default executor is joined when the event loop shuts down."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def deliver(outcome: tuple[T] | BaseException) -> None:
        if future.done():
            return
        if isinstance(outcome, BaseException):
            future.set_exception(outcome)
        else:
            future.set_result(outcome[0])

    def run() -> None:
        outcome: tuple[T] | BaseException
        try:
            outcome = (fn(*args),)
        except BaseException as exc:  # handed to the awaiting side
            outcome = exc
        try:
            loop.call_soon_threadsafe(deliver, outcome)
        except RuntimeError:  # the loop closed meanwhile (app quit): nobody is waiting
            pass

    threading.Thread(target=run, name="log-live-tail", daemon=True).start()
    return future


def _close_quietly(stream: Any) -> None:
    try:
        stream.close()
    except Exception:  # closing a finished or broken stream: nothing more to do
        pass


def _short_reason(exc: BaseException) -> str:
    """One line for the mode label: an endpoint without StartLiveTail answers HTTP 500 with an HTML page."""
    response = getattr(exc, "response", None) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = response.get("Error", {}).get("Code", "")
    if status == 500 or code == "500":
        return "the endpoint answered HTTP 500: StartLiveTail is not implemented there"
    if code in ("AccessDeniedException", "AccessDenied"):
        return "AccessDenied: the IAM identity needs logs:StartLiveTail"
    if type(exc).__name__ == "AttributeError":
        return "this botocore has no start_live_tail: upgrade boto3"
    return _describe(exc)


def _describe(exc: BaseException) -> str:
    from services.aws_clients import describe_aws_error

    return describe_aws_error(exc, "logs")
