"""The Logs Insights panel of the log screen: preset picker, range, query, status and results.

Results are shown in a LogView (Line API), so even 10,000 rows open at once and expand like records.
The panel only collects input and displays; the screen runs the query through the service.
"""

from __future__ import annotations

from pathlib import Path

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Button, Input, Select, Static

from services.logs.bin_chart import BinSeries, bar_chart_svg
from services.logs.insights import PRESETS, preset
from services.logs.model import LogEntry
from tui.widgets.bin_chart import BinChart
from tui.widgets.log_view import LogView

RANGE_HINT = "type a range: 15m · 2h · 1d · since last failover · 2026-11-26 10:00..2026-11-26 11:00 (UTC)"
DEFAULT_RANGE = "1h"


def first_text_line(text: str) -> str:
    """Return the first line of `text` that holds anything, stripped ("" when none)."""
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


class OneLineInput(Input):
    """An Input that keeps the first non-blank line of a paste. Textual's Input keeps the first line as
    is, so a paste that starts with a line break (a terminal selection begun at the end of the line above)
    replaced the range with nothing, and the query then failed with "no time range given"."""

    def _on_paste(self, event: events.Paste) -> None:
        line = first_text_line(event.text)
        if line:
            if self.selection.is_empty:
                self.insert_text_at_cursor(line)
            else:
                self.replace(line, *self.selection)
        event.stop()


class InsightsPanel(Vertical):
    """Collects a query; posts RunRequested; shows status lines and result entries."""

    DEFAULT_CSS = """
    InsightsPanel { height: 1fr; border-top: hkey $primary 40%; }
    InsightsPanel .insights-controls { height: auto; }
    InsightsPanel #insights-preset { width: 46; }
    InsightsPanel #insights-range { width: 1fr; }
    InsightsPanel #insights-run { min-width: 8; }
    InsightsPanel #insights-status { height: auto; padding: 0 1; }
    InsightsPanel #insights-results { height: 1fr; }
    """

    class RunRequested(Message):
        """The user asked to run `query` over `source`'s group in the range typed as `range_text`."""

        def __init__(self, query: str, range_text: str, source: str) -> None:
            super().__init__()
            self.query = query
            self.range_text = range_text
            self.source = source

    def compose(self) -> ComposeResult:
        with Horizontal(classes="insights-controls"):
            yield Select(
                [(p.title, p.key) for p in PRESETS],
                value=PRESETS[0].key,
                allow_blank=False,
                id="insights-preset",
            )
            yield OneLineInput(value=DEFAULT_RANGE, placeholder=RANGE_HINT, id="insights-range")
            yield Button("Run", id="insights-run", variant="primary")
        yield OneLineInput(value=PRESETS[0].query, placeholder="Logs Insights query", id="insights-query")
        yield Static(
            Content.styled("Pick a preset and a range, then Run (Enter).", "$foreground-muted"),
            id="insights-status",
        )
        yield BinChart(id="insights-chart")
        yield LogView(id="insights-results", follow=False)

    @property
    def results(self) -> LogView:
        return self.query_one("#insights-results", LogView)

    @property
    def source(self) -> str:
        key = self.query_one("#insights-preset", Select).value
        return preset(str(key)).source

    def on_select_changed(self, event: Select.Changed) -> None:
        self.query_one("#insights-query", Input).value = preset(str(event.value)).query

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "insights-run":
            event.stop()
            self.request_run()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("insights-range", "insights-query"):
            event.stop()
            self.request_run()

    last_range = DEFAULT_RANGE  # the range of the last query asked for; an emptied field falls back to it

    def request_run(self) -> None:
        """Post RunRequested with the current inputs. An empty range field is put back to the last range
        asked for (shown in the field, and in the status once the query runs), not sent empty."""
        query = self.query_one("#insights-query", Input).value.strip()
        field = self.query_one("#insights-range", Input)
        range_text = field.value.strip()
        if not range_text:
            range_text = field.value = self.last_range
        self.last_range = range_text
        self.post_message(self.RunRequested(query, range_text, self.source))

    def show_status(self, text: str, style: str = "") -> None:
        """Show one status line (style: "" normal, "error", "warning", "muted")."""
        styles = {"error": "$text-error", "warning": "$text-warning", "muted": "$foreground-muted"}
        body = Content.styled(text, styles[style]) if style else Content(text)
        self.query_one("#insights-status", Static).update(body)

    series: BinSeries | None = None  # the chart on show, exported as SVG beside the rows (e)

    def on_mount(self) -> None:
        self.results.export_extra = self._export_chart

    def show_chart(self, series: BinSeries | None) -> None:
        """Draw a `stats … by bin()` result as bars above its rows (None hides the chart)."""
        self.series = series
        self.query_one("#insights-chart", BinChart).show(series)

    def _export_chart(self, rows_path: Path) -> str | None:
        """Write the chart on show as an SVG beside the exported rows (for a report); runs in the export's
        thread, so it takes the series as it is now and touches no widget."""
        series = self.series
        if series is None:
            return None
        path = rows_path.with_suffix(".svg")
        path.write_text(bar_chart_svg(series), encoding="utf-8")
        return f"the chart {path.name}"

    def show_results(self, entries: list[LogEntry]) -> None:
        """Replace the results with `entries` (already in time order)."""
        view = self.results
        view.clear()
        view.add_entries(entries)
        if entries:
            view.move_cursor(0)
