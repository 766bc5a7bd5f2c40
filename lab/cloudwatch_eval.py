"""The lab's CloudWatch: what AWS does behind metric filters and alarms, which moto never does.

moto stores metric filters and alarms but never turns log events into datapoints, never evaluates alarms,
never runs alarm actions, has no alarm history and confirms e-mail subscriptions at once. In the lab process
only, `LabCloudWatch` plays that part: every tick it reads the new events of each log group that has metric
filters, applies each filter (services/logs/filter_pattern.py, the evaluator the product uses), publishes the
datapoints (put_metric_data), evaluates every metric alarm (lab/cloudwatch_alarm_eval.py with the rules of
lab/cloudwatch_rules.py), sets its state with AWS's reason text, records the alarm history and publishes the
alarm's SNS message. E-mail subscriptions are reported pending until `confirm_email()` (lab command:
`db2ops-lab confirm-email ARN|all`).

Everything it produces is AWS-shaped; the object says it is the lab (`is_lab = True`) so the console can
label those values "(lab)". All boto3 calls are blocking: `tick()` runs in the evaluator's own thread, or
in tests directly (one synchronous pass, deterministic with `now=`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from lab import cloudwatch_rules as rules
from lab.cloudwatch_alarm_eval import AlarmEvaluation, AlarmTrack
from lab.moto_patches import apply_lab_patches
from lab.sns_email import EmailConfirmations
from services.logs.filter_pattern import FilterPatternError, compile_pattern

log = logging.getLogger(__name__)

LOOKBACK = timedelta(minutes=5)  # events are re-read this far back (late/out-of-order puts), deduplicated
FILTER_GRACE = timedelta(seconds=3)  # a filter applies to events ingested just before the lab first saw it
KEEP_SERIES = timedelta(hours=6)

_ACTIVE: dict[str, LabCloudWatch] = {}
_ACTIVE_LOCK = threading.Lock()


def lab_cloudwatch_for(endpoint_url: str | None) -> LabCloudWatch | None:
    """Return the running LabCloudWatch that serves `endpoint_url` (None when there is none)."""
    with _ACTIVE_LOCK:
        return _ACTIVE.get(endpoint_url or "")


def active_evaluators() -> list[LabCloudWatch]:
    """Return every started LabCloudWatch of this process."""
    with _ACTIVE_LOCK:
        return list(_ACTIVE.values())


@dataclass
class _GroupCursor:
    seen: dict[str, int] = field(default_factory=dict)  # eventId -> event timestamp (ms)
    newest_ms: int = 0


class LabCloudWatch(AlarmEvaluation):
    """The lab's CloudWatch evaluator for one moto endpoint. `start()`/`stop()` run `tick()` every
    `interval_s` seconds in a daemon thread; tests call `tick(now)` directly."""

    is_lab = True
    source_label = "lab"

    def __init__(
        self,
        endpoint_url: str,
        region: str = "us-east-1",
        *,
        interval_s: float = 1.0,
        clock: Callable[[], datetime] | None = None,
        client_factory: Callable[[str], Any] | None = None,
    ) -> None:
        self.endpoint_url = endpoint_url
        self.region = region
        self.interval_s = interval_s
        self._clock = clock or (lambda: datetime.now(UTC))
        self._client_factory = client_factory
        self._clients: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._alarms: dict[str, AlarmTrack] = {}
        self._history: dict[str, list[dict[str, Any]]] = {}
        self._series: dict[tuple[str, str], list[tuple[datetime, float]]] = {}
        self._versions: dict[tuple[str, str], int] = {}
        # Timestamps of the datapoints the current tick ingested, per metric: late ones (in a period that
        # closed just before the tick) are still evaluated, as CloudWatch does.
        self._fresh: dict[tuple[str, str], list[datetime]] = {}
        self._cursors: dict[str, _GroupCursor] = {}
        self._filter_seen: dict[tuple[str, str], datetime] = {}
        self.email = EmailConfirmations()
        self.sent_notifications: list[dict[str, Any]] = []
        self.datapoints_published = 0
        self.ticks = 0
        self.last_error: str | None = None
        self.problems: dict[str, str] = {}  # alarm or filter name -> why the lab cannot evaluate it
        # lab-only: moto 5.2.1 answers HTTP 500 to (En|Dis)ableAlarmActions and keeps duplicate filters
        apply_lab_patches()

    # ------------------------------------------------------------------ lifecycle
    def client(self, service: str) -> Any:
        """Return the boto3 client for `service` on the lab endpoint (standard retries)."""
        if service not in self._clients:
            if self._client_factory is not None:
                self._clients[service] = self._client_factory(service)
            else:
                from services.aws_clients import make_client
                from services.inventory.model import AwsSettings

                settings = AwsSettings(region=self.region, endpoint_url=self.endpoint_url)
                self._clients[service] = make_client(service, settings)
        return self._clients[service]

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Register this evaluator for its endpoint and run `tick()` every `interval_s` in a daemon thread."""
        with _ACTIVE_LOCK:
            _ACTIVE[self.endpoint_url] = self
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="lab-cloudwatch", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread (waits up to `timeout` s) and unregister."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        with _ACTIVE_LOCK:
            if _ACTIVE.get(self.endpoint_url) is self:
                del _ACTIVE[self.endpoint_url]

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.tick()
            except Exception as exc:  # the lab stays up; the console can show last_error
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.warning("lab CloudWatch tick failed: %s", self.last_error)

    # ------------------------------------------------------------------ one pass
    def tick(self, now: datetime | None = None) -> None:
        """Run one pass: ingest new log events through the metric filters, publish datapoints, evaluate
        alarms, run their actions. Blocking; raises botocore errors when moto is unreachable."""
        with self._lock:
            now = now or self._clock()
            # Data versions before this tick's ingest: what an alarm first seen (or set from outside) now
            # can already have been evaluated on. Datapoints ingested in this tick are new to every alarm.
            before = dict(self._versions)
            self._ingest(now)
            self._refresh_subscriptions()
            self._evaluate_alarms(now, before)
            self.ticks += 1
            self.last_error = None

    # ------------------------------------------------------------------ metric filters -> datapoints
    def _pages(self, service: str, method: str, key: str, **params: Any) -> list[dict[str, Any]]:
        client = self.client(service)
        if client.can_paginate(method):
            items: list[dict[str, Any]] = []
            for page in client.get_paginator(method).paginate(**params):
                items.extend(page.get(key, []))
            return items
        return list(getattr(client, method)(**params).get(key, []))

    def _ingest(self, now: datetime) -> None:
        self._fresh = {}
        # AWS keeps one filter per (group, name); an unpatched moto lists every PutMetricFilter: the last wins.
        latest = {
            (f["logGroupName"], f["filterName"]): f
            for f in self._pages("logs", "describe_metric_filters", "metricFilters")
        }
        by_group: dict[str, list[tuple[dict[str, Any], Any, datetime]]] = {}
        for f in latest.values():
            key = (f["logGroupName"], f["filterName"])
            first = self._filter_seen.setdefault(key, now - FILTER_GRACE)
            try:
                pattern = compile_pattern(f.get("filterPattern", ""))
            except FilterPatternError as exc:
                self.problems[f"filter {f['filterName']}"] = str(exc)
                continue
            by_group.setdefault(f["logGroupName"], []).append((f, pattern, first))
        datums: dict[str, list[dict[str, Any]]] = {}
        for group, group_filters in by_group.items():
            for event in self._new_events(group, now):
                for f, pattern, first in group_filters:
                    if event.get("ingestionTime", event["timestamp"]) < int(first.timestamp() * 1000):
                        continue  # like AWS: a filter only sees events ingested after it exists
                    self._apply_filter(f, pattern, event, datums)
        for namespace, items in datums.items():
            for i in range(0, len(items), 1000):  # PutMetricData takes at most 1000 datums
                self.client("cloudwatch").put_metric_data(Namespace=namespace, MetricData=items[i : i + 1000])
            self.datapoints_published += len(items)
        for series in self._series.values():
            rules.prune_before(series, KEEP_SERIES, now)

    def _new_events(self, group: str, now: datetime) -> list[dict[str, Any]]:
        cursor = self._cursors.setdefault(
            group, _GroupCursor(newest_ms=int((now - LOOKBACK).timestamp() * 1000))
        )
        start = max(0, cursor.newest_ms - int(LOOKBACK.total_seconds() * 1000))
        try:
            events = self._pages("logs", "filter_log_events", "events", logGroupName=group, startTime=start)
        except self.client("logs").exceptions.ResourceNotFoundException:
            return []
        fresh = [e for e in events if e.get("eventId") not in cursor.seen]
        for e in fresh:
            cursor.seen[e["eventId"]] = e["timestamp"]
            cursor.newest_ms = max(cursor.newest_ms, e["timestamp"])
        horizon = cursor.newest_ms - 2 * int(LOOKBACK.total_seconds() * 1000)
        cursor.seen = {k: ts for k, ts in cursor.seen.items() if ts >= horizon}
        return fresh

    def _apply_filter(
        self, f: dict[str, Any], pattern: Any, event: dict[str, Any], datums: dict[str, list[dict[str, Any]]]
    ) -> None:
        when = datetime.fromtimestamp(event["timestamp"] / 1000, UTC)
        for t in f.get("metricTransformations", []):
            if pattern.matches(event.get("message", "")):
                try:
                    value = rules.metric_value(t)
                except rules.UnsupportedAlarm as exc:
                    self.problems[f"filter {f['filterName']}"] = str(exc)
                    continue
            elif t.get("defaultValue") is not None:
                value = float(t["defaultValue"])
            else:
                continue
            key = (t["metricNamespace"], t["metricName"])
            datums.setdefault(key[0], []).append({"MetricName": key[1], "Value": value, "Timestamp": when})
            self._series.setdefault(key, []).append((when, value))
            self._versions[key] = self._versions.get(key, 0) + 1
            self._fresh.setdefault(key, []).append(when)

    # ------------------------------------------------------------------ what the console reads
    # Readers never take the tick lock (a tick holds it across HTTP calls): they copy lists, which the GIL
    # makes atomic, so the console's event loop and the SSH loop never wait for a tick.
    def history(self, alarm_name: str) -> list[dict[str, Any]]:
        """Return the alarm's history, newest first, shaped like describe_alarm_history's AlarmHistoryItems."""
        return [dict(item) for item in list(self._history.get(alarm_name, []))]

    def series(self, namespace: str, metric_name: str) -> list[tuple[datetime, float]]:
        """Return the datapoints the lab published for the metric (oldest first, last 6 hours)."""
        return sorted(list(self._series.get((namespace, metric_name), [])))

    def notifications_for(self, alarm_name: str) -> list[dict[str, Any]]:
        """Return the SNS messages the lab published for `alarm_name`, oldest first."""
        return [n for n in list(self.sent_notifications) if n["AlarmName"] == alarm_name]

    # ------------------------------------------------------------------ e-mail subscriptions
    def _refresh_subscriptions(self) -> None:
        self.email.update(self._pages("sns", "list_subscriptions", "Subscriptions"))

    def subscription_status(self, subscription_arn: str, protocol: str = "email") -> str:
        """Return "pending" or "confirmed": e-mail subscriptions stay pending until `confirm_email`."""
        return self.email.status(subscription_arn, protocol)

    def confirm_email(self, subscription_arn: str = "all", *, refresh: bool = True) -> list[str]:
        """Confirm one e-mail subscription (its ARN) or "all" known ones, as the person clicking the link
        would; return the ARNs confirmed. `refresh` lists subscriptions first (a blocking call; the lab
        command passes False and relies on the last tick). Raises KeyError for an unknown ARN."""
        if refresh:
            with self._lock:
                self._refresh_subscriptions()
        return self.email.confirm(subscription_arn)

    def status(self) -> dict[str, Any]:
        """Return a JSON-ready summary (what `db2ops-lab cloudwatch` prints). Lock-free, like the readers."""
        alarms = dict(self._alarms)
        return {
            "endpoint": self.endpoint_url,
            "ticks": self.ticks,
            "last_error": self.last_error,
            "datapoints_published": self.datapoints_published,
            "alarms": {name: alarms[name].state for name in sorted(alarms)},
            "pending_email": [sub["SubscriptionArn"] for sub in self.email.pending()],
            "confirmed_email": self.email.confirmed(),
            "sent_notifications": len(self.sent_notifications),
            "problems": dict(self.problems),
        }
