"""A footer that never ends in half a word ("- Ba"): on a narrow terminal it leaves out whole keys, the
least important first, and keeps Help, Command and Back whatever the width (help lists every key)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.cells import cell_len
from textual import events
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# below this many columns the ^p palette key gives its place to the screen's own keys (^p still works)
PALETTE_MIN_WIDTH = 120
# actions shown whatever the width: the way to every other key, and the way out
ALWAYS = frozenset({"help", "command_prompt", "back", "leave"})
# the app-wide keys dropped before any of the screen's own keys, first dropped first
DROP_FIRST = ("cycle_theme", "toggle_pause", "refresh_now")


def key_width(key: FooterKey) -> int:
    """Columns one key takes in the default footer style: " K " then "Description "."""
    return cell_len(key.key_display) + 2 + (cell_len(key.description) + 1 if key.description else 0)


def keys_that_fit(keys: list[FooterKey], width: int) -> list[FooterKey]:
    """Return `keys` (in their order) without the least important ones until they fit in `width`."""
    dropped: set[int] = set()
    candidates = [k for a in DROP_FIRST for k in keys if k.action == a]
    candidates += [k for k in reversed(keys) if k.action not in ALWAYS and k not in candidates]
    total = sum(key_width(k) for k in keys)
    for key in candidates:
        if total <= width:
            break
        dropped.add(id(key))
        total -= key_width(key)
    return [k for k in keys if id(k) not in dropped]


class FittedFooter(Footer):
    """The console's footer (see the module doc); recomposes when the terminal width changes."""

    def compose(self) -> Iterable[Widget]:
        widgets = list(super().compose())
        width = self.app.size.width
        palette = [w for w in widgets if isinstance(w, FooterKey) and w.has_class("-command-palette")]
        if width < PALETTE_MIN_WIDTH:
            palette = []
        keys = [w for w in widgets if isinstance(w, FooterKey) and not w.has_class("-command-palette")]
        if any(not isinstance(w, FooterKey) for w in widgets):  # key groups: leave them as Textual drew them
            yield from widgets
            return
        budget = width - sum(key_width(p) + 2 for p in palette)
        yield from keys_that_fit(keys, budget)
        yield from palette

    def on_resize(self, event: events.Resize) -> None:
        if event.size.width != getattr(self, "_composed_width", None):
            self._composed_width = event.size.width
            self.call_after_refresh(self.recompose)
