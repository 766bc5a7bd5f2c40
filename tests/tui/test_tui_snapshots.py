"""SVG snapshots (pytest-textual-snapshot) of the console on fixed data, a fixed size and a frozen clock.

Update after a deliberate change with: pytest tests/tui/test_tui_snapshots.py --snapshot-update
"""

from __future__ import annotations

import asyncio

import pytest
import tui_fixtures as fx

from tui import screen_registry
from tui.app import Db2OpsApp

SIZE = (160, 50)


@pytest.fixture(autouse=True)
def _only_this_helpers_screens(monkeypatch):
    """The help snapshot lists `:` commands: keep just status/fleet/help so other screens' text can't move it."""
    import screens.fleet  # noqa: F401  (registers)
    import screens.help  # noqa: F401
    import screens.status  # noqa: F401

    mine = {k: v for k, v in screen_registry._ENTRIES.items() if k in ("status", "fleet", "help")}
    monkeypatch.setattr(screen_registry, "_ENTRIES", mine)
    monkeypatch.setattr(screen_registry, "load_screen_modules", lambda package="screens": [])


def app_for(scenario, *names, theme=None):
    source = fx.FakeStatusSource(scenario)
    settings = fx.settings(theme=theme) if theme else fx.settings()
    app = Db2OpsApp(
        fx.inventory(*names),
        settings,
        status_source=source,
        runner=fx.FakeLabRunner(source),
        clock=lambda: fx.NOW,
    )
    return app, source


def after_polls(app, names=("lab-hadr",), then=None):
    async def run_before(pilot):
        for name in names:
            await asyncio.wait_for(app.poller.wait_polls(name, 1), 10)
        app.poller.set_paused(True)  # no poll may land while the screenshot is taken (and no PAUSED badge)
        if then is not None:
            await then(pilot)
        await pilot.pause()

    return run_before


def test_snapshot_healthy_cluster(snap_compare):
    app, _ = app_for("healthy")
    assert snap_compare(app, terminal_size=SIZE, run_before=after_polls(app))


def failed_over(app, source, toast=True):
    async def fail_over(pilot):
        count = app.poller.polls["lab-hadr"]
        source.scenario = "after_failover"
        app.poller.refresh_now()
        await asyncio.wait_for(app.poller.wait_polls("lab-hadr", count + 1), 10)
        if not toast:
            app.clear_notifications()

    return after_polls(app, then=fail_over)


def test_snapshot_after_failover_with_event(snap_compare):
    app, source = app_for("healthy")
    assert snap_compare(app, terminal_size=SIZE, run_before=failed_over(app, source))


def test_snapshot_events_at_100x30(snap_compare):
    """The panels scroll (a scrollbar on their right): the events panel ends where they end (no toast over
    its right edge)."""
    app, source = app_for("healthy")
    assert snap_compare(app, terminal_size=(100, 30), run_before=failed_over(app, source, toast=False))


def test_snapshot_host_unreachable(snap_compare):
    app, _ = app_for("host_unreachable")
    assert snap_compare(app, terminal_size=SIZE, run_before=after_polls(app))


def test_snapshot_no_quorum(snap_compare):
    app, _ = app_for("no_quorum")
    assert snap_compare(app, terminal_size=SIZE, run_before=after_polls(app))


FLEET_OF_FIVE = {
    "prod-hadr": "healthy",
    "dr-hadr": "after_failover",
    "test-hadr": "host_unreachable",
    "dev-hadr": "no_quorum",
    "lab-hadr": "healthy",
}


def test_snapshot_fleet_of_five(snap_compare):
    """Worst first (the two critical ones by name), then the healthy ones by name."""
    app, source = app_for("healthy", *FLEET_OF_FIVE)
    source.scenario = dict(FLEET_OF_FIVE)
    assert snap_compare(app, terminal_size=(160, 20), run_before=after_polls(app, FLEET_OF_FIVE))


@pytest.mark.parametrize("size", [(100, 30), (80, 24)], ids=["100x30", "80x24"])
def test_snapshot_fleet_narrow(snap_compare, size):
    """Mode, Env and Data age give way to the verdict; an alarm in ALARM keeps its column; a healthy row
    after a takeover says it in a few words that fit."""
    scenarios = {**FLEET_OF_FIVE, "lab-hadr": "alarm_in_alarm", "dr-hadr": "taken_over"}
    app, source = app_for("healthy", *scenarios)
    source.scenario = scenarios
    assert snap_compare(app, terminal_size=size, run_before=after_polls(app, scenarios))


def test_snapshot_help_screen(snap_compare):
    app, _ = app_for("healthy")

    async def open_help(pilot):
        await pilot.press("question_mark")

    assert snap_compare(app, terminal_size=SIZE, run_before=after_polls(app, then=open_help))


def test_snapshot_light_theme(snap_compare):
    app, _ = app_for("host_unreachable", theme="db2ops-light")
    assert snap_compare(app, terminal_size=SIZE, run_before=after_polls(app))


def test_snapshot_small_terminal_80x24(snap_compare):
    """80x24: the banner, then one summary line (primary, HADR, what is down), then stacked panels."""
    app, _ = app_for("host_unreachable")
    assert snap_compare(app, terminal_size=(80, 24), run_before=after_polls(app))


# ---------------------------------------------------------------- incident moments and narrow terminals
# 160x48 (a large terminal), 100x30 and 80x24: the status screen must stay readable at each size, a dead
# host's panels must read as "last known" (never as a second primary), and live panels come first.
NARROW_SIZES = [(100, 30), (80, 24)]
SIZE_IDS = ["100x30", "80x24"]


@pytest.mark.parametrize("size", NARROW_SIZES, ids=SIZE_IDS)
def test_snapshot_healthy_narrow(snap_compare, size):
    app, _ = app_for("healthy")
    assert snap_compare(app, terminal_size=size, run_before=after_polls(app))


@pytest.mark.parametrize("size", [(160, 48), *NARROW_SIZES], ids=["160x48", *SIZE_IDS])
def test_snapshot_mid_failover(snap_compare, size):
    """db2a stopped answering 3 s ago; Pacemaker has not promoted db2b yet."""
    app, _ = app_for("mid_failover")
    assert snap_compare(app, terminal_size=size, run_before=after_polls(app))


@pytest.mark.parametrize("size", [(160, 48), *NARROW_SIZES], ids=["160x48", *SIZE_IDS])
def test_snapshot_after_failover_with_stale_host(snap_compare, size):
    """db2b promoted; db2a silent for 40 s: its panels say "last seen … (40 s ago)", come last, and its
    old PRIMARY/PEER and votes 3/3 stand struck under "last known"."""
    app, _ = app_for("failover_stale")
    assert snap_compare(app, terminal_size=size, run_before=after_polls(app))


def _recording_app(tmp_path, opener=None):
    from services.record.recorder import Recorder

    source = fx.FakeStatusSource("healthy")
    recorder = Recorder(tmp_path / "record.sqlite", **({"opener": opener} if opener else {}))
    app = Db2OpsApp(
        fx.inventory(),
        fx.settings(),
        status_source=source,
        runner=fx.FakeLabRunner(source),
        clock=lambda: fx.NOW,
        recorder=recorder,
    )
    return app, recorder


def test_snapshot_recording(snap_compare, tmp_path):
    """The header says REC while the console records (issue 13)."""
    app, recorder = _recording_app(tmp_path)
    assert snap_compare(app, terminal_size=SIZE, run_before=after_polls(app))
    assert recorder.frames >= 1 and recorder.paused_reason is None  # the snapshot reached the recording


def test_snapshot_recording_paused(snap_compare, tmp_path):
    """A recording that cannot be written shows why in the header; the live view goes on."""
    from services.record.store import RecordError

    def refused(path):
        raise RecordError("record.sqlite: cannot open the recording: attempt to write a readonly database")

    app, recorder = _recording_app(tmp_path, opener=refused)

    async def paused(pilot):
        while recorder.paused_reason is None:
            await asyncio.sleep(0.01)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=after_polls(app, then=paused))
    assert app.feed("lab-hadr").status is not None


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_snapshot_long_environment_label(snap_compare, size):
    """A lab of Db2 12.1 (the longest environment label): the label is shortened with an ellipsis, the
    READ-WRITE and LAB badges, the cluster and the refresh hint stay on the header line."""
    from lab.release import release
    from services.inventory.model import Inventory

    source = fx.FakeStatusSource("healthy")
    cluster = fx.lab_cluster(environment=f"lab ({release('12.1').shape_note})")
    app = Db2OpsApp(
        Inventory((cluster,), source="test"),
        fx.settings(),
        status_source=source,
        runner=fx.FakeLabRunner(source),
        clock=lambda: fx.NOW,
    )
    assert snap_compare(app, terminal_size=size, run_before=after_polls(app))
