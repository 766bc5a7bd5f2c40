"""The typed Insights range is what the query runs over. Two ways it was lost ("no time range given"):
a paste starting with a line break (Textual's Input keeps the first line, which was empty, over the
selected range) and a field emptied before Run (its placeholder looked like a value)."""

from __future__ import annotations

import asyncio
import sys
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "logs_screen"))

from logscreen_data import FakeLogsService, LogsApp, diag_entries  # noqa: E402
from textual import events  # noqa: E402
from textual.widgets import Input  # noqa: E402


async def opened(pilot):
    await pilot.pause()
    screen = pilot.app.screen
    screen.view.add_entries(diag_entries())
    await pilot.press("i")
    await pilot.pause()
    return screen, screen.query_one("#insights-range", Input)


async def ran(pilot, screen) -> str:
    for _ in range(100):
        await asyncio.sleep(0.01)
        await pilot.pause()
        status = str(screen.query_one("#insights-status").render())
        if "Complete" in status or "range" in status:
            return status
    return str(screen.query_one("#insights-status").render())


async def test_a_pasted_range_starting_with_a_line_break_is_kept():
    service = FakeLogsService()
    async with LogsApp(service).run_test(size=(160, 40)) as pilot:
        screen, rng = await opened(pilot)
        assert pilot.app.focused is rng and rng.selection == (0, 2)  # "1h" selected, as after `i`
        rng.post_message(events.Paste("\n2h\n"))
        await pilot.pause()
        assert rng.value == "2h"
        await pilot.press("enter")
        status = await ran(pilot, screen)
        assert "no time range given" not in status and "last 2h" in status
        _, time_range, _ = service.calls[-1]
        assert time_range.end - time_range.start == timedelta(hours=2)


async def test_an_emptied_range_runs_over_the_last_range_asked_for_and_shows_it():
    service = FakeLogsService()
    async with LogsApp(service).run_test(size=(160, 40)) as pilot:
        screen, rng = await opened(pilot)
        await pilot.press(*"30m", "enter")
        await ran(pilot, screen)
        await pilot.press("ctrl+u")  # delete everything left of the cursor: the field is empty
        assert rng.value == ""
        await pilot.press("enter")
        status = await ran(pilot, screen)
        assert "no time range given" not in status and "last 30m" in status and rng.value == "30m"
        assert [c[1].label for c in service.calls] == ["last 30m", "last 30m"]
