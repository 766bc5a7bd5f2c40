"""Guard: no screen or widget hands a formatted str to a widget that reads str as markup.

Static/Label (and their update), DataTable cells, Select/Option prompts and border titles read a str as
markup: a formatted string (f-string, concatenation, join, format) holds values, and a value such as a
resource named "[@click=app.quit]x" would be applied. Such text goes in as Content (Content(...) or
tui.widgets.plain_text.plain / plain_cells), which is never parsed, or to a widget built with markup=False.

What this can see: a str *built* in the call (the usual way a name reaches a widget). A bare variable can't
be typed from the source; test_console_hostile_text.py drives every screen with hostile values for those.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [*sorted((ROOT / "screens").glob("*.py")), *sorted((ROOT / "tui" / "widgets").glob("*.py"))]
# Calls whose positional str arguments are read as markup, and attributes that read a str as markup.
CALL_SINKS = {"Static", "Label", "update", "add_row", "update_cell", "add_column", "Select", "Option"}
ATTRIBUTE_SINKS = {"border_title", "border_subtitle"}


def _str_built(node: ast.AST) -> bool:
    """True for a str built from values: an f-string with a value in it, "a" + b / "%s" % b, "x".join(...),
    "{}".format(...)."""
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.FormattedValue) for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return any(_is_str(side) for side in (node.left, node.right))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.attr in {"join", "format"} and _is_str(node.func.value)
    return False


def _is_str(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or _str_built(node)


def markup_sinks_fed_a_built_str(source: str, name: str = "<source>") -> list[str]:
    """Return "file:line sink: text" for each built str given to a markup sink in `source`."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            func = node.func
            sink = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if sink not in CALL_SINKS or any(k.arg == "markup" for k in node.keywords):
                continue
            args = [*node.args, *(k.value for k in node.keywords if k.arg in {"content", "renderable"})]
            found += [f"{name}:{node.lineno} {sink}: {ast.unparse(a)}" for a in args if _str_built(a)]
        elif isinstance(node, ast.Assign) and _str_built(node.value):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr in ATTRIBUTE_SINKS:
                    found.append(f"{name}:{node.lineno} {target.attr}: {ast.unparse(node.value)}")
    return found


def test_the_guard_sees_a_built_str_and_lets_content_and_plain_strings_pass() -> None:
    bad = """
Static(f"node {name}")
label.update("lost: " + host)
table.add_row(f"{when}", key="x")
self.border_title = f"HADR on {host}"
status.update(" · ".join(bits))
"""
    good = """
Static("a constant")
Static(Content(f"node {name}"))
label.update(plain(f"lost: {host}"))
Static(f"node {name}", markup=False)
table.add_row(*plain_cells(f"{when}"), key="x")
self.border_title = plain(f"HADR on {host}")
body.update(Content("\\n").join(lines))
"""
    assert len(markup_sinks_fed_a_built_str(bad)) == 5
    assert markup_sinks_fed_a_built_str(good) == []


def test_no_screen_or_widget_gives_a_markup_sink_a_built_str() -> None:
    assert len(SOURCES) > 30  # the walk sees the screens and widgets
    found = [hit for path in SOURCES for hit in markup_sinks_fed_a_built_str(path.read_text(), path.name)]
    assert found == [], "wrap these in Content(...) / plain(...) (tui/widgets/plain_text.py):\n" + "\n".join(
        found
    )
