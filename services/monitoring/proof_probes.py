"""The reads "prove it fires" polls through the plan context: the live filter and alarm, the test event
in the log group, the alarm state and pending e-mail subscriptions (the datapoint and the SNS publish are
the CloudWatch backend's: services/cloudwatch_extras.py). Each returns None while the link is not there yet; AWS errors
surface as StepFailed (PlanContext.aws_read).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.cloudwatch_extras import CloudWatchExtras
from services.monitoring.params import MonitoringParams
from services.plans import PlanContext, StepFailed


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
) -> dict[str, Any] | None:
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
        event: dict[str, Any]
        for event in page.get("events", []):
            if wanted in _normal(str(event.get("message", ""))):
                return event
        token = page.get("nextToken")
        if not token:
            return None


async def alarm_in_alarm(
    ctx: PlanContext, params: MonitoringParams, start: datetime
) -> dict[str, Any] | None:
    page = await ctx.aws_read("cloudwatch", "DescribeAlarms", AlarmNames=[params.audit_alarm_name])
    alarm: dict[str, Any] | None = next(iter(page.get("MetricAlarms", [])), None)
    if alarm is None or alarm.get("StateValue") != "ALARM":
        return None
    stamp = alarm.get("StateUpdatedTimestamp")
    if isinstance(stamp, datetime) and stamp < start:
        return None  # an older ALARM (reset was not allowed): not ours
    return alarm


async def pending_email(ctx: PlanContext, topic_arn: str | None, extras: CloudWatchExtras) -> str:
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
        if not arn.startswith("arn:"):  # AWS lists a pending subscription as "PendingConfirmation"
            waiting = True
        else:
            status, _ = await extras.subscription_status(ctx.aws_read, arn, "email")
            waiting = status == "pending"
        if waiting:
            pending.append(str(sub.get("Endpoint", "?")))
    if not pending:
        return ""
    return f"e-mail subscription of {', '.join(pending)} is pending confirmation: nobody receives it until the link is clicked"
