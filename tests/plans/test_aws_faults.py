"""AWS faults during the monitoring plan: AccessDenied (moto's IAM enforcement) and throttling give clear
messages, and a re-run after the fix completes without duplicate resources."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from plan_fixtures import lab_extras

from plans.conftest import post
from services.monitoring.plan import MonitoringParams, build_monitoring_plan
from services.plans import Journal, PlanContext, run_plan

EMAIL = "dba-team@example.com"
READS_AND_SNS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "sns:List*",
                "sns:Get*",
                "sns:CreateTopic",
                "sns:Subscribe",
                "logs:Describe*",
                "logs:FilterLogEvents",
                "logs:CreateLogGroup",
                "cloudwatch:Describe*",
                "monitoring:Describe*",  # moto checks CloudWatch calls under the endpoint prefix "monitoring"
            ],
            "Resource": "*",
        }
    ],
}
EVERYTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def _factory(endpoint: str, keys: tuple[str, str], attempts: int = 2) -> Callable[[str], Any]:
    config = Config(region_name="us-east-1", retries={"mode": "standard", "max_attempts": attempts})

    def make(service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=endpoint,
            aws_access_key_id=keys[0],
            aws_secret_access_key=keys[1],
            config=config,
        )

    return make


def _user(iam, name: str, policy: dict) -> tuple[str, str]:
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _aws_only(cluster):
    plan = build_monitoring_plan(cluster, MonitoringParams(email=EMAIL))
    plan.steps = [s for s in plan.steps if s.target == "aws"]
    return plan


async def test_access_denied_names_the_permission_and_rerun_has_no_duplicates(
    lab, tmp_path, aws_endpoint
) -> None:
    cluster, runner, _ = lab
    iam = _factory(aws_endpoint, ("lab-access-key", "lab-secret-key"))("iam")
    admin = _user(iam, "admin", EVERYTHING)
    limited = _user(iam, "limited", READS_AND_SNS)
    post(f"{aws_endpoint}/moto-api/reset-auth", b"0")  # IAM enforcement on from the next request

    ctx = PlanContext(
        cluster=cluster,
        runner=runner,
        journal=Journal(tmp_path),
        extras=lab_extras(cluster, runner),
        aws_client_factory=_factory(aws_endpoint, limited),
    )
    first = await run_plan(_aws_only(cluster), ctx, mode="apply")
    assert first.outcome == "failed" and first.failed_step == "metric-filter-audit"
    message = first.by_id("metric-filter-audit").message
    assert "AccessDenied" in message and "logs:PutMetricFilter" in message
    # moto answers the JSON logs API with an XML error body: the DBA gets the sentence, not the XML
    assert message.startswith("apply failed: AWS refused logs:PutMetricFilter (AccessDenied)")
    assert "allow logs:PutMetricFilter in the IAM policy" in message
    assert "<" not in message and "ErrorResponse" not in message
    assert first.by_id("sns-topic").status == "applied"
    assert first.by_id("alarm-audit").status == "skipped", first.by_id("alarm-audit").message

    # the permission is granted (here: another identity); the re-run resumes and creates nothing twice
    ctx2 = PlanContext(
        cluster=cluster,
        runner=runner,
        journal=Journal(tmp_path),
        extras=lab_extras(cluster, runner),
        aws_client_factory=_factory(aws_endpoint, admin),
    )
    second = await run_plan(_aws_only(cluster), ctx2, mode="apply")
    assert second.ok, second.next_hint
    assert second.by_id("sns-topic").status == "already_done"
    sns, logs = ctx2.client("sns"), ctx2.client("logs")
    topics = sns.list_topics()["Topics"]
    assert len(topics) == 1
    subs = sns.list_subscriptions_by_topic(TopicArn=topics[0]["TopicArn"])["Subscriptions"]
    assert [s["Endpoint"] for s in subs] == [EMAIL]
    assert len(logs.describe_log_groups(logGroupNamePrefix=cluster.aws.audit_log_group)["logGroups"]) == 1
    assert len(ctx2.client("cloudwatch").describe_alarms()["MetricAlarms"]) == 2


async def test_unknown_credentials_say_fix_the_credentials_not_the_iam_policy(
    lab, tmp_path, aws_endpoint
) -> None:
    cluster, runner, _ = lab
    post(f"{aws_endpoint}/moto-api/reset-auth", b"0")  # IAM enforcement on: the lab's dummy keys are unknown
    ctx = PlanContext(
        cluster=cluster,
        runner=runner,
        journal=Journal(tmp_path),
        extras=lab_extras(cluster, runner),
        aws_client_factory=_factory(aws_endpoint, ("AKIAUNKNOWN000000000", "secret")),
    )
    result = await run_plan(_aws_only(cluster), ctx, mode="dry-run")
    messages = {r.step_id: r.message for r in result.steps}
    for step_id in ("sns-topic", "metric-filter-audit"):
        message = messages[step_id]
        assert "InvalidClientTokenId" in message, message
        assert "did not accept the credentials" in message and "aws configure" in message, message
        assert "IAM policy" not in message and "<" not in message, message


class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any):
        yield self.data


async def test_throttling_gives_a_clear_message_and_retry_creates_no_duplicate(
    lab, tmp_path, aws_endpoint
) -> None:
    cluster, runner, _ = lab
    make = _factory(aws_endpoint, ("lab-access-key", "lab-secret-key"), attempts=2)
    logs = make("logs")
    throttled: list[str] = []

    def throttle(request, **_: Any) -> AWSResponse:
        throttled.append(request.headers.get("X-Amz-Target", b"").decode())
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"}, _Body(body))

    logs.meta.events.register("before-send.cloudwatch-logs.PutMetricFilter", throttle)
    clients = {"logs": logs}
    ctx = PlanContext(
        cluster=cluster,
        runner=runner,
        journal=Journal(tmp_path),
        extras=lab_extras(cluster, runner),
        aws_client_factory=lambda service: clients.get(service) or make(service),
    )
    first = await run_plan(_aws_only(cluster), ctx, mode="apply")
    assert first.failed_step == "metric-filter-audit"
    message = first.by_id("metric-filter-audit").message
    assert "throttled" in message and "ThrottlingException" in message and "retried 2 times" in message
    # botocore's retries={"max_attempts": 2} means 2 retries after the first try
    assert throttled == ["Logs_20140328.PutMetricFilter"] * 3

    logs.meta.events.unregister("before-send.cloudwatch-logs.PutMetricFilter", throttle)
    second = await run_plan(_aws_only(cluster), ctx, mode="apply")
    assert second.ok, second.next_hint
    assert second.by_id("metric-filter-audit").status == "applied"
    filters = logs.describe_metric_filters(logGroupName=cluster.aws.audit_log_group)["metricFilters"]
    assert [f["filterName"] for f in filters] == ["db2ops-sensitive-table-access"]
