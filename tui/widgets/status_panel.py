"""A bordered panel that always says where its data came from and how old it is, and turns stale
(CSS class `-stale`) instead of blanking when its data is old or the last fetch failed.

A stale panel never shows its old values in the form of live ones: it says when its host was last seen
("last seen 12:03:41 (40 s ago)"), then the old values under a "last known" heading, dimmed and struck.
Errors show in a short form ("db2b unreachable: connection refused"); the full text and the commands
behind the panel are one click (or Enter) away in its detail view.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding
from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from services.status.poll import PartView
from tui.widgets.format import format_age, short_error
from tui.widgets.plain_text import plain
from tui.widgets.stale_text import last_seen_line

LAST_KNOWN = "last known values, not live:"


def panel_subtitle(views: Sequence[PartView]) -> str:
    """Return "db2a 1.2s" / "STALE db2b 12s" style text naming each source and the age of its data."""
    bits = []
    for view in views:
        age = format_age(view.age) if view.age is not None else "no data"
        bits.append(f"{view.source or '?'} {age}")
    prefix = "STALE · " if any(v.stale for v in views) else ""
    return prefix + " · ".join(dict.fromkeys(bits))


def error_line(view: PartView, has_body: bool) -> str:
    """Return "db2b unreachable: connection refused" for a view with an error (the age of the last good
    value is the panel's "last seen" line; " · no data yet" when there never was one)."""
    short = short_error(view.error.message if view.error is not None else "")
    # "unreachable: ..." reads as a sentence after the host name; other errors keep the colon
    text = f"{view.source} {short}" if short.startswith("unreachable") else f"{view.source}: {short}"
    if not has_body:
        text += " · no data yet"
    return text


class StatusPanel(Static, can_focus=True):
    """One panel of the status screen. Click it (or Enter when focused) for its detail view."""

    BINDINGS = [Binding("enter", "details", "Details", id="panel.details")]
    DEFAULT_CSS = """
    StatusPanel { height: auto; border: round $primary 50%; padding: 0 1; }
    StatusPanel.-stale { border: round $warning 60%; color: $text-muted; }
    StatusPanel:focus { border: round $accent; }
    """

    class DetailsRequested(Message):
        """Posted when the user asks for the panel's detail (full errors, commands, fetch times)."""

        def __init__(self, panel: StatusPanel) -> None:
            super().__init__()
            self.panel = panel

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.title_text = title  # as given, for the detail view's title
        self.border_title = plain(title)
        self.views: tuple[PartView, ...] = ()

    def show(
        self,
        body: Content | None,
        views: Sequence[PartView],
        *,
        grey_stale: bool = True,
        now: float | None = None,
        note: str = "",
    ) -> None:
        """Display `body` (rendered from the freshest good values) with source, age and any error.

        Stale: the errors and "last seen <time> (<age>)" (with `now`) come first, then `note` (e.g. "last
        known PRIMARY — db2b is primary now"), then the body under a "last known" heading, dimmed and
        struck. `grey_stale=False` keeps the body as drawn (the topology marks stale parts itself)."""
        self.views = tuple(views)
        stale = any(v.stale for v in views)
        self.set_class(stale, "-stale")
        self.border_subtitle = plain(panel_subtitle(views))
        lines: list[Content] = []
        for text in dict.fromkeys(error_line(v, body is not None) for v in views if v.error):
            lines.append(Content.styled(f"⚠ {text}", "$warning"))
        if body is None:
            if not any(v.error for v in views):
                lines.append(Content.styled("no data yet", "$foreground-muted"))
        elif not stale or not grey_stale:
            lines.append(body)
        else:
            seen = last_seen_line(views, now) if now is not None else ""
            if seen:
                lines.append(Content.styled(seen, "$warning bold"))
            if note:
                lines.append(Content.styled(note, "$warning bold"))
            # old values lose their colours, dimmed and struck: an old green "PEER" must not read as live
            # ($foreground-muted: "$text-muted" is "auto 60%", which a Content style draws full white)
            lines.append(Content.styled(LAST_KNOWN, "$foreground-muted underline"))
            lines.append(Content.styled(body.plain, "$foreground-muted strike"))
        self.update(Content("\n").join(lines))

    def on_click(self) -> None:
        self.post_message(self.DetailsRequested(self))

    def action_details(self) -> None:
        self.post_message(self.DetailsRequested(self))
