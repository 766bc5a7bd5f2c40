"""The monitoring wizard's test app and services, plus deterministic fakes for snapshots: a scripted plan
run and a scripted proof. ScreenApp (any one screen, e.g. the journal) and the fixed cluster are
tests/wizard_harness.py's, shared with the HA wizard's tests."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import wizard_harness
from wizard_harness import SIZE, ScreenApp, failed_run

from screens.setup_monitoring import SetupMonitoringScreen
from screens.setup_services import WizardServices
from services.inventory.model import Cluster
from services.monitoring.prove_it_fires import ProofEvent, ProofOptions
from services.plans import PlanResult, StepEvent, StepResult
from services.plans.step import aws_action, ssh_action

__all__ = [
    "SIZE",
    "ScreenApp",
    "fixed_cluster",
    "proof_events",
    "scripted_prove",
    "scripted_run_plan",
    "services_for",
    "wizard_app",
]

T0 = datetime(2026, 11, 26, 14, 59, 6, tzinfo=UTC)
fixed_cluster = wizard_harness.fixed_cluster  # the snapshots' cluster: two db hosts and a qdevice


def services_for(cluster: Cluster, runner: Any, tmp_path: Path, **changes: Any) -> WizardServices:
    """WizardServices on `runner` with files under tmp_path and the proof options of `cluster`."""
    changes.setdefault("proof_options", ProofOptions.for_cluster(cluster))
    return wizard_harness.wizard_services(runner, tmp_path, **changes)


def wizard_app(cluster: Cluster, services: WizardServices, page: str = "audit", lab: Any = None) -> ScreenApp:
    """The monitoring wizard on `cluster` at `page`; `lab` plays the console's lab session."""
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
    return failed_run(
        plan,
        mode,
        steps,
        "cron@db2b",
        "Step 'cron@db2b' (db2b) failed: apply failed: db2b: host unreachable. Fix that, then re-run "
        "db2ops setup monitoring --cluster lab1 --apply: the 6 steps already done are skipped and it "
        "continues from this step.",
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
    async def prove(ctx, params, *, extras, history, options=None, state_dir=None):
        for event in events:
            await asyncio.sleep(0)
            yield event

    return prove
