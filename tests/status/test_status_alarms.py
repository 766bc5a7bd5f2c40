"""The `alarms` part of a status snapshot: which alarms are the cluster's, the verdict of an alarm in ALARM
(and of alarm states that could not be read), the JSON and text views, and the read itself against moto:
one DescribeAlarms shared by the clusters of an account, an AWS error as a part error."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from moto_server import moto_url, reset_moto  # noqa: F401
from status_builders import healthy, part, with_verdicts

from services.alarms.model import belongs_to_cluster, cluster_alarm_prefix
from services.cluster_model import ClusterAlarm
from services.inventory.model import AwsSettings, Cluster, Inventory
from services.monitoring.params import MonitoringParams
from services.part_errors import ErrorKind, PartError
from services.status.alarms_part import AlarmReads, alarms_part, cluster_alarms
from services.status.model import Severity
from services.status.render_json import EXIT_DEGRADED, EXIT_HEALTHY, status_document, status_exit_code
from services.status.render_text import render_status_text
from services.status.service import StatusService

T = 1000.0


def with_alarms(*alarms: ClusterAlarm, error: PartError | None = None):
    value = None if error is not None else tuple(alarms)
    return with_verdicts(replace(healthy(T), alarms=part(value, "aws:cloudwatch us-east-1", T, error)))


# ------------------------------------------------------------------ which alarms are the cluster's


def test_setup_monitoring_names_its_alarms_with_the_prefix_status_reads():
    cluster = Cluster(name="prod")
    params = MonitoringParams().resolve(cluster)
    assert cluster_alarm_prefix("prod") == "db2ops-prod-"
    for name in (params.audit_alarm_name, params.diag_alarm_name):
        assert name.startswith("db2ops-prod-") and belongs_to_cluster(name, "prod")


def test_an_alarm_of_a_cluster_whose_name_extends_another_is_only_its_own():
    names = ("prod", "prod-dr")
    assert belongs_to_cluster("db2ops-prod-db2diag-error-severe", "prod", names)
    assert not belongs_to_cluster("db2ops-prod-dr-db2diag-error-severe", "prod", names)
    assert belongs_to_cluster("db2ops-prod-dr-db2diag-error-severe", "prod-dr", names)
    assert not belongs_to_cluster("someone-elses-alarm", "prod", names)
    assert not belongs_to_cluster("db2ops-production-x", "prod", names)


def test_cluster_alarms_keep_name_state_and_since():
    from datetime import UTC, datetime

    since = datetime(2026, 12, 6, 3, 12, 41, tzinfo=UTC)
    described = [
        {
            "AlarmName": "db2ops-lab1-sensitive-table-access",
            "StateValue": "ALARM",
            "StateUpdatedTimestamp": since,
        },
        {"AlarmName": "db2ops-lab2-sensitive-table-access", "StateValue": "ALARM"},
        {"AlarmName": "db2ops-lab1-db2diag-error-severe", "StateValue": "OK"},
    ]
    assert cluster_alarms(described, "lab1", ("lab1", "lab2")) == (
        ClusterAlarm("db2ops-lab1-db2diag-error-severe", "OK", None),
        ClusterAlarm("db2ops-lab1-sensitive-table-access", "ALARM", since.timestamp()),
    )


# ------------------------------------------------------------------ verdicts and views


def test_an_alarm_in_alarm_degrades_a_healthy_cluster_and_is_named_with_its_age():
    s = with_alarms(
        ClusterAlarm("db2ops-c-db2diag-error-severe", "OK", T - 9000),
        ClusterAlarm("db2ops-c-sensitive-table-access", "ALARM", T - 125),
        ClusterAlarm("db2ops-c-late", "ALARM", T - 30),
    )
    assert [v.code for v in s.verdicts] == ["alarm_in_alarm"]
    (v,) = s.verdicts
    assert v.severity is Severity.WARNING
    # longest in ALARM first
    assert v.message == "2 alarms in ALARM: db2ops-c-sensitive-table-access (for 2m), db2ops-c-late (for 30s)"
    assert "describe-alarm-history --alarm-name db2ops-c-sensitive-table-access" in v.hint
    assert status_exit_code([s]) == EXIT_DEGRADED


def test_alarms_that_are_ok_or_have_no_data_leave_the_cluster_healthy():
    s = with_alarms(
        ClusterAlarm("db2ops-c-a", "OK", T - 10), ClusterAlarm("db2ops-c-b", "INSUFFICIENT_DATA", None)
    )
    assert s.verdicts == () and status_exit_code([s]) == EXIT_HEALTHY
    assert "  alarms [aws:cloudwatch us-east-1, 0.0s] 2 alarms, none in ALARM" in render_status_text(s, T)
    one = with_alarms(ClusterAlarm("db2ops-c-a", "ALARM", None))
    assert one.verdicts[0].message == "1 alarm in ALARM: db2ops-c-a (since an unknown time)"


def test_unreadable_alarm_states_are_a_note_not_a_degradation():
    denied = PartError(ErrorKind.AWS_DENIED, "AWS denied cloudwatch:DescribeAlarms (AccessDenied): ...")
    s = with_alarms(error=denied)
    (v,) = s.verdicts
    assert v.code == "alarms_unknown" and v.severity is Severity.INFO
    assert v.message.startswith("CloudWatch alarm states unknown: AWS denied cloudwatch:DescribeAlarms")
    assert "grant cloudwatch:DescribeAlarms" in v.hint
    assert status_exit_code([s]) == EXIT_HEALTHY
    assert "  alarms: AWS denied cloudwatch:DescribeAlarms" in render_status_text(s, T)
    (doc,) = status_document([s], now=T)["clusters"]
    assert doc["healthy"] is True and doc["severity"] == "info"  # a note, listed in verdicts
    assert [v["code"] for v in doc["verdicts"]] == ["alarms_unknown"]


def test_json_healthy_is_false_for_a_warning_and_agrees_with_the_exit_code():
    s = with_alarms(ClusterAlarm("db2ops-c-a", "ALARM", T - 60))
    (doc,) = status_document([s], now=T)["clusters"]
    assert (doc["healthy"], doc["exit_code"]) == (False, EXIT_DEGRADED)
    (ok,) = status_document([with_alarms()], now=T)["clusters"]
    assert (ok["healthy"], ok["exit_code"]) == (True, EXIT_HEALTHY)


def test_status_json_has_an_alarms_part_shaped_like_the_others():
    s = with_alarms(ClusterAlarm("db2ops-c-a", "ALARM", T - 60))
    (doc,) = status_document([s], now=T + 2)["clusters"]
    alarms = doc["alarms"]
    assert set(alarms) == set(doc["overlay_route"])  # the same Part shape
    assert alarms["source"] == "aws:cloudwatch us-east-1" and alarms["age_s"] == 2.0
    assert alarms["ok"] and alarms["error"] is None
    assert alarms["value"] == [{"name": "db2ops-c-a", "state": "ALARM", "since": T - 60}]
    assert doc["severity"] == "warning" and doc["exit_code"] == EXIT_DEGRADED
    assert [v["code"] for v in doc["verdicts"]] == ["alarm_in_alarm"]
    assert status_document([healthy(T)])["clusters"][0]["alarms"] is None  # AWS not read


def test_text_names_the_alarms_in_alarm():
    s = with_alarms(ClusterAlarm("db2ops-c-a", "ALARM", T - 60), ClusterAlarm("db2ops-c-b", "OK", T - 60))
    text = render_status_text(s, T)
    # the alarm is the headline (services/status/incident.py), said once
    assert text.splitlines()[0] == "cluster lab: WARNING: 1 alarm in ALARM: db2ops-c-a (for 1m)"
    assert "  ! warning  1 alarm in ALARM" not in text
    assert "  alarms [aws:cloudwatch us-east-1, 0.0s] 1 of 2 alarms in ALARM: db2ops-c-a (for 1m)" in text


def test_an_alarm_going_into_and_out_of_alarm_is_an_event():
    from services.status.events import diff_snapshots

    ok = with_alarms(ClusterAlarm("db2ops-c-a", "OK", T - 60), ClusterAlarm("db2ops-c-b", "OK", T - 60))
    fired = with_alarms(ClusterAlarm("db2ops-c-a", "ALARM", T), ClusterAlarm("db2ops-c-b", "OK", T - 60))
    events = diff_snapshots(ok, fired)
    assert [(e.kind, e.message, e.severity) for e in events] == [
        ("alarm_fired", "alarm db2ops-c-a went into ALARM (was OK)", Severity.WARNING)
    ]
    assert [e.kind for e in diff_snapshots(fired, ok)] == ["alarm_cleared"]
    unread = with_alarms(error=PartError(ErrorKind.AWS_ERROR, "no answer"))
    assert diff_snapshots(ok, unread) == [] and diff_snapshots(unread, fired) == []  # not observed: no change


# ------------------------------------------------------------------ the read, against moto


@pytest.fixture
def aws(moto_url: str) -> AwsSettings:  # noqa: F811
    reset_moto(moto_url)
    return AwsSettings(endpoint_url=moto_url)


def put_alarm(aws: AwsSettings, name: str, state: str | None = None) -> None:
    from services.aws_clients import make_client

    cw = make_client("cloudwatch", aws)
    cw.put_metric_alarm(
        AlarmName=name,
        MetricName="SensitiveTableAccess",
        Namespace="Db2/Monitoring",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    if state is not None:
        cw.set_alarm_state(AlarmName=name, StateValue=state, StateReason="test")


async def test_clusters_polled_together_share_one_describe_alarms(aws: AwsSettings):
    put_alarm(aws, "db2ops-east-sensitive-table-access", "ALARM")
    put_alarm(aws, "db2ops-east-db2diag-error-severe", "OK")
    put_alarm(aws, "db2ops-west-sensitive-table-access", "INSUFFICIENT_DATA")
    put_alarm(aws, "not-ours-at-all", "ALARM")
    clusters = tuple(Cluster(name=n, aws=aws) for n in ("east", "west"))
    reads = AlarmReads()
    east, west = await asyncio.gather(*(alarms_part(c, reads, deadline_s=10) for c in clusters))
    assert reads.calls == 1
    assert east.ok and east.source == "lab:moto cloudwatch"
    assert east.command == "cloudwatch.describe_alarms(AlarmNamePrefix='db2ops-')"
    assert [(a.name, a.state) for a in east.value] == [
        ("db2ops-east-db2diag-error-severe", "OK"),
        ("db2ops-east-sensitive-table-access", "ALARM"),
    ]
    assert all(a.since is not None and abs(a.since - east.fetched_at) < 60 for a in east.value)
    assert [(a.name, a.state) for a in west.value] == [
        ("db2ops-west-sensitive-table-access", "INSUFFICIENT_DATA")
    ]
    # a refresh within ALARM_READ_REUSE_S reuses the answer; a later one reads again
    await alarms_part(clusters[0], reads)
    assert reads.calls == 1
    reads.reuse_s = 0
    await alarms_part(clusters[0], reads)
    assert reads.calls == 2


async def test_status_service_snapshot_carries_the_alarms_part_and_verdict(aws: AwsSettings):
    put_alarm(aws, "db2ops-east-sensitive-table-access", "ALARM")
    cluster = Cluster(name="east", aws=aws)  # no hosts: only the AWS side is read

    class NoHosts:
        async def run(self, host, argv, **_):  # pragma: no cover - the cluster has no hosts
            raise AssertionError("no host to run on")

    service = StatusService(Inventory(clusters=(cluster,)), NoHosts(), deadline_s=10)
    s = await service.snapshot(cluster)
    assert [a.name for a in s.alarms.value if a.state == "ALARM"] == ["db2ops-east-sensitive-table-access"]
    assert "alarm_in_alarm" in {v.code for v in s.verdicts}
    quiet = StatusService(Inventory(clusters=(cluster,)), NoHosts(), aws_route=False)
    assert (await quiet.snapshot(cluster)).alarms is None  # no AWS read at all
    # `db2ops lab --no-aws`: a lab cluster with no moto behind it never reads a real account's alarms
    bare_lab = Cluster(name="east", aws=AwsSettings(), lab=True)
    assert (await StatusService(Inventory(clusters=(bare_lab,)), NoHosts()).snapshot(bare_lab)).alarms is None


async def test_an_endpoint_that_refuses_is_a_part_error_not_a_crash():
    import socket

    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cluster = Cluster(name="east", aws=AwsSettings(endpoint_url=f"http://127.0.0.1:{port}"))
    p = await alarms_part(cluster, AlarmReads(), deadline_s=20)
    assert p.value is None and p.error is not None and p.error.kind is ErrorKind.AWS_ERROR
    assert p.error.message.startswith(f"cannot reach http://127.0.0.1:{port}")
    assert p.error.command == "cloudwatch.describe_alarms(AlarmNamePrefix='db2ops-')"
