"""Product code has no import cycle: each module's module-level imports form a DAG.

A cycle is what a line cap tends to create (a module split in two that import each other); it makes import
order matter and hides which module owns what. Imports inside functions (deliberately lazy, to keep the
first frame light) and `if TYPE_CHECKING:` blocks are not counted: they do not run at import time.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("services", "lab", "tui", "screens", "themes")


def _product_modules(root: Path) -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            mods[".".join(parts)] = path
    return mods


def _imported(module: str, node: ast.Import | ast.ImportFrom, mods: dict[str, Path]) -> set[str]:
    """The product modules an import statement loads (a `from pkg import name` may name a module)."""
    names: list[str] = []
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        base = node.module or ""
        if node.level:
            package = module.split(".")
            if mods[module].name != "__init__.py":
                package = package[:-1]
            package = package[: len(package) - (node.level - 1)]
            base = ".".join([*package, base] if base else package)
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in mods else base for alias in node.names]
    found = set()
    for name in names:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        if name and name != module:
            found.add(name)
    return found


def _is_type_checking(node: ast.stmt) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def import_graph(root: Path) -> dict[str, set[str]]:
    mods = _product_modules(root)
    graph: dict[str, set[str]] = {}
    for module, path in mods.items():
        deps: set[str] = set()
        for stmt in ast.parse(path.read_text(encoding="utf-8")).body:
            if _is_type_checking(stmt):
                continue
            # try/except and plain if blocks at module level run at import time: look inside them.
            inner = ast.walk(stmt) if isinstance(stmt, ast.If | ast.Try) else [stmt]
            for node in inner:
                if isinstance(node, ast.Import | ast.ImportFrom):
                    deps |= _imported(module, node, mods)
        graph[module] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in graph:
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_product_code_has_no_import_cycle() -> None:
    graph = import_graph(ROOT)
    assert len(graph) > 100, "the product modules were not found"
    assert cycles(graph) == [], "import cycles (module-level imports) in product code"


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"services/a.py": "from services import b\n", "services/b.py": "import services.a\n"}, 1),
        (
            {
                "services/a.py": "from services.b import x\n",
                "services/b.py": "def f():\n    import services.a\n",
            },
            0,
        ),
        (
            {
                "services/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from services import b\n",
                "services/b.py": "from services import a\n",
            },
            0,
        ),
        (
            {
                "services/p/__init__.py": "",
                "services/p/a.py": "from . import b\n",
                "services/p/b.py": "from .a import x\n",
            },
            1,
        ),
    ],
)
def test_cycle_finder_sees_cycles_and_ignores_lazy_imports(
    tmp_path: Path, files: dict[str, str], expected: int
) -> None:
    """The checker itself: a real cycle is found (absolute or relative), a lazy or type-only import is not."""
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert len(cycles(import_graph(tmp_path))) == expected
