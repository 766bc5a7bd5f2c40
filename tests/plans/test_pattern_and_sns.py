"""Pattern tests on recent real events (moto log group), TestMetricFilter on real AWS (stub client),
and the SNS subscription's pending state."""

from __future__ import annotations

import time
from typing import Any

import pytest
from plan_fixtures import lab_extras

from lab.diag_records import audit_execute
from plans.fakes import make_cluster
from services.monitoring.aws_steps import subscription_state
from services.monitoring.pattern_test import audit_samples
from services.monitoring.pattern_test import test_pattern as pattern_report
from services.monitoring.plan import MonitoringParams, build_monitoring_plan
from services.plans import PlanContext, StepFailed, run_plan


def _record(userid: str, statement: str) -> str:
    from datetime import datetime

    return audit_execute(
        datetime(2025, 9, 1, 5, 12, 7),
        userid=userid,
        authid=userid.upper(),
        statement=statement,
        database="HADRDB",
        instance="db2inst1",
        hostname="db2a",
    )


async def test_audit_filter_is_tested_on_recent_events_of_the_log_group(lab, tmp_path) -> None:
    cluster, runner, _ = lab
    ctx = PlanContext(cluster=cluster, runner=runner, extras=lab_extras(cluster, runner))
    logs = ctx.client("logs")
    group = cluster.aws.audit_log_group
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="i-0aaa")
    now = int(time.time() * 1000)
    messages = [
        _record("appusr", "select * from sample.worker"),  # the application itself: no alert
        _record("bob", "SELECT EMPNO, SALARY FROM SAMPLE.WORKER WHERE EMPNO = ?"),  # the case trap
        _record("db2inst1", "grant select on table sample.worker to user abcuser, role trole"),
    ]
    logs.put_log_events(
        logGroupName=group,
        logStreamName="i-0aaa",
        logEvents=[{"timestamp": now - 1000 + i, "message": m} for i, m in enumerate(messages)],
    )
    plan = build_monitoring_plan(cluster)
    plan.steps = [s for s in plan.steps if s.id == "metric-filter-audit"]
    result = await run_plan(plan, ctx, mode="dry-run")
    detail = result.steps[0].message
    assert "recent events: 2 of 3 match (runbook pattern: 1)" in detail
    assert "runbook pattern 'worker -appusr': wrong on: another user, statement in upper case" in detail
    assert [a.operation for a in result.steps[0].actions] == ["PutMetricFilter"]  # the group exists
    report = ctx.facts["metric-filter-audit"]["report"]
    assert len(report.only_ours) == 1 and "authid=BOB;" in report.only_ours[0]


class _StubLogs:
    def __init__(self, matches: int) -> None:
        self.matches = matches
        self.calls: list[dict[str, Any]] = []

    def test_metric_filter(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"matches": [{"eventNumber": i + 1} for i in range(self.matches)]}


async def test_real_aws_also_asks_test_metric_filter_and_reports_disagreement() -> None:
    cluster = make_cluster()  # endpoint_url None: real AWS
    stub = _StubLogs(matches=1)
    ctx = PlanContext(cluster=cluster, runner=None, aws_client_factory=lambda service: stub)
    p = MonitoringParams().resolve(cluster)
    samples = audit_samples(p.table_schema, p.table_name, p.app_user)
    report = await pattern_report(ctx, p.effective_audit_pattern, "worker -appusr", samples, [])
    assert stub.calls[0]["filterPattern"] == p.effective_audit_pattern
    assert len(stub.calls[0]["logEventMessages"]) == len(samples)
    assert report.aws_matched == 1
    assert "AWS matched 1 of the 4 test events, db2ops' evaluator 2" in report.summary()
    assert "agrees" not in report.summary()  # it does not


class _StubSns:
    def get_subscription_attributes(self, SubscriptionArn: str) -> dict[str, Any]:
        return {"Attributes": {"PendingConfirmation": "true" if SubscriptionArn.endswith("p") else "false"}}


async def test_subscription_state_reads_pending_confirmation() -> None:
    ctx = PlanContext(cluster=make_cluster(), runner=None, aws_client_factory=lambda service: _StubSns())
    assert await subscription_state(ctx, {"SubscriptionArn": "PendingConfirmation"}) == "pending confirmation"
    assert (
        await subscription_state(ctx, {"SubscriptionArn": "arn:aws:sns:us-east-1:1:t:p"})
        == "pending confirmation"
    )
    assert await subscription_state(ctx, {"SubscriptionArn": "arn:aws:sns:us-east-1:1:t:c"}) == "confirmed"


class _RefusingLogs:
    def __init__(self, code: str) -> None:
        self.code = code

    def test_metric_filter(self, **kwargs: Any) -> dict[str, Any]:
        from botocore.exceptions import ClientError

        error = {"Error": {"Code": self.code, "Message": "nope"}, "ResponseMetadata": {"RetryAttempts": 0}}
        raise ClientError(error, "TestMetricFilter")


async def test_a_denied_test_metric_filter_is_a_note_but_an_invalid_pattern_still_fails() -> None:
    # TestMetricFilter is a second opinion: a role without logs:TestMetricFilter must not block the plan.
    cluster = make_cluster()
    p = MonitoringParams().resolve(cluster)
    samples = audit_samples(p.table_schema, p.table_name, p.app_user)
    ctx = PlanContext(
        cluster=cluster, runner=None, aws_client_factory=lambda s: _RefusingLogs("AccessDeniedException")
    )
    report = await pattern_report(ctx, p.effective_audit_pattern, "worker -appusr", samples, [])
    assert report.aws_matched is None
    assert "AWS TestMetricFilter could not run (AccessDeniedException)" in report.summary()
    assert "tested with db2ops' evaluator only" in report.summary()

    ctx = PlanContext(
        cluster=cluster, runner=None, aws_client_factory=lambda s: _RefusingLogs("InvalidParameterException")
    )
    with pytest.raises(StepFailed, match="InvalidParameterException"):
        await pattern_report(ctx, p.effective_audit_pattern, "worker -appusr", samples, [])
