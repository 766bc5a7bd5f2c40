"""Runbook actions 5-7 on AWS: SNS topic + email subscription, metric filters (pattern tested first),
alarms. Every call is an upsert or guarded by a lookup, so a retried step never creates a duplicate.
"""

from __future__ import annotations

from typing import Any

from services.monitoring.params import (
    NO_EMAIL_WARNING,
    RUNBOOK_AUDIT_PATTERN,
    RUNBOOK_DIAG_PATTERN,
    MonitoringParams,
)
from services.monitoring.pattern_test import (
    Sample,
    audit_samples,
    diag_samples,
    recent_messages,
    test_pattern,
)
from services.plans import AwsCall, AwsCallStep, PlanContext, StepFailed, StepState, VerifiedByCheck

ALARM_EXPLAIN = (
    "Period 60 s, Sum >= 1, missing data not breaching: any matching event in a minute alarms, quiet "
    "minutes are OK. The runbook's 10-second Minimum alarm does not work on a metric-filter metric: those "
    "metrics are published once a minute (standard resolution), so a 10 s period finds no datapoint 5 "
    "times out of 6 (INSUFFICIENT_DATA / flapping) and is billed as a high-resolution alarm."
)


async def find_topic_arn(ctx: PlanContext, name: str) -> str | None:
    """Return the ARN of the SNS topic called `name` in the cluster's account/region, or None."""
    token: str | None = None
    while True:
        page = await ctx.aws_read("sns", "ListTopics", **({"NextToken": token} if token else {}))
        for topic in page.get("Topics", []):
            arn = str(topic.get("TopicArn", ""))
            if arn.rsplit(":", 1)[-1] == name:
                return arn
        token = page.get("NextToken")
        if not token:
            return None


async def _subscriptions(ctx: PlanContext, topic_arn: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"TopicArn": topic_arn, **({"NextToken": token} if token else {})}
        page = await ctx.aws_read("sns", "ListSubscriptionsByTopic", **kwargs)
        out += page.get("Subscriptions", [])
        token = page.get("NextToken")
        if not token:
            return out


async def subscription_state(ctx: PlanContext, sub: dict[str, Any]) -> str:
    """Return "pending confirmation" or "confirmed" for a subscription listed by ListSubscriptionsByTopic."""
    arn = str(sub.get("SubscriptionArn", ""))
    if arn == "PendingConfirmation" or not arn.startswith("arn:"):
        return "pending confirmation"
    attrs = await ctx.aws_read("sns", "GetSubscriptionAttributes", SubscriptionArn=arn)
    pending = str(attrs.get("Attributes", {}).get("PendingConfirmation", "false")).lower() == "true"
    return "pending confirmation" if pending else "confirmed"


class SnsTopicStep(VerifiedByCheck, AwsCallStep):
    """Create the topic (idempotent by name) and subscribe the e-mail address (once)."""

    def __init__(self, params: MonitoringParams) -> None:
        who = f" and e-mail subscription {params.email}" if params.email else ""
        super().__init__(
            id="sns-topic",
            title=f"SNS topic {params.sns_topic_name}{who}",
            explain="Alarms notify this topic. An e-mail subscription stays 'pending confirmation' until the "
            "person clicks the link AWS e-mails them; until then nothing is delivered."
            + ("" if params.email else f" {NO_EMAIL_WARNING}"),
        )
        self.params = params

    async def _state(self, ctx: PlanContext) -> dict[str, Any]:
        arn = await find_topic_arn(ctx, self.params.sns_topic_name or "")
        sub, state = None, ""
        if arn and self.params.email:
            for candidate in await _subscriptions(ctx, arn):
                if candidate.get("Protocol") == "email" and candidate.get("Endpoint") == self.params.email:
                    sub, state = candidate, await subscription_state(ctx, candidate)
                    break
        facts = {"topic_arn": arn, "subscription": sub, "subscription_state": state}
        ctx.facts[self.id] = facts
        return facts

    async def check(self, ctx: PlanContext) -> StepState:
        facts = await self._state(ctx)
        arn = facts["topic_arn"]
        warning = "" if self.params.email else f"; {NO_EMAIL_WARNING}"
        if arn is None:
            return StepState(False, f"topic {self.params.sns_topic_name} does not exist{warning}")
        if self.params.email and facts["subscription"] is None:
            return StepState(False, f"topic {arn} exists; {self.params.email} is not subscribed")
        detail = f"topic {arn}{warning}"
        if self.params.email:
            detail += f"; {self.params.email}: {facts['subscription_state']}"
            if facts["subscription_state"] != "confirmed":
                detail += " (the person must click the link in the e-mail from AWS"
                hint = ctx.extras.confirm_email_hint
                detail += f"; {hint})" if hint else ")"
        return StepState(True, detail)

    def calls(self, ctx: PlanContext) -> list[AwsCall]:
        arn = (ctx.facts.get(self.id) or {}).get("topic_arn")
        out = [] if arn else [AwsCall("sns", "CreateTopic", {"Name": self.params.sns_topic_name})]
        if self.params.email and not (ctx.facts.get(self.id) or {}).get("subscription"):
            out.append(
                AwsCall(
                    "sns",
                    "Subscribe",
                    {
                        "TopicArn": arn or "<TopicArn returned by CreateTopic>",
                        "Protocol": "email",
                        "Endpoint": self.params.email,
                        "ReturnSubscriptionArn": True,
                    },
                )
            )
        return out

    async def apply(self, ctx: PlanContext) -> None:
        facts = await self._state(ctx)
        arn = facts["topic_arn"]
        if arn is None:  # CreateTopic is idempotent by name: a retry returns the same ARN
            arn = (await ctx.aws_write("sns", "CreateTopic", Name=self.params.sns_topic_name))["TopicArn"]
        if self.params.email and facts["subscription"] is None:
            await ctx.aws_write(
                "sns",
                "Subscribe",
                TopicArn=arn,
                Protocol="email",
                Endpoint=self.params.email,
                ReturnSubscriptionArn=True,
            )


class MetricFilterStep(VerifiedByCheck, AwsCallStep):
    """A metric filter on a log group; the pattern is tested on samples and recent events first."""

    def __init__(
        self,
        *,
        id: str,
        title: str,
        params: MonitoringParams,
        log_group: str,
        filter_name: str,
        metric_name: str,
        pattern: str,
        runbook_pattern: str,
        samples: list[Sample],
    ) -> None:
        super().__init__(
            id=id,
            title=title,
            explain=f"Pattern {pattern!r} (the runbook's is {runbook_pattern!r}: filter-pattern terms are "
            "case-sensitive, so it misses or over-matches events; see the test result). Each matching event "
            f"adds 1 to {params.metric_namespace}/{metric_name}.",
        )
        self.params = params
        self.log_group = log_group
        self.filter_name = filter_name
        self.metric_name = metric_name
        self.pattern = pattern
        self.runbook_pattern = runbook_pattern
        self.samples = samples

    @property
    def transformation(self) -> dict[str, Any]:
        return {
            "metricName": self.metric_name,
            "metricNamespace": self.params.metric_namespace,
            "metricValue": "1",
        }

    async def _group_exists(self, ctx: PlanContext) -> bool:
        page = await ctx.aws_read("logs", "DescribeLogGroups", logGroupNamePrefix=self.log_group)
        return any(g.get("logGroupName") == self.log_group for g in page.get("logGroups", []))

    async def _ours(self, ctx: PlanContext) -> list[dict[str, Any]]:
        """Return every filter of the group named exactly like ours (AWS keeps at most one)."""
        found: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = await ctx.aws_read(
                "logs",
                "DescribeMetricFilters",
                logGroupName=self.log_group,
                filterNamePrefix=self.filter_name,
                **({"nextToken": token} if token else {}),
            )
            found += [f for f in page.get("metricFilters", []) if f.get("filterName") == self.filter_name]
            token = page.get("nextToken")
            if not token:
                return found

    async def check(self, ctx: PlanContext) -> StepState:
        exists = await self._group_exists(ctx)
        ours: list[dict[str, Any]] = []
        messages: list[str] = []
        if exists:
            ours = await self._ours(ctx)
            messages = await recent_messages(
                ctx, self.log_group, self.params.pattern_test_lookback_s, self.params.pattern_test_max_events
            )
        current = ours[-1] if ours else None
        report = await test_pattern(ctx, self.pattern, self.runbook_pattern, self.samples, messages)
        ctx.facts[self.id] = {
            "group_exists": exists,
            "current": current,
            "duplicates": len(ours) if len(ours) > 1 else 0,
            "report": report,
        }
        if len(ours) == 1 and current is not None and current.get("filterPattern") == self.pattern:
            got = (current.get("metricTransformations") or [{}])[0]
            if all(got.get(k) == v for k, v in self.transformation.items()):
                return StepState(True, f"filter {self.filter_name} present; {report.summary()}")
        if not exists:
            what = "log group missing"
        elif current is None:
            what = "filter missing"
        elif len(ours) > 1:
            # AWS replaces a filter of the same name; an emulator that appends leaves several behind.
            what = f"filter differs ({len(ours)} filters are named {self.filter_name})"
        else:
            what = "filter differs"
        return StepState(False, f"{what}; {report.summary()}")

    def _put(self) -> AwsCall:
        return AwsCall(
            "logs",
            "PutMetricFilter",
            {
                "logGroupName": self.log_group,
                "filterName": self.filter_name,
                "filterPattern": self.pattern,
                "metricTransformations": [self.transformation],
            },
        )

    def _delete(self, note: str = "") -> AwsCall:
        params = {"logGroupName": self.log_group, "filterName": self.filter_name}
        return AwsCall("logs", "DeleteMetricFilter", params, note=note)

    def calls(self, ctx: PlanContext) -> list[AwsCall]:
        facts = ctx.facts.get(self.id) or {}
        out = []
        if not facts.get("group_exists", False):
            out.append(
                AwsCall(
                    "logs", "CreateLogGroup", {"logGroupName": self.log_group}, note="the group is missing"
                )
            )
        if facts.get("duplicates"):
            out.append(
                self._delete(
                    f"{facts['duplicates']} filters are named {self.filter_name}: all are removed, then "
                    "one is put"
                )
            )
        out.append(self._put())
        return out

    async def _delete_all(self, ctx: PlanContext) -> None:
        """Delete every filter named like ours; raises StepFailed when some remain."""
        ours = await self._ours(ctx)
        for _ in range(len(ours) + 1):  # an emulator may drop only one of several per call
            if not ours:
                return
            await ctx.aws_write("logs", "DeleteMetricFilter", **self._delete().params)
            ours = await self._ours(ctx)
        raise StepFailed(
            f"{len(ours)} metric filters named {self.filter_name} remain on {self.log_group} after "
            f"DeleteMetricFilter; delete them (aws logs delete-metric-filter --log-group-name "
            f"{self.log_group} --filter-name {self.filter_name}) and re-run the plan"
        )

    async def apply(self, ctx: PlanContext) -> None:
        # Look again: the agent may have created the group since the check (CreateLogGroup is not an upsert).
        exists = await self._group_exists(ctx)
        ctx.facts.setdefault(self.id, {})["group_exists"] = exists
        if not exists:
            await ctx.aws_write("logs", "CreateLogGroup", logGroupName=self.log_group)
        elif len(await self._ours(ctx)) > 1:
            await self._delete_all(ctx)
        put = self._put()
        await ctx.aws_write(put.service, put.operation, **put.params)
        # AWS replaces a filter of the same name. An emulator that appends instead (moto 5.2.1) now holds
        # the old and the new one: remove both and put ours once more, so exactly one remains.
        if len(await self._ours(ctx)) > 1:
            await self._delete_all(ctx)
            await ctx.aws_write(put.service, put.operation, **put.params)


class AlarmStep(VerifiedByCheck, AwsCallStep):
    """A metric alarm on a filter's metric, notifying the SNS topic (PutMetricAlarm is an upsert by name)."""

    def __init__(
        self, *, id: str, title: str, params: MonitoringParams, alarm_name: str, metric_name: str
    ) -> None:
        super().__init__(id=id, title=title, explain=ALARM_EXPLAIN)
        self.params = params
        self.alarm_name = alarm_name
        self.metric_name = metric_name

    def _params(self, topic_arn: str) -> dict[str, Any]:
        p = self.params
        return {
            "AlarmName": self.alarm_name,
            "AlarmDescription": f"db2ops monitoring: {self.metric_name} (metric filter) >= {p.alarm_threshold:g}",
            "MetricName": self.metric_name,
            "Namespace": p.metric_namespace,
            "Statistic": p.alarm_statistic,
            "Period": p.alarm_period,
            "EvaluationPeriods": p.alarm_evaluation_periods,
            "DatapointsToAlarm": p.alarm_evaluation_periods,
            "Threshold": float(p.alarm_threshold),
            "ComparisonOperator": p.alarm_comparison,
            "TreatMissingData": p.alarm_treat_missing_data,
            "ActionsEnabled": True,
            "AlarmActions": [topic_arn],
        }

    async def _alarm(self, ctx: PlanContext) -> dict[str, Any] | None:
        """Return our alarm as DescribeAlarms lists it, or None."""
        page = await ctx.aws_read("cloudwatch", "DescribeAlarms", AlarmNames=[self.alarm_name])
        return next(iter(page.get("MetricAlarms", [])), None)

    async def check(self, ctx: PlanContext) -> StepState:
        arn = await find_topic_arn(ctx, self.params.sns_topic_name or "")
        alarm = await self._alarm(ctx)
        ctx.facts[self.id] = {"topic_arn": arn, "alarm": alarm}
        if alarm is None:
            return StepState(False, f"alarm {self.alarm_name} does not exist")
        if arn is None:
            return StepState(False, f"alarm exists but topic {self.params.sns_topic_name} does not")
        want = self._params(arn)
        differs = [
            f"{key} ({alarm.get(key)!r} -> {value!r}"
            + (": apply unmutes its actions)" if key == "ActionsEnabled" else ")")
            for key, value in want.items()
            if key not in ("AlarmDescription", "DatapointsToAlarm", "AlarmActions")
            and alarm.get(key) != value
        ]
        if arn not in alarm.get("AlarmActions", []):
            differs.append(f"AlarmActions (topic {self.params.sns_topic_name} is added)")
        if differs:
            return StepState(False, f"alarm {self.alarm_name} differs in {', '.join(differs)}")
        # the label of the backend's values: where the lab plays CloudWatch, its evaluator set the state
        lab = " (state set by the lab's evaluator)" if ctx.extras.source == "lab" else ""
        return StepState(True, f"alarm {self.alarm_name} is {alarm.get('StateValue', '?')}{lab}")

    def _put(self, topic_arn: str, alarm: dict[str, Any] | None) -> dict[str, Any]:
        params = self._params(topic_arn)
        if alarm is not None:  # keep actions someone else added to our alarm
            params["AlarmActions"] = list(dict.fromkeys([*alarm.get("AlarmActions", []), topic_arn]))
        return params

    def calls(self, ctx: PlanContext) -> list[AwsCall]:
        facts = ctx.facts.get(self.id) or {}
        arn = facts.get("topic_arn")
        note = "" if arn else "the topic ARN is known once step sns-topic ran"
        topic = arn or f"<ARN of SNS topic {self.params.sns_topic_name}>"
        return [AwsCall("cloudwatch", "PutMetricAlarm", self._put(topic, facts.get("alarm")), note=note)]

    async def apply(self, ctx: PlanContext) -> None:
        arn = await find_topic_arn(ctx, self.params.sns_topic_name or "")
        if arn is None:
            raise StepFailed(
                f"SNS topic {self.params.sns_topic_name} does not exist; run step sns-topic first"
            )
        await ctx.aws_write("cloudwatch", "PutMetricAlarm", **self._put(arn, await self._alarm(ctx)))


def metric_filter_steps(params: MonitoringParams) -> list[MetricFilterStep]:
    """Return the two filters: sensitive-table access (audit log) and db2diag Error/Severe (diag log)."""
    return [
        MetricFilterStep(
            id="metric-filter-audit",
            title=f"Metric filter: access to {params.table} by anyone but {params.app_user}",
            params=params,
            log_group=params.audit_log_group or "",
            filter_name=params.audit_filter_name,
            metric_name=params.audit_metric_name,
            pattern=params.effective_audit_pattern,
            runbook_pattern=RUNBOOK_AUDIT_PATTERN,
            samples=audit_samples(params.table_schema, params.table_name, params.app_user),
        ),
        MetricFilterStep(
            id="metric-filter-diag",
            title="Metric filter: db2diag records of level Error or Severe (and worse)",
            params=params,
            log_group=params.diag_log_group or "",
            filter_name=params.diag_filter_name,
            metric_name=params.diag_metric_name,
            pattern=params.effective_diag_pattern,
            runbook_pattern=RUNBOOK_DIAG_PATTERN,
            samples=diag_samples(),
        ),
    ]


def alarm_steps(params: MonitoringParams) -> list[AlarmStep]:
    """Return the two alarms on the filters' metrics."""
    return [
        AlarmStep(
            id="alarm-audit",
            title=f"Alarm {params.audit_alarm_name}",
            params=params,
            alarm_name=params.audit_alarm_name or "",
            metric_name=params.audit_metric_name,
        ),
        AlarmStep(
            id="alarm-diag",
            title=f"Alarm {params.diag_alarm_name}",
            params=params,
            alarm_name=params.diag_alarm_name or "",
            metric_name=params.diag_metric_name,
        ),
    ]
