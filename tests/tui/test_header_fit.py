"""The header never loses a badge: a long environment label (a lab of Db2 12.1) is shortened instead.

At 120 columns the 12.1 lab's label pushed READ-WRITE and LAB off the right edge. What gives way first is
the environment label (with an ellipsis); the full label stays in the header's tooltip and the `?` help.
"""

from __future__ import annotations

import asyncio

import pytest
import tui_fixtures as fx

from lab.release import release
from screens.help import HelpScreen
from services.inventory.model import Inventory
from tui.app import Db2OpsApp
from tui.widgets.header import ConsoleHeader, header_content

# the label lab/runtime.py gives a lab of the release with the longest shape note
LONG_LABEL = f"lab ({release('12.1').shape_note})"
WIDTHS = [200, 120, 100, 80]


def test_the_long_label_is_the_one_that_did_not_fit():
    assert len(LONG_LABEL) > 100 and "properties assumed from 11.5.7" in LONG_LABEL


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("label", [LONG_LABEL, "lab"], ids=["12.1", "plain"])
def test_header_keeps_every_badge_and_shortens_the_label(width, label):
    cluster = fx.lab_cluster(environment=label)
    line = header_content("status", cluster, paused=False, interval=2.0, width=width).plain
    assert len(line) <= width
    for word in (" READ-WRITE ", " LAB ", "lab-hadr", "refresh 2s", "env lab"):
        assert word in line, (word, line)
    unlimited = header_content("status", cluster, paused=False, interval=2.0).plain
    if len(unlimited) <= width:
        assert line == unlimited  # room enough: nothing changes
    else:
        assert f"env {label}" not in line and "… " in line  # shortened, and says so


def test_read_only_paused_and_recording_stay_when_the_label_goes():
    cluster = fx.lab_cluster(lab=False, environment=LONG_LABEL)
    line = header_content(
        "timeline",
        cluster,
        True,
        2.0,
        extra="⚠ no log group",
        recording="recording paused: disk full",
        width=80,
    ).plain
    assert len(line) <= 80
    for word in (" READ-ONLY ", " PAUSED ", "[recording paused", "lab-hadr", "refresh 2s"):
        assert word in line, (word, line)


def test_what_gives_way_last():
    """Too narrow for all: the label goes, then the brand, the refresh hint, the crumbs, the cluster name;
    the badges stay whatever the width."""
    cluster = fx.lab_cluster(environment=LONG_LABEL)
    line = header_content("status", cluster, False, 2.0, recording="REC", width=50).plain
    assert "db2ops" not in line and "env" not in line
    assert "lab-hadr" in line and " READ-WRITE " in line and " LAB " in line and " REC " in line
    tiny = header_content("status", cluster, False, 2.0, recording="REC", width=10).plain
    assert " READ-WRITE " in tiny and " LAB " in tiny and " REC " in tiny  # longer than 10: badges never go


def test_replay_keeps_its_badge_and_time():
    cluster = fx.lab_cluster(environment=LONG_LABEL)
    line = header_content("status", cluster, False, 2.0, replay="2026-03-01 10:00:00 ▶ 1x", width=80).plain
    assert len(line) <= 80 and " REPLAY " in line and "10:00:00" in line and " LAB " in line


def _app(label: str) -> Db2OpsApp:
    source = fx.FakeStatusSource("healthy")
    inventory = Inventory((fx.lab_cluster(environment=label),), source="test")
    return Db2OpsApp(
        inventory, fx.settings(), status_source=source, runner=fx.FakeLabRunner(source), clock=lambda: fx.NOW
    )


def shown(header: ConsoleHeader) -> str:
    """The header's row as drawn (cropped to the terminal), not the Content it was given."""
    return "".join(segment.text for segment in header.render_line(0))


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("label", [LONG_LABEL, "lab"], ids=["12.1", "plain"])
async def test_the_drawn_header_shows_every_badge(width, label):
    app = _app(label)
    async with app.run_test(size=(width, 40)) as pilot:
        await asyncio.wait_for(app.poller.wait_polls("lab-hadr", 1), 10)
        await pilot.pause()
        header = app.screen.query_one(ConsoleHeader)
        row = shown(header)
        for word in ("READ-WRITE", " LAB ", "lab-hadr", "refresh 2s"):
            assert word in row, (word, row)
        cut = f"env {label} " not in row
        assert header.cut_environment == (label if cut else "")
        assert header.tooltip == (f"env {label}" if cut else None)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_text = str(app.screen.query_one("#help-text").render())
        assert (f"(shortened in the header): {label}." in help_text) == cut


async def test_the_header_refits_on_a_resize():
    app = _app(LONG_LABEL)
    async with app.run_test(size=(200, 40)) as pilot:
        await pilot.pause()
        header = app.screen.query_one(ConsoleHeader)
        assert f"env {LONG_LABEL}" in shown(header) and not header.cut_environment
        await pilot.resize_terminal(100, 40)
        await pilot.pause()
        assert "READ-WRITE" in shown(header) and header.cut_environment == LONG_LABEL
