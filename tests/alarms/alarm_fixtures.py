"""Helpers and fixtures for tests/alarms: one moto server on 127.0.0.1 for the session (reset per test) and
the monitoring resources of the runbook (audit log group, metric filter, SNS topic + e-mail, alarm)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from moto.server import ThreadedMotoServer

from lab.diag_records import GRANT_TEST_STATEMENT, audit_execute
from services import aws_clients
from services.inventory_model import AwsSettings, Cluster, Host

AUDIT_GROUP = "db2-db-worker-audit-log"
STREAM = "Db2 - i-0db2a00000000001"
PATTERN = "worker -appusr -APPUSR"  # the runbook's pattern with the upper-case authid excluded too
NAMESPACE = "Db2ops/Audit"
METRIC = "WorkerTableAccess"
ALARM = "db2ops-lab1-worker-access"
EMAIL = "dba-team@example.com"


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url: str) -> Iterator[AwsSettings]:
    """AwsSettings of a fresh (reset) moto."""
    request = urllib.request.Request(
        moto_url + "/moto-api/reset", data=b"{}", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
    aws_clients.clear_client_cache()
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


@pytest.fixture
def monitoring(aws: AwsSettings) -> Monitoring:
    """The runbook's resources: log group + stream, metric filter, topic + e-mail subscription, alarm."""
    logs = client(aws, "logs")
    logs.create_log_group(logGroupName=AUDIT_GROUP)
    logs.create_log_stream(logGroupName=AUDIT_GROUP, logStreamName=STREAM)
    logs.put_metric_filter(
        logGroupName=AUDIT_GROUP,
        filterName="db2ops-worker-access",
        filterPattern=PATTERN,
        metricTransformations=[{"metricName": METRIC, "metricNamespace": NAMESPACE, "metricValue": "1"}],
    )
    sns = client(aws, "sns")
    topic = sns.create_topic(Name="db2-alerts")["TopicArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="email", Endpoint=EMAIL, ReturnSubscriptionArn=True)
    put_alarm(aws, topic)
    return Monitoring(aws=aws, topic_arn=topic, subscription_arn=sub["SubscriptionArn"])


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
