"""The fleet screen: one row per cluster (verdict, promoted node, HADR state, data age); Enter opens it."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from services.status_model import Severity
from tui.refresh import STALE_FACTOR, ClusterFeed
from tui.screen_registry import register_screen
from tui.widgets.banner import banner_text
from tui.widgets.format import format_age
from tui.widgets.header import ConsoleHeader

COLUMNS = ("Cluster", "Env", "Verdict", "Promoted", "HADR", "Data age", "Mode")
VERDICT_WIDTH = 70
_SEVERITY_STYLE = {
    Severity.OK: "$success",
    Severity.INFO: "$primary",
    Severity.WARNING: "$warning bold",
    Severity.CRITICAL: "$error bold",
}


def fleet_row(feed: ClusterFeed, now: float, interval: float) -> tuple[Content | str, ...]:
    """Return the cells of one cluster's row: words first, colour second (NO_COLOR keeps the meaning)."""
    c = feed.cluster
    status = feed.status
    text = banner_text(status, feed.poll_error)
    # the healthy headline already starts with "Healthy:"; other severities say theirs first
    label = (
        text.headline if text.severity is Severity.OK else f"{text.severity.value.upper()}: {text.headline}"
    )
    if len(label) > VERDICT_WIDTH:
        label = label[: VERDICT_WIDTH - 1] + "…"
    verdict = Content.styled(label, _SEVERITY_STYLE[text.severity])
    promoted = (status.promoted_node if status else None) or "—"
    hadr = "—"
    if status is not None:
        primary = status.hadr_primary_host
        part = status.hadr.get(primary) if primary else next(iter(status.hadr.values()), None)
        if part is not None and part.value is not None:
            hadr = part.value.state or "—"
    age = status and max(0.0, now - status.taken_at)
    stale = feed.poll_error is not None or (age is not None and age > STALE_FACTOR * interval)
    age_text = Content.styled(
        ("STALE " if stale else "") + format_age(age if status else None), "$warning" if stale else ""
    )
    mode = ("read-only" if c.read_only else "read-write") + (" lab" if c.lab else "")
    return (Content.styled(c.name, "bold"), c.environment, verdict, promoted, hadr, age_text, mode)


class FleetTable(DataTable[Any]):
    """The fleet table; shows Enter in the footer (DataTable hides its own Enter binding)."""

    BINDINGS = [Binding("enter", "select_cursor", "Open cluster", id="fleet.open")]


class FleetScreen(Screen[None]):
    """Every cluster of the inventory at a glance."""

    HELP = "One row per cluster; the worst verdict first in words. Enter (or a click on the highlighted row) opens the cluster."

    def __init__(self) -> None:
        super().__init__(name="fleet")

    def compose(self) -> ComposeResult:
        yield ConsoleHeader("fleet")
        yield FleetTable(id="fleet-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        # explicit widths: DataTable does not measure Content cells, so auto width would truncate them
        name_w = max([len(c.name) for c in self.app.clusters] + [len(COLUMNS[0])])  # type: ignore[attr-defined]
        env_w = max([len(c.environment) for c in self.app.clusters] + [len(COLUMNS[1])])  # type: ignore[attr-defined]
        for label, width in zip(COLUMNS, (name_w, env_w, VERDICT_WIDTH, 10, 22, 12, 16), strict=True):
            table.add_column(label, width=width, key=label)
        self.app.status_signal.subscribe(self, lambda _name: self.refresh_view())  # type: ignore[attr-defined]
        self.set_interval(1.0, self.refresh_view)
        self.refresh_view()
        table.focus()

    def on_screen_resume(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        """Update every row in place (rows are keyed by cluster name, so the cursor stays put)."""
        app: Any = self.app
        table = self.query_one(DataTable)
        now, interval = app.now(), app.refresh_interval
        header = self.query_one(ConsoleHeader)
        header.set_cluster(None, extra=f"{len(app.clusters)} clusters")
        for cluster in app.clusters:
            cells = fleet_row(app.feed(cluster.name), now, interval)
            if cluster.name not in table.rows:
                table.add_row(*cells, key=cluster.name)
            else:
                for column, value in zip(table.columns, cells, strict=True):
                    table.update_cell(cluster.name, column, value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.app.open_cluster(str(event.row_key.value))  # type: ignore[attr-defined]


register_screen("fleet", lambda app: FleetScreen(), "Every cluster at a glance", aliases=("clusters", "ls"))
