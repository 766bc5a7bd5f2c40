"""`db2ops-lab cloudwatch ...` and `db2ops-lab audit-test`: what another process reads of the lab's
evaluator over SSH (here called in-process through the lab's command dispatch)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from alarms.alarm_fixtures import ALARM, METRIC, NAMESPACE, grant_record
from lab.cloudwatch_eval import LabCloudWatch
from lab.commands import run_command
from lab.state import LabCluster


@pytest.fixture
def fired(monitoring):
    """A started evaluator whose alarm fired once on a matching event."""
    evaluator = LabCloudWatch(monitoring.aws.endpoint_url, "us-east-1")
    t0 = datetime.now(UTC)
    evaluator.tick(now=t0)
    monitoring.put_event(grant_record(t0), t0)
    evaluator.tick(now=t0)
    evaluator.start()
    yield evaluator
    evaluator.stop()


def lab_ctl(*args: str) -> tuple[int, str, str]:
    cluster = LabCluster("lab1", index=1)
    host = next(iter(cluster.hosts.values()))
    return run_command(cluster, host, ["db2ops-lab", *args])


def test_notifications_series_and_history_as_json(monitoring, fired):
    status, out, err = lab_ctl("cloudwatch", "notifications", ALARM)
    assert (status, err) == (0, "")
    sent = json.loads(out)
    assert [(n["AlarmName"], n["NewStateValue"], n["TopicArn"]) for n in sent] == [
        (ALARM, "ALARM", monitoring.topic_arn)
    ]
    assert sent[0]["MessageId"] == fired.sent_notifications[0]["MessageId"]
    assert datetime.fromisoformat(sent[0]["Timestamp"]) == fired.sent_notifications[0]["Timestamp"]
    assert json.loads(lab_ctl("cloudwatch", "notifications", "other-alarm")[1]) == []
    assert len(json.loads(lab_ctl("cloudwatch", "notifications")[1])) == 1

    points = json.loads(lab_ctl("cloudwatch", "series", NAMESPACE, METRIC)[1])
    assert [value for _, value in points] == [1.0]
    assert [datetime.fromisoformat(when) for when, _ in points] == [
        t for t, _ in fired.series(NAMESPACE, METRIC)
    ]

    history = json.loads(lab_ctl("cloudwatch", "history", ALARM)[1])
    assert history[0]["HistorySummary"] == f"Successfully executed action {monitoring.topic_arn}"
    assert history[1]["HistorySummary"] == "Alarm updated from INSUFFICIENT_DATA to ALARM"

    status, out, _ = lab_ctl("cloudwatch")
    assert status == 0 and json.loads(out)[0]["sent_notifications"] == 1


def test_bad_cloudwatch_arguments_show_the_usage(fired):
    for args in (("cloudwatch", "series", NAMESPACE), ("cloudwatch", "bogus"), ("audit-test", "extra")):
        status, out, err = lab_ctl(*args)
        assert (status, out) == (2, "")
        assert err.startswith(
            f"db2ops-lab: bad arguments {' '.join(args)!r}\nusage: db2ops-lab confirm-email"
        )
        assert (
            "db2ops-lab cloudwatch [notifications [ALARM] | series NAMESPACE METRIC | history ALARM]" in err
        )


def test_audit_test_needs_the_clusters_running_agent():
    status, out, err = lab_ctl("audit-test")
    assert (status, out) == (1, "")
    assert err == (
        "db2ops-lab: the lab's CloudWatch agent is not running for this cluster (start it with AWS)\n"
    )


def test_usage_lists_every_verb_including_the_cloudwatch_ones():
    expected = [
        "  status\n",
        "  kill-primary\n",
        "  restore\n",
        "  stop-qnetd\n",
        "  start-qnetd\n",
        "  disconnect-hadr\n",
        "  reconnect-hadr\n",
        "  latency MS\n",
        "  move-primary NODE\n",
        "  confirm-email SUBSCRIPTION_ARN|all\n",
        "  cloudwatch [notifications [ALARM] | series NAMESPACE METRIC | history ALARM]\n",
        "  audit-test\n",
    ]
    for args in ((), ("no-such-verb",)):
        status, out, err = lab_ctl(*args)
        assert (status, out) == (2, "")
        usage = err[err.index("usage: db2ops-lab") :]
        assert usage == "usage: db2ops-lab VERB [ARGS], VERB one of:\n" + "".join(expected)
