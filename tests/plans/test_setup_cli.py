"""Headless `db2ops setup monitoring`: JSON report, exit codes, read-only refusal."""

from __future__ import annotations

import io
import json
from dataclasses import replace

from plan_fixtures import lab_extras_for

from services.inventory.model import Inventory
from services.monitoring.cli import parse_param_overrides, run_setup_monitoring
from services.plans import Journal
from services.ssh.errors import HostUnreachable


async def _run(inventory, name, runner, tmp_path, **kw) -> tuple[int, str]:
    out = io.StringIO()
    code = await run_setup_monitoring(
        inventory,
        name,
        out=out,
        runner=runner,
        journal=Journal(tmp_path / "j"),
        operator="ci",
        extras_for=lab_extras_for,
        **kw,
    )
    return code, out.getvalue()


async def test_json_dry_run_then_apply_then_all_already_done(lab, tmp_path) -> None:
    cluster, runner, _ = lab
    inventory = Inventory(clusters=(cluster,), source="/etc/db2ops/inventory.yaml")
    params = {"email": "dba-team@example.com"}
    code, text = await _run(inventory, "lab1", runner, tmp_path, mode="dry-run", as_json=True, params=params)
    assert code == 0
    report = json.loads(text)
    assert report["mode"] == "dry-run" and report["outcome"] == "ok"
    assert {s["status"] for s in report["steps"]} == {"planned"}
    by_id = {s["id"]: s for s in report["steps"]}
    assert by_id["audit-buf-sz@db2a"]["actions"] == [
        {
            "kind": "ssh",
            "host": "db2a",
            "argv": ["db2", "update", "dbm", "cfg", "using", "audit_buf_sz", "64"],
            "command": "db2 update dbm cfg using audit_buf_sz 64",
            "note": "needs an instance restart to take effect",
        }
    ]
    assert by_id["sns-topic"]["actions"][1]["params"]["Endpoint"] == "dba-team@example.com"
    assert "restart" in by_id["audit-buf-sz@db2a"]["explain"]

    code, text = await _run(inventory, "lab1", runner, tmp_path, mode="apply", as_json=True, params=params)
    assert code == 0 and {s["status"] for s in json.loads(text)["steps"]} == {"applied"}
    code, text = await _run(inventory, "lab1", runner, tmp_path, mode="apply", as_json=True, params=params)
    assert code == 0 and {s["status"] for s in json.loads(text)["steps"]} == {"already_done"}


async def test_text_dry_run_shows_commands_and_file_contents(lab, tmp_path) -> None:
    cluster, runner, _ = lab
    code, text = await _run(Inventory(clusters=(cluster,)), "lab1", runner, tmp_path, mode="dry-run")
    assert code == 0
    assert "[planned] cron@db2a" in text
    assert "db2a$ tee -- /home/db2inst1/dbaudit/db2audit_extract.sh" in text
    assert "                | db2audit flush" in text  # the script that tee writes, shown for review
    assert "aws logs PutMetricFilter" in text
    # a change ticket reviews the alarm's every parameter: nothing is cut short
    assert '                |   "Period": 60,' in text and '                |   "Statistic": "Sum",' in text
    assert '"TreatMissingData": "notBreaching"' in text
    assert (
        '"filterPattern": "?\\"LEVEL: Error\\" ?\\"LEVEL: Severe\\" ?\\"LEVEL: Critical\\" ?\\"LEVEL: Alert\\""'
        in text
    )
    assert "..." not in text


async def test_text_apply_report_shows_what_was_sent_not_the_dry_run_placeholders(lab, tmp_path) -> None:
    cluster, runner, _ = lab
    params = {"email": "dba-team@example.com"}
    code, text = await _run(
        Inventory(clusters=(cluster,)), "lab1", runner, tmp_path, mode="apply", params=params
    )
    assert code == 0
    assert "<TopicArn returned by CreateTopic>" not in text and "<ARN of SNS topic" not in text
    assert '"TopicArn": "arn:aws:sns:us-east-1:123456789012:db2-alerts"' in text


async def test_read_only_apply_exits_3_with_the_guard_message(lab, tmp_path) -> None:
    cluster, runner, _ = lab
    inventory = Inventory(clusters=(replace(cluster, name="prod", read_only=True),), source="/etc/inv.yaml")
    code, text = await _run(inventory, "prod", runner, tmp_path, mode="apply")
    assert code == 3
    assert text.startswith("db2ops: cluster prod is read-only: set read_only: false for it in /etc/inv.yaml")
    assert runner.ran == []
    code, text = await _run(inventory, "prod", runner, tmp_path, mode="apply", as_json=True)
    assert code == 3 and json.loads(text)["outcome"] == "refused"


async def test_failures_and_bad_input_exit_non_zero(lab, tmp_path) -> None:
    cluster, runner, _ = lab
    inventory = Inventory(clusters=(cluster,))
    code, text = await _run(inventory, "nope", runner, tmp_path, mode="dry-run")
    assert code == 2 and "no cluster 'nope'" in text and "known: lab1" in text
    code, text = await _run(
        inventory, "lab1", runner, tmp_path, mode="dry-run", params={"table": "x; rm -rf /"}
    )
    assert code == 2 and "table 'x; rm -rf /' is not SCHEMA.NAME" in text
    runner.fail[("db2b", "db2audit configure")] = HostUnreachable("db2b: connection lost", "db2b")
    code, text = await _run(inventory, "lab1", runner, tmp_path, mode="apply", as_json=True)
    report = json.loads(text)
    assert code == 1 and report["failed_step"] == "audit-paths@db2b"
    assert "--cluster lab1 --apply" in report["next"]


def test_param_overrides_are_typed() -> None:
    assert parse_param_overrides(["email=a@example.com", "audit_buf_sz=128", "use_sudo=false"]) == {
        "email": "a@example.com",
        "audit_buf_sz": 128,
        "use_sudo": False,
    }
    import pytest

    from services.monitoring.plan import MonitoringParamError

    with pytest.raises(MonitoringParamError, match="audit_buf_sz='lots': not a valid int"):
        parse_param_overrides(["audit_buf_sz=lots"])
    with pytest.raises(MonitoringParamError, match="expected KEY=VALUE"):
        parse_param_overrides(["nonsense"])


async def test_ctrl_c_during_apply_says_where_it_stopped_and_how_to_resume(lab, tmp_path) -> None:
    import asyncio

    cluster, runner, _ = lab
    inventory = Inventory(clusters=(cluster,))
    hanging = asyncio.Event()
    real_run = runner.run

    async def run(host, argv, **kw):
        if host.name == "db2b" and list(argv) == ["crontab", "-"]:
            hanging.set()
            await asyncio.Event().wait()  # the DBA presses Ctrl-C here
        return await real_run(host, argv, **kw)

    runner.run = run
    out = io.StringIO()
    task = asyncio.ensure_future(
        run_setup_monitoring(
            inventory,
            "lab1",
            mode="apply",
            out=out,
            runner=runner,
            journal=Journal(tmp_path),
            extras_for=lab_extras_for,
        )
    )
    await hanging.wait()
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("the cancellation must reach the caller (exit 130)")
    last = out.getvalue().splitlines()[-1]
    assert last == (
        "db2ops: interrupted while applying step cron@db2b; what it sent is in the journal (db2ops journal). "
        "Re-run db2ops setup monitoring --cluster lab1 --apply: steps already done are skipped."
    )
