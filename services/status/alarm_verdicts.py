"""The alarm verdicts: a cluster alarm in ALARM makes the cluster at least degraded (WARNING), and alarm
states that could not be read are said (INFO: the cluster's health does not depend on CloudWatch).

The message names every alarm in ALARM with how long it has been in ALARM, so the banner, the fleet,
`status` and `status --json` say the same thing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from services.alarms.model import human_age
from services.cluster_model import ClusterAlarm
from services.part_errors import ErrorKind
from services.status.model import ClusterStatus, Severity, Verdict
from services.words import plural

ALARM_CODE = "alarm_in_alarm"
UNKNOWN_CODE = "alarms_unknown"


def alarm_verdicts(s: ClusterStatus) -> Iterator[Verdict]:
    """Yield the verdicts of `s.alarms` (none when alarms were not read, or none is in ALARM)."""
    part = s.alarms
    if part is None:
        return
    if part.error is not None:
        what = (
            "grant cloudwatch:DescribeAlarms to the identity db2ops uses"
            if part.error.kind is ErrorKind.AWS_DENIED
            else "see the error; the alarm screen (`:alarms`) shows them when CloudWatch answers"
        )
        yield Verdict(UNKNOWN_CODE, Severity.INFO, f"CloudWatch alarm states unknown: {part.error}", what)
        return
    firing = firing_alarms(part.value or ())
    if not firing:
        return
    listed = ", ".join(f"{a.name} ({alarm_age(a, s.taken_at)})" for a in firing)
    count = plural(len(firing), "alarm")
    first = firing[0].name
    yield Verdict(
        ALARM_CODE,
        Severity.WARNING,
        f"{count} in ALARM: {listed}",
        f"see why on `:alarms` (its reason and history) or with `aws cloudwatch describe-alarm-history "
        f"--alarm-name {first}`",
    )


def firing_alarms(alarms: tuple[ClusterAlarm, ...] | list[ClusterAlarm]) -> list[ClusterAlarm]:
    """Return the alarms in ALARM, longest in ALARM first (then by name)."""
    firing = [a for a in alarms if a.state == "ALARM"]
    return sorted(firing, key=lambda a: (a.since if a.since is not None else float("inf"), a.name))


def alarm_age(alarm: ClusterAlarm, now: float) -> str:
    """Return "for 3m" as the alarm screen counts ages ("since an unknown time" without a timestamp)."""
    age = alarm.age(now)
    return "since an unknown time" if age is None else f"for {human_age(timedelta(seconds=age))}"
