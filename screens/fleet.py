"""The fleet screen: one row per cluster (verdict, promoted node, HADR state, data age); Enter opens it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events, getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer

from services.status.model import ClusterStatus, Severity
from services.status.poll import STALE_FACTOR, ClusterFeed
from tui.screen_registry import register_screen
from tui.widgets.banner import banner_text
from tui.widgets.format import fit_text, format_age
from tui.widgets.header import ConsoleHeader
from tui.widgets.plain_text import plain_cells

if TYPE_CHECKING:
    from tui.app import Db2OpsApp

# what a DBA scans for first (promoted node, HADR) sits left of the long verdict: visible at 80 columns
COLUMNS = ("Cluster", "Promoted", "HADR", "Data age", "Verdict", "Env", "Mode")
_RIGHT = ("Env", "Mode")  # may scroll off a narrow terminal; everything left of them may not
VERDICT_WIDTH = 70  # the verdict column's width at most; it shrinks to fit the terminal
MIN_VERDICT_WIDTH = 24
HADR_WIDTH = 17  # DISCONNECTED_PEER; REMOTE_CATCHUP_PENDING is cut with "…"
_SEVERITY_STYLE = {
    Severity.OK: "$success",
    Severity.INFO: "$primary",
    Severity.WARNING: "$warning bold",
    Severity.CRITICAL: "$error bold",
}


def fleet_hadr(status: ClusterStatus | None) -> str:
    """Return the pair's HADR state as a fresh answer says it (the primary's first); "?" when no host
    answered — a dead host's last good "PEER" is never shown as the current state."""
    if status is None:
        return "—"
    fresh = [p.value for p in status.hadr.values() if p.ok and p.value is not None and p.value.streams]
    fresh.sort(key=lambda h: h.role != "PRIMARY")
    if not fresh:
        return "? (no answer)"
    return fresh[0].state or "—"


def fleet_row(
    feed: ClusterFeed, now: float, interval: float, verdict_width: int = VERDICT_WIDTH
) -> tuple[Content | str, ...]:
    """Return the cells of one cluster's row (in COLUMNS order): words first, colour second (NO_COLOR keeps
    the meaning)."""
    c = feed.cluster
    status = feed.status
    text = banner_text(status, feed.poll_error)
    # the healthy headline already starts with "Healthy:"; other severities say theirs first
    label = (
        text.headline if text.severity is Severity.OK else f"{text.severity.value.upper()}: {text.headline}"
    )
    if text.severity is Severity.OK and len(label) > verdict_width:
        label = "Healthy"  # the promoted node and HADR state have their own columns
    verdict = Content.styled(fit_text(label, verdict_width), _SEVERITY_STYLE[text.severity])
    promoted = (status.promoted_node if status else None) or ("NONE" if status and status.crm else "—")
    hadr = fleet_hadr(status)
    age = max(0.0, now - status.taken_at) if status is not None else None
    stale = feed.poll_error is not None or (age is not None and age > STALE_FACTOR * interval)
    age_text = Content.styled(("STALE " if stale else "") + format_age(age), "$warning" if stale else "")
    mode = ("read-only" if c.read_only else "read-write") + (" lab" if c.lab else "")
    hadr_style = "$success" if hadr == "PEER" else "$text-muted" if hadr == "—" else "bold $error"
    promoted_cell = Content.styled(promoted, "bold $error" if promoted == "NONE" else "bold")
    return (
        Content.styled(c.name, "bold"),
        promoted_cell,
        Content.styled(fit_text(hadr, HADR_WIDTH), hadr_style),
        age_text,
        verdict,
        c.environment,
        mode,
    )


class FleetTable(DataTable[Any]):
    """The fleet table; shows Enter in the footer (DataTable hides its own Enter binding)."""

    BINDINGS = [Binding("enter", "select_cursor", "Open cluster", id="fleet.open")]


class FleetScreen(Screen[None]):
    """Every cluster of the inventory at a glance."""

    HELP = "One row per cluster, in inventory order; each row leads with the cluster's worst verdict in words. Enter (or a click on the highlighted row) opens the cluster."

    if TYPE_CHECKING:  # the console's app, for the type checker only (textual's own idiom)
        app = getters.app(Db2OpsApp)

    def __init__(self) -> None:
        super().__init__(name="fleet")

    def compose(self) -> ComposeResult:
        yield ConsoleHeader("fleet")
        yield FleetTable(id="fleet-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self._verdict_width = 0
        self._build_columns(self.app.size.width)
        self.app.status_signal.subscribe(self, lambda _name: self.refresh_view())
        self.set_interval(1.0, self.refresh_view)
        self.refresh_view()
        self.query_one(DataTable).focus()

    def on_resize(self, event: events.Resize) -> None:
        if self._build_columns(event.size.width):
            self.refresh_view()

    def _build_columns(self, screen_width: int) -> bool:
        """(Re)create the columns so the verdict fills the width; return True when they changed."""
        app = self.app
        hosts = [h.name for c in app.clusters for h in c.db_hosts]
        widths = {
            "Cluster": max([len(c.name) for c in app.clusters] + [len("Cluster")]),
            "Promoted": min(max([len(h) for h in hosts] + [len("Promoted")]), 24),
            "HADR": HADR_WIDTH,
            "Data age": 11,  # STALE 3m04s
            "Env": max([len(c.environment) for c in app.clusters] + [len("Env")]),
            "Mode": 16,
        }
        # DataTable pads each cell by one column on both sides; 2 more for the scrollbar
        room = screen_width - sum(widths.values()) - 2 * len(COLUMNS) - 2
        if room < 40:  # narrow: the verdict takes the rest of the screen, Env and Mode scroll off
            room += sum(widths[c] + 2 for c in _RIGHT)
        verdict = max(MIN_VERDICT_WIDTH, min(VERDICT_WIDTH, room))
        if verdict == self._verdict_width:
            return False
        self._verdict_width = verdict
        widths["Verdict"] = verdict
        table = self.query_one(DataTable)
        had_rows, row = table.row_count > 0, table.cursor_row
        table.clear(columns=True)
        # explicit widths: DataTable does not measure Content cells, so auto width would truncate them
        for label in COLUMNS:
            table.add_column(label, width=widths[label], key=label)
        if had_rows:  # rebuilt on a resize: rows back, cursor where it was
            self.refresh_view()
            table.move_cursor(row=row)
        return True

    def on_screen_resume(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        """Update every row in place (rows are keyed by cluster name, so the cursor stays put)."""
        app = self.app
        table = self.query_one(DataTable)
        now, interval = app.now(), app.refresh_interval
        header = self.query_one(ConsoleHeader)
        header.set_cluster(None, extra=f"{len(app.clusters)} clusters")
        for cluster in app.clusters:
            cells = fleet_row(app.feed(cluster.name), now, interval, self._verdict_width)
            if cluster.name not in table.rows:
                table.add_row(*plain_cells(*cells), key=cluster.name)
            else:
                for column, value in zip(table.columns, plain_cells(*cells), strict=True):
                    table.update_cell(cluster.name, column, value)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.app.open_cluster(str(event.row_key.value))


register_screen(
    "fleet", lambda app: FleetScreen(), "Every cluster at a glance", aliases=("clusters", "ls"), title="Fleet"
)
