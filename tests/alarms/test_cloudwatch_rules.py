"""CloudWatch's alarm rules as the lab evaluates them (pure functions, no AWS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lab.cloudwatch_rules import UnsupportedAlarm, evaluate, sns_subject, statistic

NOW = datetime(2026, 11, 26, 14, 5, 30, tzinfo=UTC)


def alarm(**overrides):
    base = {
        "AlarmName": "a",
        "MetricName": "M",
        "Namespace": "NS",
        "Statistic": "Sum",
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 1.0,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
    }
    base.update(overrides)
    return base


def at(minute: int, second: int = 10) -> datetime:
    return datetime(2026, 11, 26, 14, minute, second, tzinfo=UTC)


def test_one_datapoint_over_threshold_reason_matches_aws_text():
    result = evaluate(alarm(), [(at(5), 1.0)], NOW)
    assert result.state == "ALARM"
    assert result.reason == (
        "Threshold Crossed: 1 datapoint [1.0 (26/11/26 14:05:00)] was greater than or equal to the threshold (1.0)."
    )
    assert result.reason_data["evaluatedDatapoints"] == [
        {"timestamp": "2026-11-26T14:05:00.000+0000", "sampleCount": 1.0, "value": 1.0}
    ]


def test_sum_adds_the_events_of_one_period_only():
    points = [(at(4), 5.0), (at(5, 1), 1.0), (at(5, 59), 1.0)]
    result = evaluate(alarm(Threshold=3.0), points, NOW)
    assert result.state == "OK"
    assert result.reason == (
        "Threshold Crossed: 1 datapoint [2.0 (26/11/26 14:05:00)] was not greater than or equal to the threshold (3.0)."
    )


def test_m_out_of_n_with_missing_periods():
    points = [(at(3), 2.0), (at(5), 2.0)]
    result = evaluate(alarm(EvaluationPeriods=3, DatapointsToAlarm=2), points, NOW)
    assert result.state == "ALARM"
    assert result.reason == (
        "Threshold Crossed: 2 out of the last 3 datapoints [2.0 (26/11/26 14:05:00), 2.0 (26/11/26 14:03:00)] "
        "were greater than or equal to the threshold (1.0) (minimum 2 datapoints for OK -> ALARM transition)."
    )
    assert evaluate(alarm(EvaluationPeriods=3, DatapointsToAlarm=3), points, NOW).state == "OK"
    breaching = evaluate(
        alarm(EvaluationPeriods=3, DatapointsToAlarm=3, TreatMissingData="breaching"), points, NOW
    )
    assert breaching.state == "ALARM"


@pytest.mark.parametrize(
    ("treat", "state", "reason"),
    [
        (
            "notBreaching",
            "OK",
            "no datapoints were received for 2 periods and 2 missing datapoints were treated as [NonBreaching].",
        ),
        (
            "breaching",
            "ALARM",
            "no datapoints were received for 2 periods and 2 missing datapoints were treated as [Breaching].",
        ),
        ("missing", "INSUFFICIENT_DATA", "Insufficient Data: 2 datapoints were unknown."),
        ("ignore", None, ""),
    ],
)
def test_no_data_follows_treat_missing_data(treat, state, reason):
    result = evaluate(
        alarm(EvaluationPeriods=2, TreatMissingData=treat), [(NOW - timedelta(hours=1), 9.0)], NOW
    )
    assert result.state == state
    assert result.reason.endswith(reason)


def test_statistics_and_less_than():
    assert statistic("Average", [1.0, 2.0, 6.0]) == 3.0
    assert statistic("SampleCount", [5.0, 5.0]) == 2.0
    assert statistic("Minimum", [3.0, 1.0]) == 1.0
    result = evaluate(alarm(Statistic="Minimum", ComparisonOperator="LessThanThreshold"), [(at(5), 0.0)], NOW)
    assert result.state == "ALARM" and "was less than the threshold (1.0)" in result.reason


@pytest.mark.parametrize(
    "bad",
    [
        {"Statistic": None, "ExtendedStatistic": "p99"},
        {"ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"},
        {"MetricName": None, "Metrics": [{"Id": "m1", "Expression": "m2*2"}]},
    ],
)
def test_unsupported_alarms_are_refused_with_a_reason(bad):
    with pytest.raises(UnsupportedAlarm):
        evaluate(alarm(**bad), [], NOW)


def test_subject_is_cut_at_sns_limit():
    assert sns_subject("x" * 120, "ALARM", "us-east-1").endswith("...")
    assert len(sns_subject("x" * 120, "ALARM", "us-east-1")) == 100
