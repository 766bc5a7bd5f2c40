"""The alarm service of a console in another process than the lab (`db2ops --inventory PATH` next to
`db2ops lab --serve`): the lab-only values (datapoints, alarm history, e-mail confirmation, the SNS messages
the lab sent) come over SSH from the served lab, one `db2ops-lab cloudwatch view` per refresh.

The lab here is a served LabRuntime (serve_forever, as `db2ops lab --serve` runs it) with its CloudWatch
evaluator ticked by hand; the service reads only the inventory file the lab printed, and no lab object of
this process is registered with services.alarms.service (the evaluator's registration is removed).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest

from alarms.alarm_fixtures import (
    ALARM,
    EMAIL,
    METRIC,
    NAMESPACE,
    STREAM,
    client,
    grant_record,
    runbook_resources,
)
from services.alarms.service import AlarmService, AlarmServiceError
from services.inventory.loader import load_inventory
from services.inventory.model import Cluster


def console_service(cluster: Cluster, runner: Any, lab_session: Any = None, **kwargs: Any) -> AlarmService:
    """The alarm service as the console's composition root makes it (tui/backends.py): with no lab in this
    process, a lab cluster's extras come from the lab process over SSH through `runner`."""
    from tui.backends import extras_for

    return AlarmService(cluster, extras=extras_for(cluster, lab_session, runner), **kwargs)


class CountingRunner:
    """The console's SSH pool, counting the lab commands it sends."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool
        self.sent: list[list[str]] = []

    async def run(self, host, argv, **kwargs):
        self.sent.append(list(argv))
        return await self.pool.run(host, argv, **kwargs)

    def views(self) -> int:
        return sum(argv[:3] == ["db2ops-lab", "cloudwatch", "view"] for argv in self.sent)


@dataclass
class ServedLab:
    cluster: Cluster  # as the console reads it from the inventory file the lab printed
    evaluator: Any  # the lab process's LabCloudWatch (ticked by hand)
    topic_arn: str
    subscription_arn: str


@pytest.fixture
async def served_lab(tmp_path):
    from moto.moto_api._internal.models import moto_api_backend

    from lab.cloudwatch_eval import LabCloudWatch
    from lab.runtime import LabRuntime, serve_forever

    moto_api_backend.reset()  # moto's state is per process: this lab starts empty
    runtime = LabRuntime()
    await runtime.start(1, base_dir=tmp_path / "lab", failover_delay_s=0)
    out = io.StringIO()
    serving = asyncio.create_task(serve_forever(runtime, out))
    for _ in range(500):
        if out.getvalue():
            break
        await asyncio.sleep(0.01)
    inventory_path = out.getvalue().splitlines()[0]
    cluster = load_inventory(inventory_path).clusters[0]
    topic, subscription = await asyncio.to_thread(runbook_resources, cluster.aws)
    evaluator = LabCloudWatch(runtime.endpoint_url, "us-east-1")
    evaluator.start()  # what the lab command reads (lab.cloudwatch_eval.active_evaluators)
    evaluator._stop.set()  # ticked by hand below, for determinism
    try:
        yield ServedLab(cluster, evaluator, topic, subscription)
    finally:
        evaluator.stop()
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving


@pytest.fixture
async def ssh_runner():
    from services.ssh.pool import SshPool

    pool = SshPool(connect_timeout=5, command_timeout=20)
    try:
        yield CountingRunner(pool)
    finally:
        await pool.close()


async def _fire(lab: ServedLab) -> datetime:
    """One grant statement by a non-app user in the audit log; the lab's evaluator alarms on it."""
    now = datetime.now(UTC)

    def fire() -> None:
        lab.evaluator.tick(now=now)
        client(lab.cluster.aws, "logs").put_log_events(
            logGroupName=lab.cluster.aws.audit_log_group,
            logStreamName=STREAM,
            logEvents=[{"timestamp": int(now.timestamp() * 1000), "message": grant_record(now)}],
        )
        lab.evaluator.tick(now=now)

    await asyncio.to_thread(fire)
    return now


async def refresh(service: AlarmService) -> tuple[list, dict, list, list]:
    """What the alarm screen reads per refresh: alarms, then sparklines, subscriptions, SNS messages."""
    views = await service.list_alarms()
    sparks, subs, sent = await asyncio.gather(
        asyncio.gather(*(service.metric_sparkline(v) for v in views)),
        service.topic_subscriptions(views[0].alarm_actions[0]),
        service.lab_notifications(views[0].name),
    )
    return views, dict(zip([v.name for v in views], sparks, strict=True)), subs, sent


async def test_console_in_another_process_reads_the_served_labs_values(served_lab, ssh_runner):
    now = await _fire(served_lab)
    service = console_service(served_lab.cluster, ssh_runner, clock=lambda: now)
    assert service.source == "lab" and not service.fast_polls  # asked over SSH, at the AWS pace

    views, sparks, subs, sent = await refresh(service)
    assert service.lab_note == ""
    assert [(v.name, v.state, v.source) for v in views] == [(ALARM, "ALARM", "lab")]
    assert views[0].reason.startswith("Threshold Crossed: 1 datapoint [1.0 (")
    spark = sparks[ALARM]
    assert len(spark) == 60 and spark[-1] == 1.0 and sum(spark) == 1.0
    assert [(s.endpoint, s.protocol, s.status, s.source, s.arn) for s in subs] == [
        (EMAIL, "email", "pending", "lab", served_lab.subscription_arn)
    ]
    lab_sent = served_lab.evaluator.notifications_for(ALARM)
    assert [(n["MessageId"], n["NewStateValue"], n["TopicArn"]) for n in sent] == [
        (lab_sent[0]["MessageId"], "ALARM", served_lab.topic_arn)
    ]
    assert sent[0]["Timestamp"] == lab_sent[0]["Timestamp"] == now
    assert "Message" not in sent[0]  # the message body stays in the lab
    assert ssh_runner.views() == 1  # one round trip to the lab for the whole refresh
    assert ssh_runner.sent[0][:3] == ["db2ops-lab", "cloudwatch", "view"]
    assert ssh_runner.sent[0][3:] == [NAMESPACE, METRIC]

    history = await service.alarm_history(ALARM)
    assert history.source == "lab"
    assert [(i.kind, i.summary) for i in history.items[:2]] == [
        ("Action", f"Successfully executed action {served_lab.topic_arn}"),
        ("StateUpdate", "Alarm updated from INSUFFICIENT_DATA to ALARM"),
    ]
    assert [i.summary for i in history.items] == [
        i["HistorySummary"] for i in served_lab.evaluator.history(ALARM)
    ]

    odd = await ssh_runner.pool.run(
        served_lab.cluster.hosts[0], ["db2ops-lab", "cloudwatch", "view", NAMESPACE]
    )
    assert odd.exit_status == 2
    assert "db2ops-lab cloudwatch view [NAMESPACE METRIC]...\n" in odd.stderr  # pairs, or it says how

    # The person confirms in the lab process; the next refresh of this "process" sees it.
    await asyncio.to_thread(served_lab.evaluator.confirm_email, "all")
    _, _, subs, _ = await refresh(service)
    assert [(s.status, s.source) for s in subs] == [("confirmed", "lab")]
    assert ssh_runner.views() == 2
    await service.close()


async def test_alarm_screen_labels_the_served_labs_values_and_says_when_it_stops_answering(
    served_lab, ssh_runner, monkeypatch, tmp_path
):
    from textual.app import App
    from textual.widgets import DataTable, Static

    from screens.alarms import AlarmsScreen

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    now = await _fire(served_lab)
    service = console_service(served_lab.cluster, ssh_runner, clock=lambda: now)
    screen = AlarmsScreen(served_lab.cluster, service, poll_interval=0, clock=lambda: now)

    class Console(App[None]):
        def on_mount(self) -> None:
            self.push_screen(screen)

    app = Console()
    async with app.run_test(size=(170, 40)) as pilot:
        await screen.loaded.wait()
        await pilot.pause()
        table = screen.query_one(DataTable)
        assert str(table.columns[list(table.columns)[0]].label) == "State (lab)"
        assert str(table.get_row_at(0)[0]) == "▲ ALARM"
        assert str(table.get_row_at(0)[4]).endswith("█")  # the lab's datapoint, in the last bucket
        side = str(screen.query_one("#alarms-side", Static).render())
        assert f"{EMAIL} (email) PENDING (lab)" in side
        assert f"last message sent (lab): ALARM at {now:%H:%M:%S} UTC" in side
        status = str(screen.query_one("#alarms-status", Static).render())
        assert "come from the lab's evaluator (lab)" in status and "⚠" not in status

        # The lab's evaluator stops (as when `db2ops lab --serve` loses it): a note, the alarms still show.
        served_lab.evaluator.stop()
        screen.loaded.clear()
        screen.action_refresh()
        await screen.loaded.wait()
        await pilot.pause()
        status = str(screen.query_one("#alarms-status", Static).render())
        assert status.startswith(
            "⚠ lab values unavailable: lab command `db2ops-lab cloudwatch view` on db2a: db2ops-lab: the "
            "lab's CloudWatch evaluator is not running (start the lab with AWS)"
        ), status
        assert str(table.get_row_at(0)[0]) == "▲ ALARM"  # moto still answers
        side = str(screen.query_one("#alarms-side", Static).render())
        line = next(x for x in side.splitlines() if EMAIL in x)
        assert "(lab)" not in line  # AWS's own answer now, no longer labelled as the lab's
        assert "last message sent" not in side


class ScriptedRunner:
    """A lab host that answers every command with `stdout` (exit 0), or raises `error`."""

    def __init__(self, stdout: str = "", error: Exception | None = None) -> None:
        self.stdout, self.error = stdout, error
        self.sent: list[list[str]] = []

    async def run(self, host, argv, **kwargs):
        from services.ssh.pool import CommandResult

        self.sent.append(list(argv))
        if self.error is not None:
            raise self.error
        return CommandResult(host.name, tuple(argv), " ".join(argv), 0, self.stdout, "", 0.01)


def _remote_cluster(monitoring) -> Cluster:
    from alarms.alarm_fixtures import lab_cluster

    return lab_cluster(monitoring.aws)


def _view(endpoint: str, **overrides: Any) -> str:
    import json

    view = {
        "endpoint": endpoint,
        "ticks": 3,
        "last_error": None,
        "problems": {},
        "pending_email": [],
        "confirmed_email": [],
        "series": [
            {"namespace": NAMESPACE, "metric": METRIC, "points": [["2026-11-26T15:00:00+00:00", 1.0]]}
        ],
        "notifications": {},
    }
    view.update(overrides)
    return json.dumps([view])


BAD_ANSWERS = {
    "not JSON": (
        "{'endpoint': ",
        "did not answer JSON; is the lab (db2ops lab --serve) the same db2ops version",
    ),
    "truncated": (_view("URL")[:-40], "did not answer JSON"),
    "an object, not a list": ('{"endpoint": "URL"}', "not what this db2ops reads (not a list of objects)"),
    "series not a list": (
        _view("URL", series="oops"),
        "not what this db2ops reads (str where a list belongs)",
    ),
    "bad timestamp": (
        _view("URL", series=[{"namespace": NAMESPACE, "metric": METRIC, "points": [["yesterday", 1]]}]),
        "not what this db2ops reads (Invalid isoformat string: 'yesterday')",
    ),
    "value not a number": (
        _view(
            "URL",
            series=[{"namespace": NAMESPACE, "metric": METRIC, "points": [["2026-11-26T15:00:00", {}]]}],
        ),
        "not what this db2ops reads (float() argument must be a string or a real number, not 'dict')",
    ),
    "confirmed not a list": (_view("URL", confirmed_email="arn:aws:sns:x"), "str where a list belongs"),
    "another lab's endpoint": (
        _view("http://127.0.0.1:1"),
        "serves AWS endpoint(s) http://127.0.0.1:1, not this cluster's URL: is the inventory from the "
        "`db2ops lab --serve` that is running now?",
    ),
}


@pytest.mark.parametrize("case", list(BAD_ANSWERS))
async def test_a_bad_answer_from_the_lab_is_a_clear_note_and_aws_still_answers(monitoring, case):
    stdout, expected = BAD_ANSWERS[case]
    url = monitoring.aws.endpoint_url
    runner = ScriptedRunner(stdout.replace("URL", url))
    service = console_service(_remote_cluster(monitoring), runner)
    views = await service.list_alarms()  # moto's part of the refresh is unaffected
    assert [(v.name, v.source) for v in views] == [(ALARM, "lab")]
    with pytest.raises(AlarmServiceError) as caught:
        await service.metric_sparkline(views[0])
    message = str(caught.value)
    assert message.startswith("lab values unavailable: ") and expected.replace("URL", url) in message, message
    assert service.lab_note == message
    # E-mail states fall back to exactly what AWS says (a served lab keeps GetSubscriptionAttributes truthful).
    subs = await service.topic_subscriptions(monitoring.topic_arn)
    aws_only = await AlarmService(_remote_cluster(monitoring)).topic_subscriptions(monitoring.topic_arn)
    assert subs == aws_only and [(s.endpoint, s.source) for s in subs] == [(EMAIL, "aws")]
    with pytest.raises(AlarmServiceError):
        await service.lab_notifications(ALARM)
    assert len(runner.sent) == 1  # one ask per refresh, even when it failed


async def test_malformed_history_and_an_unreachable_lab_say_what_to_check(monitoring):
    from services.ssh.errors import HostUnreachable

    cluster = _remote_cluster(monitoring)
    service = console_service(cluster, ScriptedRunner('[{"Timestamp": 5}]'))
    with pytest.raises(AlarmServiceError) as caught:
        await service.alarm_history(ALARM)
    assert str(caught.value) == (
        "the lab's alarm history is unavailable: the lab's answer to `db2ops-lab cloudwatch history "
        f"{ALARM}` is not an alarm history (timestamp 5 is not ISO 8601 text); are the lab (db2ops lab "
        "--serve) and this console the same db2ops version?"
    )

    down = ScriptedRunner(error=HostUnreachable("127.0.0.1:22: connection refused", "db2a"))
    service = console_service(cluster, down)
    views = await service.list_alarms()
    with pytest.raises(AlarmServiceError):
        await service.metric_sparkline(views[0])
    assert service.lab_note == (
        "lab values unavailable: no lab host answered `db2ops-lab cloudwatch view` (db2a: HostUnreachable: "
        f"{HostUnreachable('127.0.0.1:22: connection refused', 'db2a')}); is `db2ops lab --serve` still running?"
    )


async def test_real_aws_and_an_in_process_lab_never_ask_over_ssh(monitoring):
    from dataclasses import replace

    from lab.cloudwatch_eval import LabCloudWatch

    runner = ScriptedRunner(error=AssertionError("no lab command on real AWS"))
    cluster = _remote_cluster(monitoring)
    aws_cluster = replace(cluster, lab=False)
    service = console_service(aws_cluster, runner)
    assert service.source == "aws"
    views = await service.list_alarms()
    assert await service.lab_notifications(ALARM) == []
    assert [s.source for s in await service.topic_subscriptions(monitoring.topic_arn)] == ["aws"]
    assert views[0].source == "aws"

    evaluator = LabCloudWatch(monitoring.aws.endpoint_url, "us-east-1")
    evaluator.start()  # the lab in this process (`db2ops lab`): read directly, as before
    evaluator._stop.set()
    try:
        from types import SimpleNamespace

        service = console_service(cluster, runner, SimpleNamespace(cloudwatch=evaluator, log_agents={}))
        assert service.fast_polls and service.source == "lab"
        await asyncio.to_thread(evaluator.tick)
        await service.list_alarms()
        subs = await service.topic_subscriptions(monitoring.topic_arn)
        assert [(s.status, s.source) for s in subs] == [("pending", "lab")]
    finally:
        evaluator.stop()
    assert runner.sent == []
