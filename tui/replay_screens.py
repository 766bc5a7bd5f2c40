"""The replay's screens: the console's status, fleet, timeline and log screens on recorded data (their
live bindings replaced by read-only ones) and the alarms as recorded, each with the time scrubber."""

from __future__ import annotations

from bisect import bisect_right
from typing import TYPE_CHECKING

from textual import getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Static

from screens.fleet import FleetScreen
from screens.logs import LogsScreen
from screens.status import StatusScreen
from screens.timeline import TimelineScreen
from screens.timeline_incidents import IncidentPanel
from services.inventory.model import Cluster
from services.logs.model import LogEntry
from services.record.model import ALARM, LOG, RecordingReader
from services.record.replay_feed import log_entries, timeline_until
from services.timeline.model import SOURCES
from services.words import plural
from tui.widgets.fitted_footer import FittedFooter
from tui.widgets.format import format_age, format_clock
from tui.widgets.header import ConsoleHeader
from tui.widgets.plain_text import plain_cells
from tui.widgets.scrubber import ReplayScrubber

if TYPE_CHECKING:
    from tui.replay import ReplayApp

_FOCUS: list[Binding | tuple[str, str] | tuple[str, str, str]] = [
    Binding("tab", "app.focus_next", "Focus next", show=False),
    Binding("shift+tab", "app.focus_previous", "Focus previous", show=False),
]


class ReplayStatusScreen(StatusScreen, inherit_bindings=False):
    """The status screen on recorded data (no drills) with the scrubber."""

    HELP = (
        "The cluster as recorded at the time in the header: every age and headline is against that time. "
        "[ and ] step to the previous or next change, p plays (> switches 1×/10×), g or :at goes to a time."
    )

    BINDINGS = _FOCUS

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield ReplayScrubber()


class ReplayFleetScreen(FleetScreen, inherit_bindings=False):
    """Every recorded cluster at the replay's time, worst first; Enter opens one."""

    HELP = (
        "Every recorded cluster as it was at the time in the header, worst first; Enter opens one. "
        "[ and ] step through the changes of all of them."
    )
    BINDINGS = _FOCUS

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield ReplayScrubber()


class ReplayIncidentPanel(IncidentPanel):
    KEYS = "i go to the next (the replay moves to its start)"


class ReplayTimelineScreen(TimelineScreen, inherit_bindings=False):
    """The timeline as recorded up to the replay's time; 1-4 filter, i goes to the next recorded incident;
    nothing to collect, export or bundle."""

    if TYPE_CHECKING:
        app = getters.app(ReplayApp)

    BINDINGS = [
        Binding("1", "toggle_source('status')", "Status"),
        Binding("2", "toggle_source('journal')", "Journal"),
        Binding("3", "toggle_source('alarm')", "Alarms"),
        Binding("4", "toggle_source('log')", "Logs"),
        Binding("i", "next_incident", "Incident"),
    ]

    HELP = (
        "What was recorded for this cluster up to the time in the header: status changes, journal entries, "
        "alarm changes and log records. 1-4 toggle the sources."
    )

    def compose(self) -> ComposeResult:
        for widget in super().compose():
            if isinstance(widget, IncidentPanel):  # the live panel names b (bundle): absent here
                widget = ReplayIncidentPanel(widget.source)
            yield widget
        yield ReplayScrubber()

    def filters_content(self) -> Content:
        """The live line without its "e export": a replay exports nothing (a bundle does, headless)."""
        parts: list[str | tuple[str, str]] = []
        for key, source in enumerate(SOURCES, start=1):
            on = source in self.sources
            parts += [
                (f"[{key}] {source} {'on' if on else 'off'}", "bold $accent" if on else "$foreground-muted"),
                "  ",
            ]
        shown = (
            f"{len(self.shown)} of {plural(len(self.timeline), 'entry', 'entries')} up to the replay's time"
        )
        return Content.assemble(*parts, (shown, "$foreground-muted"))

    def action_next_incident(self) -> None:
        """Select the next recorded incident and move the replay to its start (its first degraded
        snapshot): the incident list is the recording's map."""
        super().action_next_incident()
        panels = self.query(IncidentPanel)
        incident = panels.first().incident if panels else None
        if incident is not None:
            self.app.replay_clock.playing = False
            self.app.move_to(incident.start)

    def show_at(self, reader: RecordingReader, at: float) -> None:
        """Show the recorded timeline up to `at`."""
        self.timeline = timeline_until(reader, self.cluster.name, at)
        self._drawn = (-1, frozenset())  # a new timeline object: draw it whatever its version
        self.redraw()


class ReplayLogsScreen(LogsScreen, inherit_bindings=False):
    """The log screen on the recorded log records up to the replay's time: no CloudWatch, no Insights."""

    HELP = (
        "The log records recorded for this cluster up to the time in the header (the ones the timeline "
        "uses), merged by time. Enter expands a record; / filters, s searches (n/N), J jumps to a time, "
        "1-6 toggle levels, d hides the detail."
    )
    BINDINGS = [
        Binding("d", "toggle_detail", "Detail"),
        Binding("escape", "close_prompt", "Close prompt", show=False),
    ]

    # at its tail the view moves with the replay's clock (show_at), never with CloudWatch
    FOLLOWING = "following the replay"

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(cluster, None, start_tail=False)
        # The cluster's LOG items read so far (ascending by time, up to `_read_until`), the entries each
        # became, and how many of them the view holds: moving the replay's time adds or removes only the
        # records it passes, so the store keeps the DBA's filter, hidden levels and marks, and the same
        # entry objects come back when stepping forward again (the cursor and expansions hold on to them).
        self._item_times: list[float] = []
        self._item_entries: list[list[LogEntry]] = []
        self._read_until: float | None = None
        self._shown_count = -1

    def compose(self) -> ComposeResult:
        yield from super().compose()
        yield ReplayScrubber()

    @property
    def ready(self) -> bool:
        """True once the records up to the replay's time are in the view (the app shows them just after
        the screen's first refresh)."""
        return self._shown_count >= 0

    def first_mode_line(self) -> Content:
        # until show_at has read the recording: the live "not following CloudWatch" says nothing here
        return recorded_mode_line(None)

    def show_at(self, reader: RecordingReader, at: float) -> None:
        """Show the recorded log records up to `at`: the view gains the records the replay passed since
        the last call and loses the ones after `at` (stepping back); nothing changes when none was passed."""
        if self._read_until is None or at > self._read_until:
            # read only the stretch not read yet: a playing replay's tick costs a query of its few seconds
            new = reader.items(self.cluster.name, since=self._read_until, until=at, kinds=[LOG])
            if self._read_until is not None:
                new = [i for i in new if i.at > self._read_until]  # `since` is inclusive: those are held
            self._item_times += [i.at for i in new]
            self._item_entries += [log_entries([i]) for i in new]
            self._read_until = at
        count = bisect_right(self._item_times, at)
        if count == self._shown_count:
            return
        shown = max(self._shown_count, 0)
        view = self.view
        if count > shown:
            view.add_entries([e for entries in self._item_entries[shown:count] for e in entries])
        else:
            view.remove_entries([e for entries in self._item_entries[count:shown] for e in entries])
        self._shown_count = count
        self.query_one("#logs-mode", Static).update(recorded_mode_line(count))


def recorded_mode_line(count: int | None) -> Content:
    """The replay log screen's mode line: recorded records up to the replay's time (`None`: not read yet)."""
    what = "the records" if count is None else plural(count, "record")
    return Content.assemble(
        ("■ recorded", "bold $text-accent"),
        (f" · {what} of interest up to the replay's time", "$foreground-muted"),
    )


def alarm_rows(alarms: tuple[object, ...], now: float) -> list[tuple[str, str, str, str]]:
    """(name, state, since, for) per recorded ClusterAlarm, ALARM first."""
    from services.cluster_model import ClusterAlarm

    rows = []
    for alarm in sorted(
        (a for a in alarms if isinstance(a, ClusterAlarm)), key=lambda a: (a.state != "ALARM", a.name)
    ):
        age = alarm.age(now)
        rows.append(
            (alarm.name, alarm.state, format_clock(alarm.since, now), "—" if age is None else format_age(age))
        )
    return rows


class ReplayAlarmsScreen(Screen[None]):
    """The cluster's CloudWatch alarms as recorded at the replay's time, and their recorded changes."""

    HELP = (
        "The cluster's CloudWatch alarms as the recording saw them at the time in the header, and every "
        "recorded alarm state change up to then. Nothing here reaches AWS."
    )
    BINDINGS = _FOCUS
    DEFAULT_CSS = """
    ReplayAlarmsScreen #alarms-table { height: auto; max-height: 50%; }
    ReplayAlarmsScreen #alarm-changes { height: 1fr; padding: 0 1; }
    """

    if TYPE_CHECKING:
        app = getters.app(ReplayApp)

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(name=f"alarms:{cluster.name}")
        self.cluster = cluster

    def compose(self) -> ComposeResult:
        yield ConsoleHeader("alarms", self.cluster)
        yield DataTable(id="alarms-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="alarm-changes")
        yield ReplayScrubber()
        yield FittedFooter()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, width in (("Alarm", 48), ("State", 18), ("Since", 20), ("For", 10)):
            table.add_column(label, width=width, key=label)
        self.app.status_signal.subscribe(self, lambda _name: self.refresh_view())
        self.refresh_view()

    def refresh_view(self) -> None:
        app = self.app
        now = app.now()
        status = app.feed(self.cluster.name).status
        part = status.alarms if status is not None else None
        table = self.query_one(DataTable)
        table.clear()
        if part is None or part.value is None:
            why = "no alarm state was recorded" if part is None else f"not read: {part.error}"
            table.add_row(*plain_cells(why, "", "", ""))
        else:
            for row in alarm_rows(tuple(part.value), now):
                table.add_row(*plain_cells(*row))
        changes = app.reader.items(self.cluster.name, until=now, kinds=[ALARM])
        lines = [Content.styled(f"Recorded alarm changes ({len(changes)})", "bold")]
        for item in reversed(changes[-50:]):
            p = item.payload
            was = f"{p.get('previous')} → " if p.get("previous") else ""
            lines.append(
                Content(f"{format_clock(item.at, now)}  {p.get('name', '?')}: {was}{p.get('state', '?')}")
            )
        if not changes:
            lines.append(Content.styled("none up to the replay's time", "$foreground-muted"))
        self.query_one("#alarm-changes", Static).update(Content("\n").join(lines))
