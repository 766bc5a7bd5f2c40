"""The journal screen (:journal): applied steps in a table with a detail panel, the cluster filter, the
Markdown export, and a damaged journal line reported instead of hiding the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from plan_fixtures import lab_extras
from textual.widgets import DataTable, Static
from wizard_app import SIZE, ScreenApp

from screens.journal import JournalScreen, export_file_name
from services.monitoring.plan import MonitoringParams, build_monitoring_plan
from services.plans import Journal, PlanContext, run_plan

STAMP = datetime(2026, 11, 26, 15, 0, 0, tzinfo=UTC)


async def _apply_on_lab(lab, journal: Journal, tmp_path) -> None:
    cluster, runner, _ = lab
    ctx = PlanContext(
        cluster=cluster, runner=runner, journal=journal, operator="alice", extras=lab_extras(cluster, runner)
    )
    result = await run_plan(
        build_monitoring_plan(cluster, MonitoringParams()), ctx, mode="apply", state_dir=tmp_path / "p"
    )
    assert result.ok, result.next_hint


def _journal_app(journal: Journal, tmp_path, **kw) -> ScreenApp:
    return ScreenApp(
        lambda: JournalScreen(journal=journal, export_dir=tmp_path / "exports", clock=lambda: STAMP, **kw)
    )


async def _loaded(pilot) -> JournalScreen:
    screen = pilot.app.screen
    assert isinstance(screen, JournalScreen)
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen


async def test_journal_lists_applied_steps_newest_first_with_their_commands(lab, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    await _apply_on_lab(lab, journal, tmp_path)
    async with _journal_app(journal, tmp_path).run_test(size=SIZE) as pilot:
        screen = await _loaded(pilot)
        table = screen.query_one("#journal-table", DataTable)
        assert table.row_count == 14
        assert [e.step_id for e in screen.shown][:2] == ["alarm-diag", "alarm-audit"]
        assert screen.shown[-1].step_id == "audit-paths@db2a"
        assert all(e.who == "alice" and e.result == "verified" for e in screen.shown)
        # move the cursor to the audit-paths step of db2a: the detail shows its exact commands
        table.move_cursor(row=13)
        await pilot.pause()
        detail = str(screen.query_one("#journal-detail", Static).render())
        assert "Audit data and archive paths on db2a" in detail
        assert "db2a$ db2audit configure datapath /home/db2inst1/dbaudit/active/" in detail
        assert "result ✓ verified" in detail


async def test_cluster_filter_and_markdown_export(lab, tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    await _apply_on_lab(lab, journal, tmp_path)
    other = journal.read().entries[0]
    journal.append(type(other)(**{**other.to_dict(), "cluster": "prod-hadr", "actions": ()}))
    async with _journal_app(journal, tmp_path, cluster=None).run_test(size=SIZE) as pilot:
        screen = await _loaded(pilot)
        assert len(screen.shown) == 15
        await pilot.press("f")  # all -> lab1
        assert screen.cluster_filter == "lab1" and len(screen.shown) == 14
        await pilot.press("f")  # lab1 -> prod-hadr
        assert screen.cluster_filter == "prod-hadr" and len(screen.shown) == 1
        await pilot.press("f", "f")  # back to lab1
        assert screen.cluster_filter == "lab1"
        await pilot.press("e")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.last_export == tmp_path / "exports" / "db2ops-journal-lab1-20261126T150000Z.md"
        assert any(str(screen.last_export) in n.message for n in pilot.app._notifications)
    text = screen.last_export.read_text(encoding="utf-8")
    assert screen.last_export.stat().st_mode & 0o777 == 0o600  # the journal's mode, not the umask's 0644
    assert text.startswith("# db2ops operator journal: lab1\n")
    assert "## monitoring on lab1 (" in text
    assert "### Audit data and archive paths on db2a [verified]" in text
    assert "```sh\ndb2audit configure datapath /home/db2inst1/dbaudit/active/\n```" in text
    assert "prod-hadr" not in text
    # the export is in the order the steps ran
    assert text.index("audit-paths@db2a") < text.index("alarm-diag")


async def test_a_damaged_line_is_reported_and_the_rest_shown(tmp_path) -> None:
    journal = Journal(tmp_path / "journal")
    journal.directory.mkdir(parents=True)
    good = (
        '{"who": "bob", "when": "2026-11-26T14:00:00Z", "cluster": "lab1", "plan": "monitoring", '
        '"run_id": "r1", "step_id": "sns-topic", "step_title": "SNS topic db2-alerts", "target": "aws", '
        '"result": "failed", "message": "AWS refused sns:CreateTopic (AccessDenied)", "actions": []}'
    )
    journal.path.write_text(good + "\n{truncated\n", encoding="utf-8")
    async with _journal_app(journal, tmp_path).run_test(size=SIZE) as pilot:
        screen = await _loaded(pilot)
        assert [e.step_id for e in screen.shown] == ["sns-topic"]
        summary = str(screen.query_one("#journal-summary", Static).render())
        assert "1 of 1 entry" in summary and "1 unreadable line skipped" in summary
        detail = str(screen.query_one("#journal-detail", Static).render())
        assert "result ✗ failed" in detail and "AccessDenied" in detail and "none recorded" in detail


def test_export_file_names_are_safe() -> None:
    assert export_file_name("../../etc", STAMP) == "db2ops-journal-_.._etc-20261126T150000Z.md"
    assert export_file_name(None, STAMP) == "db2ops-journal-all-20261126T150000Z.md"
