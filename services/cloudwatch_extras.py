"""CloudWatch extras: what the alarm screen and "prove it fires" read beyond listing alarms and filters.

Metric datapoints, the alarm history, whether an e-mail subscription is confirmed, the SNS messages an
alarm sent, and (for the proof) whether the evaluator tracks an alarm yet and who ships the test audit
record. On real AWS these are plain API reads (`AwsCloudWatchExtras`, here); where a lab plays CloudWatch
(moto evaluates nothing) the lab answers them (lab/backends.py: in this process, or over SSH). Services
read through the protocol and never ask "is this the lab": `source` says where the values come from, so
the screens can label them.

Each method that may read AWS takes `read`, the caller's reader `(service, operation, **params) -> dict`
(PlanContext.aws_read, or the alarm service's): errors keep the caller's wording and test doubles.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from services.alarms.model import Source, aware_utc, bucket_points
from services.inventory.model import Cluster
from services.ssh.runner import HostRunner

AwsRead = Callable[..., Awaitable[Any]]  # (service, operation, **params) -> the response dict
Point = tuple[datetime, float]


class CloudWatchExtras(Protocol):
    """What a CloudWatch backend answers beyond DescribeAlarms / DescribeMetricFilters."""

    source: Source  # "aws" or "lab": shown next to every value read through this backend
    fast_polls: bool  # answers locally and at once: the alarm screen may poll it often
    confirm_email_hint: (
        str  # how a pending e-mail subscription gets confirmed here, beyond the link ("" on AWS)
    )

    @property
    def note(self) -> str:
        """Why the last lab read failed ("" when it worked, always "" on AWS). Read-only: a backend may
        derive it (RemoteLabExtras asks its RemoteLabAlarmValues)."""

    def begin_refresh(self, metrics: Iterable[tuple[str, str]]) -> None:
        """A new screen refresh starts; `metrics` (namespace, name) are the ones it will ask about."""

    async def sparkline(
        self, read: AwsRead, metric: dict[str, Any], start_epoch: int, end_epoch: int, period: int, stat: str
    ) -> list[float]:
        """Return one value per `period` in [start_epoch, end_epoch) of `metric` (Namespace, MetricName,
        Dimensions), 0.0 where there is none."""

    async def alarm_history(self, read: AwsRead, name: str, max_records: int) -> list[dict[str, Any]]:
        """Return the alarm's history items (AWS shape), newest first."""

    async def subscription_status(self, read: AwsRead, arn: str, protocol: str) -> tuple[str, Source]:
        """Return ("pending" | "confirmed" | "unknown", where that came from) for a subscription with an ARN."""

    async def notifications(self, alarm_name: str) -> list[dict[str, Any]]:
        """Return the SNS messages recorded as sent for the alarm, oldest first ([] where none are kept)."""

    async def evaluator_tracks(self, alarm_name: str) -> bool:
        """Return True once the evaluator evaluates `alarm_name` from a state other than ALARM."""

    async def metric_tick(
        self, read: AwsRead, namespace: str, metric: str, event_at: datetime
    ) -> Point | None:
        """Return the first datapoint > 0 of the metric at or after `event_at`, or None (not yet)."""

    async def alarm_action(self, read: AwsRead, alarm_name: str, start: datetime) -> dict[str, str] | None:
        """Return {"detail": ...} once an SNS publish for the alarm's ALARM since `start` is seen,
        {"failed": why} when the action failed, None while nothing is seen."""

    async def test_metric_filter(self, read: AwsRead, pattern: str, messages: list[str]) -> int | None:
        """Return how many of `messages` the backend's own filter-pattern evaluator matches with `pattern`
        (AWS TestMetricFilter), or None when the backend has none (moto does not emulate it)."""

    async def ship_audit_record(self) -> list[str] | None:
        """Make the backend's log agent ship the runbook's test audit record; return its `statement text=`
        lines, or None when this backend has no agent (the cluster's own cron job extracts it)."""

    async def close(self) -> None:
        """Release what reaching the backend took (a private SSH pool)."""


def hms(value: Any) -> str:
    """Return HH:MM:SS of a datetime (other values as text, "?" for None)."""
    return value.strftime("%H:%M:%S") if isinstance(value, datetime) else str(value or "?")


class AwsCloudWatchExtras:
    """The extras as AWS answers them: GetMetricData, DescribeAlarmHistory, GetSubscriptionAttributes."""

    source: Source = "aws"
    fast_polls = False
    note = ""
    confirm_email_hint = ""

    def __init__(self) -> None:
        self._confirmed: set[str] = set()  # e-mail subscription ARNs seen confirmed (never pending again)

    def begin_refresh(self, metrics: Iterable[tuple[str, str]]) -> None:
        return None

    async def sparkline(
        self, read: AwsRead, metric: dict[str, Any], start_epoch: int, end_epoch: int, period: int, stat: str
    ) -> list[float]:
        result = await read(
            "cloudwatch",
            "GetMetricData",
            MetricDataQueries=[
                {
                    "Id": "m0",
                    "MetricStat": {"Metric": metric, "Period": period, "Stat": stat},
                    "ReturnData": True,
                }
            ],
            StartTime=datetime.fromtimestamp(start_epoch, UTC),
            EndTime=datetime.fromtimestamp(end_epoch, UTC),
        )
        series = (result.get("MetricDataResults") or [{}])[0]
        now = datetime.now(UTC)
        values = [
            (aware_utc(ts) or now, float(v))
            for ts, v in zip(series.get("Timestamps", []), series.get("Values", []), strict=False)
        ]
        # AWS already applied the statistic per period: re-bucketing only adds up (Sum) or keeps one value
        return bucket_points(values, start_epoch, end_epoch, period, "Sum" if stat == "Sum" else "Maximum")

    async def alarm_history(self, read: AwsRead, name: str, max_records: int) -> list[dict[str, Any]]:
        page = await read(
            "cloudwatch",
            "DescribeAlarmHistory",
            AlarmName=name,
            MaxRecords=max_records,
            ScanBy="TimestampDescending",
        )
        return list(page.get("AlarmHistoryItems", []))

    async def subscription_status(self, read: AwsRead, arn: str, protocol: str) -> tuple[str, Source]:
        """An e-mail subscription listed with an ARN may still be pending (subscribed with
        ReturnSubscriptionArn): ask once; a confirmed one stays so."""
        if not protocol.startswith("email") or arn in self._confirmed:
            return "confirmed", "aws"
        try:
            attrs = await read("sns", "GetSubscriptionAttributes", SubscriptionArn=arn)
        except Exception:  # no sns:GetSubscriptionAttributes: the list is all there is to go by
            return "confirmed", "aws"
        if str(attrs.get("Attributes", {}).get("PendingConfirmation", "false")).lower() == "true":
            return "pending", "aws"
        self._confirmed.add(arn)
        return "confirmed", "aws"

    async def notifications(self, alarm_name: str) -> list[dict[str, Any]]:
        return []  # AWS keeps no record of the messages an alarm published

    async def evaluator_tracks(self, alarm_name: str) -> bool:
        return True  # CloudWatch evaluates every alarm from the moment it exists

    async def metric_tick(
        self, read: AwsRead, namespace: str, metric: str, event_at: datetime
    ) -> Point | None:
        since = event_at.replace(second=0, microsecond=0)
        answer = await read(
            "cloudwatch",
            "GetMetricData",
            MetricDataQueries=[
                {
                    "Id": "proof",
                    "MetricStat": {
                        "Metric": {"Namespace": namespace, "MetricName": metric},
                        "Period": 60,
                        "Stat": "Sum",
                    },
                }
            ],
            StartTime=since - timedelta(minutes=1),
            EndTime=datetime.now(UTC) + timedelta(minutes=1),
        )
        for series in answer.get("MetricDataResults", []):
            for stamp, value in zip(series.get("Timestamps", []), series.get("Values", []), strict=False):
                if stamp >= since and value > 0:
                    return stamp, float(value)
        return None

    async def alarm_action(self, read: AwsRead, alarm_name: str, start: datetime) -> dict[str, str] | None:
        page = await read(
            "cloudwatch",
            "DescribeAlarmHistory",
            AlarmName=alarm_name,
            HistoryItemType="Action",
            StartDate=start,
        )
        for item in page.get("AlarmHistoryItems", []):
            summary = str(item.get("HistorySummary", ""))
            if summary.startswith("Successfully executed action"):
                return {
                    "detail": f"{summary} at {hms(item.get('Timestamp'))} (AWS confirms the publish to SNS; "
                    "whether the e-mail reached an inbox only the recipient can tell)"
                }
            if summary.startswith("Failed"):
                return {"failed": summary}
        return None

    async def test_metric_filter(self, read: AwsRead, pattern: str, messages: list[str]) -> int | None:
        answer = await read("logs", "TestMetricFilter", filterPattern=pattern, logEventMessages=messages)
        return len(answer.get("matches", []))

    async def ship_audit_record(self) -> list[str] | None:
        return None  # on AWS the cluster's cron job extracts the audit log and its agent ships it

    async def close(self) -> None:
        return None


def aws_cloudwatch_extras() -> CloudWatchExtras:
    """Return the extras of real AWS (the composition root's choice for a cluster that is not a lab)."""
    return AwsCloudWatchExtras()


# The composition root's choice, handed to what builds plan contexts: (cluster, its HostRunner) -> extras.
ExtrasFor = Callable[[Cluster, HostRunner | None], CloudWatchExtras]
