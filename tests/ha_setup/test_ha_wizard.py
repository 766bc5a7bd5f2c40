"""The HA wizard driven with Pilot (on the in-process fresh lab and moto, through the real plan runner and
write guard) and its pages as SVG snapshots on fixed data.

Update the snapshots after a deliberate change with:
pytest tests/ha_setup/test_ha_wizard.py --snapshot-update
"""

from __future__ import annotations

import time

import pytest
from textual.widgets import Static, TextArea
from wizard_harness import (
    NoHosts,
    failed_run,
    leaving_mid_step_asks_first,
    press_plan_key,
    screen_of,
    settle,
    type_into,
)

from ha_setup.ha_wizard_app import SIZE, HaWizardApp, fixed_cluster, services_for
from screens.setup_ha import SetupHaScreen
from tui.widgets.plan_view import PlanSteps


@pytest.fixture(autouse=True)
def _utc_and_no_drafts(monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    SetupHaScreen.DRAFTS.clear()
    yield
    SetupHaScreen.DRAFTS.clear()


def _screen(app) -> SetupHaScreen:
    return screen_of(app, SetupHaScreen)


async def test_editing_the_domain_changes_the_preview_and_a_hostile_one_is_refused(tmp_path) -> None:
    app = HaWizardApp(fixed_cluster(), services_for(NoHosts(), tmp_path), page="cluster")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        preview = screen.query_one("#preview-cluster", Static)
        assert "-create -cluster -domain lab1 -publicEthernet eth0 -host db2a" in str(preview.render())
        await type_into(pilot, screen, "domain", "db2domain")
        assert "-domain db2domain" in str(preview.render())
        await type_into(pilot, screen, "domain", "x;rm")
        error = str(screen.query_one("#wizard-error", Static).render())
        assert "domain 'x;rm' is not allowed" in error
        screen.show_page("plan")
        await press_plan_key(pilot, screen, "d")
        assert "domain 'x;rm' is not allowed" in str(screen.query_one("#plan-outcome", Static).render())


async def test_typing_the_default_domain_back_keeps_every_character(tmp_path) -> None:
    # The default domain is the cluster name "lab1": typing it back key by key ends on the default text,
    # and that last key is the DBA's, not the wizard's own refresh (the plan then made domain "lab").
    app = HaWizardApp(fixed_cluster(), services_for(NoHosts(), tmp_path), page="cluster")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await type_into(pilot, screen, "domain", "db2domain")
        await type_into(pilot, screen, "domain", "lab1")
        assert screen.form.params().domain == "lab1"
        assert "-create -cluster -domain lab1 " in str(screen.query_one("#preview-cluster", Static).render())


async def test_leaving_while_a_step_is_applying_asks_first(tmp_path) -> None:
    # Leaving cancels the run in the middle of, say, installing Pacemaker: the HA wizard asks first too.
    await leaving_mid_step_asks_first(
        lambda run_plan: SetupHaScreen(
            fixed_cluster(), services_for(NoHosts(), tmp_path, run_plan=run_plan), page="plan"
        ),
        "pcmk-install@db2a",
    )


async def test_dry_run_then_apply_on_a_fresh_lab_then_everything_is_done(fresh_lab, tmp_path) -> None:
    app = HaWizardApp(fresh_lab.cluster, services_for(fresh_lab.runner, tmp_path), page="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await press_plan_key(pilot, screen, "d")
        text = screen.query_one("#plan-dry-run", TextArea).text
        assert "db2a$ sudo -n /home/db2inst1/sqllib/adm/db2cm -create -db HADRDB -instance db2inst1" in text
        assert "aws ec2 CreateRoute" in text
        assert screen.query_one(PlanSteps).statuses["db2cm-cluster"] == "planned"
        await press_plan_key(pilot, screen, "a", answer="y")
        statuses = screen.query_one(PlanSteps).statuses
        assert statuses["oip-resource"] == "applied"
        assert statuses["verify-status"] == "applied"
        await press_plan_key(pilot, screen, "c")
        assert set(screen.query_one(PlanSteps).statuses.values()) == {"already_done"}


async def test_cancel_at_the_confirmation_changes_nothing(fresh_lab, tmp_path) -> None:
    app = HaWizardApp(fresh_lab.cluster, services_for(fresh_lab.runner, tmp_path), page="plan")
    async with app.run_test(size=SIZE) as pilot:
        screen = _screen(app)
        await press_plan_key(pilot, screen, "a", answer="n")
        assert "cancelled" in str(screen.query_one("#plan-outcome", Static).render()).lower()
    writes = [
        cmd
        for _, cmd in fresh_lab.runner.ran
        if cmd.startswith(("sudo -n yum", "sudo -n dnf", "sudo -n tar -zxf"))
    ]
    assert writes == []


async def test_read_only_cluster_disables_apply_and_says_why(tmp_path) -> None:
    app = HaWizardApp(fixed_cluster(read_only=True), services_for(NoHosts(), tmp_path), page="plan")
    async with app.run_test(size=SIZE):
        guard = str(_screen(app).query_one("#plan-guard", Static).render())
        assert "READ-ONLY" in guard and "read_only: false" in guard


@pytest.mark.parametrize("page", ["prereq", "install", "cluster", "qdevice", "overlay", "iam", "plan"])
def test_snapshot_ha_wizard_page(snap_compare, tmp_path, page) -> None:
    app = HaWizardApp(fixed_cluster(), services_for(NoHosts(), tmp_path), page=page)
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


async def scripted_run_plan(plan, ctx, *, mode, progress=None, confirm=None, state_dir=None):
    """A check with fixed outcomes: the standby's HADR is not in PEER, so its prerequisite fails."""
    from services.plans import StepResult

    steps = []
    for step in plan.steps:
        result = StepResult(step.id, step.title, step.target, step.explain)
        if step.id == "prereq-hadr@db2b":
            result.status = "failed"
            result.message = (
                "could not check: prerequisite not met on db2b: HADR state is REMOTE_CATCHUP; wait for PEER "
                "(check the HADR ports in db cfg and the security group) and check again"
            )
        elif step.id.startswith("prereq-"):
            result.status, result.message = "already_done", "ok"
        else:
            result.status, result.message = "planned", "not done yet"
        steps.append(result)
    return failed_run(
        plan,
        mode,
        steps,
        "prereq-hadr@db2b",
        "Fix the problem of step 'prereq-hadr@db2b' (HADR state is REMOTE_CATCHUP) and check again.",
    )


def test_snapshot_ha_wizard_failed_prerequisite(snap_compare, tmp_path) -> None:
    services = services_for(NoHosts(), tmp_path, run_plan=scripted_run_plan)
    app = HaWizardApp(fixed_cluster(), services, page="plan")

    async def check(pilot) -> None:
        _screen(pilot.app).action_check()
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=check)
