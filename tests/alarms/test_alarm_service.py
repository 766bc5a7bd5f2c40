"""services/alarms/service.py and services/alarms/steps.py against a real moto server (with and without the lab's
CloudWatch evaluator)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from alarms.alarm_fixtures import (
    ALARM,
    AUDIT_GROUP,
    EMAIL,
    PATTERN,
    client,
    grant_record,
    lab_cluster,
    put_alarm,
    sns_message,
)
from lab.cloudwatch_eval import LabCloudWatch
from services.alarms.service import AlarmService, AlarmServiceError, bucket_points, human_age
from services.alarms.steps import (
    AlarmEditError,
    DeleteAlarmStep,
    EditAlarmStep,
    MuteAlarmStep,
    SubscribeEmailStep,
    TestFireStep,
    check_period,
    put_params,
    run_alarm_change,
)
from services.plans import Journal, WriteRefused
from services.plans.journal import journal_for


@pytest.fixture
def journal(tmp_path):
    return Journal(tmp_path / "journal")


@pytest.fixture
def lab(monitoring):
    evaluator = LabCloudWatch(monitoring.aws.endpoint_url, "us-east-1")
    evaluator.start()  # the thread is stopped right away for determinism
    evaluator._stop.set()
    yield evaluator
    evaluator.stop()


def lab_service(cluster, evaluator, **kwargs) -> AlarmService:
    """The alarm service as the console makes it on `db2ops lab`: the composition root picks the lab's
    evaluator in this process as the cluster's CloudWatch extras."""
    from types import SimpleNamespace

    from tui.backends import extras_for

    session = SimpleNamespace(cloudwatch=evaluator, log_agents={})
    return AlarmService(cluster, extras=extras_for(cluster, session), **kwargs)


def alarm_dict(aws, name=ALARM):
    return client(aws, "cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


async def test_list_alarms_puts_ours_first_with_filter_and_group(monitoring):
    put_alarm(
        monitoring.aws,
        monitoring.topic_arn,
        name="AAA-team-cpu-high",
        MetricName="CPUUtilization",
        Namespace="AWS/EC2",
        Statistic="Average",
        Threshold=90.0,
    )
    put_alarm(monitoring.aws, monitoring.topic_arn, name="db2ops-other-db2diag-error-severe")
    put_alarm(
        monitoring.aws,
        monitoring.topic_arn,
        name="zz-tagged",
        Tags=[{"Key": "db2ops:cluster", "Value": "lab1"}],
    )
    service = AlarmService(lab_cluster(monitoring.aws))
    views = await service.list_alarms()
    assert [v.name for v in views] == [
        ALARM,
        "db2ops-other-db2diag-error-severe",
        "zz-tagged",
        "AAA-team-cpu-high",
    ]
    assert [v.ours for v in views] == [True, True, True, False]
    mine = views[0]
    assert (mine.filter_name, mine.filter_pattern, mine.log_group) == (
        "db2ops-worker-access",
        PATTERN,
        AUDIT_GROUP,
    )
    assert mine.condition == "Sum >= 1 per 60 s, missing: notBreaching"
    assert mine.alarm_actions == (monitoring.topic_arn,)
    assert mine.source == "aws"  # no lab evaluator registered
    assert views[3].filter_name == ""


async def test_history_without_the_lab_evaluator_says_moto_lacks_it(monitoring):
    import boto3
    from botocore.config import Config

    def one_attempt(service):  # moto answers HTTP 500: no need to watch the retries back off
        config = Config(retries={"mode": "standard", "total_max_attempts": 1})
        return boto3.client(
            service,
            endpoint_url=monitoring.aws.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="a",
            aws_secret_access_key="b",
            config=config,
        )

    service = AlarmService(lab_cluster(monitoring.aws), client_factory=one_attempt)
    with pytest.raises(AlarmServiceError, match="does not implement DescribeAlarmHistory") as caught:
        await service.alarm_history(ALARM)
    # the lab may well be running, in another process (db2ops lab --serve): say where its history is
    assert "restart" not in str(caught.value)
    assert f"db2ops-lab cloudwatch history {ALARM}" in str(caught.value)


async def test_console_in_another_process_than_the_lab_sees_pending_email(monitoring, lab):
    # AWS's own answer for a lab cluster (what a lab in another process falls back to when it does not
    # answer): the subscription's state comes from GetSubscriptionAttributes, which the lab keeps truthful.
    lab.start()
    service = AlarmService(lab_cluster(monitoring.aws))
    assert service.source == "aws"
    subs = await service.topic_subscriptions(monitoring.topic_arn)
    assert [(s.endpoint, s.status, s.source) for s in subs] == [(EMAIL, "pending", "aws")]
    lab.confirm_email("all")
    assert (await service.topic_subscriptions(monitoring.topic_arn))[0].status == "confirmed"


async def test_lab_values_history_sparkline_and_pending_subscription(monitoring, lab):
    now = datetime.now(UTC)
    lab.tick(now=now)
    monitoring.put_event(grant_record(now), now)
    lab.tick(now=now)
    service = lab_service(lab_cluster(monitoring.aws), lab, clock=lambda: now)
    view = (await service.list_alarms())[0]
    assert (view.state, view.source) == ("ALARM", "lab")
    assert view.reason.startswith("Threshold Crossed: 1 datapoint [1.0 (")
    spark = await service.metric_sparkline(view, hours=3)
    assert len(spark) == 60 and spark[-1] == 1.0 and sum(spark) == 1.0
    history = await service.alarm_history(ALARM)
    assert history.source == "lab"
    assert [i.kind for i in history.items[:2]] == ["Action", "StateUpdate"]
    subs = await service.topic_subscriptions(monitoring.topic_arn)
    assert [(s.endpoint, s.protocol, s.status, s.source) for s in subs] == [
        (EMAIL, "email", "pending", "lab")
    ]
    lab.confirm_email("all")
    assert (await service.topic_subscriptions(monitoring.topic_arn))[0].status == "confirmed"


async def test_mute_goes_through_the_plan_and_journal_and_silences_the_alarm(
    monitoring, lab, journal, tmp_path
):
    now = datetime.now(UTC)
    lab.tick(now=now)
    cluster = lab_cluster(monitoring.aws)
    result = await run_alarm_change(
        cluster, MuteAlarmStep(ALARM, mute=True), journal=journal, operator="alice", state_dir=tmp_path
    )
    assert result.ok and result.by_id("alarm-mute").status == "applied"
    assert alarm_dict(monitoring.aws)["ActionsEnabled"] is False
    entry = journal.read().entries[-1]
    assert (entry.who, entry.step_id, entry.result) == ("alice", "alarm-mute", "verified")
    assert entry.actions[0]["operation"] == "DisableAlarmActions"
    again = await run_alarm_change(
        cluster, MuteAlarmStep(ALARM, mute=True), journal=journal, state_dir=tmp_path
    )
    assert again.by_id("alarm-mute").status == "already_done"
    monitoring.put_event(grant_record(now), now)
    lab.tick(now=now)
    assert alarm_dict(monitoring.aws)["StateValue"] == "ALARM"
    assert lab.sent_notifications == []  # muted: state changes, nobody is mailed


async def test_read_only_cluster_refuses_mute_before_any_call(monitoring, journal, tmp_path):
    cluster = lab_cluster(monitoring.aws, read_only=True)
    with pytest.raises(WriteRefused, match="read-only"):
        await run_alarm_change(cluster, MuteAlarmStep(ALARM, mute=True), journal=journal, state_dir=tmp_path)
    assert alarm_dict(monitoring.aws)["ActionsEnabled"] is True
    assert not journal.path.exists()


async def test_test_fire_is_labelled_and_notifies_through_the_lab(monitoring, lab, journal, tmp_path):
    lab.tick()
    cluster = lab_cluster(monitoring.aws)
    result = await run_alarm_change(
        cluster, TestFireStep(ALARM), journal=journal, operator="alice", state_dir=tmp_path
    )
    assert result.ok
    alarm = alarm_dict(monitoring.aws)
    assert (alarm["StateValue"], alarm["StateReason"]) == ("ALARM", "db2ops test-fire by alice")
    assert json.loads(alarm["StateReasonData"]) == {"db2ops": "test-fire", "by": "alice"}
    lab.tick()
    assert sns_message(lab.sent_notifications[0])["NewStateReason"] == "db2ops test-fire by alice"


async def test_test_fire_of_an_alarm_in_alarm_says_nobody_is_notified(monitoring, lab, journal, tmp_path):
    lab.tick()
    monitoring.put_event(grant_record(datetime.now(UTC)))
    lab.tick()
    assert alarm_dict(monitoring.aws)["StateValue"] == "ALARM"
    result = await run_alarm_change(
        lab_cluster(monitoring.aws), TestFireStep(ALARM), mode="dry-run", journal=journal, state_dir=tmp_path
    )
    assert result.steps[0].message == (
        "alarm is ALARM; a test-fire sets ALARM again: no state change, so CloudWatch runs no action and "
        "nobody is notified"
    )


@pytest.mark.parametrize("period", [15, 45, 0, 90, -60])
def test_edit_refuses_periods_aws_rejects(period):
    with pytest.raises(AlarmEditError, match="10, 20, 30 or a multiple of 60"):
        EditAlarmStep(ALARM, period=period)


def test_valid_periods_and_bad_thresholds():
    assert [check_period(p) for p in (10, 20, 30, 60, 300)] == [10, 20, 30, 60, 300]
    with pytest.raises(AlarmEditError, match="finite"):
        EditAlarmStep(ALARM, threshold=float("nan"))
    with pytest.raises(AlarmEditError, match="not a number"):
        EditAlarmStep(ALARM, threshold="lots")
    with pytest.raises(AlarmEditError, match="nothing to change"):
        EditAlarmStep(ALARM)


async def test_edit_preserves_every_other_setting(monitoring, lab, journal, tmp_path):
    lab.tick()
    before = alarm_dict(monitoring.aws)
    cluster = lab_cluster(monitoring.aws)
    dry = await run_alarm_change(
        cluster,
        EditAlarmStep(ALARM, threshold=3, period=300),
        mode="dry-run",
        journal=journal,
        state_dir=tmp_path,
    )
    params = dry.by_id("alarm-edit").actions[0].params
    assert params["Threshold"] == 3.0 and params["Period"] == 300
    assert params["AlarmActions"] == [monitoring.topic_arn] and params["TreatMissingData"] == "notBreaching"
    result = await run_alarm_change(
        cluster, EditAlarmStep(ALARM, threshold=3, period=300), journal=journal, state_dir=tmp_path
    )
    assert result.ok
    after = alarm_dict(monitoring.aws)
    assert (after["Threshold"], after["Period"]) == (3.0, 300)
    for key in (
        "AlarmDescription",
        "AlarmActions",
        "Statistic",
        "ComparisonOperator",
        "TreatMissingData",
        "MetricName",
        "Namespace",
        "ActionsEnabled",
        "EvaluationPeriods",
    ):
        assert after[key] == before[key], key
    lab.tick()  # moto re-created the alarm (OK); the lab keeps the state, records the update, re-evaluates
    assert lab.history(ALARM)[1]["HistorySummary"] == f'Alarm "{ALARM}" updated'
    assert lab.history(ALARM)[0]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to OK"


def test_put_params_drops_empty_and_metric_math_fields():
    alarm = {
        "AlarmName": "a",
        "Metrics": [{"Id": "e1", "Expression": "m1*2"}],
        "MetricName": "x",
        "Period": 60,
        "Unit": None,
        "OKActions": [],
        "Threshold": 1.0,
    }
    assert put_params(alarm, Threshold=2.0) == {
        "AlarmName": "a",
        "Metrics": alarm["Metrics"],
        "Threshold": 2.0,
    }


async def test_delete_needs_the_plan_and_is_idempotent(monitoring, journal, tmp_path):
    cluster = lab_cluster(monitoring.aws)
    assert (await run_alarm_change(cluster, DeleteAlarmStep(ALARM), journal=journal, state_dir=tmp_path)).ok
    assert client(monitoring.aws, "cloudwatch").describe_alarms(AlarmNames=[ALARM])["MetricAlarms"] == []
    again = await run_alarm_change(cluster, DeleteAlarmStep(ALARM), journal=journal, state_dir=tmp_path)
    assert again.by_id("alarm-delete").status == "already_done"


async def test_changing_a_missing_alarm_fails_with_what_to_do(monitoring, journal, tmp_path):
    cluster = lab_cluster(monitoring.aws)
    result = await run_alarm_change(
        cluster, MuteAlarmStep("nope", mute=True), journal=journal, state_dir=tmp_path
    )
    assert result.outcome == "failed"
    assert "alarm nope does not exist" in result.by_id("alarm-mute").message


def test_bucket_points_and_age_text():
    t = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    start = int(t.timestamp())
    pts = [
        (t + timedelta(seconds=5), 1.0),
        (t + timedelta(seconds=50), 2.0),
        (t + timedelta(seconds=70), 4.0),
    ]
    assert bucket_points(pts, start, start + 180, 60, "Sum") == [3.0, 4.0, 0.0]
    assert bucket_points(pts, start, start + 180, 60, "Maximum") == [2.0, 4.0, 0.0]
    assert [human_age(timedelta(seconds=s)) for s in (5, 125, 3 * 3600 + 300, 2 * 86400 + 4 * 3600)] == [
        "5s",
        "2m",
        "3h05m",
        "2d04h",
    ]
    assert human_age(None) == "?"


async def test_screen_with_the_real_service_mutes_through_plan_and_journal(
    monitoring, lab, monkeypatch, tmp_path
):
    """Screen -> AlarmService -> plan runner + guard + journal -> moto, with the lab's evaluator's values."""
    from textual.app import App

    from screens.alarms import AlarmsScreen

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    lab.tick()
    cluster = lab_cluster(monitoring.aws)
    screen = AlarmsScreen(cluster, lab_service(cluster, lab), poll_interval=0)

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(screen)

    app = Host()
    async with app.run_test(size=(170, 40)) as pilot:
        await screen.loaded.wait()
        await pilot.pause()
        assert str(screen.query_one("DataTable").get_row_at(0)[0]) == "? NO DATA"
        assert screen.lab  # values labelled "(lab)"
        await pilot.press("m", *"failover drill", "enter", *"30m", "enter")
        await app.workers.wait_for_complete()
        screen.action_refresh()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert alarm_dict(monitoring.aws)["ActionsEnabled"] is False
        # the screen reads who/why/until back from the journal
        assert str(screen.query_one("DataTable").get_row_at(0)[3]).startswith("MUTED to ")
        assert "failover drill; until " in str(screen.query_one("#alarm-detail-text").render())
    entries = journal_for(cluster).read().entries
    assert [(e.step_id, e.result) for e in entries] == [("alarm-mute", "verified")]
    assert entries[0].details["reason"] == "failover drill" and entries[0].details["until"].endswith("Z")
    intent = journal_for(cluster).read().intents[0]
    assert intent.details == entries[0].details  # written ahead of the call too
    assert "muted by " in intent.actions[0]["note"] and "failover drill" in intent.actions[0]["note"]
    # `lab: true` alone does not move a journal (only a running lab's marker does): this in-process lab
    # cluster has none, so its steps are in the operator journal (under this test's XDG_STATE_HOME)
    assert journal_for(cluster).directory == Journal().directory


async def test_boto3_clients_are_built_off_the_event_loop(monitoring):
    import threading

    built_in: list[str] = []

    def factory(service: str):
        built_in.append(threading.current_thread().name)
        return client(monitoring.aws, service)

    service = AlarmService(lab_cluster(monitoring.aws), client_factory=factory)
    await service.list_alarms()
    assert built_in and threading.current_thread().name not in built_in


async def test_refused_credentials_are_a_sentence_not_an_xml_body(monitoring, moto_url):
    import urllib.request

    from services.inventory.model import AwsSettings

    def auth(body: bytes) -> None:
        request = urllib.request.Request(
            f"{moto_url}/moto-api/reset-auth", data=body, headers={"Content-Type": "text/plain"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # loopback moto only
            response.read()

    aws = AwsSettings(region="us-east-1", endpoint_url=moto_url, profile="nobody")
    import boto3

    def factory(service: str):
        return boto3.client(
            service,
            endpoint_url=moto_url,
            region_name="us-east-1",
            aws_access_key_id="AKIAUNKNOWN000000000",
            aws_secret_access_key="x",
        )

    service = AlarmService(lab_cluster(aws), client_factory=factory)
    auth(b"0")  # IAM enforcement on: these keys are unknown to moto's IAM
    try:
        with pytest.raises(AlarmServiceError) as caught:
            await service.list_alarms()
    finally:
        auth(b"inf")
    message = str(caught.value)
    assert "InvalidClientTokenId" in message and "did not accept the credentials" in message, message
    assert "<" not in message, message


async def test_the_alarm_screen_subscribes_an_email_through_the_guard_and_journal(
    monitoring, journal, tmp_path
):
    cluster = lab_cluster(monitoring.aws)
    step = SubscribeEmailStep(ALARM, "oncall@example.com")
    dry = await run_alarm_change(cluster, step, mode="dry-run", journal=journal, state_dir=tmp_path)
    assert dry.steps[0].status == "planned"
    assert dry.steps[0].message == f"oncall@example.com is not subscribed to {monitoring.topic_arn}"
    result = await run_alarm_change(cluster, step, journal=journal, operator="alice", state_dir=tmp_path)
    assert result.ok and result.steps[0].status == "applied"
    subs = client(monitoring.aws, "sns").list_subscriptions_by_topic(TopicArn=monitoring.topic_arn)
    assert "oncall@example.com" in [s["Endpoint"] for s in subs["Subscriptions"] if s["Protocol"] == "email"]
    entry = journal.read().entries[-1]
    assert entry.plan == "alarm-subscribe" and entry.result == "verified"
    assert [a.get("operation") for a in entry.actions] == ["Subscribe"], entry.actions
    assert entry.actions[0]["params"]["Endpoint"] == "oncall@example.com"
    again = await run_alarm_change(cluster, step, journal=journal, state_dir=tmp_path)
    assert again.steps[0].status == "already_done"
    # the write guard: a read-only cluster refuses before any call
    with pytest.raises(WriteRefused):
        await run_alarm_change(
            lab_cluster(monitoring.aws, read_only=True),
            SubscribeEmailStep(ALARM, "x@example.com"),
            journal=journal,
            state_dir=tmp_path,
        )
    with pytest.raises(AlarmEditError, match="not an e-mail address"):
        SubscribeEmailStep(ALARM, "x@example.com; rm -rf /")
