"""The alarm screen's service: the CloudWatch alarms of a cluster's account/region with the metric filter and
log group behind each, sparklines, SNS subscriptions and history. Changes (mute, test-fire, edit, delete) are
plan steps (services/alarms/steps.py) run through the plan runner, the write guard and the journal.

Datapoints, history, e-mail confirmation and the SNS messages an alarm sent are read through a
CloudWatchExtras backend (services/cloudwatch_extras.py) chosen by the composition root: AWS itself, or a
lab that plays CloudWatch's evaluator (lab/backends.py). Values carry the backend's `source` ("aws" or
"lab") so the console can say where they come from. All boto3 calls run in a worker thread
(services.aws_clients.call).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from services.alarms.model import (  # re-exported: the screens and tests import them from here
    OURS_PREFIX,
    OURS_TAG,
    STATE_ORDER,
    AlarmHistory,
    AlarmView,
    HistoryItem,
    Source,
    SubscriptionView,
    aware_utc,
    bucket_points,
    history_item,
    human_age,
    is_ours,
    sort_alarms,
)
from services.alarms.mute import MuteNote, mute_notes
from services.cloudwatch_extras import CloudWatchExtras, aws_cloudwatch_extras
from services.inventory.model import Cluster
from services.plans.step import StepFailed

_T = TypeVar("_T")

SPARK_POINTS = 60  # at most this many bars per sparkline
__all__ = [
    "OURS_PREFIX",
    "OURS_TAG",
    "STATE_ORDER",
    "AlarmHistory",
    "AlarmReader",
    "AlarmService",
    "AlarmServiceError",
    "AlarmView",
    "HistoryItem",
    "Source",
    "SubscriptionView",
    "bucket_points",
    "human_age",
    "is_ours",
    "sort_alarms",
]


class AlarmServiceError(Exception):
    """Reading alarms failed; the message says what happened and what to do next."""


class AlarmReader(Protocol):
    """What the alarm screen uses of its service (AlarmService; tests pass a fake with the same shape)."""

    inventory_source: str

    @property
    def source(self) -> Source: ...  # where datapoints/history/e-mail states come from: "aws" or "lab"

    @property
    def fast_polls(self) -> bool: ...  # the backend answers locally and at once

    @property
    def lab_note(self) -> str: ...  # why the lab did not answer the last refresh ("" when it did)

    async def list_alarms(self) -> list[AlarmView]: ...

    async def metric_sparkline(self, alarm: AlarmView, hours: float = 3) -> list[float]: ...

    async def topic_subscriptions(self, topic_arn: str) -> list[SubscriptionView]: ...

    async def alarm_history(self, name: str, max_records: int = 100) -> AlarmHistory: ...

    async def lab_notifications(self, alarm_name: str) -> list[dict[str, Any]]: ...

    async def apply_change(self, step: Any) -> Any: ...

    async def mute_notes(self) -> dict[str, MuteNote]: ...  # who muted which alarm, why, until when

    async def close(self) -> None: ...


class AlarmService:
    """Reads one cluster's alarms. `client_factory(service)` returns a boto3 client (default: the cluster's
    aws settings through services.aws_clients); `extras` answers datapoints, history, e-mail states and
    sent messages (default: AWS itself; the composition root passes the lab's for a lab cluster)."""

    def __init__(
        self,
        cluster: Cluster,
        *,
        extras: CloudWatchExtras | None = None,
        client_factory: Callable[[str], Any] | None = None,
        clock: Callable[[], datetime] | None = None,
        inventory_source: str = "",
    ) -> None:
        self.cluster = cluster
        self.inventory_source = inventory_source
        self.extras: CloudWatchExtras = extras if extras is not None else aws_cloudwatch_extras()
        self._client_factory = client_factory
        self.clock = clock or (lambda: datetime.now(UTC))
        self._tags: dict[str, dict[str, str]] = {}  # alarm ARN -> tags (they rarely change)

    # ------------------------------------------------------------------ plumbing
    @property
    def source(self) -> Source:
        """Where datapoints, history and e-mail states come from: "aws" or "lab" (shown "(lab)")."""
        return self.extras.source

    @property
    def fast_polls(self) -> bool:
        """True when the backend answers locally and at once (the lab in this process)."""
        return self.extras.fast_polls

    @property
    def lab_note(self) -> str:
        """Return why the backend did not answer the last refresh ("" when it did)."""
        note = self.extras.note
        return f"lab values unavailable: {note}" if note else ""

    async def _extra(self, read: Callable[[], Awaitable[_T]]) -> _T:
        """Await one extras read; its StepFailed (the backend did not answer) becomes AlarmServiceError."""
        try:
            return await read()
        except StepFailed as exc:
            raise AlarmServiceError(self.lab_note or str(exc)) from exc

    async def _read(self, service: str, operation: str, **params: Any) -> Any:
        """The extras' AWS reader: `_call` with the API operation name (raises AlarmServiceError)."""
        from services.plans.context import snake_case

        return await self._call(service, snake_case(operation), **params)

    async def close(self) -> None:
        """Close what reaches the backend (a private SSH pool to a lab in another process, if one was made)."""
        await self.extras.close()

    def client(self, service: str) -> Any:
        if self._client_factory is not None:
            return self._client_factory(service)
        from services.aws_clients import make_client

        return make_client(service, self.cluster.aws)

    async def _call(self, service: str, method: str, **params: Any) -> Any:
        from services import aws_clients

        try:
            # Building a client loads its service model (0.1-0.3 s): in a worker, never on the event loop.
            client = await asyncio.to_thread(self.client, service)
            return await aws_clients.call(client, method, **params)
        except Exception as exc:
            if type(exc).__module__.startswith(("botocore", "boto3")):
                from services.plans.context import parse_unparsed_error

                parse_unparsed_error(exc)  # an XML body botocore left unparsed: its real code, not "403"
                raise AlarmServiceError(aws_clients.describe_aws_error(exc, service)) from exc
            raise

    async def _pages(
        self, service: str, method: str, key: str, token_key: str, **params: Any
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        for _ in range(100):  # a runaway token never loops forever
            page = await self._call(service, method, **params, **({token_key: token} if token else {}))
            items += page.get(key, [])
            token = page.get(token_key)
            if not token:
                break
        return items

    # ------------------------------------------------------------------ alarms
    async def list_alarms(self) -> list[AlarmView]:
        """Return the metric alarms of the account/region, db2ops's own first (this cluster's first).

        Raises AlarmServiceError (AWS error sentence with what to do) when CloudWatch cannot be read.
        """
        alarms, filters = await asyncio.gather(
            self._pages(
                "cloudwatch", "describe_alarms", "MetricAlarms", "NextToken", AlarmTypes=["MetricAlarm"]
            ),
            self._pages("logs", "describe_metric_filters", "metricFilters", "nextToken"),
        )
        by_metric: dict[tuple[str, str], dict[str, Any]] = {}
        for f in filters:
            for t in f.get("metricTransformations", []):
                by_metric.setdefault((t.get("metricNamespace", ""), t.get("metricName", "")), f)
        await self._load_tags([a for a in alarms if not str(a.get("AlarmName", "")).startswith(OURS_PREFIX)])
        source = self.source
        views = [self._view(a, by_metric, source) for a in alarms]
        # a new refresh: a backend that answers in one go (a lab over SSH) asks once for all of them
        self.extras.begin_refresh((v.namespace, v.metric_name) for v in views if v.metric_name)
        return sort_alarms(views, self.cluster.name)

    async def _load_tags(self, alarms: list[dict[str, Any]]) -> None:
        todo = [a["AlarmArn"] for a in alarms if a.get("AlarmArn") and a["AlarmArn"] not in self._tags]
        limit = asyncio.Semaphore(4)

        async def one(arn: str) -> None:
            async with limit:
                try:
                    page = await self._call("cloudwatch", "list_tags_for_resource", ResourceARN=arn)
                except AlarmServiceError:
                    self._tags[arn] = {}  # no permission to read tags: decide by name only
                    return
                self._tags[arn] = {t["Key"]: t["Value"] for t in page.get("Tags", [])}

        await asyncio.gather(*(one(arn) for arn in todo))

    def _view(
        self, a: dict[str, Any], by_metric: dict[tuple[str, str], dict[str, Any]], source: Source
    ) -> AlarmView:
        f = by_metric.get((a.get("Namespace", ""), a.get("MetricName", ""))) or {}
        return AlarmView(
            name=a["AlarmName"],
            state=a.get("StateValue", "INSUFFICIENT_DATA"),
            state_since=aware_utc(a.get("StateUpdatedTimestamp")),
            reason=a.get("StateReason", ""),
            actions_enabled=bool(a.get("ActionsEnabled", True)),
            namespace=a.get("Namespace", ""),
            metric_name=a.get("MetricName", ""),
            period=int(a.get("Period") or 0),
            statistic=a.get("Statistic") or a.get("ExtendedStatistic") or "",
            threshold=float(a.get("Threshold", 0.0)),
            comparison=a.get("ComparisonOperator", ""),
            treat_missing=a.get("TreatMissingData") or "missing",
            evaluation_periods=int(a.get("EvaluationPeriods") or 1),
            alarm_actions=tuple(a.get("AlarmActions", [])),
            description=a.get("AlarmDescription", "") or "",
            filter_name=f.get("filterName", ""),
            filter_pattern=f.get("filterPattern", ""),
            log_group=f.get("logGroupName", ""),
            ours=is_ours(a, self._tags.get(a.get("AlarmArn", ""))),
            source=source,
            raw=dict(a),
        )

    # ------------------------------------------------------------------ sparkline
    async def metric_sparkline(self, alarm: AlarmView, hours: float = 3) -> list[float]:
        """Return the alarm's metric over the last `hours`, oldest first, one value per bucket (missing
        buckets are 0.0), at most SPARK_POINTS values. On the lab: the evaluator's own datapoints.

        Raises AlarmServiceError when GetMetricData fails.
        """
        if not alarm.metric_name:
            return []
        now = self.clock()
        span = int(hours * 3600)
        period = max(alarm.period or 60, 60)
        period = max(period, math.ceil(span / SPARK_POINTS / 60) * 60)
        end_epoch = (int(now.timestamp()) // period + 1) * period
        start_epoch = end_epoch - (span // period) * period
        stat = (
            alarm.statistic
            if alarm.statistic in ("Sum", "Average", "Minimum", "Maximum", "SampleCount")
            else "Sum"
        )
        metric = {
            "Namespace": alarm.namespace,
            "MetricName": alarm.metric_name,
            "Dimensions": list(alarm.raw.get("Dimensions", [])),
        }
        return await self._extra(
            lambda: self.extras.sparkline(self._read, metric, start_epoch, end_epoch, period, stat)
        )

    # ------------------------------------------------------------------ SNS
    async def topic_subscriptions(self, topic_arn: str) -> list[SubscriptionView]:
        """Return the subscriptions of `topic_arn` with pending/confirmed status (on the lab, e-mail ones stay
        pending until confirmed with `db2ops-lab confirm-email`). Raises AlarmServiceError."""
        subs = await self._pages(
            "sns", "list_subscriptions_by_topic", "Subscriptions", "NextToken", TopicArn=topic_arn
        )
        out = []
        status: str
        source: Source
        for s in subs:
            arn = str(s.get("SubscriptionArn", ""))
            protocol = str(s.get("Protocol", ""))
            if not arn.startswith("arn:"):  # AWS lists a pending subscription as "PendingConfirmation"
                status, source = "pending", "aws"
            else:
                status, source = await self.extras.subscription_status(self._read, arn, protocol)
            out.append(SubscriptionView(str(s.get("Endpoint", "")), protocol, status, arn, source))
        return out

    # ------------------------------------------------------------------ history
    async def alarm_history(self, name: str, max_records: int = 100) -> AlarmHistory:
        """Return the alarm's history, newest first. On the lab: the evaluator's record.

        Raises AlarmServiceError; when the endpoint does not implement DescribeAlarmHistory (moto answers
        HTTP 500) the message says so.
        """
        try:
            items = await self.extras.alarm_history(self._read, name, max_records)
        except StepFailed as exc:
            raise AlarmServiceError(f"the {self.source}'s alarm history is unavailable: {exc}") from exc
        except AlarmServiceError as exc:
            if "(500" in str(exc) or "InternalError" in str(exc):
                raise AlarmServiceError(
                    "this AWS endpoint does not implement DescribeAlarmHistory (HTTP 500; moto does not); where "
                    "the lab plays CloudWatch its evaluator keeps the history in the `db2ops lab` process: open "
                    f":alarms in that console, or run `db2ops-lab cloudwatch history {name}` on a lab host"
                ) from exc
            raise
        return AlarmHistory(name, tuple(history_item(i) for i in items), self.source)

    async def lab_notifications(self, alarm_name: str) -> list[dict[str, Any]]:
        """Return the SNS messages the backend recorded for the alarm (newest last; TopicArn, NewStateValue,
        Timestamp, MessageId): [] on real AWS, which keeps no such record. Raises AlarmServiceError when the
        lab in another process did not answer."""
        return list(await self._extra(lambda: self.extras.notifications(alarm_name)))

    # ------------------------------------------------------------------ changes
    async def mute_notes(self) -> dict[str, MuteNote]:
        """Return the mutes in force per alarm as this machine's journal recorded them (reason, expiry);
        {} when the journal cannot be read (the screen then shows MUTED without who/why)."""
        from services.plans.journal import journal_for

        def read() -> dict[str, MuteNote]:
            try:
                return mute_notes(journal_for(self.cluster).read(self.cluster.name).entries)
            except OSError:
                return {}

        return await asyncio.to_thread(read)

    async def apply_change(self, step: Any, *, journal: Any = None, operator: str | None = None) -> Any:
        """Run one alarm step (services/alarms/steps.py) through the plan runner, guard and journal; return
        the PlanResult. Raises services.plans.WriteRefused on a read-only cluster (nothing is called)."""
        from services.alarms.steps import run_alarm_change

        return await run_alarm_change(
            self.cluster,
            step,
            client_factory=self._client_factory,
            journal=journal,
            operator=operator,
            inventory_source=self.inventory_source,
        )
