"""A Logs Insights `stats … by bin()` result as text bars (services.logs.bin_chart), fitted to the width
it is given; hidden while the result is no such series."""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from services.logs.bin_chart import BinSeries, bar_lines

MAX_ROWS = 10  # bars; more bins are grouped (each bar the largest of its group, said in the header)


class BinChart(Widget):
    DEFAULT_CSS = """
    BinChart { height: auto; padding: 0 1; display: none; }
    BinChart.-shown { display: block; }
    """

    series: BinSeries | None = None

    def show(self, series: BinSeries | None) -> None:
        self.series = series
        self.set_class(series is not None, "-shown")
        self.refresh(layout=True)

    def render(self) -> Content:
        if self.series is None:
            return Content("")
        lines = bar_lines(self.series, max(20, self.content_size.width), MAX_ROWS)
        head, bars = lines[0], lines[1:]
        return Content("\n").join(
            [Content.styled(head, "$foreground-muted"), *(Content.styled(b, "$accent") for b in bars)]
        )
