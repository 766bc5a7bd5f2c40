"""Prove it fires against "real AWS" (a scripted AWS answering like CloudWatch does) and a scripted db
host: the extract job runs at once, the metric comes from GetMetricData and the SNS publish can only be
confirmed from the alarm history. Plus the wording of each diagnosis."""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from wizard_app import fixed_cluster

from services.cloudwatch_extras import AwsCloudWatchExtras
from services.monitoring.plan import MonitoringParams
from services.monitoring.proof_diagnosis import (
    alarm_diagnosis,
    event_diagnosis,
    metric_diagnosis,
    notification_diagnosis,
    summarize_event,
)
from services.monitoring.prove_it_fires import ProofHistory, ProofOptions, prove_it_fires
from services.plans import Journal, PlanContext

TOPIC = "arn:aws:sns:us-east-1:111122223333:db2-alerts"
GRANT = "grant select on table sample.worker to user abcuser, role trole"
RECORD = (
    "timestamp=2026-11-26-14.59.06.118212;\n  category=EXECUTE;\n  userid=db2inst1;\n  authid=DB2INST1;\n"
    f"  statement text={GRANT};\n"
)


@dataclass
class Answer:
    exit_status: int
    stdout: str
    stderr: str = ""
    command: str = ""


@dataclass
class ScriptedHosts:
    """db2b is the HADR primary; db2a answers SQL1776N (standby). Records every command."""

    ran: list[tuple[str, str]] = field(default_factory=list)

    async def run(self, host, argv, *, timeout=None, input=None, check=False) -> Answer:
        command = shlex.join(argv)
        self.ran.append((host.name, command))
        if argv[:2] == ["db2", "-tvf"]:
            if host.name == "db2a":
                return Answer(
                    4, "SQL1776N  The command cannot be issued on an HADR database.", command=command
                )
            return Answer(0, "DB20000I  The SQL command completed successfully.\n", command=command)
        return Answer(0, "", command=command)


@dataclass
class ScriptedAws:
    """Answers the calls prove_it_fires makes, like CloudWatch would a little after the statement."""

    alarm_state: str = "OK"
    history: list[dict] = field(default_factory=list)
    calls: list[tuple[str, dict]] = field(default_factory=list)

    async def __call__(self, client: Any, method: str, **kw: Any) -> dict:
        self.calls.append((method, kw))
        now = datetime.now(UTC)
        if method == "describe_metric_filters":
            transformation = {"metricName": "SensitiveTableAccess", "metricNamespace": "Db2/Monitoring"}
            return {
                "metricFilters": [
                    {
                        "filterName": "db2ops-sensitive-table-access",
                        "filterPattern": '?"worker" -"authid=APPUSR;"',
                        "metricTransformations": [transformation],
                    }
                ]
            }
        if method == "describe_alarms":
            return {"MetricAlarms": [self._alarm(now)]}
        if method == "set_alarm_state":
            self.alarm_state = kw["StateValue"]
            return {}
        if method == "filter_log_events":
            return {
                "events": [
                    {"timestamp": int(now.timestamp() * 1000), "message": RECORD, "logStreamName": "s"}
                ]
            }
        if method == "get_metric_data":
            return {"MetricDataResults": [{"Timestamps": [now], "Values": [1.0]}]}
        if method == "describe_alarm_history":
            self.alarm_state = "ALARM"
            return {"AlarmHistoryItems": self.history}
        if method == "list_subscriptions_by_topic":
            return {
                "Subscriptions": [
                    {
                        "Protocol": "email",
                        "Endpoint": "dba@example.com",
                        "SubscriptionArn": "PendingConfirmation",
                    }
                ]
            }
        raise AssertionError(f"unexpected call {method}")

    def _alarm(self, now: datetime) -> dict:
        if self.alarm_state == "OK" and any(m == "get_metric_data" for m, _ in self.calls):
            self.alarm_state = "ALARM"  # CloudWatch evaluated the new datapoint
        return {
            "AlarmName": "db2ops-lab1-sensitive-table-access",
            "Namespace": "Db2/Monitoring",
            "MetricName": "SensitiveTableAccess",
            "Statistic": "Sum",
            "Period": 60,
            "Threshold": 1.0,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "StateValue": self.alarm_state,
            "StateReason": "Threshold Crossed: 1 datapoint [1.0] was greater than or equal to the threshold (1.0).",
            "StateUpdatedTimestamp": now,
            "ActionsEnabled": True,
            "AlarmActions": [TOPIC],
        }


def on_aws() -> dict:
    """The proof's backend on real AWS (what the composition root picks for a cluster that is not a lab)."""
    return {"extras": AwsCloudWatchExtras(), "history": ProofHistory()}


async def _no_wait(_seconds: float) -> None:
    return None


def _ctx(tmp_path, aws: ScriptedAws, hosts: ScriptedHosts, **changes) -> PlanContext:
    cluster = replace(fixed_cluster(lab=False), **changes)
    return PlanContext(
        cluster=cluster,
        runner=hosts,
        aws_client_factory=lambda service: service,
        aws_call=aws,
        journal=Journal(tmp_path / "journal"),
        operator="alice",
    )


async def test_on_aws_the_publish_is_confirmed_from_the_alarm_history(tmp_path) -> None:
    success = {"HistorySummary": f"Successfully executed action {TOPIC}", "Timestamp": datetime.now(UTC)}
    aws, hosts = ScriptedAws(history=[success]), ScriptedHosts()
    ctx = _ctx(tmp_path, aws, hosts)
    params = MonitoringParams().resolve(ctx.cluster)
    options = replace(ProofOptions.for_cluster(ctx.cluster), poll_s=0.01)
    events = [e async for e in prove_it_fires(ctx, params, options=options, sleep=_no_wait, **on_aws())]
    assert events[-1].status == "ok", "\n".join(e.text for e in events)
    assert events[-1].detail.endswith("published (confirmed by the alarm history)")
    assert not any(e.lab for e in events)  # nothing here comes from the lab
    notification = next(e for e in events if e.stage == "notification" and e.status == "ok")
    assert notification.detail.startswith(f"Successfully executed action {TOPIC} at ")
    assert "whether the e-mail reached an inbox only the recipient can tell" in notification.detail
    assert any("dba@example.com is pending confirmation" in e.detail for e in events)
    # the statement ran on the primary (the standby refused), then the extract job right away
    script = "db2 -tvf /home/db2inst1/dbaudit/db2ops_prove_it_fires.sql"
    assert [(h, c) for h, c in hosts.ran if c == script] == [("db2a", script), ("db2b", script)]
    assert hosts.ran[-1] == ("db2b", "/home/db2inst1/dbaudit/db2audit_extract.sh")
    assert next(e for e in events if e.stage == "statement" and e.status == "ok").detail == (
        "ran on db2b as db2inst1 (HADR primary)"
    )
    assert any(
        "ran the extract job /home/db2inst1/dbaudit/db2audit_extract.sh on db2b now" in e.detail
        for e in events
    )
    history = next(kw for m, kw in aws.calls if m == "describe_alarm_history")
    assert history["HistoryItemType"] == "Action"


async def test_an_alarm_already_in_alarm_is_reset_first_through_the_guard(tmp_path) -> None:
    success = {"HistorySummary": f"Successfully executed action {TOPIC}", "Timestamp": datetime.now(UTC)}
    aws, hosts = ScriptedAws(alarm_state="ALARM", history=[success]), ScriptedHosts()
    ctx = _ctx(tmp_path, aws, hosts)
    options = replace(ProofOptions.for_cluster(ctx.cluster), poll_s=0.01)
    events = [
        e
        async for e in prove_it_fires(
            ctx, MonitoringParams().resolve(ctx.cluster), options=options, sleep=_no_wait, **on_aws()
        )
    ]
    reset = next(kw for m, kw in aws.calls if m == "set_alarm_state")
    assert (reset["StateValue"], reset["AlarmName"]) == ("OK", "db2ops-lab1-sensitive-table-access")
    assert any("set it to OK so the test makes a new transition" in e.detail for e in events)
    entry = Journal(tmp_path / "journal").read().entries[-1]
    assert entry.plan == "prove-it-fires" and entry.actions[0]["operation"] == "SetAlarmState"


async def test_a_failed_alarm_action_is_diagnosed_at_the_sns_link(tmp_path) -> None:
    failed = {"HistorySummary": f"Failed to execute action {TOPIC}", "Timestamp": datetime.now(UTC)}
    aws, hosts = ScriptedAws(history=[failed]), ScriptedHosts()
    ctx = _ctx(tmp_path, aws, hosts)
    options = replace(ProofOptions.for_cluster(ctx.cluster), poll_s=0.01)
    events = [
        e
        async for e in prove_it_fires(
            ctx, MonitoringParams().resolve(ctx.cluster), options=options, sleep=_no_wait, **on_aws()
        )
    ]
    assert events[-2].stage == "notification" and events[-2].status == "failed"
    assert events[-1].detail.startswith(
        f"The alarm went to ALARM but its action failed: Failed to execute action {TOPIC}"
    )
    assert "cloudwatch.amazonaws.com" in events[-1].detail
    assert Journal(tmp_path / "journal").read().entries[-1].result == "failed"


async def test_the_application_user_is_refused_as_the_test_user(tmp_path) -> None:
    aws, hosts = ScriptedAws(), ScriptedHosts()
    ctx = _ctx(tmp_path, aws, hosts)
    hosts_as_app = tuple(replace(h, user="appusr") if h.role == "db" else h for h in ctx.cluster.hosts)
    ctx.cluster = replace(ctx.cluster, hosts=hosts_as_app)
    events = [
        e
        async for e in prove_it_fires(
            ctx, MonitoringParams().resolve(ctx.cluster), sleep=_no_wait, **on_aws()
        )
    ]
    assert events[-1].detail.startswith(
        "the test statement did not run: db2a connects as appusr, the application user: its statements are "
        "excluded by design"
    )
    assert not any(cmd.startswith("db2 ") for _, cmd in hosts.ran)


# ------------------------------------------------------------------ diagnosis wording


def test_summaries_of_audit_and_diag_events() -> None:
    assert summarize_event(RECORD) == f"db2inst1: {GRANT}"
    diag = "2026-11-26-14.59.06.118212+000 I1E2 LEVEL: Severe\nPID : 1\nMESSAGE : ADM7519W  Db2 could not allocate"
    assert summarize_event(diag) == "Severe: ADM7519W Db2 could not allocate"
    assert summarize_event("x" * 200).endswith("…") and len(summarize_event("x" * 200)) == 90


def test_event_diagnosis_on_aws_names_cron_agent_and_role() -> None:
    cluster = fixed_cluster(lab=False)
    text = event_diagnosis(MonitoringParams().resolve(cluster), cluster, lab_agent=False)
    assert "`crontab -l`" in text and "/home/db2inst1/dbaudit/archive/worker_audit.log" in text
    assert "amazon-cloudwatch-agent-ctl -a status" in text and "CloudWatchAgentServerPolicy" in text


def test_metric_diagnosis_when_the_pattern_matches_looks_elsewhere() -> None:
    params = MonitoringParams().resolve(fixed_cluster())
    text = metric_diagnosis(RECORD, '?"worker" -"authid=APPUSR;"', params)
    assert "db2ops' evaluator says the pattern DOES match" in text
    assert "only sees events ingested after it was created" in text


def test_alarm_diagnosis_recognises_the_runbooks_trap() -> None:
    params = MonitoringParams().resolve(fixed_cluster())
    alarm = {"Namespace": "N", "MetricName": "M", "Statistic": "Minimum", "Period": 10}
    text = alarm_diagnosis(
        {"alarm": alarm, "namespace": "N", "metric": "M", "alarm_rule": "Minimum over 10 s"}, params
    )
    assert "This is the runbook's trap" in text and "Sum over 60 s >= 1" in text
    other = alarm_diagnosis(
        {"alarm": {**alarm, "Statistic": "Sum", "Period": 60}, "namespace": "N", "metric": "X"}, params
    )
    assert "the alarm watches another metric" in other


def test_notification_diagnosis_for_a_muted_alarm() -> None:
    params = MonitoringParams().resolve(fixed_cluster())
    text = notification_diagnosis({"actions_enabled": False, "topic_arn": TOPIC}, params, "")
    assert text.startswith("The alarm went to ALARM but its actions are disabled (muted)")
    late = notification_diagnosis({"actions_enabled": True, "topic_arn": TOPIC}, params, "")
    assert TOPIC in late  # the topic is named so the DBA knows where to look
