"""The lab is a backend, not branches: services/ and screens/ never import lab/ nor ask "is this the lab";
they read the protocols (services/cloudwatch_extras.py, services/logs_insights.InsightsEngine) that the
composition root (tui/backends.py) answers with AWS or the lab. Labels like "(lab)" come from the backend's
`source`, so no exception is needed here."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# What services and screens must not mention: the old endpoint test and the old module-global lab state.
FORBIDDEN_NAMES = (
    "is_lab_endpoint",
    "register_lab_source",
    "lab_source_for",
    "_LAB_SOURCES",
    "_LAST_PROOF_END",
)


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    """Every module an import statement names, module-level or lazy (inside a function)."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["services", "screens"])
def test_services_and_screens_never_import_the_lab(package: str) -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: import {module}"
        for path in _files(package)
        for line, module in _imports(ast.parse(path.read_text(), str(path)))
        if module == "lab" or module.startswith("lab.")
    ]
    assert offenders == [], "lab/ is reached through tui/backends.py only:\n" + "\n".join(offenders)


@pytest.mark.parametrize("package", ["services", "screens"])
def test_services_and_screens_never_ask_whether_they_talk_to_the_lab(package: str) -> None:
    offenders = []
    for path in _files(package):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            name = (
                node.attr
                if isinstance(node, ast.Attribute)
                else node.id
                if isinstance(node, ast.Name)
                else ""
            )
            if name in FORBIDDEN_NAMES:
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert offenders == [], "read the backend's protocol instead:\n" + "\n".join(offenders)


def test_the_checks_see_what_they_look_for(tmp_path: Path) -> None:
    # The two checks above pass on an empty list: prove they would catch a lazy import and a property use.
    sample = "def f(ctx):\n    from lab.backends import RemoteLabExtras\n    return ctx.is_lab_endpoint\n"
    tree = ast.parse(sample)
    assert (2, "lab.backends") in _imports(tree)
    assert any(isinstance(n, ast.Attribute) and n.attr == "is_lab_endpoint" for n in ast.walk(tree))


def test_the_composition_root_is_the_one_place_that_imports_the_lab_backends() -> None:
    users = sorted(
        str(path.relative_to(ROOT))
        for package in ("services", "screens", "tui")
        for path in _files(package)
        if any(m in ("lab.backends", "lab.insights_local") for _, m in _imports(ast.parse(path.read_text())))
    )
    assert users == ["tui/backends.py"]
