"""Logs Insights `stats … by bin(…)` results as a bar chart: text bars for the console, an SVG for the report.

A result is a chart when it has exactly one `bin(...)` time column and one other column whose every value
is a number (`stats count(*) by bin(5m)`, `stats max(gap) as g by bin(1m)`); anything else (`by bin(5m),
host`, records with @message) is not, and stays a table. Logs Insights leaves out the bins without records:
they come back as empty bins (no value, no bar), never as zero, since for avg() or max() "no record" is no
number at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from services.svg_text import svg_document, svg_text
from services.text_safety import safe_line

_BIN = re.compile(r"bin\(\s*(\d+)\s*(ms|s|m|h|d)\s*\)", re.IGNORECASE)
_UNIT_S = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_FILLED_BINS = 2000  # empty bins are put back only up to this many bins in all
EIGHTHS = " ▏▎▍▌▋▊▉"


@dataclass(frozen=True)
class BinSeries:
    time_field: str  # "bin(5m)"
    value_field: str  # "count(*)"
    points: tuple[tuple[datetime, float | None], ...]  # ascending, UTC; None: a bin without records

    @property
    def top(self) -> float:
        return max((v for _, v in self.points if v is not None), default=0.0)


def _parse_time(text: str) -> datetime | None:
    text = text.strip()
    if text.isdigit():  # epoch milliseconds
        return datetime.fromtimestamp(int(text) / 1000, UTC)
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def _number(text: object) -> float | None:
    try:
        value = float(str(text).strip())
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None  # NaN and inf are no bar


def bin_series(fields: Sequence[str], rows: Sequence[Mapping[str, object]]) -> BinSeries | None:
    """Return the chart of an Insights result, or None when it is no `stats <one number> by bin()`."""
    bins = [f for f in fields if _BIN.fullmatch(f.strip())]
    others = [f for f in fields if f not in bins]
    if len(bins) != 1 or len(others) != 1 or not rows:
        return None
    time_field, value_field = bins[0], others[0]
    points: dict[datetime, float] = {}
    for row in rows:
        when = _parse_time(str(row.get(time_field, "")))
        value = _number(row.get(value_field, ""))
        if when is None or value is None:
            return None
        points[when] = value
    match = _BIN.fullmatch(time_field.strip())
    assert match is not None  # selected above
    size = timedelta(seconds=int(match.group(1)) * _UNIT_S[match.group(2).lower()])
    times = sorted(points)
    filled: list[tuple[datetime, float | None]] = [(t, points[t]) for t in times]
    on_grid = size.total_seconds() > 0 and all((t - times[0]) % size == timedelta(0) for t in times)
    if on_grid and (times[-1] - times[0]) / size < MAX_FILLED_BINS:
        steps = int((times[-1] - times[0]) / size)
        filled = [(times[0] + i * size, points.get(times[0] + i * size)) for i in range(steps + 1)]
    return BinSeries(time_field, value_field, tuple(filled))


def format_value(value: float) -> str:
    """12, 3.5, 0.125, 1.2e+09: integers as integers, others to 3 significant digits."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.3g}"


def _labels(points: Sequence[tuple[datetime, float | None]]) -> list[str]:
    with_seconds = any(t.second or t.microsecond for t, _ in points)
    one_day = len({t.date() for t, _ in points}) <= 1
    fmt = ("" if one_day else "%m-%d ") + ("%H:%M:%S" if with_seconds else "%H:%M")
    return [t.strftime(fmt) for t, _ in points]


def _bar(value: float, top: float, cells: int) -> str:
    if top <= 0 or cells <= 0 or value <= 0:
        return ""
    eighths = max(1, round(value / top * cells * 8))  # a value above zero always has a sliver
    return "█" * (eighths // 8) + (EIGHTHS[eighths % 8] if eighths % 8 else "")


def bar_lines(series: BinSeries, width: int, max_rows: int = 0) -> list[str]:
    """Return a header line and one bar per bin: "10:05 │████▌      42" (times UTC). With `max_rows`,
    consecutive bins are grouped so the bars fit, each bar the largest of its group (said in the header)."""
    points = list(series.points)
    group = 1
    if max_rows > 0 and len(points) > max_rows:
        group = -(-len(points) // max_rows)
        grouped = []
        for i in range(0, len(points), group):
            chunk = [v for _, v in points[i : i + group] if v is not None]
            grouped.append((points[i][0], max(chunk) if chunk else None))
        points = grouped
    header = f"{series.value_field} by {series.time_field} (UTC)"
    if group > 1:
        header += f" · each bar the largest of {group} bins"
    labels = _labels(points)
    values = ["–" if v is None else format_value(v) for _, v in points]
    label_w = max(len(x) for x in labels)
    value_w = max(len(x) for x in values)
    cells = max(1, width - label_w - value_w - 3)
    top = max((v for _, v in points if v is not None), default=0.0)
    lines = [safe_line(header)[: max(1, width)]]
    for label, (_, value), text in zip(labels, points, values, strict=True):
        bar = _bar(value, top, cells) if value is not None else ""
        lines.append(f"{label.rjust(label_w)} │{bar.ljust(cells)} {text.rjust(value_w)}")
    return lines


def bar_chart_svg(series: BinSeries, title: str = "") -> str:
    """A standalone SVG column chart of `series` for the report: one column per bin (an empty bin has
    none), the largest value on the y axis, first / middle / last bin times (UTC) under the x axis."""
    width, height = 640, 240
    left, right, top_m, bottom = 56, 16, 36, 44
    plot_w, plot_h = width - left - right, height - top_m - bottom
    n = len(series.points)
    top = series.top
    step = plot_w / max(1, n)
    bar_w = max(1.0, step * 0.8)
    heading = title or f"{series.value_field} by {series.time_field}"
    body = [
        f'<text x="12" y="20" font-size="13" font-weight="bold">{svg_text(heading)}</text>',
        f'<line x1="{left}" y1="{top_m + plot_h}" x2="{left + plot_w}" y2="{top_m + plot_h}" stroke="#24292f"/>',
        f'<line x1="{left}" y1="{top_m}" x2="{left}" y2="{top_m + plot_h}" stroke="#24292f"/>',
        f'<text x="{left - 6}" y="{top_m + 4}" text-anchor="end" fill="#57606a">{svg_text(format_value(top))}</text>',
        f'<text x="{left - 6}" y="{top_m + plot_h}" text-anchor="end" fill="#57606a">0</text>',
    ]
    for i, (when, value) in enumerate(series.points):
        if value is None or value <= 0 or top <= 0:
            continue
        h = value / top * plot_h
        x = left + i * step + (step - bar_w) / 2
        body.append(
            f'<rect x="{x:.1f}" y="{top_m + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="#1f6feb"><title>{svg_text(f"{when:%Y-%m-%d %H:%M:%S} UTC: {format_value(value)}")}'
            "</title></rect>"
        )
    labels = _labels(series.points)
    for i in sorted({0, n // 2, n - 1}):
        x = left + i * step + step / 2
        body.append(
            f'<text x="{x:.1f}" y="{top_m + plot_h + 16}" text-anchor="middle" fill="#57606a">'
            f"{svg_text(labels[i])}</text>"
        )
    first, last = series.points[0][0], series.points[-1][0]
    body.append(
        f'<text x="{width - right}" y="{height - 8}" text-anchor="end" font-size="10" fill="#8c959f">'
        f"{svg_text(f'{first:%Y-%m-%d %H:%M} – {last:%Y-%m-%d %H:%M} UTC · {n} bins')}</text>"
    )
    return svg_document(width, height, heading, body)
