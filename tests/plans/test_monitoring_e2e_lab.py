"""End to end on the embedded lab: real SSH servers on 127.0.0.1 (host keys verified) and moto."""

from __future__ import annotations

import io
import json

import pytest
from plan_fixtures import lab_extras_for

from services.monitoring.cli import run_setup_monitoring
from services.plans import Journal, export_markdown
from services.ssh.pool import SshPool


@pytest.fixture
async def lab_runtime(aws_endpoint, tmp_path, state_home):
    # moto keeps its state per process, shared by every moto server: aws_endpoint resets it first.
    from lab.runtime import LabRuntime

    runtime = LabRuntime()
    await runtime.start(1, base_dir=tmp_path / "lab", failover_delay_s=0)
    try:
        yield runtime
    finally:
        await runtime.stop()


async def test_setup_monitoring_over_real_ssh_and_moto(lab_runtime, tmp_path) -> None:
    inventory = lab_runtime.inventory()
    journal = Journal(tmp_path / "journal")
    params = {"email": "dba-team@example.com"}
    async with SshPool(config_paths=[]) as pool:
        out = io.StringIO()
        code = await run_setup_monitoring(
            inventory,
            "lab1",
            mode="apply",
            as_json=True,
            out=out,
            params=params,
            extras_for=lab_extras_for,
            runner=pool,
            journal=journal,
        )
        report = json.loads(out.getvalue())
        assert code == 0, report["next"]
        assert {s["status"] for s in report["steps"]} == {"applied"}

        out = io.StringIO()
        code = await run_setup_monitoring(
            inventory,
            "lab1",
            mode="dry-run",
            as_json=True,
            out=out,
            params=params,
            extras_for=lab_extras_for,
            runner=pool,
            journal=journal,
        )
        assert code == 0
        assert {s["status"] for s in json.loads(out.getvalue())["steps"]} == {"already_done"}

    lab = lab_runtime.clusters["lab1"]
    crontab = lab.hosts["db2b"].files["/var/spool/cron/db2inst1"]
    assert crontab.endswith("2>&1 # db2ops:audit-extract\n")
    markdown = export_markdown(journal.read("lab1").entries)
    assert "### Audit policies WORKTABPOL (on sample.worker) and ADMINPOL [verified]" in markdown
    assert "db2 -tvf /home/db2inst1/dbaudit/db2ops_audit_policies.sql" in markdown
    assert '"operation": "PutMetricAlarm"' in markdown
