"""The monitoring wizard driven with Pilot: on the lab's host answers (in-process) and moto, through the
real plan runner and write guard."""

from __future__ import annotations

from dataclasses import replace

from textual.widgets import Button, Input, Static, TextArea
from wizard_app import SIZE, services_for, wizard_app
from wizard_harness import leaving_mid_step_asks_first, press_plan_key, screen_of, settle, type_into

from lab.db2admin_state import host_state
from screens.setup_monitoring import SetupMonitoringScreen
from screens.setup_pages import RUNBOOK_ALARM_TRAP
from services.monitoring.params import RUNBOOK_AUDIT_PATTERN, corrected_audit_pattern
from services.plans import Journal
from services.ssh.errors import HostUnreachable
from tui.widgets.plan_page import PlanPage
from tui.widgets.plan_view import ConfirmApply, PlanSteps

WRITES = ("tee", "db2audit configure", "db2 update", "mkdir", "sudo -n tee", "chmod")


def _writes(runner) -> list[str]:
    return [cmd for _, cmd in runner.ran if cmd.startswith(WRITES) or cmd == "crontab -"]


def _screen(app) -> SetupMonitoringScreen:
    return screen_of(app, SetupMonitoringScreen)


async def test_editing_a_default_changes_the_preview_and_the_dry_run(lab, tmp_path) -> None:
    cluster, runner, _ = lab
    app = wizard_app(cluster, services_for(cluster, runner, tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        preview = screen.query_one("#preview-audit", Static)
        assert "db2audit configure datapath /home/db2inst1/dbaudit/active/" in str(preview.render())
        await type_into(pilot, screen, "datapath", "/db2/audit/active/")
        assert "db2audit configure datapath /db2/audit/active/" in str(preview.render())
        screen.show_page("plan")
        await press_plan_key(pilot, screen, "d")
        text = screen.query_one("#plan-dry-run", TextArea).text
        assert "db2a$ db2audit configure datapath /db2/audit/active/" in text
        assert "db2b$ db2audit configure datapath /db2/audit/active/" in text
        assert "/home/db2inst1/dbaudit/active/" not in text.split("audit-buf-sz")[0]
        # the archive path still follows the default, and the dry run lists AWS calls with their params
        assert "db2audit configure archivepath /home/db2inst1/dbaudit/archive/" in text
        assert "aws cloudwatch PutMetricAlarm" in text and '"Period": 60' in text
        assert screen.query_one(PlanSteps).statuses["audit-paths@db2a"] == "planned"
    assert _writes(runner) == []


async def test_a_derived_default_follows_the_cluster_until_edited(lab, tmp_path) -> None:
    cluster, runner, _ = lab
    app = wizard_app(cluster, services_for(cluster, runner, tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        screen.show_page("cron")
        await type_into(pilot, screen, "instance_home", "/db2home/db2inst1")
        assert (
            screen.query_one("#param-script_path", Input).value
            == "/db2home/db2inst1/dbaudit/db2audit_extract.sh"
        )
        screen.show_page("audit")
        assert screen.query_one("#param-datapath", Input).value == "/db2home/db2inst1/dbaudit/active/"
        assert set(screen.form.overrides) == {"instance_home"}


async def test_typing_the_default_value_back_keeps_every_character(lab, tmp_path) -> None:
    # Typing "db2-alerts" key by key ends on the default text; that last keystroke must not be taken for
    # the wizard's own refresh of the field (the plan then created topic "db2-alert").
    cluster, runner, _ = lab
    app = wizard_app(cluster, services_for(cluster, runner, tmp_path), page="sns")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await type_into(pilot, screen, "sns_topic_name", "db2-alerts")
        assert screen.form.params().sns_topic_name == "db2-alerts"
        assert '"Name": "db2-alerts"' in str(screen.query_one("#preview-sns", Static).render())
        await type_into(pilot, screen, "sns_topic_name", "ops-alerts")
        await type_into(pilot, screen, "sns_topic_name", "db2-alerts")
        assert screen.form.params().sns_topic_name == "db2-alerts"


async def test_the_preview_never_shows_values_other_than_the_fields(lab, tmp_path) -> None:
    # While a field is invalid there is no plan to preview; the last valid one (a value typed half-way,
    # "db2-alertsdba") must not stay on screen as if it were what the plan would run.
    cluster, runner, _ = lab
    app = wizard_app(cluster, services_for(cluster, runner, tmp_path), page="sns")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await type_into(pilot, screen, "sns_topic_name", "db2-alertsdba@example.com")
        preview = str(screen.query_one("#preview-sns", Static).render())
        assert '"Name": "db2-alertsdba"' not in preview
        assert preview.startswith("No preview: sns_topic_name 'db2-alertsdba@example.com' is not allowed")


async def test_a_bad_value_is_named_on_its_field_and_the_plan_refuses_to_run(lab, tmp_path) -> None:
    cluster, runner, _ = lab
    app = wizard_app(cluster, services_for(cluster, runner, tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await type_into(pilot, screen, "audit_buf_sz", "lots")
        field = screen.query_one("#field-audit_buf_sz")
        assert field.has_class("-invalid")
        assert "audit_buf_sz 'lots' is not a number" in str(field.query_one(".hint", Static).render())
        screen.show_page("cron")
        await type_into(pilot, screen, "cron_schedule", "*/5 * * *; rm -rf /")
        assert "cron_schedule" in str(screen.query_one("#wizard-error", Static).render())
        screen.show_page("plan")
        await press_plan_key(pilot, screen, "d")
        outcome = str(screen.query_one("#plan-outcome", Static).render())
        assert outcome.startswith("✗ audit_buf_sz 'lots' is not a number")
    assert runner.ran == []  # nothing was even read


async def test_read_only_cluster_shows_the_guard_refusal_and_applies_nothing(lab, tmp_path) -> None:
    cluster, runner, lab_cluster = lab
    cluster = replace(cluster, read_only=True)
    app = wizard_app(cluster, services_for(cluster, runner, tmp_path), page="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        guard = str(screen.query_one("#plan-guard", Static).render())
        assert "READ-ONLY · apply is refused: cluster lab1 is read-only: set read_only: false" in guard
        assert screen.query_one("#btn-apply", Button).disabled
        await press_plan_key(
            pilot, screen, "a"
        )  # the key still asks the runner: the guard refuses before anything
        assert not isinstance(app.screen, ConfirmApply)
        outcome = str(screen.query_one("#plan-outcome", Static).render())
        assert outcome.startswith("✗ Refused by the write guard: cluster lab1 is read-only")
        assert set(screen.query_one(PlanSteps).statuses.values()) == {""}
    assert runner.ran == []
    assert host_state(lab_cluster, lab_cluster.hosts["db2a"]).audit_buf_sz == 0
    assert Journal(tmp_path / "journal").read().entries == []


async def test_failure_mid_plan_shows_what_to_do_and_a_rerun_resumes(lab, tmp_path) -> None:
    cluster, runner, lab_cluster = lab
    runner.fail[("db2b", "tee -- /home/db2inst1/dbaudit/db2audit_extract.sh")] = HostUnreachable(
        "connection reset by peer", "db2b"
    )
    app = wizard_app(cluster, services_for(cluster, runner, tmp_path), page="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await press_plan_key(pilot, screen, "a", answer="y")
        table = screen.query_one(PlanSteps)
        assert table.statuses["cron@db2a"] == "applied"
        assert table.statuses["cron@db2b"] == "failed"
        assert table.statuses["agent@db2a"] == "skipped"
        outcome = str(screen.query_one("#plan-outcome", Static).render())
        assert "✗ Stopped at step 'cron@db2b'" in outcome
        assert "What to do: Step 'cron@db2b' (db2b) failed" in outcome and "re-run" in outcome
        detail = str(screen.query_one("#plan-detail", Static).render())
        assert "cron@db2b" in detail and "connection reset by peer" in detail

        await press_plan_key(pilot, screen, "a", answer="y")  # the re-run resumes where it stopped
        statuses = screen.query_one(PlanSteps).statuses
        assert statuses["cron@db2a"] == "already_done"
        assert statuses["audit-paths@db2a"] == "already_done"
        assert statuses["cron@db2b"] == "applied"
        assert statuses["alarm-diag"] == "applied"
        assert screen.query_one(PlanPage).last_result.ok
    journal = Journal(tmp_path / "journal").read().entries
    assert [e.step_id for e in journal].count("cron@db2b") == 2  # failed once, then verified
    assert [e.result for e in journal if e.step_id == "cron@db2b"] == ["failed", "verified"]
    assert host_state(lab_cluster, lab_cluster.hosts["db2b"]).audit_buf_sz == 64


async def test_cancel_at_the_confirmation_changes_nothing(lab, tmp_path) -> None:
    cluster, runner, lab_cluster = lab
    app = wizard_app(cluster, services_for(cluster, runner, tmp_path), page="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await press_plan_key(pilot, screen, "a", answer="n")
        assert "Cancelled: nothing was changed" in str(screen.query_one("#plan-outcome", Static).render())
        assert set(screen.query_one(PlanSteps).statuses.values()) == {"skipped"}
    assert _writes(runner) == []
    assert host_state(lab_cluster, lab_cluster.hosts["db2a"]).audit_buf_sz == 0


async def test_runbook_pattern_shows_the_case_trap_and_one_key_restores_the_corrected(lab, tmp_path) -> None:
    cluster, runner, _ = lab
    app = wizard_app(cluster, services_for(cluster, runner, tmp_path), page="filters")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        corrected = corrected_audit_pattern("WORKER", "appusr")
        assert screen.query_one("#param-audit_pattern", Input).value == corrected
        await type_into(pilot, screen, "audit_pattern", RUNBOOK_AUDIT_PATTERN)
        panel = str(screen.query_one("#pattern-audit", Static).render())
        assert "✗ WRONG on: another user, statement in upper case" in panel
        assert "This is the runbook's pattern: its case trap" in panel
        assert "worker is case-sensitive" in panel
        assert f"Corrected pattern: {corrected}" in panel
        screen.query_one("#wizard-pages").focus()
        await pilot.press("u")
        await pilot.pause()
        assert screen.query_one("#param-audit_pattern", Input).value == corrected
        assert "audit_pattern" not in screen.form.overrides
        assert "✓ right on every built-in sample" in str(screen.query_one("#pattern-audit", Static).render())


async def test_pattern_test_on_recent_events_of_the_log_group(lab, tmp_path) -> None:
    cluster, runner, lab_cluster = lab
    from lab.log_agent import LogAgent

    agent = LogAgent(lab_cluster, cluster.aws, backfill_minutes=0, seed=7)
    await agent.write_audit_test()  # the runbook's GRANT and a SELECT by APPUSR (the case trap)
    app = wizard_app(cluster, services_for(cluster, runner, tmp_path), page="filters")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        screen.query_one("#wizard-pages").focus()
        await pilot.press("t")
        await app.workers.wait_for_complete()
        await pilot.pause()
        panel = str(screen.query_one("#pattern-audit", Static).render())
        assert "Recent events: this pattern matches 1 of 2, the runbook's 2" in panel
        assert "· no    ✓ match APPUSR: select empno, salary from sample.worker where empno = ?" in panel
        assert "✓ match ✓ match db2inst1: grant select on table sample.worker to user abcuser" in panel
        assert "(lab)" in panel


async def test_alarm_page_explains_why_the_runbooks_alarm_never_fires(lab, tmp_path) -> None:
    cluster, runner, _ = lab
    app = wizard_app(cluster, services_for(cluster, runner, tmp_path), page="alarms")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        preview = screen.query_one("#preview-alarms", Static)
        assert "Period 60 s, Sum >= 1, missing data not breaching" in str(preview.render())
        assert RUNBOOK_ALARM_TRAP not in str(preview.render())
        await type_into(pilot, screen, "alarm_statistic", "Minimum")
        await type_into(pilot, screen, "alarm_period", "10")
        text = str(preview.render())
        assert RUNBOOK_ALARM_TRAP in text
        assert '"Period": 10' in text and '"Statistic": "Minimum"' in text


async def test_agent_page_diffs_the_merge_against_each_hosts_config(lab, tmp_path) -> None:
    cluster, runner, lab_cluster = lab
    app = wizard_app(cluster, services_for(cluster, runner, tmp_path), page="agent")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        text = str(screen.query_one("#preview-agent", Static).render())
        assert "against an empty config" in text
        assert '+            "log_group_name": "db2-db-worker-audit-log",' in text
        assert "CloudWatchAgentServerPolicy" in text
        screen.query_one("#wizard-pages").focus()
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        text = str(screen.query_one("#preview-agent", Static).render())
        assert "Merge preview on db2a" in text and "Merge preview on db2b" in text
    assert any(
        cmd.startswith("sudo -n cat /opt/aws/amazon-cloudwatch-agent/bin/config.json")
        for _, cmd in runner.ran
    )


async def test_leaving_while_a_step_is_applying_asks_first(lab, tmp_path) -> None:
    # Escape pops the wizard, which cancels its plan run mid-step: ask before doing that.
    cluster, runner, _ = lab
    await leaving_mid_step_asks_first(
        lambda run_plan: SetupMonitoringScreen(
            cluster, services_for(cluster, runner, tmp_path, run_plan=run_plan), page="plan"
        ),
        "cron@db2b",
    )


async def test_apply_without_an_email_warns_that_nobody_will_be_notified(lab, tmp_path) -> None:
    from services.monitoring.params import NO_EMAIL_WARNING

    cluster, runner, _ = lab
    app = wizard_app(cluster, services_for(cluster, runner, tmp_path))
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        screen.show_page("sns")
        assert NO_EMAIL_WARNING in str(screen.query_one("#preview-sns", Static).render())
        screen.show_page("plan")
        question = await _apply_question(pilot, screen)
        assert "NOBODY WILL BE NOTIFIED" in question
        # with an address the confirmation carries no such warning
        screen.show_page("sns")
        await type_into(pilot, screen, "email", "dba-team@example.com")
        screen.show_page("plan")
        question = await _apply_question(pilot, screen)
        assert "dba-team@example.com" not in question and "NOBODY WILL BE NOTIFIED" not in question
    assert _writes(runner) == []


async def _apply_question(pilot, screen) -> str:
    """Press apply, return the confirmation's text, answer no and let the run end."""
    screen.query_one("#wizard-pages").focus()
    await pilot.press("a")
    for _ in range(300):
        await pilot.pause(0.02)
        if isinstance(pilot.app.screen, ConfirmApply):
            break
    assert isinstance(pilot.app.screen, ConfirmApply), "apply must ask first"
    text = str(pilot.app.screen.query_one(Static).render())
    await pilot.press("n")
    await settle(pilot)
    return text
