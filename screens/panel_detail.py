"""Detail views of the status screen, where the full texts live (panels and banner show short forms):
a panel's facts (source host, fetch time, command, full error) and every verdict with its hint."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from services.status.poll import PartView
from tui.widgets.banner import BannerText
from tui.widgets.format import format_age, format_clock


def detail_content(title: str, views: Sequence[PartView], now: float) -> Content:
    """Return the detail text of a panel titled `title` built from its part views."""
    lines: list[Content] = [Content.styled(title, "bold $primary"), Content("")]
    for view in views:
        state = (
            ("STALE: the values are the last known, not live", "bold $warning")
            if view.stale
            else ("fresh", "$success")
        )
        lines.append(Content.assemble((view.key, "bold"), "  ", state))
        fetched = "never" if view.shown is None else format_clock(view.shown.fetched_at, now)
        age = "" if view.age is None else f" ({format_age(view.age)} ago)"
        # a stale part's time is when its host last answered; a fresh one's, when this value arrived
        rows = [("source", view.source or "?"), ("last seen" if view.stale else "fetched", f"{fetched}{age}")]
        if view.command:
            rows.append(("command", view.command))
        for key, value in rows:
            lines.append(Content.assemble((f"  {key:<10}", "$foreground-muted"), value))
        if view.error:
            lines.append(
                Content.assemble(("  error     ", "$foreground-muted"), (view.error.message, "$warning"))
            )
            if view.error.in_backoff:  # SshPool's reconnect backoff: the user need not wait
                lines.append(
                    Content.styled("  space retries now, without waiting for the backoff", "$accent")
                )
        lines.append(Content(""))
    if not views:
        lines.append(Content.styled("no data behind this panel yet", "$foreground-muted"))
    lines.append(Content.styled("Escape closes this view.", "$foreground-muted"))
    return Content("\n").join(lines)


def verdict_content(cluster: str, text: BannerText) -> Content:
    """Return every verdict of `text` in full (with its hint), worst first."""
    lines: list[Content] = [Content.styled(f"Verdicts — {cluster}", "bold $primary"), Content("")]
    lines.append(Content.assemble(("now  ", "$foreground-muted"), (text.headline, "bold")))
    lines.append(Content(""))
    for item in text.full or ("nothing wrong found in the last snapshot",):
        head, _, hint = item.partition("\n")
        lines.append(Content(head))
        if hint:
            lines.append(Content.styled(hint, "$foreground-muted"))
    lines += [Content(""), Content.styled("Escape closes this view.", "$foreground-muted")]
    return Content("\n").join(lines)


class DetailScreen(ModalScreen[None]):
    """A modal text view; Escape, -, q or Enter closes it."""

    HELP = "Where the data came from and the full texts the panels shorten."
    BINDINGS = [Binding("escape,minus,q,enter", "close", "Close", id="detail.close")]
    DEFAULT_CSS = """
    DetailScreen { align: center middle; }
    DetailScreen > VerticalScroll {
        width: 100; max-width: 95%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    DetailScreen Static { height: auto; }
    """

    def __init__(self, content: Content) -> None:
        super().__init__()
        self._content = content

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self._content, id="detail-text")

    def action_close(self) -> None:
        self.dismiss(None)


class PanelDetailScreen(DetailScreen):
    """The facts behind one status panel."""

    def __init__(self, title: str, views: Sequence[PartView], now: float) -> None:
        super().__init__(detail_content(title, views, now))


class VerdictDetailScreen(DetailScreen):
    """Every verdict of the banner in full."""

    def __init__(self, cluster: str, text: BannerText) -> None:
        super().__init__(verdict_content(cluster, text))
