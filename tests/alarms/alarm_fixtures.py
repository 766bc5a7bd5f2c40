"""Helpers and fixtures for tests/alarms: a fresh (reset) moto per test (the session server of
moto_server.py) and the monitoring resources of the runbook (audit log group, metric filter, SNS topic +
e-mail, alarm)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from moto_server import reset_moto

from lab.diag_records import GRANT_TEST_STATEMENT, audit_execute
from services import aws_clients
from services.inventory.model import AwsSettings, Cluster, Host

AUDIT_GROUP = "db2-db-worker-audit-log"
STREAM = "Db2 - i-0db2a00000000001"
PATTERN = "worker -appusr -APPUSR"  # the runbook's pattern with the upper-case authid excluded too
NAMESPACE = "Db2ops/Audit"
METRIC = "WorkerTableAccess"
ALARM = "db2ops-lab1-worker-access"
EMAIL = "dba-team@example.com"


@pytest.fixture
def aws(moto_url: str) -> Iterator[AwsSettings]:
    """AwsSettings of a fresh (reset) moto."""
    reset_moto(moto_url)
    yield AwsSettings(region="us-east-1", endpoint_url=moto_url, sns_topic_name="db2-alerts")
    aws_clients.clear_client_cache()


def client(aws: AwsSettings, service: str) -> Any:
    return aws_clients.make_client(service, aws)


@dataclass
class Monitoring:
    aws: AwsSettings
    topic_arn: str
    subscription_arn: str

    def put_event(self, message: str, when: datetime | None = None) -> datetime:
        when = when or datetime.now(UTC)
        client(self.aws, "logs").put_log_events(
            logGroupName=AUDIT_GROUP,
            logStreamName=STREAM,
            logEvents=[{"timestamp": int(when.timestamp() * 1000), "message": message}],
        )
        return when


def grant_record(when: datetime, userid: str = "db2inst1", statement: str = GRANT_TEST_STATEMENT) -> str:
    return audit_execute(
        when,
        userid=userid,
        authid=userid.upper(),
        statement=statement,
        database="TESTDB",
        instance="db2inst1",
        hostname="db2a",
    )


def put_alarm(aws: AwsSettings, topic_arn: str, name: str = ALARM, **overrides: Any) -> None:
    params: dict[str, Any] = dict(
        AlarmName=name,
        AlarmDescription="Access to SAMPLE.WORKER by anyone but appusr",
        MetricName=METRIC,
        Namespace=NAMESPACE,
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        TreatMissingData="notBreaching",
        ActionsEnabled=True,
        AlarmActions=[topic_arn],
    )
    params.update(overrides)
    client(aws, "cloudwatch").put_metric_alarm(**params)


def runbook_resources(aws: AwsSettings) -> tuple[str, str]:
    """Create the runbook's monitoring resources on `aws`: STREAM in the audit log group (the group is kept
    when it exists: the lab seeds it), the metric filter, the topic with its e-mail subscription and the
    alarm. Return (topic ARN, subscription ARN)."""
    logs = client(aws, "logs")
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=aws.audit_log_group)
    logs.create_log_stream(logGroupName=aws.audit_log_group, logStreamName=STREAM)
    logs.put_metric_filter(
        logGroupName=aws.audit_log_group,
        filterName="db2ops-worker-access",
        filterPattern=PATTERN,
        metricTransformations=[{"metricName": METRIC, "metricNamespace": NAMESPACE, "metricValue": "1"}],
    )
    sns = client(aws, "sns")
    topic = sns.create_topic(Name="db2-alerts")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL, ReturnSubscriptionArn=True)
    put_alarm(aws, topic)
    return topic, sub["SubscriptionArn"]


@pytest.fixture
def monitoring(aws: AwsSettings) -> Monitoring:
    """The runbook's resources (runbook_resources) on a fresh moto."""
    topic, subscription = runbook_resources(aws)
    return Monitoring(aws=aws, topic_arn=topic, subscription_arn=subscription)


def lab_cluster(aws: AwsSettings, *, read_only: bool = False, name: str = "lab1") -> Cluster:
    return Cluster(
        name=name,
        environment="lab",
        read_only=read_only,
        database="TESTDB",
        hosts=(Host(name="db2a", address="127.0.0.1", instance_id="i-0db2a00000000001"),),
        aws=aws,
        lab=True,
    )


def sns_message(notification: dict) -> dict:
    return json.loads(notification["Message"])
