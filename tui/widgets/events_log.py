"""The events panel: state changes between snapshots, newest first (the seed of the incident timeline)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from tui.widgets.format import format_clock

_SEVERITY_STYLE = {"ok": "$success", "info": "$primary", "warning": "$warning", "critical": "$error bold"}


def event_line(event: Any, now: float | None = None) -> Content:
    """Return "14:02:11 CRITICAL promoted node changed: db2a → db2b" for one StatusEvent."""
    severity = getattr(event.severity, "value", str(event.severity))
    return Content.assemble(
        (format_clock(event.at, now), "$text-muted"),
        " ",
        (f"{severity.upper():8}", _SEVERITY_STYLE.get(severity, "")),
        " ",
        event.message,
    )


class EventsLog(VerticalScroll):
    """Scrollable list of events, newest on top."""

    DEFAULT_CSS = """
    EventsLog { height: auto; max-height: 14; border: round $primary 50%; padding: 0 1; }
    EventsLog > Static { height: auto; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Events"
        self._count = -1

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(Content.styled("no state changes yet", "$text-muted"), id="events-body")

    def show(self, events: Iterable[Any], version: int, now: float | None = None) -> None:
        """Display `events` (oldest first as stored; shown newest first); `version` skips redraws."""
        if version == self._count:
            return
        self._count = version
        items = list(events)
        self.border_title = f"Events ({len(items)})"
        body = self.query_one("#events-body", Static)
        if not items:
            body.update(Content.styled("no state changes yet", "$text-muted"))
            return
        body.update(Content("\n").join(event_line(e, now) for e in reversed(items)))
