"""Headless `db2ops setup monitoring --prove`: each link printed as it is seen, exit codes, the write guard,
and the proof against a lab that runs in another process (its evaluator reached over SSH)."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from services.inventory.model import Inventory
from services.monitoring.cli import EXIT_FAILED, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, run_prove_it_fires
from services.monitoring.plan import MonitoringParams
from services.monitoring.prove_it_fires import ProofHistory
from wizard.prove_lab import applied, lab_session_fixture, ssh_pool_fixture  # noqa: F401

pytest.importorskip("moto")
EMAIL = "dba-team@example.com"


def as_the_cli(history: ProofHistory | None = None) -> dict:
    """What tui/cli_support.py gives run_prove_it_fires: the composition root's backend choice with no lab in this
    process (a lab cluster's is reached over SSH), and the run's record of earlier proofs."""
    from tui.backends import extras_for

    return {
        "extras_for": lambda cluster, runner: extras_for(cluster, None, runner),
        "history": history or ProofHistory(),
    }


ALARM = "db2ops-lab1-sensitive-table-access"
REPO = Path(__file__).resolve().parents[2]


async def test_cli_in_another_process_proves_the_chain_of_this_lab(lab_session, ssh_pool, tmp_path) -> None:
    await applied(lab_session, ssh_pool, tmp_path, MonitoringParams(email=EMAIL))
    argv = [
        *("-m", "tui.cli", "--inventory", str(lab_session.inventory_path)),
        *("setup", "monitoring", "--cluster", "lab1", "--prove", "--json"),
    ]
    # The lab (SSH hosts, evaluator, agent) lives in this process: its loop must run while the CLI does.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *argv,
        cwd=str(REPO),
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 180)
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert proc.returncode == EXIT_OK, out.decode() + err.decode()
    assert [(e["stage"], e["status"]) for e in lines if e["status"] == "ok"] == [
        ("statement", "ok"),
        ("event", "ok"),
        ("metric", "ok"),
        ("alarm", "ok"),
        ("notification", "ok"),
        ("result", "ok"),
    ]
    assert lines[-1]["detail"] == (
        "it fires: statement -> log event -> metric -> ALARM -> SNS message recorded by the lab"
    )
    by_stage = {e["stage"]: e for e in lines if e["status"] == "ok"}
    assert by_stage["statement"]["data"] == {"host": "db2a"}
    # the record in CloudWatch is the one of the GRANT the proof ran (no role), not the runbook's text
    assert "grant select on table sample.worker to user abcuser" in by_stage["event"]["detail"]
    assert "trole" not in by_stage["event"]["detail"]
    assert by_stage["metric"]["detail"].startswith("datapoint 1 at ") and by_stage["metric"]["lab"] is True
    assert any("shipped the audit record" in e["detail"] for e in lines)
    assert any(f"{EMAIL} is pending confirmation" in e["detail"] for e in lines)
    # What the CLI printed is what this process's evaluator published: the same SNS message.
    sent = lab_session.cloudwatch.notifications_for(ALARM)
    assert [n["NewStateValue"] for n in sent] == ["ALARM"]
    assert f"(MessageId {sent[0]['MessageId']})" in by_stage["notification"]["detail"]


async def test_text_output_over_ssh_and_a_second_proof_resets_the_alarm(
    lab_session, ssh_pool, tmp_path
) -> None:
    await applied(lab_session, ssh_pool, tmp_path, MonitoringParams(email=EMAIL))
    inventory = lab_session.inventory
    # no lab_session: the CLI path, reaching the lab's evaluator and agent with `db2ops-lab` over SSH
    out = io.StringIO()
    history = ProofHistory()
    code = await run_prove_it_fires(
        inventory, "lab1", as_json=False, out=out, runner=ssh_pool, **as_the_cli(history)
    )
    text = out.getvalue()
    assert code == EXIT_OK, text
    rows = text.splitlines()
    assert rows[-1] == (
        "Result: it fires: statement -> log event -> metric -> ALARM -> SNS message recorded by the lab"
    )
    assert any(
        r[9:].startswith("statement    ok      ran on db2a as db2inst1 (HADR primary) (lab)") for r in rows
    )
    assert any(r[9:].startswith("alarm        ok      ALARM at ") for r in rows)

    lab_session.cloudwatch.confirm_email("all")
    again = io.StringIO()
    code = await run_prove_it_fires(
        inventory, "lab1", as_json=True, out=again, runner=ssh_pool, **as_the_cli(history)
    )
    assert code == EXIT_OK, again.getvalue()
    events = [json.loads(line) for line in again.getvalue().splitlines()]
    assert any(e["detail"].startswith("the alarm was already in ALARM: set it to OK") for e in events)
    assert not any("pending confirmation" in e["detail"] for e in events)  # confirmed in the lab process
    sent = lab_session.cloudwatch.notifications_for(ALARM)
    assert [json.loads(n["Message"])["OldStateValue"] for n in sent] == ["INSUFFICIENT_DATA", "OK"]


async def test_read_only_unknown_cluster_and_bad_parameter_run_nothing(lab, tmp_path) -> None:
    cluster, runner, _ = lab
    read_only = Inventory(clusters=(replace(cluster, read_only=True),), source="/etc/db2ops/inventory.yaml")
    out = io.StringIO()
    assert (
        await run_prove_it_fires(read_only, "lab1", as_json=True, out=out, runner=runner, **as_the_cli())
        == EXIT_REFUSED
    )
    answer = json.loads(out.getvalue())
    assert (answer["stage"], answer["status"]) == ("result", "refused")
    assert answer["detail"].startswith(
        "cluster lab1 is read-only: set read_only: false for it in /etc/db2ops"
    )
    out = io.StringIO()
    assert (
        await run_prove_it_fires(read_only, "nope", as_json=False, out=out, runner=runner, **as_the_cli())
        == EXIT_USAGE
    )
    assert out.getvalue() == "db2ops: no cluster 'nope' in /etc/db2ops/inventory.yaml (known: lab1)\n"
    writable = Inventory(clusters=(cluster,))
    out = io.StringIO()
    code = await run_prove_it_fires(
        writable, "lab1", as_json=False, out=out, runner=runner, params={"x": 1}, **as_the_cli()
    )
    assert code == EXIT_USAGE and "unknown monitoring parameter(s): x" in out.getvalue()
    assert runner.ran == []


async def test_a_broken_chain_exits_1_with_the_diagnosis(lab, tmp_path) -> None:
    cluster, runner, _ = lab  # nothing applied: no metric filter, no alarm
    out = io.StringIO()
    code = await run_prove_it_fires(
        Inventory(clusters=(cluster,)), "lab1", as_json=False, out=out, runner=runner, **as_the_cli()
    )
    assert code == EXIT_FAILED
    assert out.getvalue() == (
        "Result: FAILED: no metric filter db2ops-sensitive-table-access on db2-db-worker-audit-log: apply the "
        "monitoring plan first (:setup, or db2ops setup monitoring --cluster lab1 --apply)\n"
    )


async def test_the_wizards_proof_page_reaches_a_lab_of_another_process(
    lab_session, ssh_pool, tmp_path
) -> None:
    # The console attached to `db2ops lab --serve` (no lab object of its own): page 8 reaches the lab's
    # evaluator and agent over SSH, as the CLI does, instead of waiting on moto for what only the lab has.
    from screens.setup_monitoring import SetupMonitoringScreen
    from wizard.wizard_app import services_for, wizard_app

    ctx, _ = await applied(lab_session, ssh_pool, tmp_path, MonitoringParams(email=EMAIL))
    app = wizard_app(ctx.cluster, services_for(ctx.cluster, ssh_pool, tmp_path), page="proof")
    async with app.run_test(size=(160, 50)) as pilot:
        screen = next(s for s in app.screen_stack if isinstance(s, SetupMonitoringScreen))
        assert app.lab is None  # the wizard's backend: the lab of another process, over SSH
        screen.query_one("#wizard-pages").focus()  # the page opens in its statement field
        await pilot.press("f", "y")  # it pages the subscribers: asked first
        await pilot.pause()
        await app.workers.wait_for_complete()
        final = screen.proof_events[-1]
        assert (final.stage, final.status) == ("result", "ok"), "\n".join(e.text for e in screen.proof_events)
        assert final.detail.endswith("SNS message recorded by the lab")
    sent = lab_session.cloudwatch.notifications_for(ALARM)
    assert [n["NewStateValue"] for n in sent] == ["ALARM"]
