"""The incident timeline (`:timeline`): status changes, the operator journal (failover steps included),
alarm state changes and db2diag records of interest, merged in time order for the current cluster.

1-4 toggle the sources (status, journal, alarm, log), `e` exports what is shown as a Markdown incident
report (the path is shown in a toast), `r` collects again. The recorded incidents (issue 13) are listed above
the table (screens/timeline_incidents.py): `i` selects the next, `b` writes its post-incident bundle. Log records and alarm changes are read from
CloudWatch by the timeline itself (services/timeline/sources.py), no :logs or :alarms screen needed; why a
source is missing shows on the header line.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Static

from screens.timeline_incidents import IncidentPanel
from services.inventory.model import Cluster
from services.plans.journal import Journal, journal_for
from services.record.incident_source import IncidentSource
from services.record.strip import Strip, failover_strip, strip_text
from services.timeline.model import SOURCES, Timeline, TimelineEntry
from services.timeline.sources import TimelineSources
from services.words import plural
from tui.screen_registry import ScreenUnavailable, register_screen
from tui.widgets.fit_size import fit_size
from tui.widgets.fitted_footer import FittedFooter
from tui.widgets.header import ConsoleHeader
from tui.widgets.plain_text import plain_cells
from tui.write_export import write_export

if TYPE_CHECKING:
    from services.status.events import StatusEvent
    from tui.app import Db2OpsApp

_SEV_LOOK = {
    "ok": ("✔ ok", "$text-success"),
    "info": ("· info", ""),
    "warning": ("⚠ warn", "$text-warning"),
    "critical": ("✖ crit", "bold $text-error"),
}


def export_file_name(cluster: str, now: float) -> str:
    """Return db2ops-incident-<cluster>-<UTC stamp>.md (safe characters only)."""
    label = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in cluster).strip(".") or "cluster"
    return f"db2ops-incident-{label}-{datetime.fromtimestamp(now, UTC):%Y%m%dT%H%M%SZ}.md"


def default_export_dir() -> Path:
    """Return data_dir()/timeline-exports, where `e` writes incident reports."""
    from services.paths import data_dir

    return data_dir() / "timeline-exports"


class _EventFeed(Protocol):
    @property
    def events(self) -> Iterable[StatusEvent]: ...


class TimelineApp(Protocol):
    """What collect_from_app reads of the console (Db2OpsApp; a plain namespace in tests)."""

    def feed(self, name: str, /) -> _EventFeed: ...

    @property
    def screen_stack(self) -> Sequence[object]: ...


async def collect_from_app(
    app: TimelineApp,
    cluster: Cluster,
    timeline: Timeline,
    *,
    logs: bool = True,
    journal: Journal | None = None,
    sources: TimelineSources | None = None,
) -> None:
    """Feed `timeline` from what the console has: the cluster's status events, the journal, an open log
    screen's store (when `logs`), then `sources` (CloudWatch logs and alarm history; all of it when `logs`,
    else what is due). Without `sources`, an open alarm screen's list gives the alarm states."""
    feed = app.feed(cluster.name)
    timeline.add_status_events(list(feed.events))
    read = await asyncio.to_thread((journal or journal_for(cluster)).read, cluster.name)
    timeline.add_journal(read.entries)
    for screen in list(app.screen_stack):
        other = getattr(screen, "cluster", None)
        if getattr(other, "name", None) != cluster.name:
            continue
        store = getattr(getattr(screen, "view", None), "store", None)
        if logs and store is not None and hasattr(store, "entries"):
            timeline.add_log_entries(list(store.entries))
        alarms = getattr(screen, "alarms", None)
        if sources is None and isinstance(alarms, list) and alarms:
            timeline.add_alarm_states(alarms, time.time())
    if sources is not None:
        await sources.poll(force=logs)


def entry_detail(entry: TimelineEntry | None) -> Content:
    """Return the detail panel text for `entry` (a hint when None)."""
    if entry is None:
        return Content.styled("No entry selected.", "$foreground-muted")
    word, style = _SEV_LOOK.get(entry.severity.value, (entry.severity.value, ""))
    lines = [
        Content.styled(entry.title, "bold"),
        Content.assemble(("when    ", "$foreground-muted"), f"{entry.stamp()} (UTC)"),
        Content.assemble(("source  ", "$foreground-muted"), entry.source, "   ", (word, style)),
    ]
    if entry.detail:
        lines += [Content(""), Content(entry.detail)]
    return Content("\n").join(lines)


class TimelineScreen(Screen[None]):
    """The merged timeline of one cluster."""

    HELP = (
        "What happened to this cluster, in time order: status changes, applied steps (the failover's too), "
        "alarm changes and db2diag Severe/Error/HADR records. 1-4 toggle the sources, e exports Markdown; "
        "i selects a recorded incident, b writes its post-incident bundle (under the state dir)."
    )

    BINDINGS = [
        Binding("1", "toggle_source('status')", "Status"),
        Binding("2", "toggle_source('journal')", "Journal"),
        Binding("3", "toggle_source('alarm')", "Alarms"),
        Binding("4", "toggle_source('log')", "Logs"),
        Binding("e", "export", "Export"),
        Binding("r", "collect", "Collect again"),
        Binding("i", "next_incident", "Incident"),
        Binding("b", "export_bundle", "Bundle"),
    ]

    DEFAULT_CSS = """
    TimelineScreen #tl-filters { height: 1; padding: 0 1; }
    TimelineScreen #tl-strip { height: 1; padding: 0 1; display: none; }
    TimelineScreen #tl-notes { height: auto; max-height: 4; padding: 0 1; color: $warning; display: none; }
    TimelineScreen #tl-notes.-shown { display: block; }
    TimelineScreen #tl-strip.-shown { display: block; }
    TimelineScreen #tl-body { height: 1fr; }
    TimelineScreen #tl-table { width: 1fr; height: 1fr; }
    TimelineScreen #tl-detail { width: 44; height: 1fr; padding: 0 1; border-left: vkey $primary 40%; }
    /* narrow terminals: the detail goes under the table and times lose their date (the detail keeps it),
       so the What column gets the width */
    TimelineScreen.-narrow #tl-body { layout: vertical; }
    TimelineScreen.-narrow #tl-detail {
        width: 100%; height: 35%; border-left: none; border-top: hkey $primary 40%;
    }
    TimelineScreen.-tiny #tl-filters { height: auto; }
    """

    def __init__(
        self,
        cluster: Cluster,
        timeline: Timeline,
        *,
        collect: Callable[[bool], Awaitable[None]] | None = None,
        export_dir: Path | None = None,
        clock: Callable[[], float] = time.time,
        poll_interval: float = 2.0,
        notes: Callable[[], Mapping[str, str]] | None = None,
        incidents: IncidentSource | None = None,
        strip: Callable[[], Strip | None] | None = None,
    ) -> None:
        super().__init__(name=f"timeline:{cluster.name}")
        self.cluster = cluster
        self.timeline = timeline
        self.collect = collect
        self.export_dir = export_dir
        self.clock = clock
        self.poll_interval = poll_interval
        # why a source is missing or incomplete (source -> hint, services.timeline.sources): each in full on
        # its own line above the table (a hint a DBA must read: one header line cannot hold two), the header
        # names the sources
        self.notes = notes
        self.shown_notes: tuple[tuple[str, str], ...] = ()
        self.strip = strip  # the latest failover of the live cluster, drawn above the table (None: none)
        self.sources: set[str] = set(SOURCES)
        self.shown: list[TimelineEntry] = []
        self._drawn: tuple[int, frozenset[str]] = (-1, frozenset())
        self.incidents = incidents  # the recorded incidents; None: no panel (no recording to read)
        self._incidents_read = 0.0

    def compose(self) -> ComposeResult:
        yield ConsoleHeader("timeline", self.cluster)
        yield Static("", id="tl-filters")
        yield Static("", id="tl-notes")
        if self.incidents is not None:
            yield IncidentPanel(self.incidents)
        yield Static("", id="tl-strip")
        with Horizontal(id="tl-body"):
            yield DataTable(id="tl-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="tl-detail")
        yield FittedFooter()

    def on_mount(self) -> None:
        fit_size(self, self.app.size.width, self.app.size.height)
        self._add_columns()
        self.redraw()
        self.action_collect()
        if self.poll_interval > 0:
            self.set_interval(self.poll_interval, lambda: self._start_collect(logs=False))

    def _add_columns(self) -> None:
        table = self.query_one(DataTable)
        table.clear(columns=True)
        narrow = self.has_class("-narrow")
        table.add_column("Time (UTC)", key="time", width=13 if narrow else 24)
        table.add_column("Source", key="source", width=7 if narrow else 8)
        table.add_column("Sev" if narrow else "Severity", key="sev", width=6 if narrow else 8)
        table.add_column("What", key="what")
        self._drawn = (-1, frozenset())  # the rows go with the columns: draw them again

    def on_resize(self, event: events.Resize) -> None:
        narrow = self.has_class("-narrow")
        fit_size(self, event.size.width, event.size.height)
        if narrow != self.has_class("-narrow"):
            self._add_columns()
            self.redraw()
        self._show_strip()

    def action_collect(self) -> None:
        self._start_collect(logs=True)

    def _start_collect(self, *, logs: bool) -> None:
        if self.collect is None and self.incidents is None:
            self.redraw()
            return
        self.run_worker(self._collect(logs), group="timeline-collect", exclusive=True, exit_on_error=False)

    async def _collect(self, logs: bool) -> None:
        try:
            if self.collect is not None:  # _start_collect checked; the attribute is public, so again
                await self.collect(logs)
        except Exception as exc:  # keep what we have; say why it is incomplete
            self.notify(f"timeline incomplete: {type(exc).__name__}: {exc}", severity="warning")
        await self._read_incidents(every=0.0 if logs else INCIDENTS_EVERY_S)
        notes = tuple(sorted(self.notes().items())) if self.notes is not None else ()
        if notes != self.shown_notes:
            self.shown_notes = notes
            self._show_notes()
        self.redraw()

    def _show_notes(self) -> None:
        notes = self.shown_notes
        extra = f"⚠ incomplete: {', '.join(source for source, _ in notes)}" if notes else ""
        self.query_one(ConsoleHeader).set_cluster(self.cluster, extra=extra)
        box = self.query_one("#tl-notes", Static)
        box.update(Content("\n").join(Content(f"⚠ {source}: {hint}") for source, hint in notes))
        box.set_class(bool(notes), "-shown")

    # not `action_toggle`: textual's DOMNode has an (async) action_toggle of its own
    def action_toggle_source(self, source: str) -> None:
        if source in self.sources:
            self.sources.discard(source)
        else:
            self.sources.add(source)
        self.redraw()

    def filters_content(self) -> Content:
        """Return the filter line: each source with its key, on or off, and the count shown."""
        parts: list[str | tuple[str, str]] = []
        for key, source in enumerate(SOURCES, start=1):
            on = source in self.sources
            parts.append(
                (f"[{key}] {source} {'on' if on else 'off'}", "bold $accent" if on else "$foreground-muted")
            )
            parts.append("  ")
        parts.append(
            (
                f"{len(self.shown)} of {plural(len(self.timeline), 'entry', 'entries')} · e export",
                "$foreground-muted",
            )
        )
        return Content.assemble(*parts)

    def redraw(self) -> None:
        """Rebuild the table when the timeline or the filters changed."""
        key = (self.timeline.version, frozenset(self.sources))
        if key != self._drawn:
            self._drawn = key
            self.shown = self.timeline.entries(sources=self.sources)
            table = self.query_one(DataTable)
            table.clear()
            narrow = self.has_class("-narrow")
            for i, e in enumerate(self.shown):
                word, style = _SEV_LOOK.get(e.severity.value, (e.severity.value, ""))
                stamp = e.stamp().partition(" ")[2] if narrow else e.stamp()  # the detail keeps the date
                table.add_row(*plain_cells(stamp, e.source, Content.styled(word, style), e.title), key=str(i))
            if self.shown:
                table.move_cursor(row=len(self.shown) - 1)
        self.query_one("#tl-filters", Static).update(self.filters_content())
        self._show_strip()
        self._show_detail()

    def _show_strip(self) -> None:
        strip = self.strip() if self.strip is not None else None
        line = self.query_one("#tl-strip", Static)
        line.set_class(strip is not None, "-shown")
        if strip is not None:
            # the screen's width less the padding; the strip shortens its labels to fit
            text = strip_text(strip, max(10, self.app.size.width - 2))
            line.update(Content.styled(text, "bold $warning" if not strip.planned else "bold"))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        row = self.query_one(DataTable).cursor_row
        entry = self.shown[row] if 0 <= row < len(self.shown) else None
        self.query_one("#tl-detail", Static).update(entry_detail(entry))

    def action_export(self) -> None:
        self.run_worker(self._export(), group="timeline-export", exclusive=True, exit_on_error=False)

    async def _export(self) -> None:
        if not self.shown:  # an empty report is no report: say why instead of writing one
            why = "no entries yet" if not len(self.timeline) else "the sources shown (1-4) hide every entry"
            self.notify(f"Nothing to export: {why}.", title="Export", severity="warning")
            return
        now = self.clock()
        text = self.timeline.to_markdown(sources=self.sources, now=now)
        folder = self.export_dir or default_export_dir()
        path = folder / export_file_name(self.cluster.name, now)
        try:
            await write_export(path, text)
        except OSError as exc:
            self.notify(f"Could not export: {exc}. Check that {folder} is writable.", severity="error")
            return
        self.notify(f"Incident report written to {path}", title="Exported", timeout=10)

    async def _read_incidents(self, every: float) -> None:
        """Read the recorded incidents again when `every` seconds passed (a week's recording is not
        scanned on every 2-second poll)."""
        panels = self.query(IncidentPanel)
        now = time.monotonic()
        if not panels or (self._incidents_read and now - self._incidents_read < every):
            return
        self._incidents_read = now
        await panels.first().refresh_incidents()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # without a recording to read (a replay, a test) the incident keys are not offered
        if action in ("next_incident", "export_bundle"):
            return self.incidents is not None
        return True

    def action_next_incident(self) -> None:
        panels = self.query(IncidentPanel)
        if not panels:
            self.notify("No recording: incidents are listed when the console records.", severity="warning")
        elif panels.first().select_next() is None:
            self.notify("No recorded incident for this cluster.", title="Incidents")

    def action_export_bundle(self) -> None:
        self.run_worker(self._export_bundle(), group="timeline-bundle", exclusive=True, exit_on_error=False)

    async def _export_bundle(self) -> None:
        panels = self.query(IncidentPanel)
        incident = panels.first().incident if panels else None
        if incident is None or self.incidents is None:
            self.notify(
                "No recorded incident to bundle: select one with i.", title="Bundle", severity="warning"
            )
            return
        try:
            result = await asyncio.to_thread(self.incidents.export, incident, self.clock())
        except OSError as exc:
            self.notify(
                f"Could not write the bundle: {exc}. Check that its folder is writable.", severity="error"
            )
            return
        except ValueError as exc:  # no recording, nothing in the span (BundleError, RecordingUnavailable)
            self.notify(f"No bundle written: {exc}", severity="warning")
            return
        self.notify(
            f"Bundle of incident #{incident.number} written to {result.path}", title="Bundle", timeout=15
        )


INCIDENTS_EVERY_S = 30.0


def _open_timeline(app: Db2OpsApp) -> TimelineScreen:
    cluster = app.current_cluster
    if cluster is None:
        raise ScreenUnavailable("no cluster selected: open one on :fleet first, then :timeline")
    # The session's timeline and read positions live on the context: reopening the screen keeps them.
    timeline = app.context.timeline(cluster.name)
    sources = app.context.timeline_sources_for(cluster)
    journal = app.context.journal(cluster)

    async def collect(logs: bool) -> None:
        await collect_from_app(app, cluster, timeline, logs=logs, journal=journal, sources=sources)

    def strip() -> Strip | None:
        # the console keeps the snapshots where the strip's facts changed (ClusterFeed.moments); the
        # latest snapshot dates how long a pending phase has waited
        feed = app.feed(cluster.name)
        latest = [feed.status] if feed.status is not None else []
        return failover_strip([*feed.moments, *latest])

    incidents = IncidentSource(cluster.name, journal_dir=journal.directory)
    return TimelineScreen(
        cluster, timeline, collect=collect, notes=lambda: sources.notes, incidents=incidents, strip=strip
    )


register_screen(
    "timeline",
    _open_timeline,
    "Incident timeline: status changes, journal, alarms and log records in time order",
    aliases=("incident", "tl"),
)
