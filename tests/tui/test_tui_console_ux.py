"""Pilot tests of the console as a DBA uses it at 3 a.m.: one toast per poll, small terminals, panel and
banner details by mouse and keyboard, refresh-now ending the SSH backoff, every screen reachable by `:`."""

from __future__ import annotations

import os

import pytest
import tui_fixtures as fx
from test_tui_app import banner, make_app, polled, until
from textual.widgets import Input

from screens.fleet import COLUMNS, FleetScreen
from screens.help import HelpScreen, declared_actions
from screens.panel_detail import PanelDetailScreen, VerdictDetailScreen
from screens.status import StatusScreen
from tui import screen_registry
from tui.widgets.status_panel import StatusPanel


async def test_kill_primary_gives_one_toast_for_the_whole_poll():
    app, _ = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await polled(pilot, app)
        await pilot.press("p")
        seen = {n.identity for n in app._notifications}
        await pilot.press("K")
        await until(pilot, lambda: app.drills_done == 1, "drill finished")
        await polled(pilot, app, count=app.poller.polls["lab-hadr"])
        await pilot.pause()
        events = len(app.feed("lab-hadr").events)
        new = [n for n in app._notifications if n.identity not in seen]
        change_toasts = [n for n in new if not n.message.startswith("Drill:")]
        assert events >= 3
        assert len(change_toasts) == 1 and change_toasts[0].title == f"lab-hadr: {events} changes"
        assert "promoted node changed: db2a -> db2b" in change_toasts[0].message


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_small_terminal_shows_banner_then_primary_and_hadr_first(size):
    app, _ = make_app("host_unreachable")
    async with app.run_test(size=size) as pilot:
        await polled(pilot, app)
        await pilot.pause()
        screen = app.screen
        summary = screen.query_one("#summary")
        banner_box = screen.query_one("#banner")
        if size == (80, 24):
            assert screen.has_class("-narrow") and screen.has_class("-short")
            assert summary.display and not screen.query_one("#topology").display
            assert summary.region.y == banner_box.region.bottom  # right under the banner, on screen
            assert summary.region.bottom < size[1] // 2
            assert summary.render().plain.startswith("primary db2a · HADR DISCONNECTED · db2b OFFLINE")
            assert banner(app).startswith(" CRITICAL   db2b is down (host down / instance stopped)")
            assert banner_box.region.height <= 5
        else:  # 120x40 keeps the picture
            assert not screen.has_class("-narrow") and screen.query_one("#topology").display


async def test_resizing_switches_layouts_live():
    app, _ = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await polled(pilot, app)
        assert not app.screen.query_one("#summary").display
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert app.screen.query_one("#summary").display
        assert "primary db2a · HADR PEER" in app.screen.query_one("#summary").render().plain
        await pilot.resize_terminal(160, 50)
        await pilot.pause()
        assert app.screen.query_one("#topology").display


async def test_clicking_a_panel_shows_its_full_error_and_command_and_escape_closes():
    app, _ = make_app("host_unreachable")
    async with app.run_test(size=(160, 50)) as pilot:
        await polled(pilot, app)
        await pilot.click("#hadr-db2b")
        assert isinstance(app.screen, PanelDetailScreen)
        text = app.screen.query_one("#detail-text").render().plain
        assert fx.ssh_refused("10.99.0.12") in text  # the whole text the panel shortened
        assert "hadr:db2b  STALE" in text and "source    db2b" in text
        await pilot.press("escape")
        assert isinstance(app.screen, StatusScreen)


async def test_tab_then_enter_opens_a_panels_detail_from_the_keyboard():
    app, _ = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await polled(pilot, app)
        app.screen.query_one("#nodes", StatusPanel).focus()
        await pilot.press("enter")
        assert isinstance(app.screen, PanelDetailScreen)
        assert "Pacemaker nodes — lab-hadr" in app.screen.query_one("#detail-text").render().plain
        await pilot.press("minus")
        assert isinstance(app.screen, StatusScreen)


async def test_clicking_the_banner_lists_every_verdict_with_its_hint():
    app, _ = make_app("no_quorum")
    async with app.run_test(size=(80, 24)) as pilot:
        await polled(pilot, app)
        assert "more: click here for every verdict" in banner(app)
        await pilot.click("#banner")
        assert isinstance(app.screen, VerdictDetailScreen)
        text = app.screen.query_one("#detail-text").render().plain
        assert "CRITICAL: partition WITHOUT quorum (seen on db2b)" in text
        assert "→ start it on qnetd: `systemctl start corosync-qnetd`" in text
        assert "Errno 111" in text  # the full SSH error, shortened in the banner itself


async def test_space_ends_the_ssh_backoff_and_a_drill_ends_it_for_its_cluster():
    app, _ = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await polled(pilot, app)
        runner = app.context.runner
        await pilot.press("space")
        assert runner.backoff_resets == [None]  # every host: the user asked for fresh data now
        await pilot.press("R")
        await until(pilot, lambda: app.drills_done == 1, "restore drill")
        assert runner.backoff_resets[1:] == ["db2a", "db2b", "qnetd"]


def _screen_names() -> list[str]:
    screen_registry.load_screen_modules()
    return [e.names[-1] for e in screen_registry.entries() if e.alias != "help"]


@pytest.mark.parametrize("name", _screen_names())
async def test_every_screen_opens_by_an_alias_lists_its_keys_in_help_and_goes_back(name):
    entry = screen_registry.resolve(name)
    assert entry is not None and all(screen_registry.resolve(n) is entry for n in entry.names)
    app, _ = make_app("healthy", "east", "west") if entry.alias == "status" else make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        if entry.alias == "status":
            await pilot.press("enter")  # from the fleet into a cluster, so `:st` has a current cluster
        await polled(pilot, app, app.clusters[0].name)
        before = app.screen
        await pilot.press("colon", *name, "enter")
        if entry.alias == "status":  # already there: no second copy is stacked
            await pilot.pause()
            assert app.screen is before
        else:
            await until(pilot, lambda: app.screen is not before and app.screen.is_mounted, f":{name} opened")
        opened = app.screen
        # every key the screen declares (also those the footer leaves out, e.g. `s` subscribe on :alarms)
        # and every key the footer shows, with the key itself
        declared = declared_actions(opened)
        own = {
            (app.get_key_display(b.binding), b.binding.description)
            for b in opened.active_bindings.values()
            if b.enabled
            and b.binding.description
            and ((b.node is opened and b.binding.action in declared) or b.binding.show)
        }
        if entry.alias == "alarms":
            assert ("s", "Subscribe e-mail") in own
        # `?` typed into a focused text field is text (the failover opens on its confirmation): f1 there
        typing = isinstance(app.focused, Input)
        await pilot.press("f1" if typing else "question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "help opened")
        text = app.screen.query_one("#help-text").render().plain
        missing = [
            (key, what) for key, what in own if not any(key in ln and what in ln for ln in text.splitlines())
        ]
        assert missing == [], text
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is opened, "help closed")
        await pilot.press("escape")  # back where we came from (from a status screen: to the fleet)
        await until(pilot, lambda: app.screen is not opened, "went back")
        assert isinstance(app.screen, StatusScreen | FleetScreen)


async def test_fleet_puts_promoted_and_hadr_on_screen_at_80_columns():
    app, _ = make_app("healthy", "east", "west")
    async with app.run_test(size=(80, 24)) as pilot:
        await polled(pilot, app, "west")
        table = app.screen.query_one("#fleet-table")
        widths = {str(c.key.value): c.width for c in table.columns.values()}
        # Data age, Env and Mode gave way to the verdict
        assert list(widths) == ["Cluster", "Promoted", "HADR", "Alarms", "Verdict"]
        assert sum(w + 2 for w in widths.values()) + 2 <= 80  # the verdict is cut to fit, never pushed off
        row = table.get_row("east")
        assert [str(row[1]), str(row[2]), str(row[4])] == ["db2a", "PEER", "Healthy"]
        await pilot.resize_terminal(200, 24)
        await pilot.pause()
        assert isinstance(app.screen, FleetScreen)
        assert [str(c.key.value) for c in table.columns.values()] == list(COLUMNS)
        assert str(table.get_row("east")[COLUMNS.index("Verdict")]).startswith("Healthy: db2a is primary")


async def test_no_color_keeps_every_badge_and_state_in_words():
    os.environ["NO_COLOR"] = "1"
    try:
        app, _ = make_app("host_unreachable")
        async with app.run_test(size=(160, 50)) as pilot:
            await polled(pilot, app)
            await pilot.pause()
            assert app.no_color
            screen = app.screen
            topology = screen.query_one("#topology", StatusPanel).render().plain
            assert "HADR ✘" in topology and "DISCONNECTED" in topology and "unreachable" in topology
            hadr_b = screen.query_one("#hadr-db2b", StatusPanel)
            assert str(hadr_b.border_subtitle).startswith("STALE · ")
            assert "⚠ db2b unreachable" in hadr_b.render().plain
            assert banner(app).startswith(" CRITICAL ")
    finally:
        del os.environ["NO_COLOR"]


@pytest.mark.parametrize("query", ["guided fail", "takeover"])
async def test_palette_finds_guided_failover_by_its_name_or_an_alias_and_opens_it(query):
    from textual.command import CommandList, CommandPalette

    screen_registry.load_screen_modules()
    app, _ = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        await polled(pilot, app)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*query)
        hits = app.screen.query_one(CommandList)
        await until(pilot, lambda: hits.option_count > 0, "palette hits")
        prompt = str(hits.get_option_at_index(0).prompt)
        assert prompt.startswith("Guided failover") and "(:failover, :takeover, :switchover)" in prompt
        await pilot.press("down", "enter")
        await until(pilot, lambda: type(app.screen).__name__ == "FailoverScreen", "the failover screen")
