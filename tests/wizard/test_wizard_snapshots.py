"""SVG snapshots of every wizard page, the plan progress page, the proof page and the journal, on fixed
data at a fixed size (no AWS, no host: previews come from the plan; runs and proofs are scripted).

Update after a deliberate change with: pytest tests/wizard/test_wizard_snapshots.py --snapshot-update
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from textual.widgets import DataTable
from wizard_app import (
    SIZE,
    ScreenApp,
    fixed_cluster,
    proof_events,
    scripted_prove,
    scripted_run_plan,
    services_for,
    wizard_app,
)

from screens.journal import JournalScreen
from services.monitoring.pattern_test import audit_samples, diag_samples
from services.plans import Journal, JournalEntry
from services.plans.step import ssh_action


class NoHosts:
    async def run(self, *args, **kwargs):  # the snapshots never reach a host
        raise AssertionError("no host may be contacted in a snapshot")


def _app(tmp_path, page: str, **changes):
    cluster = fixed_cluster(read_only=changes.pop("read_only", False))
    return wizard_app(cluster, services_for(cluster, NoHosts(), tmp_path, **changes), page=page)


async def _settle(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("page", ["audit", "policies", "cron", "agent", "sns", "alarms"])
def test_snapshot_wizard_page(snap_compare, tmp_path, page) -> None:
    assert snap_compare(_app(tmp_path, page), terminal_size=SIZE, run_before=_settle)


def test_snapshot_metric_filter_page_with_recent_events(snap_compare, tmp_path) -> None:
    async def with_events(pilot) -> None:
        screen = pilot.app.screen
        screen.pattern_messages = {
            "audit": [s.message for s in audit_samples("SAMPLE", "WORKER", "appusr")],
            "diag": [s.message for s in diag_samples()],
        }
        screen.pattern_notes = {"audit": "last 24 h (lab)", "diag": "last 24 h (lab)"}
        screen.query_one("#param-audit_pattern").value = "worker -appusr"  # the runbook's, with its trap
        await _settle(pilot)

    assert snap_compare(_app(tmp_path, "filters"), terminal_size=SIZE, run_before=with_events)


def test_snapshot_plan_progress_after_a_failed_step(snap_compare, tmp_path) -> None:
    async def apply(pilot) -> None:
        await pilot.press("a")
        await _settle(pilot)

    app = _app(tmp_path, "plan", run_plan=scripted_run_plan)
    assert snap_compare(app, terminal_size=SIZE, run_before=apply)


def test_snapshot_plan_page_of_a_read_only_cluster(snap_compare, tmp_path) -> None:
    assert snap_compare(_app(tmp_path, "plan", read_only=True), terminal_size=SIZE, run_before=_settle)


@pytest.mark.parametrize("ok", [True, False], ids=["fires", "breaks-at-metric"])
def test_snapshot_prove_it_fires(snap_compare, tmp_path, ok) -> None:
    async def prove(pilot) -> None:
        pilot.app.screen.query_one("#wizard-pages").focus()  # the page opens in its statement field
        await pilot.press("f", "y")
        await _settle(pilot)

    app = _app(tmp_path, "proof", prove=scripted_prove(proof_events(ok=ok)))
    assert snap_compare(app, terminal_size=SIZE, run_before=prove)


def test_snapshot_journal(snap_compare, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))  # the summary shows the journal file as ~/journal/...
    journal = Journal(tmp_path / "journal")
    t0 = datetime(2026, 11, 26, 14, 0, 0, tzinfo=UTC)
    steps = [
        (
            "audit-paths@db2a",
            "Audit data and archive paths on db2a",
            "db2a",
            "verified",
            [ssh_action("db2a", ["db2audit", "configure", "datapath", "/home/db2inst1/dbaudit/active/"])],
        ),
        (
            "cron@db2b",
            "Audit extract job every '*/5 * * * *' on db2b",
            "db2b",
            "failed",
            [
                ssh_action(
                    "db2b", ["crontab", "-"], input="*/5 * * * * /home/db2inst1/dbaudit/db2audit_extract.sh\n"
                )
            ],
        ),
        (
            "cron@db2b",
            "Audit extract job every '*/5 * * * *' on db2b",
            "db2b",
            "verified",
            [
                ssh_action(
                    "db2b", ["crontab", "-"], input="*/5 * * * * /home/db2inst1/dbaudit/db2audit_extract.sh\n"
                )
            ],
        ),
    ]
    for i, (step_id, title, target, result, actions) in enumerate(steps):
        journal.append(
            JournalEntry(
                who="alice",
                when=f"{t0 + timedelta(minutes=i):%Y-%m-%dT%H:%M:%SZ}",
                cluster="lab1",
                plan="monitoring",
                run_id="20261126T140000Z-abc123" if i < 2 else "20261126T140200Z-def456",
                step_id=step_id,
                step_title=title,
                target=target,
                result=result,
                message="apply failed: db2b: host unreachable"
                if result == "failed"
                else "applied and verified",
                actions=tuple(a.to_dict() for a in actions),
            )
        )
    app = ScreenApp(lambda: JournalScreen(journal=journal, cluster="lab1", export_dir=tmp_path / "x"))

    async def loaded(pilot) -> None:
        # The journal is read in a worker that may start after a first wait, and DataTable sizes its
        # columns when idle: on a slow machine the screenshot caught the rows in label-wide columns.
        for _ in range(200):
            await _settle(pilot)
            table = pilot.app.screen.query_one(DataTable)
            if table.row_count == 3 and table.ordered_columns[0].content_width >= len("2026-11-26 14:02:00"):
                return
            await pilot.pause(0.05)
        raise AssertionError("the journal table never showed its 3 entries in full-width columns")

    assert snap_compare(app, terminal_size=SIZE, run_before=loaded)
