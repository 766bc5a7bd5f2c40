"""What the monitoring and HA wizard tests share: an app hosting one screen with the console's themes and
CSS, the fixed cluster of the snapshots, WizardServices on a given runner with files under tmp_path, a
runner no test may reach, and the Pilot steps (type into a field, press a plan key and answer the
confirmation, let the workers finish)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App
from textual.screen import Screen
from textual.widgets import Input, Static

from screens.setup_services import WizardServices
from services.inventory.model import AwsSettings, Cluster, Host
from services.plans import Journal, PlanContext, PlanResult, StepResult
from themes.themes import CSS_PATH, THEMES, resolve_theme
from tui.widgets.plan_view import ConfirmApply, ConfirmLeave

SIZE = (160, 50)
RUN_ID = "20261126T145906Z-abc123"  # the scripted runs' id, fixed for the snapshots


class ScreenApp(App[None]):
    """Pushes `make_screen()` on mount; `lab` plays Db2OpsApp.lab. (The class name is the SVG's title.)"""

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


def fixed_cluster(*, read_only: bool = False, lab: bool = True, aws: AwsSettings | None = None) -> Cluster:
    """The cluster of the snapshots: two db hosts and a qdevice, fixed names and ids (`aws`: region only)."""
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
        aws=aws or AwsSettings(region="us-east-1"),
    )


def wizard_services(runner: Any, tmp_path: Path, **changes: Any) -> WizardServices:
    """WizardServices whose contexts use `runner` (operator alice), a journal and progress records under
    tmp_path; `changes` replace any of them (run_plan, prove, ...)."""

    async def make_context(c: Cluster) -> PlanContext:
        return PlanContext(cluster=c, runner=runner, journal=Journal(tmp_path / "journal"), operator="alice")

    base: dict[str, Any] = {
        "make_context": make_context,
        "state_dir": tmp_path / "plans",
        "export_dir": tmp_path / "exports",
    }
    base.update(changes)
    return WizardServices(**base)


class NoHosts:
    """A runner for previews and snapshots: reaching a host fails the test."""

    async def run(self, *args, **kwargs):
        raise AssertionError("no host may be contacted here")


def failed_run(plan, mode: str, steps: list[StepResult], failed_step: str, next_hint: str) -> PlanResult:
    """Return a scripted run of `plan` that stopped at `failed_step`, with the fixed RUN_ID."""
    return PlanResult(
        plan=plan.name,
        cluster=plan.cluster.name,
        mode=mode,
        run_id=RUN_ID,
        steps=steps,
        outcome="failed",
        failed_step=failed_step,
        next_hint=next_hint,
    )


def screen_of(app: App[Any], kind: type[Screen[Any]]) -> Any:
    """Return the app's current screen, asserting it is a `kind`."""
    assert isinstance(app.screen, kind)
    return app.screen


async def type_into(pilot, screen, name: str, text: str) -> None:
    """Empty field `name` and type `text` into it key by key, as the DBA does."""
    field = screen.query_one(f"#param-{name}", Input)
    field.focus()
    field.value = ""
    await pilot.press(*text)
    await pilot.pause()


async def press_plan_key(pilot, screen, key: str, *, answer: str | None = None) -> None:
    """Press `key` with the page list focused; with `answer`, wait for the apply confirmation (which
    must come) and answer it; then let the run finish."""
    screen.query_one("#wizard-pages").focus()
    await pilot.press(key)
    if answer is not None:
        for _ in range(300):
            await pilot.pause(0.02)
            if isinstance(pilot.app.screen, ConfirmApply):
                break
        assert isinstance(pilot.app.screen, ConfirmApply), "apply must ask first"
        await pilot.press(answer)
    await settle(pilot)


async def settle(pilot) -> None:
    """Wait for the app's workers (plan runs, reads) and the screen updates they made."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def leaving_mid_step_asks_first(make_screen: Callable[[Any], Screen[Any]], step_id: str) -> None:
    """Check that Escape while the wizard applies `step_id` asks first: n stays (the run goes on), y leaves.

    make_screen(run_plan) builds the wizard on the plan page with a run_plan that hangs in that step; the
    app has a home screen under it, so leaving is possible.
    """
    import asyncio

    from services.plans import StepEvent

    stuck = asyncio.Event()

    async def hanging_run(plan, ctx, *, mode, progress=None, confirm=None, state_dir=None):
        progress(StepEvent(step_id, "a step that hangs", "applying"))
        stuck.set()
        await asyncio.Event().wait()

    wizard = make_screen(hanging_run)

    class TwoScreens(App[None]):
        CSS_PATH = CSS_PATH
        BINDINGS = [("escape", "back", "Back")]

        def on_mount(self) -> None:
            self.push_screen(Screen())
            self.push_screen(wizard)

        def action_back(self) -> None:
            self.pop_screen()

    app = TwoScreens()
    async with app.run_test(size=SIZE) as pilot:
        wizard.plan_page.run_mode("apply")
        await stuck.wait()
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmLeave)
        assert step_id in str(app.screen.query_one(Static).render())
        await pilot.press("n")  # stay: the run goes on
        await pilot.pause()
        assert app.screen is wizard and wizard.plan_page.applying_step == step_id
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is not wizard and not isinstance(app.screen, ConfirmLeave)
