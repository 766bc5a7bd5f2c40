"""The events panel: state changes between snapshots, newest first (the seed of the incident timeline)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.widgets.banner import short_message
from tui.widgets.format import format_clock
from tui.widgets.plain_text import plain

if TYPE_CHECKING:  # types only: the status model stays off the first frame
    from services.status.events import StatusEvent

_SEVERITY_STYLE = {"ok": "$success", "info": "$primary", "warning": "$warning", "critical": "$error bold"}
_RANK = {"ok": 0, "info": 1, "warning": 2, "critical": 3}
TOAST_LINES = 3


def severity_of(event: StatusEvent) -> str:
    """Return the event's severity word: "ok", "info", "warning" or "critical"."""
    return event.severity.value


def event_line(event: StatusEvent, now: float | None = None) -> Content:
    """Return "14:02:11 CRITICAL promoted node changed: db2a → db2b" for one StatusEvent (raw SSH errors
    in the message are shortened: "db2a became unreachable: connection refused")."""
    severity = severity_of(event)
    return Content.assemble(
        (format_clock(event.at, now), "$foreground-muted"),
        " ",
        (f"{severity.upper():8}", _SEVERITY_STYLE.get(severity, "")),
        " ",
        short_message(event.message),
    )


def events_toast(events: list[StatusEvent]) -> tuple[str, str]:
    """Return (worst severity, text) for ONE toast summing up a poll's events: the worst first, at most
    TOAST_LINES lines, then "+N more in the events panel"."""
    ranked = sorted(events, key=lambda e: -_RANK.get(severity_of(e), 1))
    worst = severity_of(ranked[0]) if ranked else "info"
    lines = [f"{severity_of(e).upper()}: {short_message(e.message, 72)}" for e in ranked[:TOAST_LINES]]
    if len(ranked) > TOAST_LINES:
        lines.append(f"+{len(ranked) - TOAST_LINES} more in the events panel")
    return worst, "\n".join(lines)


class EventsLog(VerticalScroll):
    """Scrollable list of events, newest on top: at least 5 rows (3 on a short terminal), at most 10."""

    DEFAULT_CSS = """
    EventsLog { height: auto; min-height: 7; max-height: 12; border: round $primary 50%; padding: 0 1; }
    EventsLog > Static { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Events"
        self._count = -1

    def compose(self) -> ComposeResult:
        yield Static(Content.styled("no state changes yet", "$foreground-muted"), id="events-body")

    def show(self, events: Iterable[StatusEvent], version: int, now: float | None = None) -> None:
        """Display `events` (oldest first as stored; shown newest first); `version` skips redraws."""
        if version == self._count:
            return
        self._count = version
        items = list(events)
        self.set_class(not items, "-empty")  # a short terminal hides the panel until something happened
        self.border_title = plain(f"Events ({len(items)})")
        body = self.query_one("#events-body", Static)
        if not items:
            body.update(Content.styled("no state changes yet", "$foreground-muted"))
            return
        body.update(Content("\n").join(event_line(e, now) for e in reversed(items)))
