"""The lab's CloudWatch evaluator and agent seen from another process (`db2ops lab --serve`).

A console or `db2ops setup monitoring --prove` in another process than the lab has no LabSession. moto's own
state (log events, alarm state) is plain AWS over HTTP, but what only the lab knows (its datapoints, the
SNS messages it published, the alarm history, which e-mail subscription is confirmed) is read through the
lab's control command over SSH: `db2ops-lab cloudwatch ...` and `db2ops-lab audit-test`
(lab/commands_cloudwatch.py), on any host of the lab cluster. `RemoteLabExtras` answers the services'
CloudWatchExtras protocol (services/cloudwatch_extras.py) that way. Lab-only: a cluster that is not
`lab: true` never gets one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from services.inventory.model import Cluster
from services.plans import StepFailed

if TYPE_CHECKING:
    from services.ssh.runner import HostRunner

LAB_COMMAND = "db2ops-lab"
CALL_TIMEOUT_S = 20.0


class RemoteLab:
    """The control command of a lab running in another process, on the hosts of one lab cluster."""

    def __init__(self, cluster: Cluster, runner: HostRunner) -> None:
        """`runner` is the HostRunner (SshPool) that reaches the lab's hosts."""
        if not cluster.lab:
            raise ValueError(f"cluster {cluster.name} is not a lab cluster: there is no lab to ask")
        self.cluster = cluster
        self.runner = runner

    async def control(self, *args: str, label: str = "") -> Any:
        """Run `db2ops-lab ARGS` on the first lab host that answers; return its JSON output. Messages name
        the command `db2ops-lab LABEL` (default: all of ARGS).

        Raises StepFailed (the lab refused, or no host answered) with what to check.
        """
        shown = f"{LAB_COMMAND} {label or ' '.join(args)}"
        problems: list[str] = []
        for host in self.cluster.hosts:
            try:
                result = await self.runner.run(host, [LAB_COMMAND, *args], timeout=CALL_TIMEOUT_S)
            except Exception as exc:  # SSH errors: try the next host (a drill may have killed this one)
                problems.append(f"{host.name}: {type(exc).__name__}: {exc}")
                continue
            if result.exit_status != 0:
                why = (result.stderr or result.stdout).strip() or f"exit {result.exit_status}"
                raise StepFailed(f"lab command `{shown}` on {host.name}: {why}")
            try:
                return json.loads(result.stdout)
            except ValueError:
                raise StepFailed(
                    f"lab command `{shown}` on {host.name} did not answer JSON; is "
                    "the lab (db2ops lab --serve) the same db2ops version as this one?"
                ) from None
        raise StepFailed(
            f"no lab host answered `{shown}` ({'; '.join(problems) or 'no hosts'}); "
            "is `db2ops lab --serve` still running?"
        )


def _when(value: Any) -> Any:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return value


# ---------------------------------------------------------------------- the alarm screen's lab values
@dataclass(frozen=True)
class LabAlarmValues:
    """What the lab's evaluator knows that AWS (moto) does not, from one `db2ops-lab cloudwatch view`:
    datapoints per (namespace, metric), confirmed e-mail subscription ARNs, the newest SNS messages per
    alarm, and the evaluator's own trouble. Its readers answer like LabCloudWatch's (series,
    subscription_status, notifications_for), so the alarm service reads either the same way."""

    endpoint: str
    points: dict[tuple[str, str], list[tuple[datetime, float]]]
    confirmed_email: frozenset[str]
    sent: dict[str, list[dict[str, Any]]]
    problems: dict[str, str]
    last_error: str | None = None

    def series(self, namespace: str, metric_name: str) -> list[tuple[datetime, float]]:
        """Return the lab's datapoints of the metric, oldest first ([] for a metric the view left out)."""
        return list(self.points.get((namespace, metric_name), []))

    def subscription_status(self, subscription_arn: str, protocol: str = "email") -> str:
        """Return "pending" or "confirmed", as the lab process's EmailConfirmations would."""
        if protocol not in ("email", "email-json") or subscription_arn in self.confirmed_email:
            return "confirmed"
        return "pending"

    def notifications_for(self, alarm_name: str) -> list[dict[str, Any]]:
        """Return the newest SNS messages the lab published for the alarm, oldest first (no bodies)."""
        return list(self.sent.get(alarm_name, []))


class LabViewError(StepFailed):
    """The lab answered, but not with a view this db2ops understands (another version, or garbage)."""


def parse_lab_view(answer: Any, endpoint: str | None) -> LabAlarmValues:
    """Return the LabAlarmValues of the evaluator serving `endpoint` in `answer` (the decoded JSON of
    `db2ops-lab cloudwatch view`). Raises LabViewError on any other shape, or when no evaluator of that
    lab serves `endpoint` (the inventory is from another lab run)."""
    try:
        views = [v for v in answer if isinstance(v, dict)] if isinstance(answer, list) else None
        if views is None or len(views) != len(answer):
            raise TypeError("not a list of objects")
        mine = next((v for v in views if v.get("endpoint") == endpoint), None)
        if mine is None:
            served = ", ".join(str(v.get("endpoint")) for v in views) or "none"
            raise LabViewError(
                f"the lab that answered serves AWS endpoint(s) {served}, not this cluster's {endpoint}: is "
                "the inventory from the `db2ops lab --serve` that is running now?"
            )
        points = {
            (str(s["namespace"]), str(s["metric"])): [(_utc(w), float(v)) for w, v in _list(s["points"])]
            for s in _list(mine["series"])
        }
        sent = {
            str(alarm): [{**n, "Timestamp": _utc(n["Timestamp"])} for n in _list(items)]
            for alarm, items in dict(mine["notifications"]).items()
        }
        return LabAlarmValues(
            endpoint=str(endpoint),
            points=points,
            confirmed_email=frozenset(str(arn) for arn in _list(mine["confirmed_email"])),
            sent=sent,
            problems={str(k): str(v) for k, v in dict(mine.get("problems") or {}).items()},
            last_error=None if mine.get("last_error") is None else str(mine["last_error"]),
        )
    except LabViewError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise LabViewError(
            f"the lab's answer to `{LAB_COMMAND} cloudwatch view` is not what this db2ops reads ({exc}); "
            "are the lab (db2ops lab --serve) and this console the same db2ops version?"
        ) from None


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"{type(value).__name__} where a list belongs")
    return value


def _utc(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"timestamp {value!r} is not ISO 8601 text")
    when = datetime.fromisoformat(value)  # ValueError for garbage
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


class RemoteLabAlarmValues:
    """The alarm screen's window on a lab running in another process (`db2ops lab --serve`).

    One `db2ops-lab cloudwatch view` answers a whole refresh (every alarm's metric, every subscription,
    the last SNS messages): `begin_refresh(metrics)` forgets the last answer and the first `values()` after
    it asks the lab once; callers meanwhile share that one call. `note` says why the last ask failed ("" when
    it worked). `runner` is the session's HostRunner (the ConsoleContext's one SSH pool; never closed here).
    Lab-only: a cluster that is not `lab: true` never gets one.
    """

    def __init__(self, cluster: Cluster, runner: HostRunner | None = None) -> None:
        if not cluster.lab:
            raise ValueError(f"cluster {cluster.name} is not a lab cluster: there is no lab to ask")
        self.cluster = cluster
        self._runner = runner
        self._metrics: tuple[tuple[str, str], ...] = ()
        self._asked: asyncio.Task[LabAlarmValues] | None = None
        self.note = ""

    def begin_refresh(self, metrics: Iterable[tuple[str, str]]) -> None:
        """Forget the last answer: the next `values()` asks the lab about `metrics` (namespace, name)."""
        self._metrics = tuple(sorted(set(metrics)))
        self._asked = None

    async def values(self, metric: tuple[str, str] | None = None) -> LabAlarmValues:
        """Return this refresh's lab values (asking the lab at most once per refresh, and again only for a
        `metric` the refresh did not ask about). Raises StepFailed (LabViewError for a bad answer) with
        what to check; `note` then holds the same sentence."""
        if metric is not None and metric not in self._metrics:
            self.begin_refresh((*self._metrics, metric))
        if self._asked is None:
            self._asked = asyncio.ensure_future(self._ask(self._metrics))
        return await asyncio.shield(self._asked)

    async def history(self, alarm_name: str) -> list[dict[str, Any]]:
        """Return the alarm history the lab recorded, newest first (Timestamp as datetime). Raises StepFailed
        (LabViewError for a bad answer)."""
        lab = await self._lab()
        items = await lab.control("cloudwatch", "history", alarm_name)
        try:
            return [{**item, "Timestamp": _utc(item["Timestamp"])} for item in _list(items)]
        except (KeyError, TypeError, ValueError) as exc:
            raise LabViewError(
                f"the lab's answer to `{LAB_COMMAND} cloudwatch history {alarm_name}` is not an alarm history "
                f"({exc}); are the lab (db2ops lab --serve) and this console the same db2ops version?"
            ) from None

    async def _ask(self, metrics: tuple[tuple[str, str], ...]) -> LabAlarmValues:
        try:
            lab = await self._lab()
            args = [part for metric in metrics for part in metric]
            answer = await lab.control("cloudwatch", "view", *args, label="cloudwatch view")
            values = parse_lab_view(answer, self.cluster.aws.endpoint_url)
        except StepFailed as exc:
            self.note = str(exc)
            raise
        self.note = ""
        return values

    async def _lab(self) -> RemoteLab:
        if self._runner is None:
            raise StepFailed(
                f"no SSH connection to reach the lab of {self.cluster.name}: db2ops was started without one "
                "(open it from the console or a db2ops command, which share their SSH pool)"
            )
        return RemoteLab(self.cluster, self._runner)

    async def close(self) -> None:
        """Stop a pending ask (the session's runner is left alone)."""
        if self._asked is not None and not self._asked.done():
            self._asked.cancel()
