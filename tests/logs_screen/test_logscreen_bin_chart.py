"""The Insights panel draws a `stats … by bin()` result as bars above its rows, and nothing for other results."""

from logscreen_data import FakeLogsService, LogsApp
from textual.widget import Widget

from services.logs.insights import InsightsResult

BINS = InsightsResult(
    "Complete",
    ("bin(5m)", "count(*)"),
    tuple({"bin(5m)": f"2026-11-26 10:{m:02d}:00.000", "count(*)": str(c)} for m, c in ((0, 31), (10, 4))),
    "q1",
)
RECORDS = InsightsResult(
    "Complete",
    ("@timestamp", "@message"),
    ({"@timestamp": "2026-11-26 10:00:00.000", "@message": "LEVEL: Severe"},),
    "q2",
)


async def _run(app: LogsApp, pilot, *, open_panel: bool = True) -> Widget:
    await pilot.pause()
    if open_panel:
        await pilot.press("i")
    pilot.app.screen.query_one("#insights-run").active_effect_duration = 0
    await pilot.click("#insights-run")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return pilot.app.screen.query_one("#insights-chart")


async def test_a_bin_series_shows_as_bars_and_records_hide_them() -> None:
    service = FakeLogsService(BINS)
    app = LogsApp(service)
    async with app.run_test(size=(120, 36)) as pilot:
        chart = await _run(app, pilot)
        assert chart.display
        text = str(chart.render())
        assert "count(*) by bin(5m) (UTC)" in text
        assert "10:00 │█" in text and "10:05 │ " in text and text.rstrip().endswith("4")
        service.result = RECORDS
        chart = await _run(app, pilot, open_panel=False)
        assert not chart.display
