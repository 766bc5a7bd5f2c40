"""SVG snapshots of the log screen with deterministic data (update with --snapshot-update)."""

import pytest
from logscreen_data import FakeLogsService, LogsApp, audit_entries, diag_entries

from lab.insights_local import LAB_EVALUATOR
from services.logs.insights import InsightsResult

SIZE = (150, 36)


async def _load(pilot):
    await pilot.pause()
    pilot.app.screen.view.add_entries(diag_entries() + audit_entries())
    await pilot.pause()


def test_snapshot_follow(snap_compare):
    assert snap_compare(LogsApp(), terminal_size=SIZE, run_before=_load)


def test_snapshot_filter(snap_compare):
    async def run(pilot):
        await _load(pilot)
        await pilot.press("slash", *"?Severe ?Error", "enter")
        await pilot.pause()

    assert snap_compare(LogsApp(), terminal_size=SIZE, run_before=run)


def test_snapshot_detail_and_expanded_record(snap_compare):
    async def run(pilot):
        await _load(pilot)
        await pilot.press("k", "k", "enter", "s", *"takeover", "enter")
        await pilot.pause()

    assert snap_compare(LogsApp(), terminal_size=SIZE, run_before=run)


def test_snapshot_insights_results(snap_compare):
    rows = tuple(
        {"bin(5m)": f"2026-11-26 10:{m:02d}:00.000", "count(*)": str(c)}
        for m, c in ((0, 31), (5, 12), (10, 4))
    )
    result = InsightsResult("Complete", ("bin(5m)", "count(*)"), rows, "q1", evaluated_by=LAB_EVALUATOR)

    async def run(pilot):
        await _load(pilot)
        await pilot.press("i")
        screen = pilot.app.screen
        screen.query_one("#insights-preset").value = "per5m"
        # The button's 0.2 s pressed look ends on a timer: whether the screenshot
        # catches it depends on machine speed, so the snapshot is taken without it.
        screen.query_one("#insights-run").active_effect_duration = 0
        await pilot.pause()
        await pilot.click("#insights-run")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(LogsApp(FakeLogsService(result)), terminal_size=SIZE, run_before=run)


@pytest.mark.parametrize("size", [(100, 30), (80, 24)], ids=["100x30", "80x24"])
def test_snapshot_follow_narrow(snap_compare, size):
    """Narrow terminals: the detail under the list, times without the date, the message gets the rest."""
    assert snap_compare(LogsApp(), terminal_size=size, run_before=_load)
