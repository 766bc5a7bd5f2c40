"""A deterministic stand-in for services.alarms.service.AlarmService, for the alarm screen's pilot and snapshot tests."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from services.alarms.service import AlarmHistory, AlarmView, HistoryItem, SubscriptionView
from services.inventory.model import AwsSettings, Cluster, Host
from services.plans import PlanResult, StepResult

NOW = datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)
TOPIC = "arn:aws:sns:us-east-1:123456789012:db2-alerts"
AUDIT = "db2ops-lab1-sensitive-table-access"
DIAG = "db2ops-lab1-db2diag-error-severe"
OTHER = "team-ec2-cpu-high"


def cluster(read_only: bool = False) -> Cluster:
    return Cluster(
        name="lab1",
        environment="lab",
        read_only=read_only,
        database="TESTDB",
        hosts=(Host(name="db2a", address="127.0.0.1"),),
        aws=AwsSettings(endpoint_url="http://127.0.0.1:5999"),
        lab=True,
    )


def _ours(
    source: str,
    name: str,
    state: str,
    age: timedelta,
    reason: str,
    *,
    actions_enabled: bool,
    metric_name: str,
    filter_pattern: str,
    log_group: str,
) -> AlarmView:
    """One of db2ops' alarms: Sum >= 1 per minute of a metric filter's metric (the filter is named like the
    alarm, without the cluster), notifying TOPIC."""
    return AlarmView(
        name=name,
        state=state,
        state_since=NOW - age,
        reason=reason,
        namespace="Db2/Monitoring",
        period=60,
        statistic="Sum",
        threshold=1.0,
        comparison="GreaterThanOrEqualToThreshold",
        treat_missing="notBreaching",
        alarm_actions=(TOPIC,),
        ours=True,
        source=source,
        actions_enabled=actions_enabled,
        metric_name=metric_name,
        filter_name=name.replace("-lab1-", "-"),
        filter_pattern=filter_pattern,
        log_group=log_group,
    )


def alarms(source: str = "lab") -> list[AlarmView]:
    return [
        _ours(
            source,
            AUDIT,
            "ALARM",
            timedelta(minutes=5),
            "Threshold Crossed: 1 datapoint [1.0 (26/11/26 14:55:00)] was greater than or equal to the threshold (1.0).",
            actions_enabled=True,
            metric_name="SensitiveTableAccess",
            filter_pattern="worker -appusr -APPUSR",
            log_group="db2-db-worker-audit-log",
        ),
        _ours(
            source,
            DIAG,
            "OK",
            timedelta(hours=2, minutes=10),
            "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [NonBreaching].",
            actions_enabled=False,
            metric_name="Db2DiagErrorSevere",
            filter_pattern="?Error ?Severe ?ERROR ?SEVERE",
            log_group="db2-diagnostics-logs",
        ),
        AlarmView(
            name=OTHER,
            state="INSUFFICIENT_DATA",
            state_since=NOW - timedelta(days=3, hours=4),
            reason="Insufficient Data: 1 datapoint was unknown.",
            actions_enabled=True,
            namespace="AWS/EC2",
            metric_name="CPUUtilization",
            period=300,
            statistic="Average",
            threshold=90.0,
            comparison="GreaterThanThreshold",
            treat_missing="missing",
            alarm_actions=(),
            source=source,
        ),
    ]


SPARK = [0.0] * 50 + [0, 1, 0, 0, 2, 0, 0, 0, 3, 1]


class FakeAlarmService:
    def __init__(self, source: str = "lab", *, gate: asyncio.Event | None = None) -> None:
        self.source = source
        self.fast_polls = source == "lab"  # as the lab in this process: polled often
        self.lab_note = ""
        self.inventory_source = "/etc/db2ops/inventory.yaml"
        self.alarms = alarms(source)
        self.applied: list = []
        self.list_calls = 0
        self.active = 0
        self.max_active = 0
        self.gate = gate
        self.notes: dict = {}  # alarm -> MuteNote, as the journal would give them

    async def list_alarms(self) -> list[AlarmView]:
        self.list_calls += 1
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            if self.gate is not None:
                await self.gate.wait()
            return list(self.alarms)
        finally:
            self.active -= 1

    async def lab_notifications(self, alarm_name: str) -> list[dict]:
        return []

    async def close(self) -> None:
        return None

    async def metric_sparkline(self, alarm: AlarmView, hours: float = 3) -> list[float]:
        return SPARK if alarm.name == AUDIT else [0.0] * 60

    async def topic_subscriptions(self, topic: str) -> list[SubscriptionView]:
        return [
            SubscriptionView("dba-team@example.com", "email", "pending", f"{topic}:1111", self.source),
            SubscriptionView("oncall@example.com", "email", "confirmed", f"{topic}:2222", self.source),
        ]

    async def alarm_history(self, name: str) -> AlarmHistory:
        t = NOW - timedelta(minutes=5)
        items = (
            HistoryItem(t, "Action", f"Successfully executed action {TOPIC}", '{"actionState": "Succeeded"}'),
            HistoryItem(
                t, "StateUpdate", "Alarm updated from OK to ALARM", '{"newState": {"stateValue": "ALARM"}}'
            ),
            HistoryItem(
                t - timedelta(hours=1), "StateUpdate", "Alarm updated from INSUFFICIENT_DATA to OK", "{}"
            ),
            HistoryItem(t - timedelta(hours=2), "ConfigurationUpdate", f'Alarm "{name}" created', "{}"),
        )
        return AlarmHistory(name, items, self.source)

    async def mute_notes(self) -> dict:
        return dict(self.notes)

    async def apply_change(self, step) -> PlanResult:
        self.applied.append(step)
        if step.id in ("alarm-mute", "alarm-unmute"):
            muted = step.id == "alarm-mute"
            self.alarms = [
                replace(a, actions_enabled=not muted) if a.name == step.alarm_name else a for a in self.alarms
            ]
        result = StepResult(step.id, step.title, "aws", "", status="applied", message="applied and verified")
        return PlanResult(plan=step.id, cluster="lab1", mode="apply", run_id="r1", steps=[result])
