"""The replay console on a recorded K/R drill: the same status screen at the recorded time (ages against
it, not the wall clock), stepping change by change, play at 10×, jumping to a time, and no action that
changes anything reachable by key, footer, help, `:` or the palette."""

from __future__ import annotations

import pytest
from replay_recording import Drill, open_replay_logs, record_drill
from textual.widgets import Input

from services.record.replay_feed import ReplayFeeder, cluster_from_status, resolve_start
from services.settings import Settings
from tui.replay import REPLAY_ACTIONS, ReplayApp, ReplayFleetScreen, ReplayStatusScreen
from tui.widgets.banner import VerdictBanner
from tui.widgets.events_log import EventsLog
from tui.widgets.header import ConsoleHeader
from tui.widgets.scrubber import ReplayScrubber

SIZE = (160, 50)


@pytest.fixture
async def drill(monkeypatch) -> Drill:
    return await record_drill(monkeypatch)


def replay_app(drill: Drill, at: float | None = None, clusters=("lab1",)) -> ReplayApp:
    start = resolve_start(drill.recording, cluster=clusters[0] if len(clusters) == 1 else None)
    if at is not None:
        start = type(start)(start.clusters, at, start.cluster)
    status = drill.recording.status_at("lab1", drill.frames[-1].taken_at)
    assert status is not None
    return ReplayApp(
        drill.recording,
        start,
        (cluster_from_status(status),),
        settings=Settings(),
        source="test recording",
        wall_clock=lambda: 0.0,  # the tests move the clock (replay_tick), never the wall time under load
    )


def banner(app: ReplayApp) -> str:
    return app.screen.query_one(VerdictBanner).render().plain


def header(app: ReplayApp) -> str:
    return app.screen.query_one(ConsoleHeader).render().plain


async def test_between_kill_and_takeover_the_failover_is_in_progress_then_db2b_is_primary(drill) -> None:
    app = replay_app(drill, at=drill.during_at + 0.4)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ReplayStatusScreen)
        text = banner(app)
        assert "failover in progress: Pacemaker is promoting db2b" in text
        # ages are against the recorded time: the promotion started 2 s before it, not days before now
        assert "started 2 s ago" in text
        assert "REPLAY" in header(app) and "2026-11-30 00:53:27 UTC" in header(app)
        assert "READ-WRITE" not in header(app) and "refresh" not in header(app)
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert app.now() == drill.took_over_at
        assert "db2b took over as HADR primary" in banner(app)
        events = app.screen.query_one(EventsLog).border_title
        assert str(events) == "Events (8)"  # the recorded events up to the takeover, not after
        # nothing reached a host or AWS: no SSH pool, no status service was built, nothing polled
        assert app.context.pool is None and app.context.status_source is None
        assert app.poller.polls == {}


async def test_stepping_visits_every_change_and_back(drill) -> None:
    changes = drill.recording.change_times("lab1")
    app = replay_app(drill, at=changes[0])
    async with app.run_test(size=SIZE) as pilot:
        seen = [app.now()]
        for _ in range(len(changes) + 1):  # one press more than there are changes: it stays at the last
            await pilot.press("right_square_bracket")
            await pilot.pause()
            if app.now() != seen[-1]:
                seen.append(app.now())
        assert seen == changes
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert app.now() == changes[-2]
        assert "change 5/6" in app.screen.query_one(ReplayScrubber).render().plain


async def test_play_at_10x_advances_the_recorded_clock(drill) -> None:
    app = replay_app(drill, at=drill.frames[0].taken_at, clusters=("lab1",))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("greater_than_sign")  # 10×
        await pilot.press("p")
        await pilot.pause()
        assert app.replay_clock.playing and app.replay_clock.speed == 10
        assert "▶ 10×" in header(app)
        before = app.now()
        app.replay_tick(0.65)  # as the interval timer does with the wall time that passed
        await pilot.pause()
        assert app.now() == pytest.approx(before + 6.5)
        assert "failover in progress" in banner(app)  # 6.5 s in: the first frame after the kill
        await pilot.press("p")
        app.replay_tick(5)
        assert app.now() == pytest.approx(before + 6.5)  # paused: the clock stays


async def test_jump_to_a_time_and_refuse_one_outside_the_span(drill) -> None:
    app = replay_app(drill)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("g")
        await pilot.pause()
        field = app.screen.query_one(Input)
        assert field.value == "at "
        field.insert_text_at_cursor("00:53:36")
        await pilot.press("enter")
        await pilot.pause()
        assert app.now() == drill.took_over_at
        app.run_command("at -9s")
        assert app.now() == drill.took_over_at - 9
        app.run_command("at 2026-12-06 03:12")
        await pilot.pause()
        assert app.now() == drill.took_over_at - 9
        assert any("outside the recording" in n.message for n in app._notifications)
        app.run_command("at soon")
        await pilot.pause()
        assert any("cannot read the time 'soon'" in n.message for n in app._notifications)


def _walk_actions(app: ReplayApp) -> set[str]:
    from screens.help import screen_keys

    shown = {b.binding.action for b in app.screen.active_bindings.values()}
    return shown | {k.description for k in screen_keys(app.screen)}


WRITE_WORDS = (
    "drill",
    "kill",
    "restore",
    "mute",
    "edit",
    "subscribe",
    "failover",
    "setup",
    "apply",
    "export",
    "collect",
    "refresh",
    "toggle_pause",
    "slower",
    "faster",
    "delete",
    "fire",
)


async def test_no_action_that_changes_anything_is_reachable(drill) -> None:
    from screens.help import HelpScreen
    from tui.replay_commands import replay_commands

    app = replay_app(drill)
    async with app.run_test(size=SIZE) as pilot:
        for opened in ("status", "timeline", "logs", "alarms", "fleet"):
            app.run_command(opened)
            await pilot.pause()
            for binding in app.screen.active_bindings.values():
                node_action = binding.binding.action.split("(")[0].removeprefix("app.")
                assert not any(w in node_action.lower() for w in WRITE_WORDS), (opened, node_action)
            for action in _walk_actions(app):
                assert not any(w in action.lower() for w in WRITE_WORDS), (opened, action)
        # the drill keys of the live status screen do nothing here
        app.run_command("status")
        await pilot.pause()
        for key in ("K", "R", "D", "N", "space"):
            await pilot.press(key)
        await pilot.pause()
        assert app.drills_done == 0
        # `:` lists only replay's commands; a live screen's is refused with the list
        names = {n for e in app.command_entries() for n in e.names}
        assert names >= {"at", "fleet", "status", "timeline", "help"}
        assert not names & {"failover", "setup", "journal", "check", "wizard", "monitoring"}
        app.run_command("failover")
        await pilot.pause()
        assert any("not in replay: :failover" in n.message for n in app._notifications)
        assert not any(w in c.title.lower() for c in replay_commands(app) for w in WRITE_WORDS)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = str(app.screen.query_one("#help-text").render())
        assert "Help: status (replay)" in text
        assert "Next change" in text and ":at, :goto" in text
        assert not any(w in text.lower() for w in ("kill primary", ":failover", ":setup", "refresh every"))
    # and every app-level action of the replay is one it allows
    assert {b.action.split("(")[0] for b in ReplayApp.BINDINGS} <= REPLAY_ACTIONS


async def test_a_live_screen_that_slips_into_replay_loses_its_write_keys(drill) -> None:
    """The gate, not just the replay's own screens: the live status screen of a lab cluster (K, R, D, N
    drills) pushed into the replay shows none of them, and its K does nothing."""
    from dataclasses import replace

    from screens.status import StatusScreen

    app = replay_app(drill)
    async with app.run_test(size=SIZE) as pilot:
        live = StatusScreen(replace(app.clusters[0], lab=True))
        assert any(b.action.startswith("drill") for b in live.BINDINGS)
        app.push_screen(live)
        await pilot.pause()
        actions = {b.binding.action for b in app.screen.active_bindings.values()}
        assert not any(a.startswith("drill") for a in actions)
        assert "next change" in {b.binding.description.lower() for b in app.screen.active_bindings.values()}
        await pilot.press("K")
        await pilot.pause()
        assert app.drills_done == 0 and not list(app.workers)  # no drill worker started


async def test_the_fleet_opens_on_many_clusters_and_steps_over_all(drill) -> None:
    from dataclasses import replace

    from services.record.model import Frame

    for f in drill.frames[:3]:  # a second, steady cluster
        drill.recording.add_frame(Frame(f.taken_at, replace(f, cluster="lab2")))
    start = resolve_start(drill.recording)
    assert start.clusters == ("lab1", "lab2") and start.cluster is None
    clusters = tuple(
        cluster_from_status(drill.recording.status_at(n, start.at))
        for n in start.clusters  # type: ignore[arg-type]
    )
    app = ReplayApp(drill.recording, start, clusters, settings=Settings())
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, ReplayFleetScreen)
        assert ReplayFeeder(drill.recording, start.clusters).change_times() == drill.recording.change_times(
            "lab1"
        )
        assert app.focus_cluster() is None  # the fleet steps through every cluster's changes
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ReplayStatusScreen)
        assert app.focus_cluster() == app.screen.cluster.name


async def test_logs_and_alarms_show_what_was_recorded_by_the_replay_time(drill) -> None:
    from tui.replay_screens import ReplayAlarmsScreen, ReplayLogsScreen

    app = replay_app(drill, at=drill.during_at)
    async with app.run_test(size=SIZE) as pilot:
        await open_replay_logs(app, pilot)
        assert isinstance(app.screen, ReplayLogsScreen)
        assert len(app.screen.view.store) == 0  # the takeover's record is later
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert [e.summary for e in app.screen.view.store.entries] == [
            "db2hadrp.0.1 hdrSetHdrRoleToPrimary: CHANGE HADR role set to Primary"
        ]
        app.run_command("alarms")
        await pilot.pause()
        assert isinstance(app.screen, ReplayAlarmsScreen)
        changes = str(app.screen.query_one("#alarm-changes").render())
        assert "Recorded alarm changes (0)" in changes  # the alarm fired 2 s after the takeover
        app.run_command("at +2s")
        await pilot.pause()
        changes = str(app.screen.query_one("#alarm-changes").render())
        assert "db2ops-lab1-hadr-role: OK → ALARM" in changes
        app.run_command("timeline")
        await pilot.pause()
        titles = [e.title for e in app.screen.shown]  # type: ignore[attr-defined]
        assert "alarm db2ops-lab1-hadr-role: OK → ALARM" in titles
        assert any("HADR role set to Primary" in t for t in titles)


async def test_the_replay_timeline_lists_the_incidents_and_i_goes_to_one(drill) -> None:
    app = replay_app(drill, at=drill.frames[-1].taken_at)
    async with app.run_test(size=SIZE) as pilot:
        app.run_command("timeline")
        for _ in range(20):  # the incident list is read in a worker thread
            await pilot.pause()
            if "#1" in str(app.screen.query_one("#tl-incidents").render()):
                break
        panel = str(app.screen.query_one("#tl-incidents").render())
        assert "#1 " in panel and "bundle" not in panel
        await pilot.press("i")
        await pilot.pause()
        assert app.now() == drill.killed_at
        keys = {b.binding.key for b in app.screen.active_bindings.values()}
        assert "i" in keys and "b" not in keys and "e" not in keys  # no bundle, no export in replay


async def test_the_replay_timeline_draws_the_failover_strip_of_its_time(drill) -> None:
    """As on the live timeline: the strip of the latest failover up to the replay's time, none before it,
    and it follows the time when the replay moves back."""
    from textual.widgets import Static

    app = replay_app(drill, at=drill.frames[-1].taken_at)
    async with app.run_test(size=SIZE) as pilot:
        app.run_command("timeline")
        await pilot.pause()
        strip = app.screen.query_one("#tl-strip", Static)
        text = str(strip.render())
        assert strip.display and "db2a lost" in text and "db2b promoted" in text
        app.move_to(drill.frames[0].taken_at)  # before the kill: the timeline on screen redraws
        await pilot.pause()
        assert not strip.display
        app.move_to(drill.frames[-1].taken_at)
        await pilot.pause()
        assert strip.display and "db2b promoted" in str(strip.render())


async def test_a_bundle_of_the_drill_replays_with_the_same_screens(drill, tmp_path) -> None:
    """write_bundle (rec-bundle) then `replay --bundle`: the same takeover, at the same recorded time."""
    from services.record.bundle import write_bundle
    from services.record.replay_feed import open_reader

    out = tmp_path / "drill.tar.gz"
    write_bundle(drill.recording, "lab1", since=drill.frames[0].taken_at, out=out, journal_dir=tmp_path)
    opened = open_reader(bundle=out)
    start = resolve_start(opened.reader, cluster="lab1", at="00:53:36", where=opened.name)
    assert start.at == drill.took_over_at
    status = opened.reader.status_at("lab1", start.at)
    assert status is not None
    app = ReplayApp(
        opened.reader, start, (cluster_from_status(status),), settings=Settings(), source=opened.name
    )
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert "db2b took over as HADR primary" in banner(app)
        assert "bundle drill.tar.gz" in header(app)
