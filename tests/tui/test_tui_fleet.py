"""Pilot tests of `:fleet`: worst cluster first (then by name), counted nouns, the alarms column, and columns
that give way to the verdict on 100- and 80-column terminals; and an alarm in ALARM on the status banner."""

from __future__ import annotations

import pytest
import tui_fixtures as fx
from test_tui_app import banner, header, make_app, polled, until

from screens.fleet import COLUMNS, MIN_VERDICT_WIDTH, VERDICT_WIDTH, FleetScreen, fleet_columns
from tui.widgets.banner import banner_text

# every severity once, names in another order than the severities
MIXED = {
    "alpha": "healthy",
    "bravo": "host_unreachable",  # critical
    "charlie": "alarm_in_alarm",  # warning
    "delta": "no_quorum",  # critical
    "echo": "after_failover",  # healthy
}


def rows(app) -> list[str]:
    table = app.screen.query_one("#fleet-table")
    return [str(row.key.value) for row in table.ordered_rows]


def cell(app, cluster: str, column: str) -> str:
    table = app.screen.query_one("#fleet-table")
    keys = [str(c.key.value) for c in table.columns.values()]
    return str(table.get_row(cluster)[keys.index(column)])


def shown_columns(app) -> dict[str, int]:
    table = app.screen.query_one("#fleet-table")
    return {str(c.key.value): c.width for c in table.columns.values()}


async def fleet_of(pilot, app, names) -> None:
    for name in names:
        await polled(pilot, app, name)
    await until(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet is shown")
    app.screen.refresh_view()
    await pilot.pause()


async def test_worst_first_then_by_name_and_the_cursor_follows_its_cluster():
    app, source = make_app(dict(MIXED), *MIXED)
    async with app.run_test(size=(160, 30)) as pilot:
        await fleet_of(pilot, app, MIXED)
        # the fixtures' severities, so the order below is not an accident of the scenario names
        severities = {n: banner_text(app.feed(n).status).severity.value for n in MIXED}
        assert severities == {
            "alpha": "ok",
            "bravo": "critical",
            "charlie": "warning",
            "delta": "critical",
            "echo": "ok",
        }
        assert rows(app) == ["bravo", "delta", "charlie", "alpha", "echo"]
        table = app.screen.query_one("#fleet-table")
        table.move_cursor(row=rows(app).index("echo"))
        # echo's host goes down: it moves up among the critical ones (by name), the cursor goes with it
        source.scenario = {**MIXED, "echo": "host_unreachable", "bravo": "healthy"}
        count = app.poller.polls["echo"]
        app.poller.refresh_now()
        await polled(pilot, app, "echo", count + 1)
        await polled(pilot, app, "bravo", count + 1)
        app.screen.refresh_view()
        await pilot.pause()
        assert rows(app) == ["delta", "echo", "charlie", "alpha", "bravo"]
        assert rows(app)[table.cursor_row] == "echo"


def test_the_help_says_worst_first():
    assert FleetScreen.HELP.startswith("One row per cluster, worst first")
    from tui import screen_registry

    entry = next(e for e in screen_registry.entries() if e.alias == "fleet")
    assert "worst first" in entry.description


@pytest.mark.parametrize(("names", "words"), [(("solo",), "1 cluster,"), (("a", "b", "c"), "3 clusters,")])
async def test_the_header_counts_clusters_in_proper_plurals(names, words):
    app, _ = make_app("healthy", *names)
    async with app.run_test(size=(160, 30)) as pilot:
        await polled(pilot, app, names[-1])
        if not isinstance(app.screen, FleetScreen):  # one cluster opens its status: go to the fleet
            app.run_command("fleet")
            await until(pilot, lambda: isinstance(app.screen, FleetScreen), "the fleet is shown")
        await pilot.pause()
        assert words in header(app)
        assert "1 clusters" not in header(app)


async def test_an_alarm_in_alarm_shows_in_its_column_and_verdict():
    app, _ = make_app({"calm": "healthy", "noisy": "alarm_in_alarm"}, "calm", "noisy")
    async with app.run_test(size=(200, 30)) as pilot:
        await fleet_of(pilot, app, ("calm", "noisy"))
        assert rows(app) == ["noisy", "calm"]
        assert cell(app, "noisy", "Alarms") == "1 ALARM"
        assert cell(app, "calm", "Alarms") == "—"  # the fake source reads no alarms for it
        verdict = cell(app, "noisy", "Verdict")
        # the row names the cluster: its alarm is named without "db2ops-noisy-"
        assert verdict == "WARNING: 1 alarm in ALARM: sensitive-table-access (for 2m)"


@pytest.mark.parametrize(("size", "kept"), [((100, 30), ("Alarms",)), ((80, 24), ("Alarms",))])
async def test_narrow_terminals_keep_the_verdict_wide_and_drop_the_minor_columns(size, kept):
    app, _ = make_app(dict(MIXED), *MIXED)
    async with app.run_test(size=size) as pilot:
        await fleet_of(pilot, app, MIXED)
        widths = shown_columns(app)
        assert list(widths) == ["Cluster", "Promoted", "HADR", *kept, "Verdict"]
        assert sum(w + 2 for w in widths.values()) + 2 <= size[0]  # nothing is pushed off screen
        assert widths["Verdict"] >= (VERDICT_WIDTH if size[0] >= 100 else MIN_VERDICT_WIDTH)
        # a long alarm name is cut inside, not dropped whole at the last word boundary
        assert cell(app, "charlie", "Verdict").startswith("WARNING: 1 alarm in ALARM: sensit")
        assert cell(app, "charlie", "Alarms") == "1 ALARM"
        await pilot.resize_terminal(160, 30)
        await pilot.pause()
        assert list(shown_columns(app)) == list(COLUMNS)


async def test_without_the_data_age_column_a_stale_row_says_stale_in_its_verdict():
    clock = [fx.NOW]
    app, _ = make_app("host_unreachable", "east", "west", clock=lambda: clock[0])
    async with app.run_test(size=(80, 24)) as pilot:
        await fleet_of(pilot, app, ("east", "west"))
        assert "Data age" not in shown_columns(app)
        assert not cell(app, "east", "Verdict").startswith("STALE")
        app.poller.set_paused(True)
        clock[0] += 125  # no poll for 2 minutes: the last snapshot is stale
        app.screen.refresh_view()
        await pilot.pause()
        assert cell(app, "east", "Verdict").startswith("STALE 2m06s · CRITICAL")


def test_fleet_columns_drop_in_order_and_give_the_rest_to_the_verdict():
    widths = {"Cluster": 9, "Promoted": 8, "HADR": 17, "Alarms": 7, "Data age": 11, "Env": 4, "Mode": 16}
    wide = fleet_columns(widths, 200)
    assert list(wide) == list(COLUMNS)
    assert wide["Verdict"] == 200 - sum(w + 2 for w in widths.values()) - 4  # every column but it, padded
    medium = fleet_columns(widths, 120)
    assert list(medium) == ["Cluster", "Promoted", "HADR", "Alarms", "Data age", "Verdict", "Env"]
    assert medium["Verdict"] >= VERDICT_WIDTH and medium["HADR"] == 17
    narrow = fleet_columns(widths, 80)
    assert list(narrow) == ["Cluster", "Promoted", "HADR", "Alarms", "Verdict"]
    assert narrow["HADR"] == 12 and narrow["Verdict"] == 80 - (11 + 10 + 14 + 9) - 4
    tiny = fleet_columns(widths, 66)
    assert list(tiny) == ["Cluster", "Promoted", "HADR", "Verdict"]  # Alarms went only when it had to
    assert tiny["Verdict"] >= MIN_VERDICT_WIDTH
    assert fleet_columns(widths, 30) == {"Cluster": 9, "Verdict": MIN_VERDICT_WIDTH}


async def test_the_status_banner_names_an_alarm_in_alarm_with_its_age():
    app, _ = make_app("alarm_in_alarm")
    async with app.run_test(size=(160, 50)) as pilot:
        await polled(pilot, app)
        text = banner(app)
        # an otherwise healthy cluster is degraded by its alarm, named with how long it has been in ALARM
        assert text.startswith(" WARNING   1 alarm in ALARM: db2ops-lab-hadr-sensitive-table-access (for 2m)")
        assert "see why on `:alarms`" in text
        assert "db2diag-error-severe" not in text  # that one is OK


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
async def test_a_healthy_row_after_a_takeover_fits_and_still_says_the_takeover(size):
    # the banner's "Healthy: db2b is primary since the takeover at … (10 min ago), HADR PEER, quorum with
    # qdevice" is too long for a fleet row: the row says the takeover in fewer words (Promoted and HADR
    # have their own columns), never longer than its column
    names = ("taken", "alpha", "charlie")
    app, _ = make_app({"taken": "taken_over", "alpha": "healthy", "charlie": "alarm_in_alarm"}, *names)
    async with app.run_test(size=size) as pilot:
        await fleet_of(pilot, app, names)
        width = shown_columns(app)["Verdict"]
        verdict = cell(app, "taken", "Verdict")
        assert verdict.startswith("Healthy: takeover at ") and len(verdict) <= width
        for name in names:
            assert len(cell(app, name, "Verdict")) <= width
        if size[0] >= 100:
            assert verdict.endswith("(10 min ago)")
