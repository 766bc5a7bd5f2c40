"""Text whose wrapped lines hang under their own words (a hanging indent), for the verdict banner.

Textual wraps a long line back to column 0, which put "started 4 s ago" under the severity badge. Here
each row is a lead (badge, indent, arrow) and a body; the body is wrapped to the width left after the lead
and its continuation lines start where the body started.
"""

from __future__ import annotations

from textual.content import Content
from textual.css.styles import RulesMap
from textual.strip import Strip
from textual.style import Style
from textual.visual import RenderOptions


class HangingContent(Content):
    """Rows of (lead, body) drawn with each body's continuation lines indented to the lead's width.

    Its plain text is the rows unwrapped (what tests and copy-paste read); only drawing wraps.
    """

    def __init__(self, rows: list[tuple[Content, Content]]) -> None:
        joined = Content("\n").join(lead + body for lead, body in rows)
        super().__init__(joined.plain, list(joined.spans), joined.cell_length)
        self._rows = rows
        self._wrapped: tuple[int, Content] | None = None

    def wrapped(self, width: int) -> Content:
        """Return the rows wrapped to `width` cells, continuation lines indented under their body."""
        if self._wrapped is not None and self._wrapped[0] == width:
            return self._wrapped[1]
        lines: list[Content] = []
        for lead, body in self._rows:
            # a lead wider than half the line would leave a column of single words: no indent then
            indent = lead.cell_length if lead.cell_length * 2 <= width else 0
            if indent == 0:
                lines += (lead + body).wrap(max(1, width))
                continue
            pieces = body.wrap(width - indent) if body.cell_length else [Content("")]
            lines.append(lead + pieces[0])
            lines += [Content(" " * indent) + piece for piece in pieces[1:]]
        result = Content("\n").join(lines)
        self._wrapped = (width, result)
        return result

    def get_height(self, rules: RulesMap, width: int) -> int:
        if rules.get("text_wrap", "wrap") == "nowrap":  # nothing wraps: nothing hangs
            return super().get_height(rules, width)
        return self.wrapped(max(1, width - rules.get("line_pad", 0) * 2)).get_height(rules, width)

    def render_strips(
        self, width: int, height: int | None, style: Style, options: RenderOptions
    ) -> list[Strip]:
        if not width or options.rules.get("text_wrap", "wrap") == "nowrap":
            return super().render_strips(width, height, style, options)
        inner = max(1, width - options.rules.get("line_pad", 0) * 2)
        return self.wrapped(inner).render_strips(width, height, style, options)
