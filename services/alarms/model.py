"""The alarm screen's view-model (no I/O): AlarmView, SubscriptionView, AlarmHistory and the pure helpers
that order, label and bucket them. services/alarms/service.py reads AWS (or the lab) into these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

Source = Literal["aws", "lab"]
OURS_PREFIX = "db2ops-"
OURS_TAG = "db2ops:cluster"
STATE_ORDER = {"ALARM": 0, "INSUFFICIENT_DATA": 1, "OK": 2}


@dataclass(frozen=True)
class AlarmView:
    """One metric alarm as the screen shows it. `raw` is the describe_alarms dict (kept for edits)."""

    name: str
    state: str
    state_since: datetime | None
    reason: str
    actions_enabled: bool
    namespace: str
    metric_name: str
    period: int
    statistic: str
    threshold: float
    comparison: str
    treat_missing: str
    evaluation_periods: int = 1
    alarm_actions: tuple[str, ...] = ()
    description: str = ""
    filter_name: str = ""
    filter_pattern: str = ""
    log_group: str = ""
    ours: bool = False
    source: Source = "aws"
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def age(self, now: datetime) -> timedelta | None:
        """Return how long the alarm has been in its state (None when AWS did not say)."""
        return None if self.state_since is None else max(timedelta(0), now - self.state_since)

    @property
    def comparison_symbol(self) -> str:
        return COMPARISON_SYMBOLS.get(self.comparison, self.comparison)

    @property
    def condition(self) -> str:
        """Return the rule in one line: "Sum >= 1 per 60 s, missing: notBreaching"."""
        return (
            f"{self.statistic} {self.comparison_symbol} {self.threshold:g} per {self.period} s"
            + (f" x{self.evaluation_periods}" if self.evaluation_periods != 1 else "")
            + f", missing: {self.treat_missing}"
        )


COMPARISON_SYMBOLS = {
    "GreaterThanOrEqualToThreshold": ">=",
    "GreaterThanThreshold": ">",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


@dataclass(frozen=True)
class SubscriptionView:
    """One SNS subscription of a topic. `status` is "pending" or "confirmed"."""

    endpoint: str
    protocol: str
    status: str
    arn: str = ""
    source: Source = "aws"


@dataclass(frozen=True)
class HistoryItem:
    """One entry of an alarm's history (describe_alarm_history's AlarmHistoryItems)."""

    timestamp: datetime | None
    kind: str  # StateUpdate | ConfigurationUpdate | Action
    summary: str
    data: str = ""


@dataclass(frozen=True)
class AlarmHistory:
    """An alarm's history, newest first, and where it came from."""

    alarm_name: str
    items: tuple[HistoryItem, ...]
    source: Source = "aws"


def human_age(age: timedelta | None) -> str:
    """Return "45s", "12m", "3h05m", "2d04h" ("?" for None)."""
    if age is None:
        return "?"
    s = int(age.total_seconds())
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m"
    if s < 86400:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    return f"{s // 86400}d{(s % 86400) // 3600:02d}h"


def is_ours(alarm: dict[str, Any], tags: dict[str, str] | None = None) -> bool:
    """Return True for an alarm db2ops created: name prefix "db2ops-" or the db2ops:cluster tag."""
    return str(alarm.get("AlarmName", "")).startswith(OURS_PREFIX) or bool(tags and OURS_TAG in tags)


def cluster_alarm_prefix(cluster_name: str) -> str:
    """Return the name prefix of a cluster's own alarms, "db2ops-<cluster>-": `setup monitoring` names its
    alarms so (services/monitoring/params.py), the alarm screen lists them first and status reads them."""
    return f"{OURS_PREFIX}{cluster_name}-"


def belongs_to_cluster(alarm_name: str, cluster_name: str, cluster_names: Iterable[str] = ()) -> bool:
    """Return True when `alarm_name` is one of `cluster_name`'s alarms: it starts with the cluster's prefix
    and not with the longer prefix of another cluster in `cluster_names` ("db2ops-prod-dr-..." is cluster
    "prod-dr"'s, not "prod"'s, when both are in the inventory)."""
    mine = cluster_alarm_prefix(cluster_name)
    if not alarm_name.startswith(mine):
        return False
    longer = (cluster_alarm_prefix(n) for n in cluster_names if n != cluster_name)
    return not any(p.startswith(mine) and alarm_name.startswith(p) for p in longer)


def sort_alarms(views: Iterable[AlarmView], cluster_name: str) -> list[AlarmView]:
    """Return `views` ordered: this cluster's db2ops alarms, other db2ops alarms, the rest; then by state
    (ALARM first) and name."""

    def key(v: AlarmView) -> tuple[int, int, str]:
        mine = v.name.startswith(cluster_alarm_prefix(cluster_name))
        group = 0 if v.ours and mine else 1 if v.ours else 2
        return (group, STATE_ORDER.get(v.state, 3), v.name)

    return sorted(views, key=key)


def aware_utc(value: object) -> datetime | None:
    """Return `value` as an aware datetime (naive ones are UTC); None when it is not a datetime."""
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def history_item(item: Mapping[str, object]) -> HistoryItem:
    """Return one describe_alarm_history AlarmHistoryItems entry (or the lab's, shaped alike) as a HistoryItem."""
    return HistoryItem(
        timestamp=aware_utc(item.get("Timestamp")),
        kind=str(item.get("HistoryItemType", "")),
        summary=str(item.get("HistorySummary", "")),
        data=str(item.get("HistoryData", "")),
    )


def bucket_points(
    points: Iterable[tuple[datetime, float]], start_epoch: int, end_epoch: int, period: int, stat: str
) -> list[float]:
    """Return one value per `period` bucket in [start_epoch, end_epoch): Sum/SampleCount add up, Maximum /
    Minimum / Average keep that statistic; empty buckets are 0.0."""
    count = max(0, (end_epoch - start_epoch) // period)
    buckets: list[list[float]] = [[] for _ in range(count)]
    for when, value in points:
        ts = int(when.timestamp())
        if start_epoch <= ts < end_epoch:
            buckets[(ts - start_epoch) // period].append(value)
    out = []
    for b in buckets:
        if not b:
            out.append(0.0)
        elif stat == "SampleCount":
            out.append(float(len(b)))
        elif stat == "Maximum":
            out.append(max(b))
        elif stat == "Minimum":
            out.append(min(b))
        elif stat == "Average":
            out.append(sum(b) / len(b))
        else:
            out.append(float(sum(b)))
    return out
