"""The lab's CloudWatch evaluator end to end against a real moto server on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from moto.sns.models import sns_backends

from alarms.alarm_fixtures import ALARM, METRIC, NAMESPACE, client, grant_record, put_alarm, sns_message
from lab.cloudwatch_eval import LabCloudWatch
from services.logs.filter_pattern import compile_pattern


@pytest.fixture
def lab(monitoring):
    evaluator = LabCloudWatch(monitoring.aws.endpoint_url, "us-east-1")
    yield evaluator
    evaluator.stop()


def alarm_state(aws, name=ALARM):
    return client(aws, "cloudwatch").describe_alarms(AlarmNames=[name])["MetricAlarms"][0]


def test_new_alarm_starts_insufficient_data_like_aws(monitoring, lab):
    assert alarm_state(monitoring.aws)["StateValue"] == "OK"  # moto's wrong start state
    lab.tick()
    alarm = alarm_state(monitoring.aws)
    assert alarm["StateValue"] == "INSUFFICIENT_DATA"
    assert alarm["StateReason"] == "Unchecked: Initial alarm creation"
    assert lab.history(ALARM)[0]["HistorySummary"] == f'Alarm "{ALARM}" created'


def test_matching_event_fires_the_alarm_and_publishes_to_sns(monitoring, lab):
    t0 = datetime.now(UTC)
    lab.tick(now=t0)
    when = monitoring.put_event(grant_record(t0), t0)
    lab.tick(now=when)

    assert [v for _, v in lab.series(NAMESPACE, METRIC)] == [1.0]
    stats = client(monitoring.aws, "cloudwatch").get_metric_data(
        MetricDataQueries=[
            {
                "Id": "m",
                "MetricStat": {
                    "Metric": {"Namespace": NAMESPACE, "MetricName": METRIC},
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=t0 - timedelta(minutes=5),
        EndTime=t0 + timedelta(minutes=5),
    )["MetricDataResults"][0]
    assert stats["Values"] == [1.0]  # the datapoint really went to CloudWatch (moto)

    alarm = alarm_state(monitoring.aws)
    assert alarm["StateValue"] == "ALARM"
    minute = when.replace(second=0, microsecond=0).strftime("%d/%m/%y %H:%M:%S")
    assert alarm["StateReason"] == (
        f"Threshold Crossed: 1 datapoint [1.0 ({minute})] was greater than or equal to the threshold (1.0)."
    )
    assert json.loads(alarm["StateReasonData"])["recentDatapoints"] == [1.0]

    kinds = [(h["HistoryItemType"], h["HistorySummary"]) for h in lab.history(ALARM)]
    assert kinds[0] == ("Action", f"Successfully executed action {monitoring.topic_arn}")
    assert kinds[1] == ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM")

    assert len(lab.sent_notifications) == 1
    sent = lab.sent_notifications[0]
    message = sns_message(sent)
    assert message["AlarmName"] == ALARM
    assert message["NewStateValue"] == "ALARM"
    assert message["OldStateValue"] == "INSUFFICIENT_DATA"
    assert message["Region"] == "US East (N. Virginia)"
    assert message["Trigger"]["MetricName"] == METRIC
    assert message["Trigger"]["Statistic"] == "SUM"
    assert message["Trigger"]["Threshold"] == 1.0
    assert sent["Subject"] == f'ALARM: "{ALARM}" in US East (N. Virginia)'
    # ...and it went through SNS: moto stored the published message on the topic.
    topic = sns_backends["123456789012"]["us-east-1"].topics[monitoring.topic_arn]
    assert any(ALARM in str(n) for n in topic.sent_notifications)


def test_upper_case_appusr_event_does_not_count(monitoring, lab):
    t0 = datetime.now(UTC)
    lab.tick(now=t0)
    trap = grant_record(t0, userid="APPUSR", statement="select empno, salary from sample.worker")
    assert compile_pattern("worker -appusr").matches(trap)  # the runbook's pattern would alarm on appusr
    monitoring.put_event(trap, t0)
    lab.tick(now=t0)
    assert lab.series(NAMESPACE, METRIC) == []
    assert alarm_state(monitoring.aws)["StateValue"] == "INSUFFICIENT_DATA"
    assert lab.sent_notifications == []


def test_event_is_counted_once_across_ticks(monitoring, lab):
    t0 = datetime.now(UTC)
    lab.tick(now=t0)
    monitoring.put_event(grant_record(t0), t0)
    lab.tick(now=t0)
    lab.tick(now=t0 + timedelta(milliseconds=1))
    assert len(lab.series(NAMESPACE, METRIC)) == 1
    assert lab.datapoints_published == 1


def test_no_data_with_not_breaching_goes_ok_after_a_minute(monitoring, lab):
    t0 = datetime.now(UTC)
    lab.tick(now=t0)
    lab.tick(now=t0 + timedelta(seconds=61))
    alarm = alarm_state(monitoring.aws)
    assert alarm["StateValue"] == "OK"
    assert alarm["StateReason"] == (
        "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as "
        "[NonBreaching]."
    )


def test_muted_alarm_changes_state_but_sends_nothing(monitoring, lab):
    t0 = datetime.now(UTC)
    lab.tick(now=t0)
    client(monitoring.aws, "cloudwatch").disable_alarm_actions(AlarmNames=[ALARM])
    assert alarm_state(monitoring.aws)["ActionsEnabled"] is False
    monitoring.put_event(grant_record(t0), t0)
    lab.tick(now=t0)
    assert alarm_state(monitoring.aws)["StateValue"] == "ALARM"
    assert lab.sent_notifications == []
    summaries = [h["HistorySummary"] for h in lab.history(ALARM)]
    assert summaries[0] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert f'Alarm "{ALARM}" actions disabled' in summaries


def test_email_subscription_pending_until_confirmed(monitoring, lab):
    sns = client(monitoring.aws, "sns")
    attrs = sns.get_subscription_attributes(SubscriptionArn=monitoring.subscription_arn)["Attributes"]
    assert attrs["PendingConfirmation"] == "false"  # moto confirms at once; AWS would not
    lab.tick()
    assert lab.subscription_status(monitoring.subscription_arn) == "pending"
    assert [s["Endpoint"] for s in lab.email.pending()] == ["dba-team@example.com"]
    assert lab.confirm_email(monitoring.subscription_arn) == [monitoring.subscription_arn]
    assert lab.subscription_status(monitoring.subscription_arn) == "confirmed"
    assert lab.confirm_email("all") == []
    with pytest.raises(KeyError):
        lab.confirm_email("arn:aws:sns:us-east-1:123456789012:db2-alerts:nope")


async def test_while_the_lab_runs_aws_reports_the_email_subscription_pending(monitoring, lab):
    # The monitoring plan asks AWS (GetSubscriptionAttributes), not the lab: it said "confirmed" while
    # the alarm screen said "pending".
    from alarms.alarm_fixtures import lab_cluster
    from services.monitoring.aws_steps import subscription_state
    from services.plans import PlanContext

    sns = client(monitoring.aws, "sns")
    sub = {"SubscriptionArn": monitoring.subscription_arn, "Protocol": "email"}
    ctx = PlanContext(cluster=lab_cluster(monitoring.aws), runner=None)  # type: ignore[arg-type]

    def pending() -> str:
        attrs = sns.get_subscription_attributes(SubscriptionArn=monitoring.subscription_arn)
        return attrs["Attributes"]["PendingConfirmation"]

    lab.start()
    assert pending() == "true"
    assert await subscription_state(ctx, sub) == "pending confirmation"
    lab.confirm_email(monitoring.subscription_arn)
    assert pending() == "false"
    assert await subscription_state(ctx, sub) == "confirmed"
    other = sns.subscribe(
        TopicArn=monitoring.topic_arn,
        Protocol="email",
        Endpoint="oncall@example.com",
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    assert (
        sns.get_subscription_attributes(SubscriptionArn=other)["Attributes"]["PendingConfirmation"] == "true"
    )
    lab.stop()  # no lab evaluator running: moto answers as it always did
    assert (
        sns.get_subscription_attributes(SubscriptionArn=other)["Attributes"]["PendingConfirmation"] == "false"
    )


def test_external_set_alarm_state_runs_actions_then_reevaluates(monitoring, lab):
    t0 = datetime.now(UTC)
    lab.tick(now=t0)
    client(monitoring.aws, "cloudwatch").set_alarm_state(
        AlarmName=ALARM, StateValue="ALARM", StateReason="db2ops test-fire by alice"
    )
    lab.tick(now=t0 + timedelta(seconds=1))
    assert lab.history(ALARM)[1]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"
    assert sns_message(lab.sent_notifications[0])["NewStateReason"] == "db2ops test-fire by alice"
    lab.tick(now=t0 + timedelta(seconds=30))  # the test-fire holds until the next evaluation
    assert alarm_state(monitoring.aws)["StateValue"] == "ALARM"
    lab.tick(now=t0 + timedelta(seconds=62))
    assert alarm_state(monitoring.aws)["StateValue"] == "OK"


def test_set_alarm_state_to_the_state_it_is_in_runs_no_action_like_aws(monitoring, lab):
    # AWS SetAlarmState: "When the updated state differs from the previous value, the action configured
    # for the appropriate state is invoked." A test-fire of an alarm already in ALARM notifies nobody.
    t0 = datetime.now(UTC)
    lab.tick(now=t0)
    monitoring.put_event(grant_record(t0), t0)
    lab.tick(now=t0)
    assert alarm_state(monitoring.aws)["StateValue"] == "ALARM" and len(lab.sent_notifications) == 1
    client(monitoring.aws, "cloudwatch").set_alarm_state(
        AlarmName=ALARM, StateValue="ALARM", StateReason="db2ops test-fire by alice"
    )
    lab.tick(now=t0 + timedelta(seconds=1))
    assert len(lab.sent_notifications) == 1
    assert lab.history(ALARM)[0]["HistorySummary"] == "Alarm updated from ALARM to ALARM"


def test_put_metric_alarm_update_keeps_state_like_aws(monitoring, lab):
    t0 = datetime.now(UTC)
    lab.tick(now=t0)
    monitoring.put_event(grant_record(t0), t0)
    lab.tick(now=t0)
    # moto re-creates the alarm in OK; AWS keeps the state of an updated alarm.
    put_alarm(monitoring.aws, monitoring.topic_arn, EvaluationPeriods=2, DatapointsToAlarm=1)
    assert alarm_state(monitoring.aws)["StateValue"] == "OK"
    lab.tick(now=t0)
    alarm = alarm_state(monitoring.aws)
    assert alarm["StateValue"] == "ALARM"
    assert alarm["EvaluationPeriods"] == 2
    assert lab.history(ALARM)[0]["HistorySummary"] == f'Alarm "{ALARM}" updated'
    # 2 of 2 needed: the one datapoint plus a missing (not breaching) period is not enough.
    put_alarm(monitoring.aws, monitoring.topic_arn, EvaluationPeriods=2, DatapointsToAlarm=2)
    lab.tick(now=t0)
    assert alarm_state(monitoring.aws)["StateValue"] == "OK"
    assert len(lab.sent_notifications) == 1  # no OKActions configured


def test_lab_command_confirms_email(monitoring, lab):
    from lab.commands import run_command
    from lab.state import LabCluster

    lab.start()
    lab.tick()
    cluster = LabCluster("lab1", index=1)
    host = next(iter(cluster.hosts.values()))
    status, out, err = run_command(cluster, host, ["db2ops-lab", "confirm-email", "all"])
    assert (status, err) == (0, "")
    assert out == f"confirmed {monitoring.subscription_arn}\n"
    status, out, _ = run_command(cluster, host, ["db2ops-lab", "cloudwatch"])
    assert status == 0 and json.loads(out)[0]["confirmed_email"] == [monitoring.subscription_arn]
    status, _, err = run_command(cluster, host, ["db2ops-lab", "confirm-email"])
    assert status == 2 and "usage: db2ops-lab confirm-email" in err
    status, out, _ = run_command(cluster, host, ["db2ops-lab", "status"])  # drills still answer
    assert status == 0 and json.loads(out)


def test_duplicate_filters_of_one_name_count_an_event_once(monitoring, monkeypatch):
    # moto 5.2.1 appends on PutMetricFilter with an existing name; AWS replaces. The lab evaluator must
    # apply only the current (last) filter even when duplicates are already stored.
    from moto.logs.metric_filters import MetricFilters

    def appending(self, filter_name, filter_pattern, log_group_name, metric_transformations):
        self.metric_filters.append(
            {
                "filterName": filter_name,
                "filterPattern": filter_pattern,
                "logGroupName": log_group_name,
                "metricTransformations": metric_transformations,
            }
        )

    monkeypatch.setattr(MetricFilters, "add_filter", appending)
    monkeypatch.setattr(MetricFilters, "_db2ops_lab_unique", False, raising=False)
    logs = client(monitoring.aws, "logs")
    logs.put_metric_filter(
        logGroupName="db2-db-worker-audit-log",
        filterName="db2ops-worker-access",
        filterPattern="worker",
        metricTransformations=[{"metricName": METRIC, "metricNamespace": NAMESPACE, "metricValue": "1"}],
    )
    assert len(logs.describe_metric_filters(filterNamePrefix="db2ops-worker-access")["metricFilters"]) == 2
    evaluator = LabCloudWatch(monitoring.aws.endpoint_url, "us-east-1")
    try:
        t0 = datetime.now(UTC)
        evaluator.tick(now=t0)
        monitoring.put_event(grant_record(t0), t0)
        evaluator.tick(now=t0)
        assert [v for _, v in evaluator.series(NAMESPACE, METRIC)] == [1.0]
        assert evaluator.datapoints_published == 1
    finally:
        evaluator.stop()


def test_event_put_with_a_new_alarm_fires_on_the_first_tick(monitoring, lab):
    # The alarm (fixture) and the matching event exist before the evaluator's first look: the datapoint
    # that tick publishes is new data for the alarm, evaluated at once, not a minute later.
    t0 = datetime.now(UTC)
    monitoring.put_event(grant_record(t0), t0)
    lab.tick(now=t0)
    assert alarm_state(monitoring.aws)["StateValue"] == "ALARM"
    summaries = [h["HistorySummary"] for h in lab.history(ALARM)]
    assert summaries[:2] == [
        f"Successfully executed action {monitoring.topic_arn}",
        "Alarm updated from INSUFFICIENT_DATA to ALARM",
    ]
    assert [sns_message(n)["OldStateValue"] for n in lab.sent_notifications] == ["INSUFFICIENT_DATA"]


def test_reset_to_ok_and_event_in_one_tick_alarms_at_once(monitoring, lab):
    # prove-it-fires resets an alarm to OK, then runs the statement: both can land in one evaluator tick.
    t0 = datetime.now(UTC)
    lab.tick(now=t0)
    client(monitoring.aws, "cloudwatch").set_alarm_state(
        AlarmName=ALARM, StateValue="OK", StateReason="db2ops prove-it-fires: reset to OK"
    )
    monitoring.put_event(grant_record(t0), t0)
    lab.tick(now=t0 + timedelta(seconds=1))
    assert alarm_state(monitoring.aws)["StateValue"] == "ALARM"
    summaries = [h["HistorySummary"] for h in lab.history(ALARM)]
    assert summaries[:3] == [
        f"Successfully executed action {monitoring.topic_arn}",
        "Alarm updated from OK to ALARM",
        "Alarm updated from INSUFFICIENT_DATA to OK",
    ]
    assert [sns_message(n)["OldStateValue"] for n in lab.sent_notifications] == ["OK"]


def test_test_fire_with_a_new_event_stays_alarm_then_refires_after_ok(monitoring, lab):
    cw = client(monitoring.aws, "cloudwatch")
    # Ten seconds into a minute, never in the future: moto stamps ingestionTime with the real clock, and a
    # filter only sees events ingested after the lab first saw it (t0 minus a 3 s grace).
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = now.replace(second=10) - (timedelta(minutes=1) if now.second < 10 else timedelta(0))
    lab.tick(now=t0)
    cw.set_alarm_state(AlarmName=ALARM, StateValue="ALARM", StateReason="db2ops test-fire by alice")
    monitoring.put_event(grant_record(t0), t0)
    lab.tick(now=t0 + timedelta(seconds=1))
    # AWS: the test-fire notifies; the evaluation that follows finds ALARM again: no transition, no message.
    alarm = alarm_state(monitoring.aws)
    assert (alarm["StateValue"], alarm["StateReason"]) == ("ALARM", "db2ops test-fire by alice")
    assert [sns_message(n)["NewStateReason"] for n in lab.sent_notifications] == ["db2ops test-fire by alice"]
    lab.tick(now=t0 + timedelta(seconds=62))  # a quiet minute, missing data not breaching
    assert alarm_state(monitoring.aws)["StateValue"] == "OK"
    later = t0 + timedelta(seconds=63)
    monitoring.put_event(grant_record(later), later)
    lab.tick(now=later)
    assert alarm_state(monitoring.aws)["StateValue"] == "ALARM"
    assert [sns_message(n)["OldStateValue"] for n in lab.sent_notifications] == ["INSUFFICIENT_DATA", "OK"]


def test_event_in_the_last_second_of_a_minute_still_fires_when_ingested_in_the_next(monitoring, lab):
    # An event stamped 12:00:59.5 that the evaluator first reads at 12:01:00.3 lies in a period that has just
    # closed. CloudWatch evaluates that period when its data arrives; a lab that only looked at the period
    # holding `now` never fired (prove-it-fires then failed about once a minute's last second).
    boundary = datetime.now(UTC).replace(second=0, microsecond=0)  # never in the future (real ingestionTime)
    lab.tick(now=boundary - timedelta(seconds=30))
    late = boundary - timedelta(milliseconds=500)
    monitoring.put_event(grant_record(late), late)
    lab.tick(now=boundary + timedelta(milliseconds=300))
    alarm = alarm_state(monitoring.aws)
    assert alarm["StateValue"] == "ALARM"
    minute = (boundary - timedelta(minutes=1)).strftime("%d/%m/%y %H:%M:%S")
    assert alarm["StateReason"] == (
        f"Threshold Crossed: 1 datapoint [1.0 ({minute})] was greater than or equal to the threshold (1.0)."
    )
    # The next minute has no data: missing data is not breaching, so the alarm goes back to OK then.
    lab.tick(now=boundary + timedelta(seconds=61))
    assert alarm_state(monitoring.aws)["StateValue"] == "OK"


def test_event_stamped_after_the_ticks_now_in_the_next_minute_fires_on_the_next_tick(monitoring, lab):
    # A tick takes `now` first and reads the log group a few ms later: a record stamped in those ms, across a
    # minute boundary, lies in a period that had not begun at `now`. Evaluating it then found nothing and
    # counted the datapoint as seen, so the alarm waited a whole minute (prove-it-fires then timed out).
    boundary = datetime.now(UTC).replace(second=0, microsecond=0)  # never in the future (real ingestionTime)
    lab.tick(now=boundary - timedelta(seconds=30))
    early = boundary + timedelta(milliseconds=2)
    monitoring.put_event(grant_record(early), early)
    lab.tick(now=boundary - timedelta(milliseconds=5))  # reads the event stamped 7 ms after its `now`
    assert lab.series(NAMESPACE, METRIC) == [(early, 1.0)]
    lab.tick(now=boundary + timedelta(seconds=1))
    alarm = alarm_state(monitoring.aws)
    assert alarm["StateValue"] == "ALARM"
    minute = boundary.strftime("%d/%m/%y %H:%M:%S")
    assert alarm["StateReason"] == (
        f"Threshold Crossed: 1 datapoint [1.0 ({minute})] was greater than or equal to the threshold (1.0)."
    )
    assert [sns_message(n)["NewStateValue"] for n in lab.sent_notifications] == ["ALARM"]


def test_a_state_set_from_outside_while_the_lab_sets_one_is_not_taken_for_the_labs_own(monitoring):
    # The lab sets a state, then reads StateUpdatedTimestamp back to recognise its own change. A reset to OK
    # (prove-it-fires, another console) landing between the two calls used to be read as the lab's own:
    # the lab kept ALARM in mind while AWS said OK, and the next event changed nothing (no re-fire).
    cw = client(monitoring.aws, "cloudwatch")

    class ResetOnceAfterTheLabsAlarm:
        def __init__(self, real):
            self.real = real
            self.reset = False

        def __getattr__(self, name):
            return getattr(self.real, name)

        def set_alarm_state(self, **kwargs):
            answer = self.real.set_alarm_state(**kwargs)
            if kwargs["StateValue"] == "ALARM" and not self.reset:
                self.reset = True
                cw.set_alarm_state(AlarmName=ALARM, StateValue="OK", StateReason="reset from outside")
            return answer

    lab = LabCloudWatch(
        monitoring.aws.endpoint_url,
        "us-east-1",
        client_factory=lambda s: (
            ResetOnceAfterTheLabsAlarm(client(monitoring.aws, s))
            if s == "cloudwatch"
            else client(monitoring.aws, s)
        ),
    )
    try:
        t0 = datetime.now(UTC)
        lab.tick(now=t0)
        monitoring.put_event(grant_record(t0), t0)
        lab.tick(now=t0)  # the lab sets ALARM; the reset lands before it reads the alarm back
        assert alarm_state(monitoring.aws)["StateValue"] == "OK"
        lab.tick(now=t0 + timedelta(seconds=1))
        assert lab.status()["alarms"][ALARM] == "OK"  # the lab saw the reset
        later = t0 + timedelta(seconds=2)
        monitoring.put_event(grant_record(later), later)
        lab.tick(now=later)
        assert alarm_state(monitoring.aws)["StateValue"] == "ALARM"  # the new event fires again
    finally:
        lab.stop()
