"""The footer on narrow terminals: whole keys drop out, least important first; Help, Command and Back stay."""

from __future__ import annotations

import asyncio

import pytest
import tui_fixtures as fx
from textual.widgets._footer import FooterKey

from tui.app import Db2OpsApp
from tui.widgets.fitted_footer import FittedFooter, key_width, keys_that_fit


def key(display: str, description: str, action: str) -> FooterKey:
    return FooterKey(display, display, description, action)


def test_keys_drop_app_extras_first_then_the_screens_last_and_never_help_command_back():
    keys = [
        key("K", "Kill primary", "drill"),
        key("R", "Restore lab", "restore"),
        key("?", "Help", "help"),
        key(":", "Command", "command_prompt"),
        key("-", "Back", "back"),
        key("space", "Refresh", "refresh_now"),
        key("t", "Theme", "cycle_theme"),
    ]
    everything = sum(key_width(k) for k in keys)
    assert keys_that_fit(keys, everything) == keys
    no_theme = keys_that_fit(keys, everything - 1)
    assert [k.action for k in no_theme] == [
        "drill",
        "restore",
        "help",
        "command_prompt",
        "back",
        "refresh_now",
    ]
    tight = keys_that_fit(keys, 43)  # "K Kill primary " + "? Help " + ": Command " + "- Back "
    assert [k.action for k in tight] == ["drill", "help", "command_prompt", "back"]
    assert [k.action for k in keys_that_fit(keys, 1)] == ["help", "command_prompt", "back"]


@pytest.mark.parametrize("width", [100, 80])
async def test_the_status_footer_ends_in_a_whole_key_and_keeps_help(width):
    source = fx.FakeStatusSource("healthy")
    app = Db2OpsApp(fx.inventory(), fx.settings(), status_source=source, runner=fx.FakeLabRunner(source))
    async with app.run_test(size=(width, 30)) as pilot:
        await asyncio.wait_for(app.poller.wait_polls("lab-hadr", 1), 10)
        await pilot.pause()
        footer = app.screen.query_one(FittedFooter)
        shown = [k for k in footer.query(FooterKey) if k.display]
        assert {"help", "command_prompt", "back"} <= {k.action for k in shown}
        assert not any(k.has_class("-command-palette") for k in shown)  # ^p gives its place below 120
        right = max(k.region.right for k in shown)
        assert right <= width  # no key cut at the edge ("- Ba")
        assert sum(key_width(k) for k in shown) <= width
