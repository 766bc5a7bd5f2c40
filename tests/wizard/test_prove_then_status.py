"""After `setup monitoring --apply` and `--prove` on a lab cluster, the alarm the proof fired is where the DBA
looks: `db2ops status --json` lists it in ALARM (and the cluster degraded), the console's status banner and
fleet row show it. The real embedded lab in this process (SSH hosts, moto, log agent, CloudWatch evaluator)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

import pytest

from services.monitoring.plan import MonitoringParams
from services.monitoring.prove_it_fires import ProofHistory, prove_it_fires
from wizard.prove_lab import applied, lab_session_fixture, ssh_pool_fixture  # noqa: F401

pytest.importorskip("moto")
ALARM = "db2ops-lab1-sensitive-table-access"
REPO = Path(__file__).resolve().parents[2]


async def applied_and_proved(lab_session, ssh_pool, tmp_path) -> None:
    """`setup monitoring --apply`, then `--prove` (in this process, as the console runs them): the audit
    alarm is in ALARM afterwards."""
    from tui.backends import extras_for

    ctx, params = await applied(lab_session, ssh_pool, tmp_path, MonitoringParams())
    extras = extras_for(ctx.cluster, lab_session, ctx.runner)
    events = [e async for e in prove_it_fires(ctx, params, extras=extras, history=ProofHistory())]
    assert events[-1].status == "ok", "\n".join(e.text for e in events)


async def test_status_json_lists_the_proved_alarm_in_alarm(lab_session, ssh_pool, tmp_path) -> None:
    await applied_and_proved(lab_session, ssh_pool, tmp_path)
    argv = ["-m", "tui.cli", "--inventory", str(lab_session.inventory_path), "status", "--json"]
    # the lab lives in this process: its event loop must run while the CLI asks it
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *argv,
        cwd=str(REPO),
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    doc = json.loads(out.decode())
    (cluster,) = doc["clusters"]
    alarms = cluster["alarms"]
    assert alarms["ok"] and alarms["source"] == "lab:moto cloudwatch", err.decode()
    by_name = {a["name"]: a for a in alarms["value"]}
    assert by_name[ALARM]["state"] == "ALARM" and by_name[ALARM]["since"] > 0
    assert set(by_name) == {ALARM, "db2ops-lab1-db2diag-error-severe"}  # the two the plan created
    verdict = next(v for v in cluster["verdicts"] if v["code"] == "alarm_in_alarm")
    assert ALARM in verdict["message"] and verdict["severity"] == "warning"
    assert cluster["severity"] == "warning" and proc.returncode == doc["exit_code"] == 1


async def test_the_console_shows_the_proved_alarm_on_status_and_fleet(
    lab_session, ssh_pool, tmp_path
) -> None:
    from screens.fleet import FleetScreen
    from screens.status import StatusScreen
    from services.settings import Settings
    from tui.app import Db2OpsApp
    from tui.widgets.banner import VerdictBanner

    await applied_and_proved(lab_session, ssh_pool, tmp_path)
    app = Db2OpsApp(
        lab_session.inventory,
        Settings(),
        lab=lab_session,
        runner=ssh_pool,
        toasts=False,
        settings_path=tmp_path / "settings.yaml",
    )
    async with app.run_test(size=(160, 48)) as pilot:
        await asyncio.wait_for(app.poller.wait_polls("lab1", 1), 60)
        await pilot.pause()
        assert isinstance(app.screen, StatusScreen)
        banner = app.screen.query_one(VerdictBanner).render().plain
        # "1 alarm in ALARM: db2ops-lab1-sensitive-table-access (for 3s)"; the lab's routine db2diag
        # records may trip the diag alarm too, and the longest in ALARM is named first
        assert banner.lstrip().startswith("WARNING") and " in ALARM: db2ops-lab1-" in banner
        feed = app.feed("lab1").status
        assert ALARM in [a.name for a in feed.alarms.value if a.state == "ALARM"]
        assert any(ALARM in v.message for v in feed.verdicts if v.code == "alarm_in_alarm")
        app.run_command("fleet")
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)
        table = app.screen.query_one("#fleet-table")
        keys = [str(c.key.value) for c in table.columns.values()]
        row = table.get_row("lab1")
        assert str(row[keys.index("Alarms")]).endswith("ALARM")  # "1 ALARM" (or 2: the lab's diag alarm)
        assert str(row[keys.index("Verdict")]).startswith("WARNING: ")
        assert " in ALARM: " in str(row[keys.index("Verdict")])
