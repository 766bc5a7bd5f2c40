"""The reads "prove it fires" polls: the live filter and alarm, the test event in the log group, the
metric datapoint (lab series or GetMetricData), the alarm state, the SNS publish (lab record or alarm
history) and pending e-mail subscriptions. Each returns None while the link is not there yet; AWS errors
surface as StepFailed (PlanContext.aws_read).
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from services.monitoring.params import MonitoringParams
from services.plans import PlanContext, StepFailed


def hms(value: Any) -> str:
    """Return HH:MM:SS of a datetime (other values as text, "?" for None)."""
    return value.strftime("%H:%M:%S") if isinstance(value, datetime) else str(value or "?")


async def live_setup(ctx: PlanContext, params: MonitoringParams) -> dict[str, Any]:
    """Return the live filter pattern, metric and alarm (or {"missing": why}). Raises StepFailed."""
    page = await ctx.aws_read(
        "logs",
        "DescribeMetricFilters",
        logGroupName=params.audit_log_group,
        filterNamePrefix=params.audit_filter_name,
    )
    filt = next(
        (f for f in page.get("metricFilters", []) if f.get("filterName") == params.audit_filter_name), None
    )
    rerun = f"apply the monitoring plan first (:setup, or db2ops setup monitoring --cluster {ctx.cluster.name} --apply)"
    if filt is None:
        return {
            "missing": f"no metric filter {params.audit_filter_name} on {params.audit_log_group}: {rerun}"
        }
    transformation = (filt.get("metricTransformations") or [{}])[0]
    alarms = await ctx.aws_read("cloudwatch", "DescribeAlarms", AlarmNames=[params.audit_alarm_name])
    alarm = next(iter(alarms.get("MetricAlarms", [])), None)
    if alarm is None:
        return {"missing": f"no alarm {params.audit_alarm_name}: {rerun}"}
    actions = [a for a in alarm.get("AlarmActions", []) if a.startswith("arn:aws:sns:")]
    return {
        "pattern": filt.get("filterPattern", ""),
        "namespace": transformation.get("metricNamespace", ""),
        "metric": transformation.get("metricName", ""),
        "alarm": alarm,
        "alarm_rule": f"{alarm.get('Statistic')} over {alarm.get('Period')} s "
        f"{alarm.get('ComparisonOperator')} {alarm.get('Threshold'):g}",
        "state": alarm.get("StateValue"),
        "actions_enabled": bool(alarm.get("ActionsEnabled", True)),
        "topic_arn": actions[0] if actions else None,
    }


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


async def find_event(
    ctx: PlanContext, params: MonitoringParams, statement: str, start: datetime
) -> dict | None:
    wanted = _normal(statement)
    token = None
    while True:
        kwargs: dict[str, Any] = {
            "logGroupName": params.audit_log_group,
            "startTime": int(start.timestamp() * 1000),
        }
        if token:
            kwargs["nextToken"] = token
        page = await ctx.aws_read("logs", "FilterLogEvents", **kwargs)
        for event in page.get("events", []):
            if wanted in _normal(str(event.get("message", ""))):
                return event
        token = page.get("nextToken")
        if not token:
            return None


async def metric_tick(
    ctx: PlanContext, live: dict, event_at: datetime, lab_cw: Any
) -> tuple[datetime, float] | None:
    since = event_at.replace(second=0, microsecond=0)
    if lab_cw is not None:
        # the lab stamps each datapoint with its event's time: only ours counts, not an earlier run's
        series = await asyncio.to_thread(lab_cw.series, live["namespace"], live["metric"])
        points = [(t, v) for t, v in series if t >= event_at - timedelta(milliseconds=1) and v > 0]
        return points[0] if points else None
    answer = await ctx.aws_read(
        "cloudwatch",
        "GetMetricData",
        MetricDataQueries=[
            {
                "Id": "proof",
                "MetricStat": {
                    "Metric": {"Namespace": live["namespace"], "MetricName": live["metric"]},
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


async def alarm_in_alarm(ctx: PlanContext, params: MonitoringParams, start: datetime) -> dict | None:
    page = await ctx.aws_read("cloudwatch", "DescribeAlarms", AlarmNames=[params.audit_alarm_name])
    alarm = next(iter(page.get("MetricAlarms", [])), None)
    if alarm is None or alarm.get("StateValue") != "ALARM":
        return None
    stamp = alarm.get("StateUpdatedTimestamp")
    if isinstance(stamp, datetime) and stamp < start:
        return None  # an older ALARM (reset was not allowed): not ours
    return alarm


async def notification(
    ctx: PlanContext, params: MonitoringParams, start: datetime, lab_cw: Any
) -> dict | None:
    name = params.audit_alarm_name or ""
    if lab_cw is not None:
        sent = await asyncio.to_thread(lab_cw.notifications_for, name)
        ours = [n for n in sent if n.get("NewStateValue") == "ALARM" and n["Timestamp"] >= start]
        if not ours:
            failed = [
                h
                for h in await asyncio.to_thread(lab_cw.history, name)
                if h.get("HistoryItemType") == "Action" and "Failed" in h.get("HistorySummary", "")
            ]
            return {"failed": failed[0]["HistorySummary"]} if failed else None
        n = ours[-1]
        return {
            "detail": f"SNS message recorded: {n['Subject']!r} to {n['TopicArn']} (MessageId {n['MessageId']})"
        }
    page = await ctx.aws_read(
        "cloudwatch", "DescribeAlarmHistory", AlarmName=name, HistoryItemType="Action", StartDate=start
    )
    for item in page.get("AlarmHistoryItems", []):
        summary = str(item.get("HistorySummary", ""))
        if summary.startswith("Successfully executed action"):
            return {
                "detail": f"{summary} at {hms(item.get('Timestamp'))} (AWS confirms the publish to SNS; whether "
                "the e-mail reached an inbox only the recipient can tell)"
            }
        if summary.startswith("Failed"):
            return {"failed": summary}
    return None


async def pending_email(ctx: PlanContext, topic_arn: str | None, lab_cw: Any) -> str:
    """Return a note when an e-mail subscription of the topic is still pending (nobody gets the mail)."""
    if not topic_arn:
        return ""
    try:
        page = await ctx.aws_read("sns", "ListSubscriptionsByTopic", TopicArn=topic_arn)
    except StepFailed:
        return ""
    pending = []
    for sub in page.get("Subscriptions", []):
        if sub.get("Protocol") != "email":
            continue
        arn = str(sub.get("SubscriptionArn", ""))
        if lab_cw is not None:
            waiting = await asyncio.to_thread(lab_cw.subscription_status, arn) == "pending"
        else:
            waiting = not arn.startswith("arn:")
        if waiting:
            pending.append(str(sub.get("Endpoint", "?")))
    if not pending:
        return ""
    return f"e-mail subscription of {', '.join(pending)} is pending confirmation: nobody receives it until the link is clicked"
