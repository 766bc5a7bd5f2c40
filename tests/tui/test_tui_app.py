"""Pilot tests of the console with a fake status source: keys, refresh, pause, drills, stale panels."""

from __future__ import annotations

import asyncio

import tui_fixtures as fx

from screens.command_prompt import CommandPrompt
from screens.fleet import FleetScreen
from screens.help import HelpScreen
from screens.status import StatusScreen
from services.settings import load_settings
from tui.app import Db2OpsApp
from tui.widgets.banner import VerdictBanner
from tui.widgets.events_log import EventsLog
from tui.widgets.header import ConsoleHeader
from tui.widgets.status_panel import StatusPanel

SIZE = (160, 50)


def make_app(scenario="healthy", *names, lab=True, clock=None, **kw):
    source = fx.FakeStatusSource(scenario)
    app = Db2OpsApp(
        fx.inventory(*names, lab=lab),
        fx.settings(),
        status_source=source,
        runner=fx.FakeLabRunner(source),
        clock=clock or (lambda: fx.NOW),
        **kw,
    )
    return app, source


async def polled(pilot, app, name="lab-hadr", count=1):
    """Wait until `count` polls of `name` finished and the screens processed them."""
    await asyncio.wait_for(app.poller.wait_polls(name, count), 10)
    await pilot.pause()


async def until(pilot, condition, what="condition"):
    """Let the app run until `condition()` holds (a hang guard, not a timing assertion)."""
    for _ in range(500):
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(f"never happened: {what}")


async def settings_written(app):
    for worker in [w for w in app.workers if w.group == "settings"]:
        await worker.wait()


def banner(app) -> str:
    return app.screen.query_one(VerdictBanner).render().plain


def header(app) -> str:
    return app.screen.query_one(ConsoleHeader).render().plain


async def test_help_lists_this_screens_keys_and_closes_with_escape():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.query_one("#help-text").render().plain
        assert "Kill primary" in text and "Restore lab" in text and ":fleet" in text and "Pause" in text
        await pilot.press("escape")
        assert isinstance(app.screen, StatusScreen)


async def test_drill_keys_are_hidden_and_inert_on_a_real_cluster():
    app, source = make_app(lab=False)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        await pilot.press("K")
        await pilot.pause()
        assert app.drills_done == 0 and app.context.runner.commands == []
        assert "READ-ONLY" in header(app) and "LAB" not in header(app)
        await pilot.press("question_mark")
        assert "Kill primary" not in app.screen.query_one("#help-text").render().plain


async def test_colon_opens_the_prompt_and_fleet_then_minus_goes_back():
    app, _ = make_app("healthy", "east", "west")
    async with app.run_test(size=SIZE) as pilot:
        assert isinstance(app.screen, FleetScreen)
        await pilot.press("enter")  # opens the cluster under the cursor
        assert isinstance(app.screen, StatusScreen) and app.screen.cluster.name == "east"
        await pilot.press("colon")
        assert isinstance(app.screen, CommandPrompt)
        await pilot.press(*"fleet", "enter")
        assert isinstance(app.screen, FleetScreen) and len(app.screen_stack) == 2  # went back, no copy
        await pilot.press("colon", *"status west", "enter")
        assert app.screen.cluster.name == "west"
        await pilot.press("minus")
        assert isinstance(app.screen, FleetScreen)
        await pilot.press("minus")  # the home screen stays
        assert isinstance(app.screen, FleetScreen)


async def test_unknown_command_lists_the_known_ones():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"bogus", "enter")
        messages = [n.message for n in app._notifications]
        assert any(
            m.startswith("unknown command :bogus. Known: ") and ":fleet" in m and ":q" in m for m in messages
        )


async def test_space_polls_now_and_p_pauses_with_a_badge():
    app, source = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        await pilot.press("p")
        assert app.poller.paused and "PAUSED" in header(app)
        count = app.poller.polls["lab-hadr"]
        await asyncio.sleep(0.1)  # far longer than needed for a poll: none may start while paused
        assert app.poller.polls["lab-hadr"] == count
        await pilot.press("space")
        await polled(pilot, app, count=count + 1)
        await pilot.press("p")
        assert not app.poller.paused and "PAUSED" not in header(app)


async def test_a_slow_source_is_never_polled_twice_at_once():
    app, source = make_app()
    source.gate = asyncio.Event()
    async with app.run_test(size=SIZE) as pilot:
        app.set_refresh_interval(0.5)
        for _ in range(10):
            await pilot.press("space")
        assert source.in_flight == 1
        source.gate.set()
        await polled(pilot, app, count=3)
        assert source.max_in_flight == 1


async def test_kill_primary_drill_changes_banner_and_promoted_node_within_one_refresh():
    app, source = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        assert "db2a is primary" in banner(app)
        await pilot.press("p")  # no scheduled polls: the only poll is the one the drill triggers
        before = app.poller.polls["lab-hadr"]
        await pilot.press("K")
        await until(pilot, lambda: app.drills_done == 1, "drill finished")
        await polled(pilot, app, count=before + 1)
        await pilot.pause()
        assert app.context.runner.commands == [("qnetd", ("db2ops-lab", "kill-primary"))]
        assert app.poller.polls["lab-hadr"] == before + 1
        assert "Healthy: db2b is primary" in banner(app)
        topology = app.screen.query_one("#topology", StatusPanel).render().plain
        assert "║ db2b ★" in topology and "online promoted" in topology
        events = app.screen.query_one(EventsLog).query_one("#events-body").render().plain
        assert "promoted node changed: db2a -> db2b" in events
        assert any("promoted node changed" in n.message for n in app._notifications)


async def test_unreachable_host_greys_its_panels_and_keeps_last_values():
    app, _ = make_app("host_unreachable")
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        await pilot.pause()
        screen = app.screen
        stale = {p.id for p in screen.query(StatusPanel) if p.has_class("-stale")}
        assert {"hadr-db2b", "quorum-db2b"} <= stale
        assert "hadr-db2a" not in stale and "nodes" not in stale
        hadr_b = screen.query_one("#hadr-db2b", StatusPanel)
        plain = hadr_b.render().plain
        # the short form in the panel, the full text one click away
        assert plain.startswith("⚠ db2b unreachable: connection refused\nlast seen 14:58:36 (31 s ago)\n")
        assert "last known values, not live:\nrole     STANDBY" in plain
        assert "Errno 111" not in plain
        # fetched 30 s before T0; now is T0 + 1.5
        assert str(hadr_b.border_subtitle).startswith("STALE · db2b 31s")
        # Pacemaker reports db2b offline: the banner says the cause (issue 9), not "unreachable"
        assert banner(app).startswith(" CRITICAL   db2b is down (host down / instance stopped)")


async def test_old_data_turns_every_panel_stale_after_three_intervals():
    now = [fx.NOW]
    app, source = make_app(clock=lambda: now[0])
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        await pilot.press("p")
        now[0] = fx.T0 + 3 * app.refresh_interval + 1
        app.screen.refresh_view()
        panels = list(app.screen.query(StatusPanel))
        assert panels and all(p.has_class("-stale") for p in panels)
        assert "PRIMARY" in app.screen.query_one("#hadr-db2a", StatusPanel).render().plain


async def test_theme_key_cycles_and_is_remembered(tmp_path):
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "db2ops-dark"
        await pilot.press("t")
        assert app.theme == "db2ops-light"
        await pilot.press("t")
        assert app.theme == "db2ops-high-contrast"
        await settings_written(app)
    assert load_settings().theme == "db2ops-high-contrast"


async def test_refresh_interval_keys_step_and_are_saved():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("right_square_bracket")
        assert app.refresh_interval == 5.0 and app.poller.interval == 5.0 and "refresh 5s" in header(app)
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert app.refresh_interval == 1.0
        await settings_written(app)
    assert load_settings().refresh_interval_s == 1.0


async def test_palette_lists_screens_themes_and_lab_drills():
    from tui.commands import console_commands

    app, _ = make_app()
    async with app.run_test(size=SIZE):
        titles = [c.title for c in console_commands(app)]
    for title in (
        "Fleet",
        "Cluster status",
        "Theme: db2ops-light",
        "Lab drill: Kill the primary node",
        "Pause refresh",
        "Quit",
    ):
        assert title in titles


async def test_a_registered_screen_opens_from_command_mode():
    from textual.screen import Screen
    from textual.widgets import Static

    from tui import screen_registry

    class LogsStub(Screen):
        def compose(self):
            yield Static("logs here")

    screen_registry.register_screen("zzlogs", lambda app: LogsStub(name="zzlogs"), "stub", aliases=("zzl",))
    try:
        app, _ = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("colon", *"zzl", "enter")
            assert isinstance(app.screen, LogsStub)
            await pilot.press("escape")
            assert isinstance(app.screen, StatusScreen)
    finally:
        screen_registry.unregister_screen("zzlogs")


async def test_lab_clusters_arrive_after_the_first_frame():
    class FakeLab:
        def __init__(self):
            self.inventory = None
            self.stopped = False

        async def start(self):
            self.inventory = fx.inventory()

        async def stop(self):
            self.stopped = True

    from services.inventory.model import Inventory

    lab = FakeLab()
    source = fx.FakeStatusSource("healthy")
    app = Db2OpsApp(Inventory(), fx.settings(), status_source=source, lab=lab, clock=lambda: fx.NOW)
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        await pilot.pause()
        assert isinstance(app.screen, StatusScreen) and app.screen.cluster.name == "lab-hadr"
    assert lab.stopped


async def test_no_color_keeps_the_words():
    import os

    os.environ["NO_COLOR"] = "1"
    try:
        app, _ = make_app("no_quorum", lab=False)
        async with app.run_test(size=SIZE) as pilot:
            await polled(pilot, app)
            await pilot.pause()
            assert app.no_color
            assert "READ-ONLY" in header(app) and "CRITICAL" in banner(app)
    finally:
        del os.environ["NO_COLOR"]


async def test_colon_q_typed_in_one_burst_quits():
    from textual import events

    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        # no pause between the keys: they arrive before the prompt has even mounted
        for key, char in (("colon", ":"), ("q", "q"), ("enter", "\r")):
            app.post_message(events.Key(key, char))
        await until(pilot, lambda: app.return_code is not None, "the app quit")
    assert app.return_code == 0


async def test_a_colon_typed_into_a_text_field_is_text():
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("colon", *"st", "colon")
        assert isinstance(app.screen, CommandPrompt)
        assert app.screen.query_one("#command-input").value == "st:"


async def test_clicking_a_fleet_row_twice_opens_that_cluster():
    app, _ = make_app("healthy", "east", "west")
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app, "west")
        await pilot.click("#fleet-table", offset=(3, 2))  # header is row 0; "west" is the second data row
        assert isinstance(app.screen, FleetScreen)  # the first click only moves the cursor there
        assert app.screen.query_one("#fleet-table").cursor_row == 1
        await pilot.click("#fleet-table", offset=(3, 2))
        await pilot.pause()
        assert isinstance(app.screen, StatusScreen) and app.screen.cluster.name == "west"


async def test_ctrl_p_palette_finds_a_lab_drill_and_runs_it():
    from textual.command import CommandList, CommandPalette

    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        await pilot.press("ctrl+p")
        assert isinstance(app.screen, CommandPalette)
        await pilot.press(*"kill primary")
        hits = app.screen.query_one(CommandList)
        await until(pilot, lambda: hits.option_count > 0, "palette hits")
        assert "Lab drill: Kill the primary node" in str(hits.get_option_at_index(0).prompt)
        await pilot.press("down", "enter")
        await until(pilot, lambda: app.drills_done == 1, "drill from the palette")
    assert app.context.runner.commands == [("qnetd", ("db2ops-lab", "kill-primary"))]


async def test_since_last_failover_comes_from_the_polled_hadr_takeover_time(monkeypatch):
    # db2pd's LAST_TAKEOVER_TIME is on each HADR stream, not on the HadrStatus; reading it off the status
    # raised AttributeError, which was swallowed, so "since last failover" only ever came from the log.
    from dataclasses import replace
    from datetime import UTC, datetime

    from screens.logs import LogsScreen

    takeover = fx.T0 - 600

    def taken_over(cluster, t):
        status = fx.after_failover(cluster, t)
        part = status.hadr["db2b"]
        stream = replace(part.value.streams[0], last_takeover_time=takeover)
        hadr = {**status.hadr, "db2b": replace(part, value=replace(part.value, streams=(stream,)))}
        return replace(status, hadr=hadr)

    monkeypatch.setitem(fx.SCENARIOS, "taken_over", taken_over)
    app, _ = make_app("taken_over")
    async with app.run_test(size=SIZE) as pilot:
        await polled(pilot, app)
        screen = LogsScreen(app.inventory.cluster("lab-hadr"), start_tail=False)
        await app.push_screen(screen)
        await pilot.pause()
        assert not screen.view.store.entries  # nothing in the log: the time can only come from HADR
        assert screen.last_failover() == datetime.fromtimestamp(takeover, UTC)
