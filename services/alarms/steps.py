"""Changes the alarm screen makes, as plan steps: mute/unmute actions, test-fire, edit threshold/period,
delete. Each runs through the plan runner (check -> dry run -> confirm -> apply -> verify), the one write
guard (read-only clusters refuse) and the operator journal, like every other change db2ops makes.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.alarms.mute import MuteRequest, format_utc, mute_details
from services.inventory.model import Cluster
from services.plans import (
    AwsCall,
    AwsCallStep,
    Journal,
    Plan,
    PlanContext,
    PlanResult,
    StepFailed,
    StepState,
    run_plan,
)
from services.plans.journal import journal_for

SHORT_PERIODS = (10, 20, 30)  # AWS: 10, 20, 30 or any multiple of 60
TEST_FIRE_REASON = "db2ops test-fire by {user}"
# PutMetricAlarm parameters an existing alarm carries over unchanged when one value is edited.
_PUT_KEYS = (
    "AlarmName",
    "AlarmDescription",
    "ActionsEnabled",
    "OKActions",
    "AlarmActions",
    "InsufficientDataActions",
    "MetricName",
    "Namespace",
    "Statistic",
    "ExtendedStatistic",
    "Dimensions",
    "Period",
    "Unit",
    "EvaluationPeriods",
    "DatapointsToAlarm",
    "Threshold",
    "ComparisonOperator",
    "TreatMissingData",
    "EvaluateLowSampleCountPercentile",
    "Metrics",
    "ThresholdMetricId",
)


class AlarmEditError(ValueError):
    """An edit AWS would refuse (or that makes no sense); the message says which values are valid."""


def check_period(period: int) -> int:
    """Return `period` when AWS accepts it for an alarm (10, 20, 30 or a multiple of 60 seconds).

    Raises AlarmEditError otherwise (moto accepts 15 or 45; AWS refuses them).
    """
    if isinstance(period, bool) or not isinstance(period, int):
        raise AlarmEditError(f"period {period!r} must be a whole number of seconds")
    if period in SHORT_PERIODS or (period >= 60 and period % 60 == 0):
        return period
    raise AlarmEditError(
        f"period {period} s is not accepted by CloudWatch: use 10, 20, 30 or a multiple of 60 "
        "(60 for metric-filter metrics, which are published once a minute)"
    )


def check_threshold(threshold: float | str) -> float:
    """Return `threshold` (a number, or the text the DBA typed) as a float; raise AlarmEditError when it is
    not a finite number."""
    try:
        value = float(threshold)
    except (TypeError, ValueError):
        raise AlarmEditError(f"threshold {threshold!r} is not a number") from None
    if math.isnan(value) or math.isinf(value):
        raise AlarmEditError(f"threshold {threshold!r} must be a finite number")
    return value


def put_params(alarm: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """Return PutMetricAlarm parameters that recreate `alarm` (a describe_alarms dict) with `changes`."""
    params = {k: alarm[k] for k in _PUT_KEYS if alarm.get(k) not in (None, "", [])}
    if params.get("Metrics"):
        params.pop("MetricName", None)
        params.pop("Namespace", None)
        params.pop("Statistic", None)
        params.pop("Period", None)
    params.update(changes)
    return params


class _AlarmStep(AwsCallStep):
    def __init__(self, *, id: str, title: str, alarm_name: str, explain: str = "") -> None:
        super().__init__(id=id, title=title, explain=explain)
        self.alarm_name = alarm_name

    async def read(self, ctx: PlanContext) -> dict[str, Any] | None:
        """Return the alarm's describe_alarms dict (None when it does not exist) and remember it in facts."""
        page = await ctx.aws_read("cloudwatch", "DescribeAlarms", AlarmNames=[self.alarm_name])
        alarm = next(iter(page.get("MetricAlarms", [])), None)
        ctx.facts[self.id] = {"alarm": alarm}
        return alarm

    async def existing(self, ctx: PlanContext) -> dict[str, Any]:
        alarm = await self.read(ctx)
        if alarm is None:
            raise StepFailed(f"alarm {self.alarm_name} does not exist (deleted meanwhile?); refresh the list")
        return alarm

    async def verify(self, ctx: PlanContext) -> bool | str:
        state = await self.check(ctx)
        return True if state.done else state.detail


class MuteAlarmStep(_AlarmStep):
    """Disable (mute) or enable the alarm's actions: the state still changes, nobody is notified.

    A mute from the console carries `request` (why, and until when): it is in the step's title and in the
    journal lines' details, where the alarm screen reads who muted it, why and until when."""

    def __init__(self, alarm_name: str, *, mute: bool, request: MuteRequest | None = None) -> None:
        verb = "Mute" if mute else "Unmute"
        title = f"{verb} the actions of alarm {alarm_name}"
        if mute and request is not None:
            until = f"until {format_utc(request.until)}" if request.until else "no expiry"
            title += f" ({until}): {request.reason}"
        super().__init__(
            id="alarm-mute" if mute else "alarm-unmute",
            title=title,
            alarm_name=alarm_name,
            explain="A muted alarm still changes state but sends no SNS notification until unmuted.",
        )
        self.mute = mute
        self.request = request if mute else None

    def journal_details(self) -> dict[str, Any]:
        return mute_details(self.alarm_name, self.request)

    async def check(self, ctx: PlanContext) -> StepState:
        alarm = await self.existing(ctx)
        enabled = bool(alarm.get("ActionsEnabled", True))
        if enabled != self.mute:
            return StepState(True, f"actions are already {'disabled' if self.mute else 'enabled'}")
        return StepState(False, f"actions are {'enabled' if enabled else 'disabled'}")

    def calls(self, ctx: PlanContext) -> list[AwsCall]:
        op = "DisableAlarmActions" if self.mute else "EnableAlarmActions"
        note = ""
        if self.request is not None:
            until = f"until {format_utc(self.request.until)}" if self.request.until else "no expiry"
            note = f"muted by {ctx.operator} ({until}): {self.request.reason}"
        return [AwsCall("cloudwatch", op, {"AlarmNames": [self.alarm_name]}, note=note)]


class TestFireStep(_AlarmStep):
    """Set the alarm to ALARM by hand (SetAlarmState): its actions run and subscribers are notified; the
    next evaluation puts it back to what the metric says."""

    __test__ = False  # not a pytest class

    def __init__(self, alarm_name: str) -> None:
        super().__init__(
            id="alarm-test-fire",
            title=f"TEST-FIRE alarm {alarm_name} (SetAlarmState ALARM)",
            alarm_name=alarm_name,
            explain="A test: the alarm goes to ALARM now and notifies its SNS subscribers; CloudWatch puts it "
            "back at its next evaluation (about a minute).",
        )

    def reason(self, ctx: PlanContext) -> str:
        return TEST_FIRE_REASON.format(user=ctx.operator)

    async def check(self, ctx: PlanContext) -> StepState:
        alarm = await self.existing(ctx)
        muted = "" if alarm.get("ActionsEnabled", True) else " (actions are muted: nobody will be notified)"
        if alarm.get("StateValue") == "ALARM" and not muted:
            # SetAlarmState runs the actions only "when the updated state differs from the previous value".
            muted = " again: no state change, so CloudWatch runs no action and nobody is notified"
        return StepState(False, f"alarm is {alarm.get('StateValue')}; a test-fire sets ALARM{muted}")

    def calls(self, ctx: PlanContext) -> list[AwsCall]:
        data = {"db2ops": "test-fire", "by": ctx.operator}
        params = {
            "AlarmName": self.alarm_name,
            "StateValue": "ALARM",
            "StateReason": self.reason(ctx),
            "StateReasonData": json.dumps(data),
        }
        return [AwsCall("cloudwatch", "SetAlarmState", params, note="a test: subscribers are notified")]

    async def verify(self, ctx: PlanContext) -> bool | str:
        alarm = await self.existing(ctx)
        if alarm.get("StateValue") == "ALARM" and alarm.get("StateReason") == self.reason(ctx):
            return True
        return (
            f"alarm is {alarm.get('StateValue')} ({alarm.get('StateReason')}): CloudWatch re-evaluated it "
            "already or the state did not change; see its history"
        )


class EditAlarmStep(_AlarmStep):
    """Change the threshold and/or period (PutMetricAlarm with every other setting preserved)."""

    def __init__(self, alarm_name: str, *, threshold: float | None = None, period: int | None = None) -> None:
        if threshold is None and period is None:
            raise AlarmEditError("nothing to change: give a threshold and/or a period")
        self.threshold = None if threshold is None else check_threshold(threshold)
        self.period = None if period is None else check_period(period)
        what = ", ".join(
            x
            for x in (
                f"threshold {self.threshold:g}" if self.threshold is not None else "",
                f"period {self.period} s" if self.period is not None else "",
            )
            if x
        )
        super().__init__(id="alarm-edit", title=f"Edit alarm {alarm_name}: {what}", alarm_name=alarm_name)

    def changes(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.threshold is not None:
            out["Threshold"] = self.threshold
        if self.period is not None:
            out["Period"] = self.period
        return out

    async def check(self, ctx: PlanContext) -> StepState:
        alarm = await self.existing(ctx)
        if alarm.get("Metrics") and self.period is not None:
            raise StepFailed(f"alarm {self.alarm_name} uses metric math: edit its period in the console")
        differs = [f"{k} {alarm.get(k)!r} -> {v!r}" for k, v in self.changes().items() if alarm.get(k) != v]
        if not differs:
            return StepState(True, "already " + ", ".join(f"{k} {v!r}" for k, v in self.changes().items()))
        return StepState(False, "; ".join(differs))

    def calls(self, ctx: PlanContext) -> list[AwsCall]:
        alarm = (ctx.facts.get(self.id) or {}).get("alarm") or {"AlarmName": self.alarm_name}
        return [AwsCall("cloudwatch", "PutMetricAlarm", put_params(alarm, **self.changes()))]

    async def apply(self, ctx: PlanContext) -> None:
        alarm = await self.existing(ctx)  # read again: keep whatever changed since the check
        await ctx.aws_write("cloudwatch", "PutMetricAlarm", **put_params(alarm, **self.changes()))


class DeleteAlarmStep(_AlarmStep):
    """Delete the alarm (DeleteAlarms). Its metric filter and SNS topic stay."""

    def __init__(self, alarm_name: str) -> None:
        super().__init__(
            id="alarm-delete",
            title=f"Delete alarm {alarm_name}",
            alarm_name=alarm_name,
            explain="The metric filter, its metric and the SNS topic are kept; re-create the alarm with "
            "`db2ops setup monitoring`.",
        )

    async def check(self, ctx: PlanContext) -> StepState:
        alarm = await self.read(ctx)
        if alarm is None:
            return StepState(True, f"alarm {self.alarm_name} does not exist")
        return StepState(False, f"alarm {self.alarm_name} exists ({alarm.get('StateValue')})")

    def calls(self, ctx: PlanContext) -> list[AwsCall]:
        return [AwsCall("cloudwatch", "DeleteAlarms", {"AlarmNames": [self.alarm_name]})]


class SubscribeEmailStep(_AlarmStep):
    """Subscribe an e-mail address to the SNS topic the alarm notifies (the runbook's subscription; the
    monitoring plan makes it only when an address was given). Pending until the person confirms it."""

    def __init__(self, alarm_name: str, email: str) -> None:
        from services.monitoring.params import valid_email

        if not valid_email(email):
            raise AlarmEditError(f"{email!r} is not an e-mail address like dba-team@example.com")
        super().__init__(
            id="alarm-subscribe",
            title=f"Subscribe {email} to the SNS topic of {alarm_name}",
            alarm_name=alarm_name,
            explain="AWS e-mails a confirmation link; nothing is delivered until the person clicks it.",
        )
        self.email = email

    def journal_details(self) -> dict[str, Any]:
        return {"email": self.email}

    async def _topic(self, ctx: PlanContext) -> str:
        alarm = await self.existing(ctx)
        topics = [a for a in alarm.get("AlarmActions", []) if str(a).startswith("arn:aws:sns:")]
        if not topics:
            raise StepFailed(
                f"alarm {self.alarm_name} notifies no SNS topic: re-create it with `db2ops setup monitoring`"
            )
        return str(topics[0])

    async def check(self, ctx: PlanContext) -> StepState:
        topic = await self._topic(ctx)
        ctx.facts[self.id] = {"topic": topic}
        page = await ctx.aws_read("sns", "ListSubscriptionsByTopic", TopicArn=topic)
        for sub in page.get("Subscriptions", []):
            if sub.get("Protocol") == "email" and sub.get("Endpoint") == self.email:
                return StepState(True, f"{self.email} is subscribed to {topic}")
        return StepState(False, f"{self.email} is not subscribed to {topic}")

    def calls(self, ctx: PlanContext) -> list[AwsCall]:
        topic = (ctx.facts.get(self.id) or {}).get("topic", "<the alarm's SNS topic>")
        params = {
            "TopicArn": topic,
            "Protocol": "email",
            "Endpoint": self.email,
            "ReturnSubscriptionArn": True,
        }
        return [AwsCall("sns", "Subscribe", params)]


def alarm_plan(cluster: Cluster, step: _AlarmStep) -> Plan:
    """Return the one-step plan for an alarm change (plan name = the step id)."""
    return Plan(name=step.id, cluster=cluster, steps=[step], title=step.title)


class _NoHosts:
    """Alarm changes never run host commands; the runner slot of PlanContext is filled with this."""

    async def run(self, host: Any, argv: Any, **kwargs: Any) -> Any:
        raise StepFailed("alarm changes do not run commands on hosts")


async def run_alarm_change(
    cluster: Cluster,
    step: _AlarmStep,
    *,
    mode: str = "apply",
    confirm: Callable[[PlanResult], Any] | None = None,
    journal: Journal | None = None,
    operator: str | None = None,
    client_factory: Callable[[str], Any] | None = None,
    state_dir: Path | None = None,
    inventory_source: str = "",
) -> PlanResult:
    """Run the one-step plan of `step` on `cluster` through services.plans.run_plan; return its PlanResult.

    Raises services.plans.WriteRefused (before any AWS call) when `mode` is "apply" and the cluster is
    read-only. The journal defaults to the operator journal (services.paths.journal_dir()).
    """
    ctx = PlanContext(
        cluster=cluster,
        runner=_NoHosts(),
        aws_client_factory=client_factory,
        journal=journal if journal is not None else journal_for(cluster),
        inventory_source=inventory_source,
    )
    if operator:
        ctx.operator = operator
    return await run_plan(alarm_plan(cluster, step), ctx, mode=mode, confirm=confirm, state_dir=state_dir)  # type: ignore[arg-type]
