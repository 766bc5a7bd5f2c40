"""The dry run is the change ticket: every host command and every changing AWS call that apply sends must be
listed, with the same host, argv, stdin and parameters, under the step that sends it. Recorded at the
runner / boto3 call level, so a step that bypassed describe() (or sent more than it said) is caught."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from plan_fixtures import lab_extras

from lab.db2admin_state import host_state
from services.alarms.steps import DeleteAlarmStep, EditAlarmStep, MuteAlarmStep, TestFireStep, alarm_plan
from services.inventory.model import Host
from services.monitoring.plan import MonitoringParams, build_monitoring_plan
from services.plans import Journal, Plan, PlanContext, StepEvent, run_plan
from services.plans.context import snake_case

READ_PREFIXES = ("describe_", "list_", "get_", "filter_", "test_")
AGENT_CONFIG = "/opt/aws/amazon-cloudwatch-agent/bin/config.json"


class Recorder:
    """Wraps a runner and the boto3 call: every call, tagged with the step applying and read or write."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        self.step = ""
        self.reading = False
        self.calls: list[tuple[str, str, tuple]] = []  # (step, "ssh"|"aws", key)

    async def run(self, host: Host, argv: Sequence[str], **kw: Any) -> Any:
        if not self.reading and self.step:
            self.calls.append((self.step, "ssh", (host.name, tuple(argv), kw.get("input"))))
        return await self.runner.run(host, argv, **kw)

    async def aws_call(self, client: Any, method: str, **params: Any) -> Any:
        if self.step and not method.startswith(READ_PREFIXES):
            service = client.meta.service_model.service_name
            self.calls.append((self.step, "aws", (service, method, params)))
        from services import aws_clients

        return await aws_clients.call(client, method, **params)

    def progress(self, event: StepEvent) -> None:
        self.step = event.step_id if event.phase in ("applying", "verifying") else ""


class RecordingContext(PlanContext):
    recorder: Recorder

    async def read(self, host: Host, argv: Sequence[str], **kw: Any) -> Any:
        self.recorder.reading = True
        try:
            return await super().read(host, argv, **kw)
        finally:
            self.recorder.reading = False


def _context(cluster, runner, tmp_path) -> RecordingContext:
    recorder = Recorder(runner)
    ctx = RecordingContext(
        cluster=cluster,
        runner=recorder,
        aws_call=recorder.aws_call,
        journal=Journal(tmp_path / "journal"),
        operator="alice",
        extras=lab_extras(cluster, recorder),
    )
    ctx.recorder = recorder
    return ctx


def _matches(listed: Any, sent: Any) -> bool:
    """A dry-run value matches what was sent; "<...>" placeholders (an ARN created earlier) match anything."""
    if isinstance(listed, str) and listed.startswith("<") and listed.endswith(">"):
        return True
    if isinstance(listed, dict) and isinstance(sent, dict):
        return listed.keys() == sent.keys() and all(_matches(listed[k], sent[k]) for k in listed)
    if isinstance(listed, list | tuple) and isinstance(sent, list | tuple):
        return len(listed) == len(sent) and all(_matches(a, b) for a, b in zip(listed, sent, strict=True))
    return listed == sent


async def _assert_dry_run_covers_apply(plan_factory, ctx: RecordingContext, tmp_path) -> int:
    dry = await run_plan(plan_factory(), ctx, mode="dry-run", state_dir=tmp_path / "plans")
    listed = {s.step_id: s.actions for s in dry.steps}
    applied = await run_plan(
        plan_factory(), ctx, mode="apply", progress=ctx.recorder.progress, state_dir=tmp_path / "plans"
    )
    assert applied.ok, applied.next_hint
    assert ctx.recorder.calls, "apply sent nothing: the recorder is broken"
    for step_id, kind, key in ctx.recorder.calls:
        actions = [a for a in listed[step_id] if a.kind == kind]
        if kind == "ssh":
            host, argv, stdin = key
            found = any(a.host == host and a.argv == argv and a.input == stdin for a in actions)
        else:
            service, method, params = key
            found = any(
                a.service == service
                and snake_case(a.operation) == method
                and _matches(dict(a.params), params)
                for a in actions
            )
        assert found, f"step {step_id} sent {kind} {key!r}, which its dry run does not list: {actions}"
    return len(ctx.recorder.calls)


async def test_monitoring_plan_on_a_fresh_lab(lab, tmp_path) -> None:
    cluster, runner, _ = lab
    ctx = _context(cluster, runner, tmp_path)

    def plan() -> Plan:
        return build_monitoring_plan(cluster, MonitoringParams(email="dba-team@example.com"))

    sent = await _assert_dry_run_covers_apply(plan, ctx, tmp_path)
    assert sent >= 30  # 25 host commands and 6 AWS calls on a fresh lab


async def test_monitoring_plan_resuming_a_half_done_cluster_with_an_agent_config(lab, tmp_path) -> None:
    cluster, runner, lab_cluster = lab
    db2b = lab_cluster.hosts["db2b"]
    host_state(lab_cluster, db2b)
    # someone's own agent config exists on db2b: apply backs it up and merges (cp -p, then tee)
    db2b.files[AGENT_CONFIG] = '{"agent": {"metrics_collection_interval": 60}}\n'
    ctx = _context(cluster, runner, tmp_path)
    first = build_monitoring_plan(cluster, MonitoringParams())
    first.steps = first.steps[:5]  # an earlier run stopped after the audit policies
    assert (await run_plan(first, ctx, mode="apply", state_dir=tmp_path / "plans")).ok

    # ...and someone created our alarm by hand, with their own on-call topic among its actions
    sns, cw = ctx.client("sns"), ctx.client("cloudwatch")
    oncall = sns.create_topic(Name="oncall")["TopicArn"]
    cw.put_metric_alarm(
        AlarmName="db2ops-lab1-db2diag-error-severe",
        MetricName="Db2DiagErrorSevere",
        Namespace="Db2/Monitoring",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[oncall],
    )

    def plan() -> Plan:
        return build_monitoring_plan(cluster, MonitoringParams(alarm_period=120))

    await _assert_dry_run_covers_apply(plan, ctx, tmp_path)
    assert (
        "db2b",
        "ssh",
        ("db2b", ("sudo", "-n", "cp", "-p", "--", AGENT_CONFIG, AGENT_CONFIG + ".db2ops-bak"), None),
    ) in [(step.split("@")[-1], kind, key) for step, kind, key in ctx.recorder.calls]


async def test_alarm_screen_changes(lab, tmp_path) -> None:
    cluster, runner, _ = lab
    ctx = _context(cluster, runner, tmp_path)
    setup = build_monitoring_plan(cluster, MonitoringParams())
    assert (await run_plan(setup, ctx, mode="apply", state_dir=tmp_path / "plans")).ok
    alarm = "db2ops-lab1-sensitive-table-access"
    for make in (
        lambda: MuteAlarmStep(alarm, mute=True),
        lambda: MuteAlarmStep(alarm, mute=False),
        lambda: TestFireStep(alarm),
        lambda: EditAlarmStep(alarm, threshold=2, period=300),
        lambda: DeleteAlarmStep(alarm),
    ):
        ctx.recorder.calls.clear()
        await _assert_dry_run_covers_apply(lambda make=make: alarm_plan(cluster, make()), ctx, tmp_path)
