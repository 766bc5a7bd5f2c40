"""Muted text is muted in every theme.

`$text-muted` (and `$text`) are "auto 60%" / "auto 87%": TCSS works out a contrasting colour from that, but a
Content or markup style cannot, and draws the text full white (black on the light theme). Content styles use
`$foreground-muted` (`$foreground`) instead; TCSS keeps `color: $text-muted`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.color import Color
from textual.content import Content
from textual.widgets import Static

from themes.themes import THEMES
from tui.widgets.events_log import EventsLog
from tui.widgets.panel_text import MUTED

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(p for d in ("screens", "tui") for p in (ROOT / d).rglob("*.py"))
AUTO_VARIABLES = ("$text-muted", "$text")  # the theme variables whose value is "auto N%"
CSS_NAMES = {"DEFAULT_CSS", "CSS"}


def auto_styles_outside_css(source: str, name: str = "<source>") -> list[str]:
    """Return "file:line: text" for each str constant naming an "auto" theme variable outside a CSS block
    (`DEFAULT_CSS = ...` / `CSS = ...`): that str can only be a Content or markup style."""
    tree = ast.parse(source)
    css = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") in CSS_NAMES for t in node.targets)
    }
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in css:
            words = node.value.replace("[", " ").replace("]", " ").split()
            if any(w in AUTO_VARIABLES for w in words):
                found.append(f"{name}:{node.lineno}: {node.value!r}")
    return sorted(found, key=lambda f: int(f.split(":")[1]))


def test_the_guard_sees_a_content_style_and_lets_css_pass():
    bad = 'x = Content.styled("a", "bold $text-muted")\ny = "[$text]hi[/]"\n'
    good = 'class W:\n    DEFAULT_CSS = "W { color: $text-muted; }"\nz = Content.styled("a", "$foreground-muted")\n'
    assert [f.split(":")[1] for f in auto_styles_outside_css(bad)] == ["1", "2"]
    assert auto_styles_outside_css(good) == []


def test_no_content_or_markup_style_uses_an_auto_colour():
    found = [
        f for path in SOURCES for f in auto_styles_outside_css(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert found == []


class _Muted(App[None]):
    def compose(self) -> ComposeResult:
        yield Static(Content.styled("muted", MUTED), id="muted")
        yield Static("plain", id="plain")
        yield EventsLog(id="events")  # "no state changes yet", muted


def _colour(app: App[None], selector: str, text: str) -> Color:
    widget = app.query_one(selector)
    for y in range(widget.region.height):
        for segment in widget.render_line(y):
            if text in segment.text and segment.style and segment.style.color:
                return Color.from_rich_color(segment.style.color)
    raise AssertionError(f"{text!r} not drawn in {selector}")


def distance(a: Color, b: Color) -> float:
    return abs(a.brightness - b.brightness)


@pytest.mark.parametrize("theme", [t.name for t in THEMES])
async def test_muted_content_is_drawn_between_the_text_and_the_background(theme):
    app = _Muted()
    for t in THEMES:
        app.register_theme(t)
    async with app.run_test(size=(60, 12)) as pilot:
        app.theme = theme
        await pilot.pause()
        background = Color.parse(app.theme_variables["background"])
        text = _colour(app, "#plain", "plain")
        for selector, words in (("#muted", "muted"), ("#events-body", "no state changes yet")):
            muted = _colour(app, selector, words)
            # nearer the background than the normal text is: visibly muted, never full white/black
            assert distance(muted, background) < 0.8 * distance(text, background), (theme, selector, muted)
