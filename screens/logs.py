"""The log screen (`:logs`): the cluster's db2diag and audit logs from CloudWatch, live, in one virtual
view merged by time, with a detail panel and a Logs Insights panel.

The status line says how events arrive (Live Tail, or polling and how often, and why) and whether AWS
sampled the stream; in the lab it says that db2ops, not moto, evaluates patterns and queries.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from textual import events, work
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Input, Static

from services.cluster_model import HadrStatus
from services.inventory.model import Cluster
from services.logs.bin_chart import bin_series
from services.logs.insights import (
    InsightsError,
    TimeRangeError,
    parse_instant,
    parse_time_range,
)
from services.logs.model import LEVELS, LogEntry
from services.logs.tail import TailStatus
from services.words import plural
from tui.screen_registry import ScreenUnavailable, register_screen
from tui.widgets.fit_size import fit_size
from tui.widgets.fitted_footer import FittedFooter
from tui.widgets.header import ConsoleHeader
from tui.widgets.insights_panel import InsightsPanel
from tui.widgets.log_detail import LogDetail
from tui.widgets.log_view import LogView

if TYPE_CHECKING:
    from tui.app import Db2OpsApp

_TAKEOVER_MARKS = (
    "HADR database role set to PRIMARY",
    "HADR role set to Primary",
    "Received TAKEOVER HADR command",
)
# "polling every 1 s: <why>" / "polling every 1 s while Live Tail starts" (services/logs/tail.py)
_POLL_REASON = re.compile(r"polling every (?P<every>\S+ s)(?::\s*|\s+)?(?P<rest>.*)$", re.DOTALL)
_PROMPTS = {
    "filter": "filter: CloudWatch filter pattern (e.g. ?Error ?Severe, worker -APPUSR); ! inverts; empty clears",
    "search": "search: text to highlight (case-insensitive); n / N next / previous",
    "time": "jump to time (UTC): 2026-11-26 10:05, 10:05:30 or -15m",
}


def mode_text(status: TailStatus, lab: bool) -> Content:
    """Return the status-line text for the feed: mode (with the polling interval), sampled flag, error,
    lab note, then the reason, which is the longest part and the one a narrow terminal may cut."""
    reason = status.reason
    if status.mode == "live-tail":
        head = Content.styled("● Live Tail", "bold $text-success")
    elif status.mode == "polling":
        interval = _POLL_REASON.match(reason)
        label = "◌ polling" + (f" every {interval['every']}" if interval else "")
        reason = interval["rest"] if interval else reason
        head = Content.styled(label, "bold $text-warning")
    else:
        head = Content.styled("■ stopped", "bold $text-error")
    parts = [head]
    if status.sampled:
        parts.append(
            Content.styled(
                " · SAMPLED by AWS (over 500 events/s: not every event is shown)", "bold $text-warning"
            )
        )
    if status.error:
        parts.append(Content.styled(f" · ⚠ {status.error}", "$text-error"))
    if status.scope_note:  # whose streams are read (all, or none yet): said before the reason is cut
        parts.append(Content.styled(f" · ⚠ {status.scope_note}", "bold $text-warning"))
    if lab:
        parts.append(
            Content.styled(" · lab: moto (filters and Insights evaluated by db2ops)", "$text-accent")
        )
    if reason:
        parts.append(Content.styled(f" · {reason}", "$foreground-muted"))
    return Content.assemble(*parts)


def view_text(view: LogView, following: str = "following") -> Content:
    """Return the second status line: counts, follow/pending, source mode, filter and hidden levels.
    `following`: what following the tail means here (live: new CloudWatch events; a replay: its time)."""
    store = view.store
    bits = [
        f"{len(store.visible):,} of {plural(len(store), 'entry', 'entries')}",
        f"source: {view.source_mode}",
    ]
    if view.follow:
        bits.append(following)
    else:
        bits.append(f"paused · {view.pending:,} new" if view.pending else "paused")
    if store.filter.pattern_text:
        bits.append(f"filter: {'!' if store.filter.invert else ''}{store.filter.pattern_text}")
    if store.filter.hidden_levels:
        bits.append("hidden: " + ",".join(lvl for lvl in LEVELS if lvl in store.filter.hidden_levels))
    if view.search_term:
        bits.append(f"search: {view.search_term}")
    return Content(" · ".join(bits))


class LogsScreen(Screen[None]):
    """Live db2diag + audit log of one cluster. `/` filter, `s` search, `t` time jump, `i` Insights."""

    HELP = (
        "Both Db2 logs from CloudWatch, merged by time. Enter expands a record; / filters (CloudWatch "
        "filter-pattern syntax, ! inverts), s searches (n/N), J jumps to a time, 1-6 toggle levels "
        "(Critical, Severe, Error, Warning, Event, Info), tab cycles all/diag/audit, m marks, e exports "
        "what is visible (on an Insights `stats … by bin()` result, its chart too, as SVG), G follows the tail, "
        "i opens Logs Insights, r reconnects the feed."
    )

    BINDINGS = [
        Binding("i", "toggle_insights", "Insights"),
        Binding("d", "toggle_detail", "Detail"),
        Binding("escape", "close_prompt", "Close prompt", show=False),
        Binding("x", "cancel_query", "Cancel query"),
        Binding("r", "restart_feed", "Reconnect"),
    ]

    def __init__(self, cluster: Cluster, service: Any = None, *, start_tail: bool = True) -> None:
        super().__init__(name=f"logs:{cluster.name}")
        self.cluster = cluster
        self.service = service
        self.start_tail = start_tail and service is not None
        self.tail: Any = None
        self.tail_status = TailStatus(reason="starting" if self.start_tail else "not following CloudWatch")
        self.prompt_kind = ""

    FOLLOWING = "following"  # the counts line's word for a view at its tail (view_text)

    def compose(self) -> ComposeResult:
        yield ConsoleHeader("logs", self.cluster)
        yield Static(self.first_mode_line(), id="logs-mode")
        yield Static("", id="logs-counts")
        with Horizontal(id="logs-body"):
            with Vertical(id="logs-main"):
                yield LogView(id="log-view")
                yield InsightsPanel(id="insights")
            yield LogDetail(id="log-detail")
        yield Input(id="logs-prompt", classes="-hidden")
        yield FittedFooter()

    DEFAULT_CSS = """
    LogsScreen #logs-mode, LogsScreen #logs-counts { height: 1; padding: 0 1; }
    LogsScreen #logs-counts { color: $text-muted; }
    LogsScreen #logs-body { height: 1fr; }
    LogsScreen #logs-main { width: 1fr; }
    LogsScreen #log-view { height: 1fr; }
    LogsScreen #insights { display: none; }
    LogsScreen.-insights #insights { display: block; }
    LogsScreen.-insights #log-view { height: 1fr; }
    LogsScreen.-no-detail #log-detail { display: none; }
    LogsScreen #logs-prompt { dock: bottom; margin-bottom: 1; }
    LogsScreen #logs-prompt.-hidden { display: none; }
    /* narrow terminals: the detail goes under the list so the message column keeps the full width */
    LogsScreen.-narrow #logs-body { layout: vertical; }
    LogsScreen.-tiny #logs-mode { height: auto; }
    LogsScreen.-narrow #log-detail {
        width: 100%; max-width: 100%; height: 40%; border-left: none; border-top: hkey $primary 40%;
    }
    """

    def first_mode_line(self) -> Content:
        """The mode line before the feed reports: starting, or not following CloudWatch."""
        return mode_text(self.tail_status, self.cluster.aws.is_lab)

    @property
    def view(self) -> LogView:
        return self.query_one("#log-view", LogView)

    def on_resize(self, event: events.Resize) -> None:
        fit_size(self, event.size.width, event.size.height)

    def on_mount(self) -> None:
        fit_size(self, self.app.size.width, self.app.size.height)
        self.view.focus()
        self._show_counts()
        if self.start_tail:
            self._start_feed()

    def _start_feed(self) -> None:
        self.tail = self.service.tail(self._on_entries, self._on_tail_status)
        self.tail.start()

    async def action_restart_feed(self) -> None:
        """Stop and start the CloudWatch feed (after fixing credentials, or to retry Live Tail)."""
        if self.service is None:
            self.notify("no CloudWatch service for this cluster: check its aws settings", severity="warning")
            return
        if self.tail is not None:
            self.tail.on_status = None
            await self.tail.stop()
        self._start_feed()

    async def on_unmount(self) -> None:
        if self.tail is not None:
            self.tail.on_status = None  # the widgets are gone: nothing left to show the last status on
            self.tail.on_events = lambda _events: None
            await self.tail.stop()

    # ------------------------------------------------------------------ feed
    def _on_entries(self, entries: list[LogEntry]) -> None:
        self.view.add_entries(entries)

    def _on_tail_status(self, status: TailStatus) -> None:
        self.tail_status = status
        self.query_one("#logs-mode", Static).update(mode_text(status, self.cluster.aws.is_lab))

    def _show_counts(self) -> None:
        self.query_one("#logs-counts", Static).update(view_text(self.view, self.FOLLOWING))

    def on_log_view_status_changed(self, message: LogView.StatusChanged) -> None:
        if message.view.id == "log-view":
            self._show_counts()

    def on_log_view_highlighted(self, message: LogView.Highlighted) -> None:
        if not self.has_class("-no-detail"):
            self.query_one(LogDetail).show(message.entry)

    # ------------------------------------------------------------------ prompt (filter, search, time)
    def on_log_view_prompt_requested(self, message: LogView.PromptRequested) -> None:
        if message.view.id != "log-view":
            return
        self.prompt_kind = message.kind
        prompt = self.query_one("#logs-prompt", Input)
        prompt.placeholder = _PROMPTS[message.kind]
        current = {"filter": self._filter_text(), "search": self.view.search_term}.get(message.kind, "")
        prompt.value = current
        prompt.remove_class("-hidden")
        prompt.focus()

    def _filter_text(self) -> str:
        f = self.view.store.filter
        return f"{'!' if f.invert else ''}{f.pattern_text}"

    def action_close_prompt(self) -> None:
        prompt = self.query_one("#logs-prompt", Input)
        if prompt.has_class("-hidden"):
            if isinstance(self.focused, Input):
                # in an Insights field escape leaves the field, not the screen (and what was typed there)
                self.view.focus()
                return
            raise SkipAction()  # no prompt open: escape means the app's "back"
        prompt.add_class("-hidden")
        self.prompt_kind = ""
        self.view.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "logs-prompt":
            return
        event.stop()
        if self.apply_prompt(self.prompt_kind, event.value):
            self.action_close_prompt()

    def apply_prompt(self, kind: str, text: str) -> bool:
        """Apply a filter/search/time-jump text; return False (and say why) when it cannot be used."""
        from services.logs.filter_pattern import FilterPatternError

        view = self.view
        if kind == "filter":
            try:
                view.set_filter_text(text)
            except FilterPatternError as exc:
                self.notify(f"{exc}", title="Filter pattern", severity="error")
                return False
            warnings = getattr(view.store.filter.compiled, "warnings", None) or []
            for warning in warnings:
                self.notify(warning, title="Filter pattern", severity="warning", timeout=10)
        elif kind == "search":
            if view.set_search(text.strip()) < 0 and text.strip():
                self.notify(f"no visible entry contains {text.strip()!r}", severity="warning")
        elif kind == "time":
            try:
                when = parse_instant(text, datetime.now(UTC))
            except TimeRangeError as exc:
                self.notify(str(exc), title="Time jump", severity="error")
                return False
            view.jump_to_time(when)
        self._show_counts()
        return True

    # ------------------------------------------------------------------ panels
    def action_toggle_detail(self) -> None:
        self.toggle_class("-no-detail")
        if not self.has_class("-no-detail"):
            self.query_one(LogDetail).show(self.view.selected)

    def action_toggle_insights(self) -> None:
        self.toggle_class("-insights")
        if self.has_class("-insights"):
            self.query_one("#insights-range", Input).focus()
        else:
            self.view.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_query":
            return self.has_class("-insights")
        return True

    def action_cancel_query(self) -> None:
        cancelled = self.workers.cancel_group(self, "insights")
        if cancelled:
            self.query_one(InsightsPanel).show_status("cancelled: stop_query sent", "warning")

    def last_failover(self) -> datetime | None:
        """Return the time of the last takeover: from HADR status when polled, else from the log."""
        from tui.app import Db2OpsApp  # loaded already (the header imports it); here to keep it lazy

        latest: float | None = None
        app = self.app
        if isinstance(app, Db2OpsApp):  # else a bare app (tests) polls nothing: the log itself tells
            feed = app.feed(self.cluster.name)
            now, interval = app.now(), app.refresh_interval
            for host in self.cluster.db_hosts:
                hadr: HadrStatus | None = feed.view(f"hadr:{host.name}", now, interval).value
                # the takeover time is per HADR stream (db2pd prints one block per standby)
                for stream in hadr.streams if hadr is not None else ():
                    if stream.last_takeover_time:
                        latest = max(latest or 0.0, stream.last_takeover_time)
        if latest:
            return datetime.fromtimestamp(latest, UTC)
        for entry in reversed(self.view.store.entries):
            if entry.source == "diag" and any(mark in entry.text for mark in _TAKEOVER_MARKS):
                return entry.time
        return None

    def on_insights_panel_run_requested(self, message: InsightsPanel.RunRequested) -> None:
        panel = self.query_one(InsightsPanel)
        try:
            time_range = parse_time_range(message.range_text, datetime.now(UTC), self.last_failover())
        except TimeRangeError as exc:
            panel.show_status(str(exc), "error")
            return
        if self.service is None:
            panel.show_status("no CloudWatch service for this cluster: check its aws settings", "error")
            return
        self.run_insights(message.query, time_range, message.source)

    @work(exclusive=True, group="insights", exit_on_error=False, description="Logs Insights query")
    async def run_insights(self, query: str, time_range: Any, source: str) -> None:
        """Run the query; the panel shows each status, then the rows (or a clear error)."""
        panel = self.query_one(InsightsPanel)
        trail: list[str] = []

        def on_status(status: str) -> None:
            trail.append(status)
            panel.show_status(f"{' → '.join(trail)} · {time_range.label}")

        try:
            result = await self.service.insights(query, time_range, sources=(source,), on_status=on_status)
        except InsightsError as exc:
            panel.show_status(str(exc), "error")
            return
        entries = self.service.result_entries(result, source)
        bits = [" → ".join(trail) or result.status, plural(len(result.rows), "row"), time_range.label]
        if result.evaluated_by:
            bits.append(f"evaluated by {result.evaluated_by}")
        if result.message:
            bits.append(result.message)
        panel.show_status(" · ".join(bits), "" if result.status == "Complete" else "warning")
        panel.show_results(entries)
        panel.show_chart(bin_series(result.fields, result.rows))


def _open_logs(app: Db2OpsApp) -> LogsScreen:
    cluster = app.current_cluster
    if cluster is None:
        raise ScreenUnavailable("no cluster selected: pick one on :fleet first, then :logs")
    # the context's CloudWatchLogs: Insights evaluated by the backend the composition root chose
    return LogsScreen(cluster, app.context.logs(cluster))


register_screen(
    "logs", _open_logs, "Db2 diag and audit logs from CloudWatch (live, Insights)", aliases=("log",)
)
