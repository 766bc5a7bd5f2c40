"""A bordered panel that always says where its data came from and how old it is, and greys out
(CSS class `-stale`) instead of blanking when its data is old or the last fetch failed."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.widgets import Static

from tui.refresh import PartView
from tui.widgets.format import format_age


def panel_subtitle(views: Sequence[PartView]) -> str:
    """Return "db2a 1.2s" / "STALE db2b 12s" style text naming each source and the age of its data."""
    bits = []
    for view in views:
        age = format_age(view.age) if view.age is not None else "no data"
        bits.append(f"{view.source or '?'} {age}")
    prefix = "STALE · " if any(v.stale for v in views) else ""
    return prefix + " · ".join(dict.fromkeys(bits))


class StatusPanel(Static):
    """One panel of the status screen."""

    DEFAULT_CSS = """
    StatusPanel { height: auto; border: round $primary 50%; padding: 0 1; }
    StatusPanel.-stale { border: round $warning 60%; color: $text-muted; }
    """

    def __init__(self, title: str, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.border_title = title

    def show(self, body: Content | None, views: Sequence[PartView]) -> None:
        """Display `body` (rendered from the freshest good values) with source, age and any error."""
        stale = any(v.stale for v in views)
        self.set_class(stale, "-stale")
        self.border_subtitle = panel_subtitle(views)
        errors = [f"{v.source}: {v.error}" for v in views if v.error]
        lines: list[Content] = []
        if body is not None:
            lines.append(body.stylize_before("dim") if stale else body)
        elif not errors:
            lines.append(Content.styled("no data yet", "$text-muted"))
        for error in dict.fromkeys(errors):
            shown = " (showing the last good value)" if body is not None else ""
            lines.append(Content.styled(f"⚠ {error}{shown}", "$warning"))
        self.update(Content("\n").join(lines))
