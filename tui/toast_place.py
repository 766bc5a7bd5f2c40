"""Where toasts go: never over a text field the DBA may be typing in, nor over the header and verdict banner.

Textual docks its toast rack at the bottom right of the screen, one row above the footer. On the failover
screen that is the typed confirmation, on the log screen the filter prompt, and a stack of toasts after a
kill reached the banner. Here the rack keeps its corner but is lifted above the inputs in its column and
limited in height to the free rows below the banner; it scrolls when there are more toasts than rows.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.screen import Screen
from textual.widgets import Input, TextArea
from textual.widgets._toast import ToastRack

TOAST_WIDTH = 60  # Textual's Toast: width 60, max-width 50% of the screen
MIN_ROWS = 3  # a one-line toast with its padding


def toast_column(width: int) -> tuple[int, int]:
    """Return the x range [start, end) toasts occupy on a screen `width` columns wide."""
    return width - min(TOAST_WIDTH, width // 2) - 1, width


def free_band(height: int, top: int, blocked: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """Return (margin_bottom, max_height) of the rack docked at the bottom: the lowest band of free rows
    between row `top` and the footer (the last row) that avoids the `blocked` row ranges [y0, y1) and is
    at least MIN_ROWS high; the tallest band when none is; (1, 0) when no row is free."""
    bands: list[tuple[int, int]] = []  # [start, end) free rows, bottom first
    end = height - 1
    for y0, y1 in sorted(((max(a, top), min(b, height - 1)) for a, b in blocked), key=lambda r: -r[1]):
        if y1 <= y0:
            continue
        if y1 < end:
            bands.append((y1, end))
        end = min(end, y0)
    if end > top:
        bands.append((top, end))
    for start, stop in bands:
        if stop - start >= MIN_ROWS:
            return height - stop, stop - start
    if not bands:
        return 1, 0
    start, stop = max(bands, key=lambda b: b[1] - b[0])
    return height - stop, stop - start


def protected_rows(screen: Screen[object]) -> tuple[int, list[tuple[int, int]]]:
    """Return (first row below the header and banner, row ranges of the inputs in the toast column)."""
    from tui.widgets.banner import VerdictBanner
    from tui.widgets.header import ConsoleHeader

    top = 0
    for widget in screen.query(VerdictBanner).results():
        if widget.display and widget.region.height:
            top = max(top, widget.region.bottom)
    for header in screen.query(ConsoleHeader).results():
        if header.display and header.region.height:
            top = max(top, header.region.bottom)
    x0, x1 = toast_column(screen.size.width)
    blocked = []
    for field in screen.query("Input, TextArea").results():
        if not isinstance(field, Input | TextArea) or not field.display:
            continue
        region = field.region
        if region.height and region.x < x1 and region.right > x0:
            blocked.append((region.y, region.bottom))
    return top, blocked


def place_toasts(screen: Screen[object]) -> None:
    """Lift and limit `screen`'s toast rack so it covers neither an input nor the banner."""
    try:
        rack = screen.get_child_by_type(ToastRack)
    except Exception:  # no rack yet: the next notification places it
        return
    top, blocked = protected_rows(screen)
    margin_bottom, rows = free_band(screen.size.height, top, blocked)
    if rack.styles.margin.bottom != margin_bottom:
        rack.styles.margin = (0, 0, margin_bottom, 0)
    if rack.styles.max_height is None or rack.styles.max_height.value != rows:
        rack.styles.max_height = rows
