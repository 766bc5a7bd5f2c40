"""Size classes a screen's CSS keys its narrow-terminal layout on: `-narrow` below 110 columns (100x30),
`-tiny` below 90 (80x24), `-short` below 32 rows. One place, so every screen agrees what "narrow" is."""

from __future__ import annotations

from textual.dom import DOMNode

NARROW_COLUMNS = 110
TINY_COLUMNS = 90
SHORT_ROWS = 32


def fit_size(node: DOMNode, width: int, height: int) -> None:
    """Set `node`'s size classes for a terminal of `width` x `height`."""
    node.set_class(width < NARROW_COLUMNS, "-narrow")
    node.set_class(width < TINY_COLUMNS, "-tiny")
    node.set_class(height < SHORT_ROWS, "-short")
