"""The fleet screen: one row per cluster, worst first (verdict, promoted node, HADR state, alarms in ALARM,
data age); Enter opens it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import events, getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable

from services.alarms.model import cluster_alarm_prefix
from services.status.incident import ago, build_headline, clock_time, recent_takeover
from services.status.model import ClusterStatus, Severity
from services.status.poll import STALE_FACTOR, ClusterFeed
from services.words import plural
from tui.screen_registry import register_screen
from tui.widgets.banner import banner_text
from tui.widgets.fitted_footer import FittedFooter
from tui.widgets.format import fit_text, format_age
from tui.widgets.header import ConsoleHeader
from tui.widgets.lab_notes import LabNotes
from tui.widgets.plain_text import plain_cells

if TYPE_CHECKING:
    from tui.app import Db2OpsApp

# what a DBA scans for first (promoted node, HADR, alarms) sits left of the verdict, which takes the rest
COLUMNS = ("Cluster", "Promoted", "HADR", "Alarms", "Data age", "Verdict", "Env", "Mode")
# On a narrow terminal these give way to the verdict, in this order: the first three while the verdict
# is under VERDICT_WIDTH, the others only while it is under MIN_VERDICT_WIDTH. Cluster and Verdict stay.
DROP_ORDER = ("Mode", "Env", "Data age", "Alarms", "Promoted", "HADR")
_OPTIONAL = ("Mode", "Env", "Data age")
VERDICT_WIDTH = 40  # the verdict's width worth dropping Mode, Env and Data age for
MIN_VERDICT_WIDTH = 24  # below this the verdict says too little: Alarms, Promoted and HADR go too
HADR_WIDTH = 17  # DISCONNECTED_PEER; REMOTE_CATCHUP_PENDING is cut with "…"
HADR_NARROW_WIDTH = 12  # DISCONNECTED; longer states are cut with "…"
ALARMS_WIDTH = 7  # "2 ALARM"
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


def fleet_alarms(status: ClusterStatus | None) -> str:
    """Return the Alarms cell: "2 ALARM" (that many of the cluster's alarms in ALARM), "OK" (none of
    them), "none" (the cluster has no alarms), "?" (CloudWatch did not answer), "—" (not read)."""
    part = status.alarms if status is not None else None
    if part is None:
        return "—"
    if not part.ok or part.value is None:
        return "?"
    if not part.value:
        return "none"
    firing = sum(a.state == "ALARM" for a in part.value)
    return f"{firing} ALARM" if firing else "OK"


def fleet_rank(feed: ClusterFeed) -> tuple[int, str]:
    """Return the sort key of a cluster's row: worst severity first, then by name."""
    return (-banner_text(feed.status, feed.poll_error).severity.rank, feed.cluster.name)


def fleet_columns(widths: dict[str, int], screen_width: int) -> dict[str, int]:
    """Return the columns shown at `screen_width` with their widths, in COLUMNS order: the verdict takes
    what the others leave. While it is under VERDICT_WIDTH, Mode, Env and Data age drop and HADR narrows to
    HADR_NARROW_WIDTH; while it is under MIN_VERDICT_WIDTH, Alarms, Promoted and HADR drop too.
    `widths` holds every column but the verdict."""
    shown = {c: widths.get(c, 0) for c in COLUMNS}

    # DataTable pads each cell by one column on both sides; 2 more for the scrollbar
    def room() -> int:
        return screen_width - sum(w + 2 for c, w in shown.items() if c != "Verdict") - 2 - 2

    for column in DROP_ORDER:
        if column == "Alarms" and room() < VERDICT_WIDTH:
            shown["HADR"] = min(shown["HADR"], HADR_NARROW_WIDTH)
        if room() >= (VERDICT_WIDTH if column in _OPTIONAL else MIN_VERDICT_WIDTH):
            continue
        del shown[column]
    shown["Verdict"] = max(MIN_VERDICT_WIDTH, room())
    return shown


def fit_verdict(label: str, width: int) -> str:
    """Return `label` cut to `width` with "…": at a word boundary, unless that loses a long last word (an
    alarm's name) that a cut inside it would partly show."""
    cut = fit_text(label, width)
    if len(cut) >= width - 5 or len(label) <= width:
        return cut
    return label[: width - 1].rstrip(" ,;:·-") + "…"


def healthy_label(status: ClusterStatus, now: float, width: int) -> str:
    """Return a healthy row's verdict in at most `width` columns when the headline's sentence is longer:
    the promoted node and HADR state have their own columns, a takeover of the last hour is still said
    ("Healthy: takeover at 03:12:41 (12 min ago)", then without the age), else just "Healthy"."""
    took_over = recent_takeover(status, now)
    if took_over is not None:
        at = f"Healthy: takeover at {clock_time(took_over)}"
        for label in (f"{at} ({ago(now - took_over)})", at):
            if len(label) <= width:
                return label
    return "Healthy"


def fleet_row(
    feed: ClusterFeed, now: float, interval: float, layout: dict[str, int] | None = None
) -> tuple[Content | str, ...]:
    """Return the cells of one cluster's row for `layout` (fleet_columns: the columns shown and their
    widths; None: every column, the verdict 70 wide): words first, colour second (NO_COLOR keeps the
    meaning). Without the Data age column a stale row says so in its verdict."""
    layout = layout or dict.fromkeys(COLUMNS, 0) | {"HADR": HADR_WIDTH, "Verdict": 70}
    verdict_width, hadr_width = layout["Verdict"], layout.get("HADR", HADR_WIDTH)
    c = feed.cluster
    status = feed.status
    text = banner_text(status, feed.poll_error, now)
    # the incident headline in a few words (services/status/incident.py, as the banner and `status`)
    summary = build_headline(status, now).brief if status is not None else text.headline
    age = max(0.0, now - status.taken_at) if status is not None else None
    stale = feed.poll_error is not None or (age is not None and age > STALE_FACTOR * interval)
    # the healthy headline already starts with "Healthy:"; other severities say theirs first
    label = summary if text.severity is Severity.OK else f"{text.severity.value.upper()}: {summary}"
    if text.severity is Severity.OK and status is not None and len(label) > verdict_width:
        label = healthy_label(status, now, verdict_width)
    # the row names the cluster: its alarms' "db2ops-<cluster>-" says it again, at the verdict's expense
    label = label.replace(cluster_alarm_prefix(c.name), "")
    if stale and "Data age" not in layout:
        label = f"STALE {format_age(age)} · {label}"
    promoted = (status.promoted_node if status else None) or ("NONE" if status and status.crm else "—")
    hadr = fleet_hadr(status)
    alarms = fleet_alarms(status)
    mode = ("read-only" if c.read_only else "read-write") + (" lab" if c.lab else "")
    hadr_style = "$success" if hadr == "PEER" else "$foreground-muted" if hadr == "—" else "bold $error"
    alarms_style = (
        "bold $error" if alarms.endswith("ALARM") else "$success" if alarms == "OK" else "$foreground-muted"
    )
    cells: dict[str, Content | str] = {
        "Cluster": Content.styled(c.name, "bold"),
        "Promoted": Content.styled(promoted, "bold $error" if promoted == "NONE" else "bold"),
        "HADR": Content.styled(fit_text(hadr, hadr_width), hadr_style),
        "Alarms": Content.styled(alarms, alarms_style),
        "Data age": Content.styled(
            ("STALE " if stale else "") + format_age(age), "$warning" if stale else ""
        ),
        "Verdict": Content.styled(fit_verdict(label, verdict_width), _SEVERITY_STYLE[text.severity]),
        "Env": c.environment,
        "Mode": mode,
    }
    return tuple(cells[column] for column in layout)


class FleetTable(DataTable[Any]):
    """The fleet table; shows Enter in the footer (DataTable hides its own Enter binding)."""

    BINDINGS = [Binding("enter", "select_cursor", "Open cluster", id="fleet.open")]


class FleetScreen(Screen[None]):
    """Every cluster of the inventory at a glance."""

    HELP = (
        "One row per cluster, worst first (critical, warning, note, healthy), then by name; each row says "
        "the cluster's worst verdict in words. Alarms: how many of the cluster's CloudWatch alarms are in "
        "ALARM (OK: none; none: no alarms set up; ?: CloudWatch did not answer). On a narrow terminal Mode, "
        "Env and Data age give way to the verdict first (a stale row then starts with STALE). Enter (or a "
        "click on the highlighted row) opens the cluster."
    )

    if TYPE_CHECKING:  # the console's app, for the type checker only (textual's own idiom)
        app = getters.app(Db2OpsApp)

    def __init__(self) -> None:
        super().__init__(name="fleet")

    def compose(self) -> ComposeResult:
        yield ConsoleHeader("fleet")
        yield LabNotes(id="lab-notes")  # a lab part that did not start (hidden otherwise)
        yield FleetTable(id="fleet-table", cursor_type="row", zebra_stripes=True)
        yield FittedFooter()

    def on_mount(self) -> None:
        self._layout: dict[str, int] = {}
        self._build_columns(self.app.size.width)
        self.app.status_signal.subscribe(self, lambda _name: self.refresh_view())
        self.set_interval(1.0, self.refresh_view)
        self.refresh_view()
        self.query_one(DataTable).focus()

    def on_resize(self, event: events.Resize) -> None:
        if self._build_columns(event.size.width):
            self.refresh_view()

    def _build_columns(self, screen_width: int) -> bool:
        """(Re)create the columns for `screen_width` (fleet_columns); return True when they changed."""
        app = self.app
        hosts = [h.name for c in app.clusters for h in c.db_hosts]
        widths = {
            "Cluster": max([len(c.name) for c in app.clusters] + [len("Cluster")]),
            "Promoted": min(max([len(h) for h in hosts] + [len("Promoted")]), 24),
            "HADR": HADR_WIDTH,
            "Alarms": ALARMS_WIDTH,
            "Data age": 11,  # STALE 3m04s
            "Env": max([len(c.environment) for c in app.clusters] + [len("Env")]),
            "Mode": 16,
        }
        layout = fleet_columns(widths, screen_width)
        if layout == self._layout:
            return False
        self._layout = layout
        table = self.query_one(DataTable)
        had_rows, row = table.row_count > 0, table.cursor_row
        table.clear(columns=True)
        # explicit widths: DataTable does not measure Content cells, so auto width would truncate them
        for label, width in layout.items():
            table.add_column(label, width=width, key=label)
        if had_rows:  # rebuilt on a resize: rows back, cursor where it was
            self.refresh_view()
            table.move_cursor(row=row)
        return True

    def on_screen_resume(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        """Update every row in place (rows are keyed by cluster name), then keep them worst first; the
        cursor stays on the cluster it was on."""
        app = self.app
        table = self.query_one(DataTable)
        now, interval = app.now(), app.refresh_interval
        header = self.query_one(ConsoleHeader)
        header.set_cluster(None, extra=f"{plural(len(app.clusters), 'cluster')}, worst first")
        feeds = {cluster.name: app.feed(cluster.name) for cluster in app.clusters}
        for name, feed in feeds.items():
            cells = fleet_row(feed, now, interval, self._layout)
            if name not in table.rows:
                table.add_row(*plain_cells(*cells), key=name)
            else:
                for column, value in zip(table.columns, plain_cells(*cells), strict=True):
                    table.update_cell(name, column, value)
        ranks = {name: fleet_rank(feed) for name, feed in feeds.items()}
        shown = [str(row.key.value) for row in table.ordered_rows]
        if shown != sorted(shown, key=ranks.__getitem__):
            on = shown[table.cursor_row] if 0 <= table.cursor_row < len(shown) else None
            table.sort("Cluster", key=lambda cell: ranks[cell.plain if isinstance(cell, Content) else cell])
            if on is not None:
                table.move_cursor(row=table.get_row_index(on), animate=False)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.app.open_cluster(str(event.row_key.value))


register_screen(
    "fleet",
    lambda app: FleetScreen(),
    "Every cluster at a glance, worst first",
    aliases=("clusters", "ls"),
    title="Fleet",
)
