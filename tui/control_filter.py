"""The last guard before the terminal: no control character in anything the console draws.

Names, parsed tool output, remote stderr, AWS names and journal lines reach many widgets; each screen builds
its own text. Rather than trust every builder, the app adds this line filter (Textual applies it to every
rendered line of every widget, borders and titles included): a segment of text that holds an escape, a C0/C1
control or a bidi override has those characters removed. They are zero cells wide, so the layout is kept;
the printable rest of an escape sequence ("[2J") is shown as text, harmless. Textual's own control segments
(cursor moves) are not text and pass through.
"""

from __future__ import annotations

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from services.text_safety import drawable


class ControlCharacterFilter(LineFilter):
    """Removes control characters (text_safety.drawable) from every text segment of a rendered line."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        whole = "".join(segment.text for segment in segments if not segment.control)
        if drawable(whole) is whole:  # the usual line: one check, nothing to remove
            return segments
        cleaned = None
        for index, segment in enumerate(segments):
            if segment.control:
                continue
            text = drawable(segment.text)
            if text is segment.text:  # the usual case: nothing to remove, no copy
                continue
            if cleaned is None:
                cleaned = list(segments)
            cleaned[index] = Segment(text, segment.style)
        return segments if cleaned is None else [s for s in cleaned if s.text or s.control]
