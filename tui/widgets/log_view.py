"""LogView: a Line-API virtual view over a LogStore (one line per record, Enter expands it).

`render_line(y)` renders only the rows on screen; the virtual height is the number of visible entries
plus the lines of expanded ones; rendered rows are kept in an LRU cache. DataTable is no log view: it
took 14.9 s for 100k rows on the target machine.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from services import paths
from services.logs.model import (
    LEVELS,
    MARKER,
    SOURCES,
    LogEntry,
    LogFilter,
    LogStore,
    export_entries,
)
from services.logs.summary import one_line
from services.words import plural
from tui.widgets.log_line import SHORT_TIME_WIDTH, TIME_WIDTH, detail_line, entry_line, prefix_width

# on a terminal narrower than this the times lose their date, so the message column keeps the width
FULL_TIME_MIN_WIDTH = 110

SOURCE_MODES: tuple[str, ...] = ("all", *SOURCES)  # tab cycles merged -> diag only -> audit only
_COMPONENTS = ("time", "host", "source", *(v.lower() for v in LEVELS), "detail", "cursor", "match", "marker")


class LogView(ScrollView, can_focus=True):
    """Scrollable log of LogEntry rows with follow mode, filter, search, level toggles and expansion."""

    COMPONENT_CLASSES = {f"log-view--{name}" for name in _COMPONENTS}

    DEFAULT_CSS = """
    LogView { background: $surface; overflow-x: hidden; }
    LogView > .log-view--time { color: $text-muted; }
    LogView > .log-view--host { color: $text-secondary; }
    LogView > .log-view--source { color: $text-muted; }
    LogView > .log-view--critical { color: $text-error; text-style: bold; }
    LogView > .log-view--severe { color: $text-error; text-style: bold; }
    LogView > .log-view--error { color: $text-error; }
    LogView > .log-view--warning { color: $text-warning; }
    LogView > .log-view--event { color: $text-accent; }
    LogView > .log-view--info { }
    LogView > .log-view--detail { color: $text-muted; }
    LogView > .log-view--cursor { background: $block-cursor-blurred-background; }
    LogView:focus > .log-view--cursor { background: $block-cursor-background; }
    LogView > .log-view--match { background: $warning 60%; text-style: bold; }
    LogView > .log-view--marker { color: $accent; text-style: bold; }
    """

    BINDINGS = [
        Binding("down,j", "move(1)", "Down", show=False),
        Binding("up,k", "move(-1)", "Up", show=False),
        Binding("home,g", "top", "Top", show=False),
        Binding("end,G", "end", "End/follow"),
        Binding("pagedown,space", "page(1)", "Page down", show=False),
        Binding("pageup,b", "page(-1)", "Page up", show=False),
        Binding("left,h", "scroll_sideways(-8)", "Left", show=False),
        Binding("right,l", "scroll_sideways(8)", "Right", show=False),
        Binding("enter", "toggle_expand", "Expand"),
        Binding("slash", "prompt('filter')", "Filter"),
        Binding("s,ctrl+f", "prompt('search')", "Search"),
        Binding("n", "next_match", "Next", show=False),
        Binding("N", "prev_match", "Prev", show=False),
        Binding("J", "prompt('time')", "Time jump"),  # j is vim's down, t the app's theme key
        Binding("m", "mark", "Mark"),
        Binding("e", "export", "Export"),
        Binding("tab", "cycle_source", "Source"),
        *[
            Binding(str(i + 1), f"toggle_level({i})", f"Toggle {lvl}", show=False)
            for i, lvl in enumerate(LEVELS)
        ],
    ]

    follow: reactive[bool] = reactive(True, init=False)
    cursor: reactive[int] = reactive(-1, init=False)

    class StatusChanged(Message):
        """Follow/pending/counts changed (the screen's status line shows them)."""

        def __init__(self, view: LogView) -> None:
            super().__init__()
            self.view = view

    class Highlighted(Message):
        """The cursor moved to `entry` (None when the view is empty); the detail panel shows it."""

        def __init__(self, view: LogView, entry: LogEntry | None) -> None:
            super().__init__()
            self.view = view
            self.entry = entry

    class PromptRequested(Message):
        """The user asked for an input prompt: kind is "filter", "search" or "time"."""

        def __init__(self, view: LogView, kind: str) -> None:
            super().__init__()
            self.view = view
            self.kind = kind

    def __init__(
        self, store: LogStore | None = None, *, follow: bool = True, name=None, id=None, classes=None
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.store = store or LogStore()
        self.set_reactive(LogView.follow, follow)
        self.pending = 0
        self.source_mode = "all"
        self.search_term = ""
        self._search_re: re.Pattern[str] | None = None
        self._expanded: dict[int, tuple[LogEntry, list[str]]] = {}  # id(entry) -> entry, its text lines
        self._exp_rows: list[tuple[int, int]] | None = []  # (visible index, extra lines), None = stale
        self._cache: LRUCache[tuple, Strip] = LRUCache(2048)
        self._generation = self.store.generation
        self._host_width = 4
        self._time_width = TIME_WIDTH
        self._text_width = 0
        self._styles: dict[str, Style] = {}

    # ----- data in -----------------------------------------------------------------------------------
    def add_entries(self, entries: list[LogEntry]) -> int:
        """Add entries (merged by time); return how many became visible. Follows the tail or counts them
        as pending when the user scrolled away."""
        if not entries:
            return 0
        top_row = round(self.scroll_y)
        indices = self.store.extend(entries)
        if len(entries) >= 10_000:
            # Hundreds of thousands of long-lived entries make every full GC pass rescan them (100+ ms
            # pauses while typing): move what exists now out of the GC's sight (refcounting still frees).
            gc.freeze()
        if self.store.generation != self._generation:  # bulk load or trim rebuilt the visible list
            self._reset_caches()
            if not self.follow:
                self.set_reactive(LogView.cursor, min(self.cursor, len(self.store.visible) - 1))
                self.pending += len(indices)
            self._after_change(len(indices))
            return len(indices)
        self._exp_rows = None
        if not self.follow:
            # Keep the cursor on its entry and the viewport still when entries land above them.
            for i in sorted(indices):
                if i <= self.cursor:
                    self.set_reactive(LogView.cursor, self.cursor + 1)
                if self._row_of(i) < top_row:
                    top_row += 1
            self.pending += len(indices)
            self._update_virtual_size()
            self.scroll_to(y=top_row, animate=False, immediate=True, force=True)
            self.refresh()
            self.post_message(self.StatusChanged(self))
            return len(indices)
        self._after_change(len(indices))
        return len(indices)

    def remove_entries(self, entries: list[LogEntry]) -> int:
        """Take `entries` out (the filter, hidden levels, search and marks stay); return how many of them
        were visible. Following, the view stays at the tail; paused, the cursor stays on its entry (near its
        time when that went) and the top row on its entry, and the pending count loses the removed ones."""
        if not entries:
            return 0
        keep = self.selected
        top_index, top_line = self._locate(round(self.scroll_y))
        top = self.store.visible[top_index] if top_index < len(self.store.visible) else None
        removed = self.store.remove(entries)
        self._reset_caches()  # an expanded entry taken out stays in _expanded: it shows again if re-added
        if self.follow:
            if not self.store.visible:
                self.cursor = -1
            self._after_change(0)
            return removed
        self.pending = max(0, self.pending - removed)
        self._update_virtual_size()
        count = len(self.store.visible)
        self.set_reactive(LogView.cursor, -2)  # the Highlighted message goes out even if the index is equal
        self.cursor = self._index_near(keep) if count else -1
        if top is not None and count:
            index = self.store.index_of(top)  # still there: the same line of it stays at the top
            row = self._row_of(index) + top_line if index >= 0 else self._row_of(self._index_near(top))
            self.scroll_to(y=row, animate=False, immediate=True, force=True)
        self.refresh()
        self.post_message(self.StatusChanged(self))
        return removed

    def _index_near(self, entry: LogEntry | None) -> int:
        """The visible index of `entry`, or of the first one at or after its time (the last when none)."""
        count = len(self.store.visible)
        if entry is None:
            return count - 1
        index = self.store.index_of(entry)
        if index < 0:
            index = min(self.store.index_at_time(entry.time), count - 1)
        return index

    def clear(self) -> None:
        """Forget every entry (and the filter, search stays); the view is empty afterwards."""
        self.store = LogStore(self.store.max_entries)
        self.source_mode = "all"
        self._expanded.clear()
        self._exp_rows = []
        self._cache.clear()
        self._generation = self.store.generation
        self._text_width = 0
        self.pending = 0
        self.set_reactive(LogView.cursor, -1)
        self._update_virtual_size()
        self.refresh()
        self.post_message(self.StatusChanged(self))

    def _after_change(self, added: int) -> None:
        self._update_virtual_size()
        if self.follow and self.store.visible:
            self.cursor = len(self.store.visible) - 1
            self._stick_to_end()
        self.refresh()
        self.post_message(self.StatusChanged(self))

    def _stick_to_end(self) -> None:
        # Scroll now, and again after the next layout: a scrollbar appearing changes max_scroll_y.
        self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        self.call_after_refresh(self._end_if_following)

    def _end_if_following(self) -> None:
        if self.follow and self.scroll_y != self.max_scroll_y:
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)

    def on_resize(self) -> None:
        time_width = TIME_WIDTH if self.app.size.width >= FULL_TIME_MIN_WIDTH else SHORT_TIME_WIDTH
        if time_width != self._time_width:
            self._time_width = time_width
            self._cache.clear()
            self._update_virtual_size()
        if self.follow:
            self._stick_to_end()

    def _measure(self, entry: LogEntry) -> None:
        # Host and summary are worked out lazily (first render), so the columns grow as rows are shown.
        host, text = len(entry.host), len(entry.summary)
        if host > self._host_width and self._host_width < 24:
            self._host_width = min(host, 24)
            self._cache.clear()
            self.call_after_refresh(self._relayout)
        if text > self._text_width:
            self._text_width = text
            self.call_after_refresh(self._relayout)

    def _relayout(self) -> None:
        self._update_virtual_size()
        self.refresh()

    # ----- geometry ----------------------------------------------------------------------------------
    @property
    def _prefix_width(self) -> int:
        return prefix_width(self._host_width, self._time_width)

    def _expanded_rows(self) -> list[tuple[int, int]]:
        if self._exp_rows is None:
            rows = []
            for entry, lines in self._expanded.values():
                i = self.store.index_of(entry)
                if i >= 0:
                    rows.append((i, len(lines)))
            self._exp_rows = sorted(rows)
        return self._exp_rows

    def _row_of(self, index: int) -> int:
        return index + sum(extra for i, extra in self._expanded_rows() if i < index)

    def _locate(self, row: int) -> tuple[int, int]:
        """Return (visible index, line within the entry: 0 = its summary) for a virtual row."""
        before = 0
        for i, extra in self._expanded_rows():
            start = i + before
            if row < start:
                break
            if row <= start + extra:
                return i, row - start
            before += extra
        return row - before, 0

    def _update_virtual_size(self) -> None:
        height = len(self.store.visible) + sum(extra for _, extra in self._expanded_rows())
        self.virtual_size = Size(self._prefix_width + self._text_width, height)

    def _reset_caches(self) -> None:
        self._generation = self.store.generation
        self._cache.clear()
        self._exp_rows = None

    def on_mount(self) -> None:
        self._after_change(len(self.store.visible))

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._styles.clear()
        self._cache.clear()

    # ----- rendering ---------------------------------------------------------------------------------
    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self.get_component_rich_style(f"log-view--{name}", partial=True)
            self._styles[name] = style
        return style

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        base = self.rich_style
        index, sub = self._locate(scroll_y + y)
        if index >= len(self.store.visible):
            return Strip.blank(width, base)
        entry = self.store.visible[index]
        key = (id(entry), sub, self.search_term)
        strip = self._cache.get(key)
        if strip is None:
            strip = self._render_entry_line(entry, sub)
            self._cache[key] = strip
        if index == self.cursor and sub == 0:
            strip = strip.extend_cell_length(scroll_x + width).apply_style(self._style("cursor"))
        return strip.crop_extend(scroll_x, scroll_x + width, base).apply_style(base)

    def _render_entry_line(self, entry: LogEntry, sub: int) -> Strip:
        expanded = self._expanded.get(id(entry))
        if sub > 0 and expanded is not None:
            return detail_line(expanded[1][sub - 1], self._style, self._search_re)
        if entry.source != MARKER:
            self._measure(entry)
        layout = (self._host_width, self._prefix_width)
        return entry_line(entry, self._style, self._search_re, layout, expanded is not None, self._time_width)

    # ----- cursor and scrolling ----------------------------------------------------------------------
    @property
    def selected(self) -> LogEntry | None:
        """The entry under the cursor, or None when nothing is visible."""
        if 0 <= self.cursor < len(self.store.visible):
            return self.store.visible[self.cursor]
        return None

    def watch_cursor(self, old: int, new: int) -> None:
        self.post_message(self.Highlighted(self, self.selected))
        self.refresh()

    def watch_follow(self, follow: bool) -> None:
        if follow:
            self.pending = 0
            if self.store.visible:
                self.cursor = len(self.store.visible) - 1
            self._update_virtual_size()
            self._stick_to_end()
        self.post_message(self.StatusChanged(self))

    def move_cursor(self, index: int) -> None:
        """Put the cursor on visible entry `index` (clamped), scroll it into view; leaving the last entry
        stops following, reaching it resumes following."""
        count = len(self.store.visible)
        if count == 0:
            return
        index = max(0, min(index, count - 1))
        self.cursor = index
        row = self._row_of(index)
        height = self.scrollable_content_region.height or 1
        extra = next((e for i, e in self._expanded_rows() if i == index), 0)
        if row < self.scroll_y:
            self.scroll_to(y=row, animate=False, immediate=True, force=True)
        elif row + extra >= self.scroll_y + height:
            self.scroll_to(y=min(row, row + extra - height + 1), animate=False, immediate=True, force=True)
        self.follow = index == count - 1

    def action_move(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_page(self, pages: int) -> None:
        self.move_cursor(self.cursor + pages * max(1, self.scrollable_content_region.height - 1))

    def action_top(self) -> None:
        self.move_cursor(0)

    def action_end(self) -> None:
        self.move_cursor(len(self.store.visible) - 1)
        self.follow = True

    def action_scroll_sideways(self, cells: int) -> None:
        # No horizontal scrollbar (its appearing would move the tail by a row); h/l and arrows scroll.
        self.scroll_to(x=max(0, self.scroll_x + cells), animate=False, immediate=True, force=True)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self.follow = False

    def on_click(self, event: events.Click) -> None:
        index, _ = self._locate(round(self.scroll_y) + event.y)
        if index < len(self.store.visible):
            self.move_cursor(index)

    # ----- expand, filter, search, levels, source ----------------------------------------------------
    def action_toggle_expand(self) -> None:
        entry = self.selected
        if entry is None or entry.source == MARKER:
            return
        if id(entry) in self._expanded:
            del self._expanded[id(entry)]
        else:
            lines = [one_line(line, 2000) for line in entry.text.rstrip().splitlines()]
            self._expanded[id(entry)] = (entry, lines)
        self._exp_rows = None
        self._cache.clear()
        self._update_virtual_size()
        self.move_cursor(self.cursor)
        self.refresh()

    def is_expanded(self, entry: LogEntry) -> bool:
        """Return True when `entry` shows its full text."""
        return id(entry) in self._expanded

    def _apply_filter(self, log_filter: LogFilter) -> None:
        keep = self.selected
        self.store.set_filter(log_filter)
        self._reset_caches()
        self._update_virtual_size()
        if self.follow or keep is None:
            index = len(self.store.visible) - 1
        else:
            index = self.store.index_of(keep)
            if index < 0:  # the selected entry is now hidden: stay near its time
                index = self.store.index_at_time(keep.time)
        self.set_reactive(LogView.cursor, -2)  # force the Highlighted message even if the index is equal
        if self.store.visible:
            self.move_cursor(index)
        else:
            self.cursor = -1
        self.refresh()
        self.post_message(self.StatusChanged(self))

    def set_filter_text(self, text: str) -> None:
        """Hide entries not matching `text` (filter-pattern syntax, `!` inverts, empty clears).

        Raises FilterPatternError for a pattern the evaluator rejects or one too expensive to run over this
        log on the event loop (timed on a sample, at most a quarter second); the filter is then unchanged."""
        from services.logs.filter_pattern import check_cost

        new = self.store.filter.with_pattern(text)
        if new.compiled is not None:
            check_cost(new.compiled, [e.text for e in self.store.entries])
        self._apply_filter(new)

    def action_toggle_level(self, index: int) -> None:
        level = LEVELS[index]
        hidden = set(self.store.filter.hidden_levels) ^ {level}
        self._apply_filter(replace(self.store.filter, hidden_levels=frozenset(hidden)))

    def action_cycle_source(self) -> None:
        mode = SOURCE_MODES[(SOURCE_MODES.index(self.source_mode) + 1) % len(SOURCE_MODES)]
        self.set_source_mode(mode)

    def set_source_mode(self, mode: str) -> None:
        """Show "all" sources merged by time, or only "diag" or only "audit"."""
        self.source_mode = mode
        sources = frozenset(SOURCES) if mode == "all" else frozenset({mode})
        self._apply_filter(replace(self.store.filter, sources=sources))

    def set_search(self, term: str) -> int:
        """Highlight `term` (case-insensitive) and move to its next match; return that index or -1."""
        self.search_term = term
        self._search_re = re.compile(re.escape(term), re.IGNORECASE) if term else None
        self.refresh()
        if not term:
            return -1
        found = self.store.find(term, self.cursor - 1)  # the entry under the cursor counts too
        if found >= 0:
            self.move_cursor(found)
        return found

    def action_next_match(self) -> int:
        found = self.store.find(self.search_term, self.cursor)
        if found >= 0:
            self.move_cursor(found)
        return found

    def action_prev_match(self) -> int:
        found = self.store.find(self.search_term, self.cursor, backwards=True)
        if found >= 0:
            self.move_cursor(found)
        return found

    def jump_to_time(self, when: datetime) -> None:
        """Move the cursor to the first visible entry at or after `when` (the last one if none)."""
        self.move_cursor(self.store.index_at_time(when))

    def action_prompt(self, kind: str) -> None:
        self.post_message(self.PromptRequested(self, kind))

    def action_mark(self) -> None:
        self.add_marker()

    def add_marker(self, label: str = "") -> LogEntry:
        """Add a marker line at the tail (now) and return it."""
        entry = self.store.add_marker(label)
        self._exp_rows = None
        self._after_change(1)
        return entry

    # Set by a panel whose export writes a file beside the entries (the Insights chart's SVG): called in the
    # export's thread with the entries' path, returns what else it wrote (None: nothing).
    export_extra: Callable[[Path], str | None] | None = None

    def action_export(self) -> None:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.export_to(paths.data_dir() / "exports" / f"logs-{stamp}.log")

    def export_to(self, path: Path) -> None:
        """Write the visible entries to `path` in a thread; a toast names the file (or the error)."""
        visible = list(self.store.visible)  # a snapshot: the feed keeps changing the store
        if not visible:  # an empty file is no export: say why instead of writing one
            why = "the filter or the hidden levels hide every entry" if len(self.store) else "no entries yet"
            self.notify(f"Nothing to export: {why}.", title="Export", severity="warning")
            return

        extra = self.export_extra

        def write() -> None:
            try:
                count = export_entries(visible, path)
                beside = extra(path) if extra is not None else None
            except OSError as exc:
                self.app.call_from_thread(
                    self.notify, f"Export failed: {exc}. Check the data dir is writable.", severity="error"
                )
                return
            also = f" and {beside}" if beside else ""
            self.app.call_from_thread(
                self.notify, f"Exported {plural(count, 'entry', 'entries')} to {path}{also}", title="Export"
            )

        self.run_worker(write, thread=True, group="log-export", description="export log entries")
