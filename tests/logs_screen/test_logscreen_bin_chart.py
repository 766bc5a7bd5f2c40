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


async def test_exporting_a_chart_result_writes_its_svg_beside_the_rows(tmp_path) -> None:
    """e on the Insights results writes the rows and, for a bin() result, the chart as an SVG for a report;
    a result that is no chart writes no SVG."""
    import xml.etree.ElementTree as ET

    service = FakeLogsService(BINS)
    app = LogsApp(service)
    exports = tmp_path / "data" / "db2ops" / "exports"
    async with app.run_test(size=(120, 36)) as pilot:
        await _run(app, pilot)
        app.screen.query_one("#insights-results").focus()
        await pilot.press("e")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        [svg] = exports.glob("logs-*.svg")
        assert svg.with_suffix(".log").exists()
        root = ET.fromstring(svg.read_text())
        texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
        assert "count(*) by bin(5m)" in texts and "31" in texts
        bars = [r for r in root.iter("{http://www.w3.org/2000/svg}rect") if r.get("fill") == "#1f6feb"]
        assert len(bars) == 2  # 31 and 4; the empty 10:05 bin has no bar
        assert any(svg.name in n.message for n in pilot.app._notifications)
        svg.unlink()
        service.result = RECORDS
        await _run(app, pilot, open_panel=False)
        app.screen.query_one("#insights-results").focus()
        await pilot.press("e")
        await pilot.app.workers.wait_for_complete()
        assert not list(exports.glob("*.svg"))
