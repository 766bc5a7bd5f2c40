"""The alarm screen's service: the CloudWatch alarms of a cluster's account/region with the metric filter and
log group behind each, sparklines, SNS subscriptions and history. Changes (mute, test-fire, edit, delete) are
plan steps (services/alarm_steps.py) run through the plan runner, the write guard and the journal.

On the embedded lab, CloudWatch's evaluator is played by lab/cloudwatch_eval.py, which registers itself here
(`register_lab_source`; the lab depends on services, never the reverse). Values it provides (state changes,
history, datapoints, e-mail confirmation, the SNS messages it sent) are marked `source="lab"` so the console
can say so. A console in another process than the lab (`db2ops lab --serve`) asks the lab for them over SSH
(`remote_lab=True`: services/monitoring/lab_remote.py, one `db2ops-lab cloudwatch view` per refresh).
All boto3 calls run in a worker thread (services.aws_clients.call).
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from services.alarm_model import (  # re-exported: the screens and tests import them from here
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
from services.inventory_model import Cluster

SPARK_POINTS = 60  # at most this many bars per sparkline
__all__ = [
    "OURS_PREFIX",
    "OURS_TAG",
    "STATE_ORDER",
    "AlarmHistory",
    "AlarmService",
    "AlarmServiceError",
    "AlarmView",
    "HistoryItem",
    "Source",
    "SubscriptionView",
    "bucket_points",
    "human_age",
    "is_ours",
    "lab_source_for",
    "register_lab_source",
    "sort_alarms",
    "unregister_lab_source",
]

_LAB_SOURCES: dict[str, Any] = {}
_LAB_LOCK = threading.Lock()


class AlarmServiceError(Exception):
    """Reading alarms failed; the message says what happened and what to do next."""


def register_lab_source(endpoint_url: str, source: Any) -> None:
    """Make `source` (a LabCloudWatch) the provider of lab-only values for clusters on `endpoint_url`."""
    with _LAB_LOCK:
        _LAB_SOURCES[endpoint_url] = source


def unregister_lab_source(endpoint_url: str, source: Any | None = None) -> None:
    """Forget the lab source of `endpoint_url` (only when it is `source`, if given)."""
    with _LAB_LOCK:
        if source is None or _LAB_SOURCES.get(endpoint_url) is source:
            _LAB_SOURCES.pop(endpoint_url, None)


def lab_source_for(endpoint_url: str | None) -> Any | None:
    """Return the registered lab source for `endpoint_url`, or None (real AWS, or no evaluator running)."""
    if not endpoint_url:
        return None
    with _LAB_LOCK:
        return _LAB_SOURCES.get(endpoint_url)


class AlarmService:
    """Reads one cluster's alarms. `client_factory(service)` returns a boto3 client (default: the cluster's
    aws settings through services.aws_clients); `lab` overrides the registered lab source. `remote_lab`
    lets a lab cluster with no lab in this process read the lab-only values from the lab's process over
    SSH, through `runner` (a HostRunner; default: a private SshPool that `close()` closes)."""

    def __init__(
        self,
        cluster: Cluster,
        *,
        client_factory: Callable[[str], Any] | None = None,
        lab: Any = None,
        clock: Callable[[], datetime] | None = None,
        inventory_source: str = "",
        remote_lab: bool = False,
        runner: Any = None,
    ) -> None:
        self.cluster = cluster
        self.inventory_source = inventory_source
        self._client_factory = client_factory
        self._lab = lab
        self.clock = clock or (lambda: datetime.now(UTC))
        self._tags: dict[str, dict[str, str]] = {}  # alarm ARN -> tags (they rarely change)
        self._confirmed: set[str] = set()  # e-mail subscription ARNs seen confirmed (never pending again)
        self._remote_wanted = remote_lab
        self._runner = runner
        self._remote: Any = None

    # ------------------------------------------------------------------ plumbing
    @property
    def lab(self) -> Any | None:
        """Return the lab evaluator serving this cluster's endpoint (None on real AWS)."""
        return self._lab if self._lab is not None else lab_source_for(self.cluster.aws.endpoint_url)

    @property
    def remote_lab(self) -> Any | None:
        """Return the RemoteLabAlarmValues of this cluster's lab when it runs in another process: asked for
        (`remote_lab=True`), no lab evaluator in this process, a lab cluster with AWS (as `setup monitoring
        --prove` decides). None otherwise (real AWS, or the lab is in this process)."""
        if not self._remote_wanted or self.lab is not None:
            return None
        if not (self.cluster.lab and self.cluster.aws.is_lab):
            return None
        if self._remote is None:
            from services.monitoring.lab_remote import RemoteLabAlarmValues

            self._remote = RemoteLabAlarmValues(self.cluster, self._runner)
        return self._remote

    @property
    def source(self) -> Source:
        return "lab" if self.lab is not None or self.remote_lab is not None else "aws"

    @property
    def lab_note(self) -> str:
        """Return why the lab in another process did not answer the last refresh ("" when it did)."""
        remote = self.remote_lab
        return f"lab values unavailable: {remote.note}" if remote is not None and remote.note else ""

    async def _lab_values(self, metric: tuple[str, str] | None = None) -> Any | None:
        """Return what answers lab-only reads now: the lab evaluator of this process, this refresh's values
        of the lab in another process, or None (real AWS). Raises AlarmServiceError when that lab did not
        answer (`lab_note` says the same)."""
        lab, remote = self.lab, self.remote_lab
        if remote is None:
            return lab
        from services.plans import StepFailed

        try:
            return await remote.values(metric)
        except StepFailed as exc:
            raise AlarmServiceError(self.lab_note or str(exc)) from exc

    async def close(self) -> None:
        """Close what reaches a lab in another process (its private SSH pool, if one was made)."""
        if self._remote is not None:
            await self._remote.close()

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

    async def _pages(self, service: str, method: str, key: str, token_key: str, **params: Any) -> list[dict]:
        items: list[dict] = []
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
        by_metric: dict[tuple[str, str], dict] = {}
        for f in filters:
            for t in f.get("metricTransformations", []):
                by_metric.setdefault((t.get("metricNamespace", ""), t.get("metricName", "")), f)
        await self._load_tags([a for a in alarms if not str(a.get("AlarmName", "")).startswith(OURS_PREFIX)])
        source = self.source
        views = [self._view(a, by_metric, source) for a in alarms]
        if self.remote_lab is not None:  # a new refresh: the next lab read asks the lab once for all of them
            self.remote_lab.begin_refresh((v.namespace, v.metric_name) for v in views if v.metric_name)
        return sort_alarms(views, self.cluster.name)

    async def _load_tags(self, alarms: list[dict]) -> None:
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

    def _view(self, a: dict, by_metric: dict[tuple[str, str], dict], source: Source) -> AlarmView:
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
        lab = await self._lab_values((alarm.namespace, alarm.metric_name))
        if lab is not None:
            points = lab.series(alarm.namespace, alarm.metric_name)
            return bucket_points(points, start_epoch, end_epoch, period, stat)
        result = await self._call(
            "cloudwatch",
            "get_metric_data",
            MetricDataQueries=[
                {
                    "Id": "m0",
                    "MetricStat": {
                        "Metric": {
                            "Namespace": alarm.namespace,
                            "MetricName": alarm.metric_name,
                            "Dimensions": list(alarm.raw.get("Dimensions", [])),
                        },
                        "Period": period,
                        "Stat": stat,
                    },
                    "ReturnData": True,
                }
            ],
            StartTime=datetime.fromtimestamp(start_epoch, UTC),
            EndTime=datetime.fromtimestamp(end_epoch, UTC),
        )
        series = (result.get("MetricDataResults") or [{}])[0]
        values = [
            (aware_utc(ts) or now, float(v))
            for ts, v in zip(series.get("Timestamps", []), series.get("Values", []), strict=False)
        ]
        return bucket_points(values, start_epoch, end_epoch, period, "Sum" if stat == "Sum" else "Maximum")

    # ------------------------------------------------------------------ SNS
    async def topic_subscriptions(self, topic_arn: str) -> list[SubscriptionView]:
        """Return the subscriptions of `topic_arn` with pending/confirmed status (on the lab, e-mail ones stay
        pending until confirmed with `db2ops-lab confirm-email`). Raises AlarmServiceError."""
        subs = await self._pages(
            "sns", "list_subscriptions_by_topic", "Subscriptions", "NextToken", TopicArn=topic_arn
        )
        try:
            lab = await self._lab_values()
        except AlarmServiceError:  # `lab_note` says why; AWS's own pending/confirmed is the next best
            lab = None
        out = []
        for s in subs:
            arn = str(s.get("SubscriptionArn", ""))
            protocol = str(s.get("Protocol", ""))
            if lab is not None and arn.startswith("arn:"):
                status, source = lab.subscription_status(arn, protocol), "lab"
            elif not arn.startswith("arn:"):  # AWS lists a pending subscription as "PendingConfirmation"
                status, source = "pending", "aws"
            else:
                status, source = await self._email_status(arn, protocol), "aws"
            out.append(SubscriptionView(str(s.get("Endpoint", "")), protocol, status, arn, source))
        return out

    async def _email_status(self, arn: str, protocol: str) -> str:
        """Return "pending" or "confirmed" for a listed subscription that has an ARN. An e-mail one may
        still be pending (subscribed with ReturnSubscriptionArn): ask once, a confirmed one stays so."""
        if not protocol.startswith("email") or arn in self._confirmed:
            return "confirmed"
        try:
            attrs = await self._call("sns", "get_subscription_attributes", SubscriptionArn=arn)
        except AlarmServiceError:  # no sns:GetSubscriptionAttributes: the list is all there is to go by
            return "confirmed"
        if str(attrs.get("Attributes", {}).get("PendingConfirmation", "false")).lower() == "true":
            return "pending"
        self._confirmed.add(arn)
        return "confirmed"

    # ------------------------------------------------------------------ history
    async def alarm_history(self, name: str, max_records: int = 100) -> AlarmHistory:
        """Return the alarm's history, newest first. On the lab: the evaluator's record.

        Raises AlarmServiceError; when the endpoint does not implement DescribeAlarmHistory (moto answers
        HTTP 500) the message says so.
        """
        lab, remote = self.lab, self.remote_lab
        if lab is not None or remote is not None:
            from services.plans import StepFailed

            try:
                items = lab.history(name) if lab is not None else await remote.history(name)
            except StepFailed as exc:
                raise AlarmServiceError(f"the lab's alarm history is unavailable: {exc}") from exc
            return AlarmHistory(name, tuple(history_item(i) for i in items[:max_records]), "lab")
        try:
            page = await self._call(
                "cloudwatch",
                "describe_alarm_history",
                AlarmName=name,
                MaxRecords=max_records,
                ScanBy="TimestampDescending",
            )
        except AlarmServiceError as exc:
            if self.cluster.aws.is_lab and ("(500" in str(exc) or "InternalError" in str(exc)):
                raise AlarmServiceError(
                    "this AWS endpoint (moto) does not implement DescribeAlarmHistory (HTTP 500); the lab's "
                    "CloudWatch evaluator keeps the history in the `db2ops lab` process: open :alarms in that "
                    f"console, or run `db2ops-lab cloudwatch history {name}` on a lab host"
                ) from exc
            raise
        return AlarmHistory(name, tuple(history_item(i) for i in page.get("AlarmHistoryItems", [])), "aws")

    async def lab_notifications(self, alarm_name: str) -> list[dict[str, Any]]:
        """Return the SNS messages the lab published for the alarm (newest last; TopicArn, NewStateValue,
        Timestamp, MessageId): [] on real AWS, which has no such record. Raises AlarmServiceError when the
        lab in another process did not answer."""
        lab = await self._lab_values()
        return [] if lab is None else list(lab.notifications_for(alarm_name))

    # ------------------------------------------------------------------ changes
    async def apply_change(self, step: Any, *, journal: Any = None, operator: str | None = None) -> Any:
        """Run one alarm step (services/alarm_steps.py) through the plan runner, guard and journal; return
        the PlanResult. Raises services.plans.WriteRefused on a read-only cluster (nothing is called)."""
        from services.alarm_steps import run_alarm_change

        return await run_alarm_change(
            self.cluster,
            step,
            client_factory=self._client_factory,
            journal=journal,
            operator=operator,
            inventory_source=self.inventory_source,
        )
