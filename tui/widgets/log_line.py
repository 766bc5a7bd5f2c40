"""Rendering of one LogView row into a Strip: `time  D  Level  host  summary`, expanded text lines,
marker rules, with search matches highlighted. Kept apart so the view module stays about behaviour."""

from __future__ import annotations

import re
from collections.abc import Callable

from rich.segment import Segment
from rich.style import Style
from textual.strip import Strip

from services.logs.model import LEVELS, MARKER, LogEntry, from_us
from services.logs.summary import one_line

TIME_WIDTH = 23  # "2026-11-26 10:00:00.123"
SHORT_TIME_WIDTH = 12  # "10:00:00.123": on a narrow view the date goes first (the detail keeps it)
LEVEL_WIDTH = 8
StyleOf = Callable[[str], Style]  # component name ("time", "error", "match", ...) -> Rich style


def prefix_width(host_width: int, time_width: int = TIME_WIDTH) -> int:
    """Return the cells before the summary: time, source tag + expand mark, level, host."""
    return time_width + 3 + LEVEL_WIDTH + 1 + host_width + 1


def highlighted(text: str, style: Style, style_of: StyleOf, search: re.Pattern[str] | None) -> list[Segment]:
    """Return `text` as segments with every `search` match in the "match" style."""
    if search is None:
        return [Segment(text, style)]
    segments, pos = [], 0
    match_style = style + style_of("match")
    for m in search.finditer(text):
        if m.start() > pos:
            segments.append(Segment(text[pos : m.start()], style))
        segments.append(Segment(m.group(), match_style))
        pos = m.end()
    if pos < len(text):
        segments.append(Segment(text[pos:], style))
    return segments


def detail_line(line: str, style_of: StyleOf, search: re.Pattern[str] | None) -> Strip:
    """Return one line of an expanded record (indented, muted)."""
    return Strip(highlighted("    " + line, style_of("detail"), style_of, search))


def entry_line(
    entry: LogEntry,
    style_of: StyleOf,
    search: re.Pattern[str] | None,
    layout: tuple[int, int],
    expanded: bool,
    time_width: int = TIME_WIDTH,
) -> Strip:
    """Return the one-line row of `entry`; layout is (host width, prefix width); `time_width`
    SHORT_TIME_WIDTH drops the date."""
    host_width, prefix = layout
    if entry.source == MARKER:
        label = f" {entry.summary} "
        rule = "─" * 4 + label + "─" * max(0, prefix + 40 - len(label))
        return Strip([Segment(rule, style_of("marker"))])
    stamp = from_us(entry.ts_us).strftime("%Y-%m-%d %H:%M:%S.%f")[:TIME_WIDTH][-time_width:]
    tag = "A" if entry.source == "audit" else "D"
    level_style = style_of(entry.level.lower()) if entry.level in LEVELS else Style()
    segments = [
        Segment(stamp, style_of("time")),
        Segment(f" {tag}{'▾' if expanded else ' '}", style_of("source")),
        Segment(f"{entry.level or '-':<{LEVEL_WIDTH}} ", level_style),
        Segment(f"{one_line(entry.host)[:host_width]:<{host_width}} ", style_of("host")),
    ]
    segments.extend(highlighted(entry.summary, level_style, style_of, search))
    return Strip(segments)
