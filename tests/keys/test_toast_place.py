"""Toasts never cover an input the DBA types in, nor the header and verdict banner."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent.parent
sys.path[:0] = [str(HERE / "tui"), str(HERE / "logs_screen"), str(HERE)]

from failover.helpers import in_process  # noqa: E402
from failover.test_failover_in_console import LabSource  # noqa: E402
from logscreen_data import FakeLogsService, diag_entries  # noqa: E402
from test_tui_app import make_app, polled  # noqa: E402
from textual.geometry import Region  # noqa: E402
from textual.widgets import Input  # noqa: E402
from textual.widgets._toast import ToastRack  # noqa: E402

from screens.logs import LogsScreen  # noqa: E402
from services.inventory.model import Inventory  # noqa: E402
from services.settings import Settings  # noqa: E402
from tui.app import Db2OpsApp  # noqa: E402
from tui.toast_place import free_band  # noqa: E402
from tui.widgets.banner import VerdictBanner  # noqa: E402


@pytest.mark.parametrize(
    ("blocked", "band"),
    [
        ([], (1, 44)),  # 48 rows, banner ends at row 3: rows 3..47, the footer's row left free
        ([(44, 47)], (4, 41)),  # an input just above the footer: the rack sits above it
        ([(44, 47), (5, 8)], (4, 36)),  # the lowest band that fits, below the banner
        ([(3, 47)], (1, 0)),  # no free row at all: nothing is shown over the input
        ([(3, 45)], (1, 2)),  # only a 2-row band: the tallest there is
    ],
)
def test_free_band(blocked, band):
    assert free_band(48, 3, blocked) == band


def overlaps(a, b) -> bool:
    return a.x < b.right and b.x < a.right and a.y < b.bottom and b.y < a.bottom


def rack_of(app) -> ToastRack:
    return app.screen.get_child_by_type(ToastRack)


async def toasts(pilot, app):
    await pilot.pause(0.1)
    await pilot.pause()
    # the toasts on screen: the rack (an invisible container, docked at the bottom) shows the rows between
    # its margin and its max height, and scrolls the rest
    rack = rack_of(app)
    width, height = app.screen.size
    rows = rack.styles.max_height.value if rack.styles.max_height is not None else height
    bottom = height - rack.styles.margin.bottom
    area = Region(0, int(bottom - rows), width, int(rows))
    return [t.region.intersection(area) for h in rack.children for t in h.children if t.region.area]


async def test_toasts_stay_off_the_failover_confirmation(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    lab, cluster, runner = in_process()
    app = Db2OpsApp(
        Inventory(clusters=(cluster,)),
        Settings(),
        status_source=LabSource(runner),
        runner=runner,
        toasts=False,
        settings_path=tmp_path / "settings.toml",
    )
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await pilot.pause()
        app.run_command("failover")
        await pilot.pause()
        fields = [f.region for f in app.screen.query(Input) if f.region.area]
        assert fields
        for i in range(3):
            app.notify(f"toast {i}: something happened\nover two lines", timeout=30)
        shown = await toasts(pilot, app)
        assert any(t.area for t in shown)
        assert not any(overlaps(t, f) for t in shown for f in fields)
        # the log screen's filter prompt, docked at the bottom over the whole width
        await app.push_screen(LogsScreen(cluster, FakeLogsService(), start_tail=False))
        await pilot.pause()
        app.screen.view.add_entries(diag_entries())
        await pilot.press("slash")
        app.notify("filter: something to say", timeout=30)
        await pilot.pause(0.6)  # the placement follows inputs that appear while a toast is up
        prompt = app.screen.query_one("#logs-prompt", Input).region
        shown = await toasts(pilot, app)
        assert prompt.area and any(t.area for t in shown)
        assert not any(overlaps(t, prompt) for t in shown)


async def test_a_stack_of_toasts_never_reaches_the_banner():
    app, _ = make_app()
    async with app.run_test(size=(160, 48), notifications=True) as pilot:
        await polled(pilot, app)
        for i in range(12):
            app.notify(f"event {i}\nline two\nline three", timeout=30)
        shown = await toasts(pilot, app)
        banner = app.screen.query_one(VerdictBanner).region
        assert any(t.area for t in shown) and all(t.y >= banner.bottom for t in shown if t.area)
        assert all(t.bottom <= 47 for t in shown if t.area)  # the footer row stays visible
        assert rack_of(app).styles.max_height.value == 47 - banner.bottom  # scrolls past that
