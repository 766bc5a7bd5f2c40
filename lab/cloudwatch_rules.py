"""CloudWatch's alarm rules, as pure functions, for the lab evaluator (lab/cloudwatch_eval.py).

Given an alarm (a describe_alarms dict) and the datapoints of its metric, decide the state the way
CloudWatch does (Period, EvaluationPeriods, DatapointsToAlarm, Statistic, Threshold, ComparisonOperator,
TreatMissingData) and write the texts AWS writes: the StateReason ("Threshold Crossed: 1 datapoint [1.0
(26/11/26 14:05:00)] was greater than or equal to the threshold (1.0)."), the StateReasonData JSON, the
alarm-history items of describe_alarm_history and the JSON message an alarm action publishes to SNS.
No AWS calls here.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

COMPARISONS: dict[str, tuple[str, Any]] = {
    "GreaterThanOrEqualToThreshold": ("greater than or equal to", lambda v, t: v >= t),
    "GreaterThanThreshold": ("greater than", lambda v, t: v > t),
    "LessThanThreshold": ("less than", lambda v, t: v < t),
    "LessThanOrEqualToThreshold": ("less than or equal to", lambda v, t: v <= t),
}
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
REGION_NAMES = {
    "us-east-1": "US East (N. Virginia)",
    "us-east-2": "US East (Ohio)",
    "us-west-1": "US West (N. California)",
    "us-west-2": "US West (Oregon)",
    "eu-west-1": "EU (Ireland)",
    "eu-central-1": "EU (Frankfurt)",
    "ap-southeast-1": "Asia Pacific (Singapore)",
}
INITIAL_REASON = "Unchecked: Initial alarm creation"


class UnsupportedAlarm(ValueError):
    """An alarm the lab evaluator cannot evaluate (metric math, extended statistic, unknown comparison)."""


@dataclass(frozen=True)
class PeriodValue:
    """One evaluated period: its start, the statistic over its datapoints (None: missing), sample count."""

    start: datetime
    value: float | None
    samples: int = 0


@dataclass(frozen=True)
class Evaluation:
    """What an evaluation decided: the state, AWS's reason text and reason data (JSON-ready dict)."""

    state: str | None  # None: keep the current state (TreatMissingData "ignore" with no data)
    reason: str
    reason_data: dict[str, Any]
    periods: tuple[PeriodValue, ...]


def aws_reason_time(when: datetime) -> str:
    """Return the timestamp as StateReason writes it: 26/11/26 14:05:00 (UTC)."""
    return when.astimezone(UTC).strftime("%d/%m/%y %H:%M:%S")


def aws_json_time(when: datetime) -> str:
    """Return the timestamp as CloudWatch's JSON writes it: 2026-11-26T14:05:00.000+0000."""
    when = when.astimezone(UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


def statistic(name: str, values: Sequence[float]) -> float:
    """Return the CloudWatch statistic `name` of `values` (non-empty); raise UnsupportedAlarm otherwise."""
    if name == "Sum":
        return float(sum(values))
    if name == "SampleCount":
        return float(len(values))
    if name == "Average":
        return float(sum(values)) / len(values)
    if name == "Minimum":
        return float(min(values))
    if name == "Maximum":
        return float(max(values))
    raise UnsupportedAlarm(
        f"statistic {name!r} is not evaluated by the lab (use one of {', '.join(STATISTICS)})"
    )


def period_values(
    points: Iterable[tuple[datetime, float]], *, period: int, count: int, now: datetime, stat: str
) -> list[PeriodValue]:
    """Return the last `count` periods ending with the one that holds `now`, oldest first.

    The current (still open) period is included so the lab reacts within a tick; AWS reacts within its
    evaluation minute. Periods are aligned to the epoch, like CloudWatch's.
    """
    epoch = int(now.timestamp())
    last_start = epoch - epoch % period
    starts = [last_start - (count - 1 - i) * period for i in range(count)]
    buckets: dict[int, list[float]] = {s: [] for s in starts}
    first = starts[0]
    for when, value in points:
        ts = int(when.timestamp())
        if ts < first or ts >= last_start + period:
            continue
        buckets[ts - (ts - first) % period].append(value)
    return [
        PeriodValue(
            start=datetime.fromtimestamp(s, UTC),
            value=statistic(stat, buckets[s]) if buckets[s] else None,
            samples=len(buckets[s]),
        )
        for s in starts
    ]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _listing(periods: Iterable[PeriodValue]) -> str:
    # AWS lists the datapoints newest first.
    items = [p for p in periods if p.value is not None]
    items.sort(key=lambda p: p.start, reverse=True)
    return ", ".join(f"{p.value!r} ({aws_reason_time(p.start)})" for p in items)


def evaluate(alarm: Mapping[str, Any], points: Iterable[tuple[datetime, float]], now: datetime) -> Evaluation:
    """Return the Evaluation of `alarm` (a describe_alarms MetricAlarm dict) over `points` at `now`.

    Raises UnsupportedAlarm for metric-math alarms, extended statistics and unknown comparisons.
    """
    if alarm.get("Metrics") or not alarm.get("MetricName"):
        raise UnsupportedAlarm("metric-math alarms are not evaluated by the lab")
    stat = alarm.get("Statistic")
    if not stat:
        raise UnsupportedAlarm(
            f"extended statistic {alarm.get('ExtendedStatistic')!r} is not evaluated by the lab"
        )
    op = str(alarm.get("ComparisonOperator", ""))
    if op not in COMPARISONS:
        raise UnsupportedAlarm(f"comparison {op!r} is not evaluated by the lab")
    words, breaches = COMPARISONS[op]
    period = int(alarm.get("Period") or 60)
    n = int(alarm.get("EvaluationPeriods") or 1)
    m = int(alarm.get("DatapointsToAlarm") or n)
    threshold = float(alarm.get("Threshold", 0.0))
    treat = str(alarm.get("TreatMissingData") or "missing")
    periods = period_values(points, period=period, count=n, now=now, stat=stat)
    present = [p for p in periods if p.value is not None]
    missing = n - len(present)
    breaching = [p for p in present if breaches(p.value, threshold)]
    filled_breaches = len(breaching) + (missing if treat == "breaching" else 0)
    data = {
        "version": "1.0",
        "queryDate": aws_json_time(now),
        "startDate": aws_json_time(periods[0].start),
        "statistic": stat,
        "period": period,
        "recentDatapoints": [p.value for p in present],
        "threshold": threshold,
        "evaluatedDatapoints": [
            {"timestamp": aws_json_time(p.start), "sampleCount": float(p.samples), "value": p.value}
            for p in reversed(present)
        ],
    }
    if not present:
        treated = {"notBreaching": "NonBreaching", "breaching": "Breaching"}.get(treat)
        if treated is None:
            if treat == "ignore":
                return Evaluation(None, "", data, tuple(periods))
            was = "was" if n == 1 else "were"
            return Evaluation(
                "INSUFFICIENT_DATA",
                f"Insufficient Data: {_plural(n, 'datapoint')} {was} unknown.",
                data,
                tuple(periods),
            )
        was = "was" if n == 1 else "were"
        reason = (
            f"Threshold Crossed: no datapoints were received for {_plural(n, 'period')} and "
            f"{_plural(n, 'missing datapoint')} {was} treated as [{treated}]."
        )
        return Evaluation("ALARM" if treat == "breaching" else "OK", reason, data, tuple(periods))
    if filled_breaches >= m:
        shown = breaching or present
        if n == 1:
            reason = f"Threshold Crossed: 1 datapoint [{_listing(shown)}] was {words} the threshold ({threshold!r})."
        else:
            verb = "was" if len(breaching) == 1 else "were"
            reason = (
                f"Threshold Crossed: {len(breaching)} out of the last {n} datapoints [{_listing(present)}] "
                f"{verb} {words} the threshold ({threshold!r}) "
                f"(minimum {_plural(m, 'datapoint')} for OK -> ALARM transition)."
            )
        return Evaluation("ALARM", reason, data, tuple(periods))
    if len(present) == 1:
        reason = f"Threshold Crossed: 1 datapoint [{_listing(present)}] was not {words} the threshold ({threshold!r})."
    else:
        reason = (
            f"Threshold Crossed: {len(present)} datapoints [{_listing(present)}] were not {words} the "
            f"threshold ({threshold!r})."
        )
    return Evaluation("OK", reason, data, tuple(periods))


def history_item(
    alarm_name: str, when: datetime, kind: str, summary: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Return one AlarmHistoryItems entry shaped like describe_alarm_history's (HistoryData is JSON text)."""
    return {
        "AlarmName": alarm_name,
        "AlarmType": "MetricAlarm",
        "Timestamp": when,
        "HistoryItemType": kind,
        "HistorySummary": summary,
        "HistoryData": json.dumps(dict(data), sort_keys=True),
    }


def state_history_item(
    alarm_name: str,
    when: datetime,
    old: tuple[str, str],
    new: tuple[str, str],
    reason_data: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """Return the StateUpdate history item "Alarm updated from OK to ALARM"."""
    new_state: dict[str, Any] = {"stateValue": new[0], "stateReason": new[1]}
    if reason_data:
        new_state["stateReasonData"] = dict(reason_data)
    data = {
        "version": "1.0",
        "oldState": {"stateValue": old[0], "stateReason": old[1]},
        "newState": new_state,
    }
    return history_item(alarm_name, when, "StateUpdate", f"Alarm updated from {old[0]} to {new[0]}", data)


def sns_subject(alarm_name: str, state: str, region: str) -> str:
    """Return the e-mail subject CloudWatch uses: ALARM: "name" in US East (N. Virginia)."""
    subject = f'{state}: "{alarm_name}" in {REGION_NAMES.get(region, region)}'
    return subject if len(subject) <= 100 else subject[:97] + "..."  # SNS limits subjects to 100 characters


def sns_message(
    alarm: Mapping[str, Any],
    old_state: str,
    new_state: str,
    reason: str,
    when: datetime,
    region: str,
    account: str,
) -> dict[str, Any]:
    """Return the JSON document an alarm action publishes to its SNS topic (the fields CloudWatch sends)."""
    configured = alarm.get("AlarmConfigurationUpdatedTimestamp")
    return {
        "AlarmName": alarm["AlarmName"],
        "AlarmDescription": alarm.get("AlarmDescription"),
        "AWSAccountId": account,
        "AlarmConfigurationUpdatedTimestamp": aws_json_time(configured)
        if isinstance(configured, datetime)
        else None,
        "NewStateValue": new_state,
        "NewStateReason": reason,
        "StateChangeTime": aws_json_time(when),
        "Region": REGION_NAMES.get(region, region),
        "AlarmArn": alarm.get("AlarmArn"),
        "OldStateValue": old_state,
        "OKActions": list(alarm.get("OKActions", [])),
        "AlarmActions": list(alarm.get("AlarmActions", [])),
        "InsufficientDataActions": list(alarm.get("InsufficientDataActions", [])),
        "Trigger": {
            "MetricName": alarm.get("MetricName"),
            "Namespace": alarm.get("Namespace"),
            "StatisticType": "Statistic",
            "Statistic": str(alarm.get("Statistic", "")).upper(),
            "Unit": alarm.get("Unit"),
            "Dimensions": [{"value": d["Value"], "name": d["Name"]} for d in alarm.get("Dimensions", [])],
            "Period": alarm.get("Period"),
            "EvaluationPeriods": alarm.get("EvaluationPeriods"),
            "DatapointsToAlarm": alarm.get("DatapointsToAlarm", alarm.get("EvaluationPeriods")),
            "ComparisonOperator": alarm.get("ComparisonOperator"),
            "Threshold": alarm.get("Threshold"),
            "TreatMissingData": alarm.get("TreatMissingData", ""),
            "EvaluateLowSampleCountPercentile": alarm.get("EvaluateLowSampleCountPercentile", ""),
        },
    }


def metric_value(transformation: Mapping[str, Any]) -> float:
    """Return the numeric metricValue of a metric transformation; raise UnsupportedAlarm for `$field`
    values (those need JSON / space-delimited patterns, which the lab does not evaluate)."""
    raw = str(transformation.get("metricValue", "1"))
    try:
        value = float(raw)
    except ValueError:
        raise UnsupportedAlarm(
            f"metric value {raw!r} is not a number; the lab only publishes numeric values"
        ) from None
    if math.isnan(value) or math.isinf(value):
        raise UnsupportedAlarm(f"metric value {raw!r} is not a finite number")
    return value


def prune_before(points: list[tuple[datetime, float]], keep: timedelta, now: datetime) -> None:
    """Drop datapoints older than `now - keep` from `points` (sorted or not), in place."""
    cutoff = now - keep
    points[:] = [p for p in points if p[0] >= cutoff]


def json_object(text: Any) -> dict[str, Any] | None:
    """Return the non-empty JSON object in `text` (StateReasonData), else None."""
    try:
        value = json.loads(text) if isinstance(text, str) and text else None
    except ValueError:
        return None
    return value if isinstance(value, dict) and value else None


def config_of(alarm: Mapping[str, Any]) -> dict[str, Any]:
    """Return the alarm settings a ConfigurationUpdate history item shows (camelCase keys)."""
    keys = (
        "Namespace",
        "MetricName",
        "Statistic",
        "Period",
        "EvaluationPeriods",
        "Threshold",
        "ComparisonOperator",
        "TreatMissingData",
        "ActionsEnabled",
        "AlarmActions",
    )
    return {k[0].lower() + k[1:]: alarm.get(k) for k in keys}
