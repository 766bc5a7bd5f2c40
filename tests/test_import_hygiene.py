"""services/ and lab/ run headless: importing any of their modules must not pull in Textual."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _modules(package: str) -> list[str]:
    base = ROOT / package
    mods = []
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        mods.append(".".join(parts))
    return mods


def _loaded_after_import(modules: list[str]) -> set[str]:
    code = (
        "import importlib, json, sys\n"
        f"for m in {modules!r}:\n"
        "    importlib.import_module(m)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize("package", ["services", "lab"])
def test_headless_packages_never_import_textual(package: str) -> None:
    mods = _modules(package)
    assert mods, f"no modules found under {package}/"
    loaded = _loaded_after_import(mods)
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}, (
        f"{package} imported textual"
    )


def test_cli_help_path_stays_light() -> None:
    """`db2ops --help` and the headless sub-commands' entry must not import Textual, boto3 or asyncssh."""
    loaded = _loaded_after_import(["tui.cli"])
    heavy = {"textual", "boto3", "asyncssh", "moto"}
    assert not heavy & loaded


def test_status_json_cli_does_not_import_textual(tmp_path: Path) -> None:
    """The headless status path (no hosts reachable) runs without Textual and says what is wrong."""
    inv = tmp_path / "inv.yaml"
    inv.write_text(
        "clusters:\n"
        "  - name: c1\n"
        "    hosts:\n"
        "      - {name: a, address: 127.0.0.1, port: 9, role: db}\n"
        "      - {name: b, address: 127.0.0.1, port: 9, role: db}\n"
    )
    code = (
        "import sys, json\n"
        "from tui.cli import main\n"
        f"rc = main(['--inventory', {str(inv)!r}, 'status', '--json'])\n"
        "print('RC', rc, 'TEXTUAL', 'textual' in sys.modules)\n"
    )
    env = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, env=env, timeout=60
    )
    last = out.stdout.strip().splitlines()[-1]
    assert last == "RC 2 TEXTUAL False", out.stdout + out.stderr
    (snap,) = json.loads(out.stdout[: out.stdout.rindex("RC ")])["clusters"]
    assert snap["cluster"] == "c1"
    assert set(snap["host_errors"]) == {"a", "b"}
    assert any(v["code"] == "host_unreachable" for v in snap["verdicts"])
