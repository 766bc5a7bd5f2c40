"""Logs Insights `stats … by bin()` results as bars: which results are a chart, empty bins as empty (not
zero), text bars fitted to a width, and a standalone SVG that holds hostile field names as text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest

from lab.insights_local import evaluate
from services.logs.bin_chart import bar_chart_svg, bar_lines, bin_series, format_value

SVG = "{http://www.w3.org/2000/svg}"
T0 = 1_795_700_000_000  # 2026-11-26 13:33:20 UTC, in ms


def _rows(
    *pairs: tuple[str, str], field: str = "count(*)", time_field: str = "bin(5m)"
) -> list[dict[str, str]]:
    return [{time_field: f"2026-11-26 {hm}:00.000", field: value} for hm, value in pairs]


def test_the_lab_evaluators_stats_by_bin_is_a_chart() -> None:
    base = T0 - T0 % 300_000
    data = [{"@timestamp": base + i * 60_000, "@message": "m"} for i in (0, 1, 2, 3, 4, 5, 6, 15)]
    fields, rows = evaluate("stats count(*) by bin(5m)", data)
    series = bin_series(fields, rows)
    assert series is not None
    assert (series.time_field, series.value_field) == ("bin(5m)", "count(*)")
    start = datetime.fromtimestamp(base / 1000, UTC)
    # 5, 2, nothing in the third bin (Logs Insights leaves it out: it comes back empty, not 0), 1
    assert [v for _, v in series.points] == [5, 2, None, 1]
    assert series.points[0][0] == start


@pytest.mark.parametrize(
    ("fields", "rows"),
    [
        (
            ("bin(5m)", "count(*)", "host"),
            [{"bin(5m)": "2026-11-26 10:00:00.000", "count(*)": "3", "host": "db2a"}],
        ),
        (("@timestamp", "@message"), [{"@timestamp": "2026-11-26 10:00:00.000", "@message": "x"}]),
        (("bin(5m)", "host"), [{"bin(5m)": "2026-11-26 10:00:00.000", "host": "db2a"}]),
        (("bin(5m)", "count(*)"), [{"bin(5m)": "yesterday", "count(*)": "3"}]),
        (("bin(5m)", "n"), [{"bin(5m)": "2026-11-26 10:00:00.000", "n": "nan"}]),
        (("bin(5m)", "count(*)"), []),
        (("bin(5m)", "bin(1h)"), [{"bin(5m)": "2026-11-26 10:00:00.000", "bin(1h)": "1"}]),
    ],
    ids=["grouped-by-host", "records", "not-a-number", "bad-time", "nan", "no-rows", "two-bins"],
)
def test_results_that_are_no_single_series_stay_a_table(fields, rows) -> None:
    assert bin_series(fields, rows) is None


def test_named_values_epoch_times_and_unordered_rows() -> None:
    rows = [
        {"bin(1m)": str(T0 + 60_000), "worst": "2.5"},
        {"bin(1m)": str(T0), "worst": "0.125"},
    ]
    series = bin_series(["bin(1m)", "worst"], rows)
    assert series is not None
    assert [v for _, v in series.points] == [0.125, 2.5]
    assert [format_value(v) for v in (12.0, 2.5, 0.125, 1.2e9 + 0.5)] == ["12", "2.5", "0.125", "1.2e+09"]


def test_bars_fit_the_width_and_an_empty_bin_has_no_bar() -> None:
    series = bin_series(("bin(5m)", "count(*)"), _rows(("10:00", "31"), ("10:05", "12"), ("10:15", "1")))
    assert series is not None
    lines = bar_lines(series, 40)
    assert lines[0] == "count(*) by bin(5m) (UTC)"
    assert all(len(line) == 40 for line in lines[1:])
    assert lines[1].startswith("10:00 │" + "█" * 30) and lines[1].endswith(" 31")
    assert lines[3] == "10:10 │" + " " * 30 + "  –"  # left out by Logs Insights: no bar, no number
    assert lines[4].startswith("10:15 │█ ")  # 1/31 of 30 cells
    assert lines[2].count("█") == 11  # 12/31 of 30 cells
    tiny = bin_series(("bin(5m)", "n"), _rows(("10:00", "1000"), ("10:05", "1"), field="n"))
    assert tiny is not None
    assert bar_lines(tiny, 40)[2].startswith("10:05 │▏ ")  # a value above zero always shows a sliver


def test_many_bins_are_grouped_with_the_largest_of_each() -> None:
    pairs = [(f"{10 + i // 12:02d}:{i % 12 * 5:02d}", str(i)) for i in range(24)]
    series = bin_series(("bin(5m)", "count(*)"), _rows(*pairs))
    assert series is not None
    lines = bar_lines(series, 80, max_rows=8)
    assert "each bar the largest of 3 bins" in lines[0]
    assert len(lines) == 1 + 8
    assert lines[-1].endswith(" 23") and lines[1].endswith("  2")


def test_bins_on_more_than_one_day_carry_the_date() -> None:
    rows = [
        {"bin(12h)": "2026-11-26 00:00:00.000", "n": "1"},
        {"bin(12h)": "2026-11-27 12:00:00.000", "n": "3"},
    ]
    series = bin_series(("bin(12h)", "n"), rows)
    assert series is not None
    assert [v for _, v in series.points] == [1, None, None, 3]
    assert bar_lines(series, 40)[1].startswith("11-26 00:00 │")


HOSTILE = '<script>alert(1)</script>"\x1b]0;x\x07\x00\ud800&'


def test_svg_is_standalone_and_holds_hostile_names_as_text() -> None:
    field = f"count_{HOSTILE}"
    series = bin_series(
        ("bin(5m)", field), _rows(("10:00", "31"), ("10:05", "12"), ("10:15", "4"), field=field)
    )
    assert series is not None
    svg = bar_chart_svg(series, title=f"diag {HOSTILE}")
    root = ET.fromstring(svg.encode("utf-8"))
    assert root.tag == f"{SVG}svg" and "<script" not in svg and "\x1b" not in svg and "\x00" not in svg
    assert root.find(f".//{SVG}script") is None
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any("<script>alert(1)</script>" in t for t in texts)
    bars = root.findall(f"{SVG}rect")[1:]  # the first is the background
    assert len(bars) == 3  # 10:10 is empty: no column
    heights = [float(b.get("height", 0)) for b in bars]
    assert heights[0] == max(heights) and heights[1] == pytest.approx(heights[0] * 12 / 31, abs=0.1)
    assert [b.findtext(f"{SVG}title") for b in bars][2] == "2026-11-26 10:15:00 UTC: 4"
    assert "31" in texts and "10:00" in texts and "10:15" in texts
