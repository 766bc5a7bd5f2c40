"""Screens with inputs open with the first input focused, and text typed into an input never runs a
hotkey: `-` (back), `l`, `e`, `p` (pause), `t` (theme), `?` (help), `:` (command) and the screens' own
letters all land in the field. Run inside the real console app, whose bindings are the ones at risk."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent.parent
sys.path[:0] = [str(HERE / "failover"), str(HERE / "logs_screen"), str(HERE / "alarms"), str(HERE)]

from failover.helpers import in_process  # noqa: E402
from failover.test_failover_in_console import LabSource  # noqa: E402
from fake_alarm_service import FakeAlarmService  # noqa: E402
from fake_alarm_service import cluster as alarm_cluster  # noqa: E402
from logscreen_data import FakeLogsService, diag_entries  # noqa: E402
from textual.widgets import Input  # noqa: E402

from screens.alarm_dialogs import MuteAlarmModal  # noqa: E402
from screens.alarms import AlarmsScreen  # noqa: E402
from screens.failover import FailoverScreen  # noqa: E402
from screens.logs import LogsScreen  # noqa: E402
from services.inventory.model import Inventory  # noqa: E402
from services.settings import Settings  # noqa: E402
from tui.app import Db2OpsApp  # noqa: E402

HOTKEY_TEXT = "-lep t?:qrx-m"  # every one of these is a hotkey somewhere in the console


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))


def console(tmp_path, cluster, runner=None, status=None) -> Db2OpsApp:
    return Db2OpsApp(
        Inventory(clusters=(cluster,)),
        Settings(),
        status_source=status,
        runner=runner,
        toasts=False,
        settings_path=tmp_path / "settings.toml",
    )


async def typed_into(pilot, app, field: Input, text: str = HOTKEY_TEXT) -> None:
    """Type `text` with `field` focused; assert every character landed in it and nothing else happened."""
    screen, theme, paused, stack = app.screen, app.theme, app.paused, list(app.screen_stack)
    assert app.focused is field
    await pilot.press(*text)
    await pilot.pause()
    assert field.value.endswith(text), field.value
    assert app.screen is screen and list(app.screen_stack) == stack  # no back, help, prompt or logs
    assert (app.theme, app.paused) == (theme, paused)  # no theme change, no pause


async def test_failover_opens_with_the_confirmation_focused_and_takes_typed_text(tmp_path):
    lab, cluster, runner = in_process()
    app = console(tmp_path, cluster, runner, LabSource(runner))
    async with app.run_test(size=(130, 50)) as pilot:
        await pilot.pause()
        app.run_command("failover")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FailoverScreen)
        field = screen.query_one("#fo-type-cluster", Input)
        assert app.focused is field  # not nothing: the DBA can type the cluster name at once
        await typed_into(pilot, app, field)
        await pilot.press("escape")  # escape still leaves
        await pilot.pause()
        assert not isinstance(app.screen, FailoverScreen)
    assert runner.writes() == []


async def test_logs_prompt_and_insights_range_take_hotkey_letters(tmp_path):
    lab, cluster, runner = in_process()
    app = console(tmp_path, cluster, runner, LabSource(runner))
    async with app.run_test(size=(160, 48)) as pilot:
        await pilot.pause()
        await app.push_screen(LogsScreen(cluster, FakeLogsService(), start_tail=False))
        await pilot.pause()
        screen = app.screen
        screen.view.add_entries(diag_entries())
        await pilot.press("slash")
        await pilot.pause()
        prompt = screen.query_one("#logs-prompt", Input)
        await typed_into(pilot, app, prompt)
        await pilot.press("escape")  # closes the prompt, stays on the screen
        await pilot.pause()
        assert app.screen is screen and prompt.has_class("-hidden")
        await pilot.press("i")
        await pilot.pause()
        rng = screen.query_one("#insights-range", Input)
        assert app.focused is rng
        await typed_into(pilot, app, rng)
        await pilot.press("escape")  # leaves the field, not the screen with what was typed
        await pilot.pause()
        assert app.screen is screen and app.focused is screen.view and rng.value.endswith(HOTKEY_TEXT)


async def test_mute_dialog_fields_take_hotkey_letters_and_cancel_sends_nothing(tmp_path):
    service = FakeAlarmService()
    app = console(tmp_path, alarm_cluster())
    async with app.run_test(size=(170, 40)) as pilot:
        await pilot.pause()
        screen = AlarmsScreen(alarm_cluster(), service, poll_interval=0)
        await app.push_screen(screen)
        await screen.loaded.wait()
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, MuteAlarmModal)
        reason = dialog.query_one("#mute-reason", Input)
        await typed_into(pilot, app, reason)  # `m`, `-`, `:` … are text here, not mute/back/command
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and service.applied == []
