"""The embedded lab seen from another process, for "prove it fires" run headless.

`db2ops lab --serve` runs the lab's CloudWatch evaluator (metric filters -> datapoints -> alarms -> SNS)
and CloudWatch agent in its own process; `db2ops setup monitoring --prove` runs in another, where there is
no LabSession. moto's own state (log events, alarm state) is plain AWS over HTTP, but what only the lab
knows (its datapoints, the SNS messages it published, the alarm history, which e-mail subscription is
confirmed) is read through the lab's control command over SSH: `db2ops-lab cloudwatch ...` and
`db2ops-lab audit-test` (lab/commands_cloudwatch.py), on any host of the lab cluster.

`RemoteLab` has the two attributes prove_it_fires reads of a LabSession: `cloudwatch` (the evaluator's
readers) and `log_agents` ({cluster name: agent}). The evaluator's readers are synchronous, because the
probes call them through `asyncio.to_thread`; they hand the SSH call back to the event loop that owns the
connection pool. Lab-only: a cluster that is not `lab: true` never gets one.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any

from services.inventory_model import Cluster
from services.plans import StepFailed

LAB_COMMAND = "db2ops-lab"
CALL_TIMEOUT_S = 20.0


class RemoteLab:
    """A LabSession stand-in for `prove_it_fires(lab_session=...)` when the lab runs in another process."""

    def __init__(self, cluster: Cluster, runner: Any, *, loop: asyncio.AbstractEventLoop | None = None):
        """`runner` is the HostRunner (SshPool) of the running event loop (`loop`, default: the current)."""
        if not cluster.lab:
            raise ValueError(f"cluster {cluster.name} is not a lab cluster: there is no lab to ask")
        self.cluster = cluster
        self.runner = runner
        self.loop = loop or asyncio.get_running_loop()
        self.cloudwatch = RemoteLabCloudWatch(self)
        self.log_agents = {cluster.name: RemoteLogAgent(self)}

    async def control(self, *args: str) -> Any:
        """Run `db2ops-lab ARGS` on the first lab host that answers; return its JSON output.

        Raises StepFailed (the lab refused, or no host answered) with what to check.
        """
        problems: list[str] = []
        for host in self.cluster.hosts:
            try:
                result = await self.runner.run(host, [LAB_COMMAND, *args], timeout=CALL_TIMEOUT_S)
            except Exception as exc:  # SSH errors: try the next host (a drill may have killed this one)
                problems.append(f"{host.name}: {type(exc).__name__}: {exc}")
                continue
            if result.exit_status != 0:
                why = (result.stderr or result.stdout).strip() or f"exit {result.exit_status}"
                raise StepFailed(f"lab command `{LAB_COMMAND} {' '.join(args)}` on {host.name}: {why}")
            try:
                return json.loads(result.stdout)
            except ValueError:
                raise StepFailed(
                    f"lab command `{LAB_COMMAND} {' '.join(args)}` on {host.name} did not answer JSON; is "
                    "the lab (db2ops lab --serve) the same db2ops version as this one?"
                ) from None
        raise StepFailed(
            f"no lab host answered `{LAB_COMMAND} {' '.join(args)}` ({'; '.join(problems) or 'no hosts'}); "
            "is `db2ops lab --serve` still running?"
        )

    def control_sync(self, *args: str) -> Any:
        """`control` for a worker thread (asyncio.to_thread): runs it on the loop that owns the SSH pool."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            raise RuntimeError("RemoteLab readers block: call them through asyncio.to_thread")
        future = asyncio.run_coroutine_threadsafe(self.control(*args), self.loop)
        try:
            return future.result(CALL_TIMEOUT_S * max(1, len(self.cluster.hosts)) + 5)
        except TimeoutError:
            future.cancel()
            raise StepFailed(
                f"the lab did not answer `{LAB_COMMAND} {' '.join(args)}` in time; is `db2ops lab --serve` "
                "still running?"
            ) from None


def _when(value: Any) -> Any:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return value


class RemoteLabCloudWatch:
    """The lab evaluator's readers (LabCloudWatch.status/series/history/notifications_for/
    subscription_status), answered by the lab process. Each raises StepFailed when the lab does not answer
    (subscription_status answers "unknown" instead)."""

    is_lab = True
    source_label = "lab"

    def __init__(self, lab: RemoteLab) -> None:
        self._lab = lab

    def status(self) -> dict[str, Any]:
        """Return the status of the evaluator serving this cluster's endpoint (else the first one)."""
        answers = self._lab.control_sync("cloudwatch") or [{}]
        endpoint = self._lab.cluster.aws.endpoint_url
        return next((s for s in answers if s.get("endpoint") == endpoint), answers[0])

    def series(self, namespace: str, metric_name: str) -> list[tuple[datetime, float]]:
        """Return the lab's datapoints of the metric, oldest first."""
        points = self._lab.control_sync("cloudwatch", "series", namespace, metric_name)
        return [(_when(when), float(value)) for when, value in points]

    def history(self, alarm_name: str) -> list[dict]:
        """Return the alarm history the lab recorded, newest first (Timestamp as datetime)."""
        items = self._lab.control_sync("cloudwatch", "history", alarm_name)
        return [{**item, "Timestamp": _when(item.get("Timestamp"))} for item in items]

    def notifications_for(self, alarm_name: str) -> list[dict[str, Any]]:
        """Return the SNS messages the lab published for the alarm, oldest first (Timestamp as datetime)."""
        sent = self._lab.control_sync("cloudwatch", "notifications", alarm_name)
        return [{**n, "Timestamp": _when(n.get("Timestamp"))} for n in sent]

    def subscription_status(self, subscription_arn: str, protocol: str = "email") -> str:
        """Return "pending", "confirmed" or "unknown" (the lab did not answer)."""
        if protocol not in ("email", "email-json"):
            return "confirmed"
        try:
            status = self.status()
        except StepFailed:
            return "unknown"
        return "confirmed" if subscription_arn in status.get("confirmed_email", []) else "pending"


class RemoteLogAgent:
    """The lab's CloudWatch agent of this cluster, asked to ship the runbook's test audit record."""

    def __init__(self, lab: RemoteLab) -> None:
        self._lab = lab

    async def write_audit_test(self) -> list[str]:
        """Ask the lab to ship the test records; return their `statement text=` lines (the lab process
        writes the records themselves a moment later). Raises StepFailed when the lab refuses."""
        answer = await self._lab.control("audit-test")
        return [f"statement text={s}" for s in answer.get("statements", [])]
