"""The lab as a backend of the services: CloudWatchExtras (services/cloudwatch_extras.py) answered by the
lab's CloudWatch evaluator and agent, which play what moto does not do (evaluate metric filters and
alarms, publish to SNS, confirm e-mail, ship audit records).

`InProcessLabExtras`: the evaluator and agent of a LabSession in this process (`db2ops lab`).
`RemoteLabExtras`: a lab in another process (`db2ops lab --serve`), asked over SSH (lab/cloudwatch_remote.py).
`cloudwatch_extras_for` picks one for a cluster; the composition root (tui/backends.py) calls it, so no
service ever asks whether it talks to the lab.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from lab.cloudwatch_remote import LabViewError, RemoteLabAlarmValues, _list, _utc
from services.alarms.model import Source, bucket_points
from services.cloudwatch_extras import AwsCloudWatchExtras, AwsRead, CloudWatchExtras, Point
from services.inventory.model import Cluster
from services.plans import StepFailed

if TYPE_CHECKING:  # the evaluator and agents are imported by the LabSession that runs them
    from lab.cloudwatch_eval import LabCloudWatch
    from lab.log_agent import LogAgent
    from services.context import LabHandle
    from services.ssh.runner import HostRunner


@runtime_checkable
class InProcessLab(Protocol):
    """What the extras read of a lab running in this process (lab.session.LabSession): its CloudWatch
    evaluator (None until started, or without moto) and one log agent per cluster."""

    @property
    def cloudwatch(self) -> LabCloudWatch | None: ...

    @property
    def log_agents(self) -> Mapping[str, LogAgent]: ...


class _LabExtras:
    """What both lab backends share: the proof's readings made from the evaluator's four readers."""

    source: Source = "lab"
    fast_polls = True
    note = ""
    confirm_email_hint = "lab: db2ops-lab confirm-email all"

    async def test_metric_filter(self, read: AwsRead, pattern: str, messages: list[str]) -> int | None:
        return None  # moto does not emulate TestMetricFilter; the lab's evaluator is db2ops' own

    async def _status(self) -> dict[str, Any]:
        raise NotImplementedError

    async def _series(self, namespace: str, metric: str) -> list[Point]:
        raise NotImplementedError

    async def _sent(self, alarm_name: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def _history(self, alarm_name: str) -> list[dict[str, Any]]:
        raise NotImplementedError

    async def evaluator_tracks(self, alarm_name: str) -> bool:
        state = (await self._status()).get("alarms", {}).get(alarm_name)
        return state is not None and state != "ALARM"

    async def metric_tick(
        self, read: AwsRead, namespace: str, metric: str, event_at: datetime
    ) -> Point | None:
        # the lab stamps each datapoint with its event's time: only ours counts, not an earlier run's
        series = await self._series(namespace, metric)
        points = [(t, v) for t, v in series if t >= event_at - timedelta(milliseconds=1) and v > 0]
        return points[0] if points else None

    async def alarm_action(self, read: AwsRead, alarm_name: str, start: datetime) -> dict[str, str] | None:
        sent = await self._sent(alarm_name)
        ours = [n for n in sent if n.get("NewStateValue") == "ALARM" and n["Timestamp"] >= start]
        if not ours:
            failed = [
                h
                for h in await self._history(alarm_name)
                if h.get("HistoryItemType") == "Action" and "Failed" in h.get("HistorySummary", "")
            ]
            return {"failed": failed[0]["HistorySummary"]} if failed else None
        n = ours[-1]
        return {
            "detail": f"SNS message recorded: {n['Subject']!r} to {n['TopicArn']} (MessageId {n['MessageId']})"
        }


class InProcessLabExtras(_LabExtras):
    """The lab's evaluator (lab/cloudwatch_eval.LabCloudWatch) and a cluster's LogAgent in this process.
    Their readers lock and copy: called in a worker thread, never on the event loop."""

    def __init__(self, evaluator: LabCloudWatch, agent: LogAgent | None = None) -> None:
        self.evaluator = evaluator
        self.agent = agent

    def begin_refresh(self, metrics: Iterable[tuple[str, str]]) -> None:
        return None

    async def _status(self) -> dict[str, Any]:
        return dict(await asyncio.to_thread(self.evaluator.status))

    async def _series(self, namespace: str, metric: str) -> list[Point]:
        return list(await asyncio.to_thread(self.evaluator.series, namespace, metric))

    async def _sent(self, alarm_name: str) -> list[dict[str, Any]]:
        return list(await asyncio.to_thread(self.evaluator.notifications_for, alarm_name))

    async def _history(self, alarm_name: str) -> list[dict[str, Any]]:
        return list(await asyncio.to_thread(self.evaluator.history, alarm_name))

    async def sparkline(
        self, read: AwsRead, metric: dict[str, Any], start_epoch: int, end_epoch: int, period: int, stat: str
    ) -> list[float]:
        points = await self._series(str(metric.get("Namespace", "")), str(metric.get("MetricName", "")))
        return bucket_points(points, start_epoch, end_epoch, period, stat)

    async def alarm_history(self, read: AwsRead, name: str, max_records: int) -> list[dict[str, Any]]:
        return (await self._history(name))[:max_records]

    async def subscription_status(self, read: AwsRead, arn: str, protocol: str) -> tuple[str, Source]:
        return str(await asyncio.to_thread(self.evaluator.subscription_status, arn, protocol)), "lab"

    async def notifications(self, alarm_name: str) -> list[dict[str, Any]]:
        return await self._sent(alarm_name)

    async def ship_audit_record(self) -> list[str] | None:
        if self.agent is None:
            return None
        return list(await self.agent.write_audit_test())

    async def close(self) -> None:
        return None  # the LabSession owns the evaluator and agents


class RemoteLabExtras(_LabExtras):
    """A lab in another process: one `db2ops-lab cloudwatch view` per screen refresh (RemoteLabAlarmValues),
    direct `db2ops-lab cloudwatch ...` calls for the proof. `runner` is the console's HostRunner; without
    one a private SshPool is made on first use and closed by `close()`. Reads raise StepFailed (LabViewError
    for an answer this db2ops cannot read) with what to check; `note` keeps the last such sentence. Where
    the lab does not answer, e-mail states fall back to what AWS says (a served lab keeps
    GetSubscriptionAttributes truthful)."""

    fast_polls = False  # each read is an SSH round trip: the AWS pace

    def __init__(self, cluster: Cluster, runner: HostRunner | None = None) -> None:
        self.cluster = cluster
        self._values = RemoteLabAlarmValues(cluster, runner)
        self._aws = AwsCloudWatchExtras()

    @property
    def note(self) -> str:  # type: ignore[override]
        return self._values.note

    def begin_refresh(self, metrics: Iterable[tuple[str, str]]) -> None:
        self._values.begin_refresh(metrics)

    async def _control(self, *args: str) -> Any:
        lab = await self._values._lab()
        return await lab.control(*args)

    async def _status(self) -> dict[str, Any]:
        answers = await self._control("cloudwatch") or [{}]
        endpoint = self.cluster.aws.endpoint_url
        return dict(next((s for s in answers if s.get("endpoint") == endpoint), answers[0]))

    async def _series(self, namespace: str, metric: str) -> list[Point]:
        points = await self._control("cloudwatch", "series", namespace, metric)
        try:
            return [(_utc(when), float(value)) for when, value in _list(points)]
        except (TypeError, ValueError) as exc:
            raise LabViewError(
                f"the lab's datapoints of {namespace}/{metric} are not readable ({exc})"
            ) from None

    async def _sent(self, alarm_name: str) -> list[dict[str, Any]]:
        sent = await self._control("cloudwatch", "notifications", alarm_name)
        try:
            return [{**n, "Timestamp": _utc(n.get("Timestamp"))} for n in _list(sent)]
        except (TypeError, ValueError, AttributeError) as exc:
            raise LabViewError(f"the lab's SNS record of {alarm_name} is not readable ({exc})") from None

    async def _history(self, alarm_name: str) -> list[dict[str, Any]]:
        return await self._values.history(alarm_name)

    async def sparkline(
        self, read: AwsRead, metric: dict[str, Any], start_epoch: int, end_epoch: int, period: int, stat: str
    ) -> list[float]:
        key = (str(metric.get("Namespace", "")), str(metric.get("MetricName", "")))
        values = await self._values.values(key)
        return bucket_points(values.series(*key), start_epoch, end_epoch, period, stat)

    async def alarm_history(self, read: AwsRead, name: str, max_records: int) -> list[dict[str, Any]]:
        return (await self._history(name))[:max_records]

    async def subscription_status(self, read: AwsRead, arn: str, protocol: str) -> tuple[str, Source]:
        try:
            values = await self._values.values()
        except StepFailed:  # `note` says why; AWS's own pending/confirmed is the next best
            return await self._aws.subscription_status(read, arn, protocol)
        return values.subscription_status(arn, protocol), "lab"

    async def notifications(self, alarm_name: str) -> list[dict[str, Any]]:
        return (await self._values.values()).notifications_for(alarm_name)

    async def ship_audit_record(self) -> list[str] | None:
        """Ask the lab to ship the test records; return their `statement text=` lines (the lab process
        writes the records themselves a moment later). Raises StepFailed when the lab refuses."""
        answer = await self._control("audit-test")
        return [f"statement text={s}" for s in answer.get("statements", [])]

    async def close(self) -> None:
        await self._values.close()


def cloudwatch_extras_for(
    cluster: Cluster, lab_session: LabHandle | None = None, runner: HostRunner | None = None
) -> CloudWatchExtras:
    """Return the CloudWatchExtras of a lab cluster: the evaluator (and the cluster's log agent) of
    `lab_session` when it serves the cluster's endpoint, else the lab in another process reached with
    `runner` over SSH. Raises ValueError for a cluster that is not `lab: true` (real AWS is
    services.cloudwatch_extras.aws_cloudwatch_extras)."""
    if not cluster.lab:
        raise ValueError(f"cluster {cluster.name} is not a lab cluster: there is no lab to ask")
    if isinstance(lab_session, InProcessLab):
        evaluator = lab_session.cloudwatch
        if evaluator is not None and evaluator.endpoint_url == cluster.aws.endpoint_url:
            return InProcessLabExtras(evaluator, lab_session.log_agents.get(cluster.name))
    return RemoteLabExtras(cluster, runner)
