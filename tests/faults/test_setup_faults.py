"""`setup monitoring --apply` (the headless function) over real SSH and moto, both behind the fault proxy,
with 30% of AWS requests throttled or answered 500: the run ends with a clear error or succeeds thanks to
botocore's retries; a re-run after the fault completes and leaves no duplicate resource; the write-ahead
journal has an outcome for every intent."""

from __future__ import annotations

import io
import json
from collections import Counter

import boto3
import pytest
from botocore.retries.standard import ExponentialBackoff
from fault_proxy import ProxiedLab
from plan_fixtures import lab_extras_for

from services.monitoring.cli import run_setup_monitoring
from services.plans import Journal
from services.ssh.pool import SshPool

EMAIL = "dba-team@example.com"


async def _apply(proxied: ProxiedLab, pool: SshPool, journal: Journal) -> tuple[int, dict]:
    out = io.StringIO()
    code = await run_setup_monitoring(
        proxied.inventory,  # type: ignore[arg-type]
        "lab1",
        mode="apply",
        as_json=True,
        out=out,
        params={"email": EMAIL},
        extras_for=lab_extras_for,
        runner=pool,
        journal=journal,
    )
    return code, json.loads(out.getvalue())


@pytest.fixture
def short_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # the retries stay real (count, retry quota); only botocore's 1-20 s jittered sleeps are shortened
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0.05)


@pytest.mark.parametrize("fault", ["throttle", "500"])
async def test_apply_under_aws_faults_then_rerun_has_no_duplicates(
    proxied: ProxiedLab, tmp_path, fault, short_backoff
) -> None:
    assert proxied.aws is not None and proxied.aws.http is not None
    if fault == "throttle":
        proxied.aws.http.throttle = 0.3
    else:
        proxied.aws.http.server_error = 0.3
    journal = Journal(tmp_path / "journal")
    async with SshPool(config_paths=[], connect_timeout=5, command_timeout=20) as pool:
        code, report = await _apply(proxied, pool, journal)
        injected = proxied.aws.counts.throttled + proxied.aws.counts.server_errors
        assert injected > 0  # the faults really happened
        if code != 0:  # a clear error: the failed step says what AWS answered and what to do
            assert code == 1
            failed = [s for s in report["steps"] if s["status"] == "failed"]
            assert failed, report
            message = failed[0]["message"]
            assert message and "Traceback" not in message and "<" not in message, message
            word = "throttled" if fault == "throttle" else "InternalFailure"
            assert word in message or "500" in message or "internal" in message.lower(), message

        proxied.aws.http.throttle = proxied.aws.http.server_error = 0.0
        code, report = await _apply(proxied, pool, journal)
        assert code == 0, report.get("next")
        assert {s["status"] for s in report["steps"]} <= {"applied", "already_done"}

    _assert_no_duplicates(proxied)
    read = journal.read("lab1")
    outcomes = {e.intent_id for e in read.entries if e.intent_id}
    assert read.intents and all(i.intent_id in outcomes for i in read.intents), [
        i.step_id for i in read.intents if i.intent_id not in outcomes
    ]
    assert read.unfinished == [] and read.problems == []


def _assert_no_duplicates(proxied: ProxiedLab) -> None:
    """Read moto directly (not through the proxy): one topic, one subscription, one filter and one alarm
    per name."""
    endpoint = proxied.runtime.endpoint_url  # type: ignore[attr-defined]
    cluster = proxied.inventory.clusters[0]  # type: ignore[attr-defined]

    def client(service: str):
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="lab-access-key",
            aws_secret_access_key="lab-secret-key",
        )

    sns, logs, cloudwatch = client("sns"), client("logs"), client("cloudwatch")
    topics = [t["TopicArn"] for t in sns.list_topics()["Topics"]]
    assert len([t for t in topics if t.endswith(f":{cluster.aws.sns_topic_name}")]) == 1, topics
    subs = [s["Endpoint"] for s in sns.list_subscriptions()["Subscriptions"]]
    assert subs.count(EMAIL) == 1, subs
    names = Counter()
    for group in (cluster.aws.audit_log_group, cluster.aws.diag_log_group):
        for f in logs.describe_metric_filters(logGroupName=group)["metricFilters"]:
            names[(group, f["filterName"])] += 1
    assert names and max(names.values()) == 1, names
    alarms = Counter(a["AlarmName"] for a in cloudwatch.describe_alarms()["MetricAlarms"])
    assert alarms and max(alarms.values()) == 1, alarms
