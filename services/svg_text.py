"""Small standalone SVG documents for reports (the failover strip, Logs Insights bar charts): no external
dependencies, every piece of text escaped.

Text from outside (host names, query fields) may carry markup (`<script>`, `"` closing an attribute) or
characters XML 1.0 forbids even escaped (C0 controls, lone surrogates, U+FFFE/U+FFFF): an SVG holding one
would not open at all, or would run what it carries. `svg_text` makes any text safe as element content or
as an attribute value.
"""

from __future__ import annotations

import re

from services.text_safety import safe_line

# What XML 1.0 cannot hold even as a character reference (safe_line already removed C0/C1 and bidi)
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
_MARKUP = re.compile("[&<>\"']")
FONT = 'font-family="DejaVu Sans Mono, Menlo, Consolas, monospace"'


def svg_text(text: object) -> str:
    """Return `text` on one line, without controls, escaped for SVG element content and attribute values."""
    line = _NOT_XML.sub("", safe_line(text))
    return _MARKUP.sub(lambda m: _ENTITIES[m.group(0)], line)


def svg_document(width: int, height: int, title: str, body: list[str]) -> str:
    """Return a standalone SVG of `width` x `height` with an accessible `title` and the `body` elements."""
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" {FONT} font-size="12">',
            f"<title>{svg_text(title)}</title>",
            f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
            *body,
            "</svg>",
            "",
        ]
    )
