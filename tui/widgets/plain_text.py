"""Outside text (names, parsed tool values, remote stderr, AWS names) put into widgets as text, never markup.

Textual reads a `str` given to Static/Label, a border title or a DataTable cell as markup: a resource named
"[@click=app.quit]x" would become a link that quits, "[link=...]" a hyperlink, "[/]" an error. Content
objects are never parsed, so widgets that show outside text take one of these instead of a str. Control
characters go too (text_safety); the app's render filter (tui.control_filter) is the last guard for them.
"""

from __future__ import annotations

from rich.markup import escape
from textual.content import Content

from services.text_safety import safe_line, safe_text


def plain(text: object) -> Content:
    """Return `text` (str() of it) as Content shown literally, without escape sequences or controls: for
    Static.update, Label and border titles."""
    return Content(safe_text(text))


def plain_cell(value: object) -> str:
    """Return a DataTable cell for `value` shown literally on one line: DataTable reads a str cell as Rich
    markup, so markup is escaped (a plain name comes back unchanged, so the table looks the same)."""
    return escape(safe_line(value))


def plain_cells(*values: object) -> list[object]:
    """plain_cell() of every str value; Content/Text cells (already styled text, never parsed) are kept."""
    return [plain_cell(v) if isinstance(v, str) else v for v in values]
