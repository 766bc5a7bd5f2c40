"""A minimal app hosting one screen (the wizard or the journal) with the console's themes and CSS, plus
deterministic fakes for snapshots: a scripted plan run and a scripted proof."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from textual.app import App
from textual.screen import Screen

from screens.setup_monitoring import SetupMonitoringScreen
from screens.setup_services import WizardServices
from services.inventory_model import AwsSettings, Cluster, Host
from services.monitoring.prove_it_fires import ProofEvent, ProofOptions
from services.plans import Journal, PlanContext, PlanResult, StepEvent, StepResult
from services.plans.step import aws_action, ssh_action
from themes.themes import CSS_PATH, THEMES, resolve_theme

SIZE = (160, 50)
T0 = datetime(2026, 11, 26, 14, 59, 6, tzinfo=UTC)


class ScreenApp(App[None]):
    """Pushes `make_screen()` on mount; `lab` plays Db2OpsApp.lab."""

    CSS_PATH = CSS_PATH

    def __init__(self, make_screen: Callable[[], Screen[Any]], lab: Any = None) -> None:
        super().__init__()
        self.make_screen = make_screen
        self.lab = lab
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = resolve_theme("db2ops-dark", set(self.available_themes))

    def on_mount(self) -> None:
        self.push_screen(self.make_screen())


def fixed_cluster(*, read_only: bool = False, lab: bool = True) -> Cluster:
    """The cluster of the snapshots: two db hosts and a qdevice, fixed names and ids."""
    return Cluster(
        name="lab1",
        environment="lab",
        read_only=read_only,
        instance="db2inst1",
        database="HADRDB",
        lab=lab,
        hosts=(
            Host(name="db2a", address="127.0.0.1", role="db", user="db2inst1", instance_id="i-0aaa1111"),
            Host(name="db2b", address="127.0.0.1", role="db", user="db2inst1", instance_id="i-0bbb2222"),
            Host(name="qdev", address="127.0.0.1", role="qdevice", user="root"),
        ),
        aws=AwsSettings(region="us-east-1"),
    )


def services_for(cluster: Cluster, runner: Any, tmp_path: Path, **changes: Any) -> WizardServices:
    """WizardServices whose contexts use `runner`, a journal and progress records under tmp_path."""

    async def make_context(c: Cluster) -> PlanContext:
        return PlanContext(cluster=c, runner=runner, journal=Journal(tmp_path / "journal"), operator="alice")

    base = {
        "make_context": make_context,
        "state_dir": tmp_path / "plans",
        "export_dir": tmp_path / "exports",
        "proof_options": ProofOptions.for_cluster(cluster),
    }
    base.update(changes)
    return WizardServices(**base)


def wizard_app(cluster: Cluster, services: WizardServices, page: str = "audit", lab: Any = None) -> ScreenApp:
    return ScreenApp(lambda: SetupMonitoringScreen(cluster, services, page=page), lab=lab)


async def scripted_run_plan(plan, ctx, *, mode, progress=None, confirm=None, state_dir=None) -> PlanResult:
    """A plan run with fixed outcomes: the first four steps already done, the rest applied, except
    cron@db2b which fails (host dropped) so the later steps are skipped."""
    steps = []
    failed = False
    for index, step in enumerate(plan.steps):
        result = StepResult(step.id, step.title, step.target, step.explain)
        if index < 4:
            result.status, result.message = "already_done", "already in place"
        elif failed:
            result.status = "skipped"
        elif step.id == "cron@db2b":
            result.status = "failed"
            result.message = (
                "apply failed: db2b: host unreachable (connection reset); check the host and re-run"
            )
            result.performed = [
                ssh_action("db2b", ["crontab", "-"], input="*/5 * * * * /x # db2ops:audit-extract\n")
            ]
            failed = True
        else:
            result.status, result.message = "applied", "applied and verified"
            result.performed = (
                [ssh_action(step.target, ["true"])]
                if step.target != "aws"
                else [aws_action("sns", "CreateTopic", {"Name": "db2-alerts"})]
            )
        if progress is not None:
            progress(StepEvent(step.id, step.title, "finished", result.status, result.message))
        steps.append(result)
    await asyncio.sleep(0)
    return PlanResult(
        plan=plan.name,
        cluster=plan.cluster.name,
        mode=mode,
        run_id="20261126T145906Z-abc123",
        steps=steps,
        outcome="failed",
        failed_step="cron@db2b",
        next_hint=(
            "Step 'cron@db2b' (db2b) failed: apply failed: db2b: host unreachable. Fix that, then re-run "
            "db2ops setup monitoring --cluster lab1 --apply: the 6 step(s) already done are skipped and it "
            "continues from this step."
        ),
    )


def proof_events(ok: bool = True) -> list[ProofEvent]:
    """A fixed proof run (lab) that succeeds, or breaks at the metric stage."""

    def at(ms: int) -> datetime:
        return T0 + timedelta(milliseconds=ms)

    events = [
        ProofEvent("statement", "info", at(0), "watching filter db2ops-sensitive-table-access -> alarm"),
        ProofEvent(
            "statement",
            "running",
            at(2),
            "running as a user other than APPUSR: grant select on "
            "table sample.worker to user abcuser, role trole",
        ),
        ProofEvent("statement", "ok", at(40), "ran on db2a as db2inst1 (HADR primary)", True),
        ProofEvent(
            "event", "running", at(41), "waiting for the audit record in log group db2-db-worker-audit-log"
        ),
        ProofEvent(
            "event",
            "ok",
            at(530),
            "arrived in db2-db-worker-audit-log (Db2 - i-0aaa1111) at 14:59:06: "
            "db2inst1: grant select on table sample.worker to user abcuser, role trole",
            True,
        ),
        ProofEvent(
            "metric", "running", at(531), "waiting for a datapoint of Db2/Monitoring/SensitiveTableAccess"
        ),
    ]
    if not ok:
        return [
            *events,
            ProofEvent("metric", "timeout", at(8531), "the metric never ticked", True),
            ProofEvent(
                "result",
                "failed",
                at(8532),
                "The event arrived but the metric never ticked: the filter "
                "pattern did not match it. Pattern: 'NOSUCHWORD'.",
            ),
        ]
    return [
        *events,
        ProofEvent("metric", "ok", at(1540), "datapoint 1 at 14:59:06", True),
        ProofEvent(
            "alarm", "running", at(1541), "waiting for db2ops-lab1-sensitive-table-access to go to ALARM"
        ),
        ProofEvent(
            "alarm",
            "ok",
            at(1560),
            "ALARM at 14:59:07: Threshold Crossed: 1 datapoint [1.0] was greater "
            "than or equal to the threshold (1.0).",
            True,
        ),
        ProofEvent("notification", "running", at(1561), "waiting for the alarm action (SNS publish)"),
        ProofEvent(
            "notification",
            "ok",
            at(1570),
            "SNS message recorded: 'ALARM: \"db2ops-lab1-sensitive-table-"
            "access\" in US East (N. Virginia)' to arn:aws:sns:us-east-1:123456789012:db2-alerts",
            True,
        ),
        ProofEvent(
            "result",
            "ok",
            at(1571),
            "it fires: statement -> log event -> metric -> ALARM -> SNS message recorded by the lab",
        ),
    ]


def scripted_prove(events: list[ProofEvent]):
    async def prove(ctx, params, *, options=None, lab_session=None):
        for event in events:
            await asyncio.sleep(0)
            yield event

    return prove
