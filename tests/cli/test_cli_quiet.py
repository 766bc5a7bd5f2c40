"""A quiet CLI: `db2ops --version`, nothing on stderr but errors (no dependency's warnings), and
`--clusters` refused by argparse when it is not 1..200. Mostly the installed `db2ops` in a subprocess."""

from __future__ import annotations

import asyncio
import importlib.metadata
import json
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from corpus import corpus_files
from installed_cli import cli_env, db2ops_script, run_db2ops, run_db2ops_async
from lab_over_ssh import lab_fixture  # noqa: F401  (the lab fixture)

import tui.cli
import tui.cli_parser
from lab.runtime import LabRuntime

REPO = Path(__file__).resolve().parents[2]
HEAVY = {"textual", "boto3", "botocore", "asyncssh", "moto", "cryptography"}


def _imported(import_profile: str) -> set[str]:
    """Module names listed by PYTHONPROFILEIMPORTTIME ("import time: self | cumulative | name")."""
    return {
        line.rsplit("|", 1)[1].strip()
        for line in import_profile.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def test_version_prints_the_installed_version_without_heavy_imports(tmp_path: Path) -> None:
    done = run_db2ops(tmp_path, "--version", PYTHONPROFILEIMPORTTIME="1")
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"db2ops {importlib.metadata.version('db2ops')}\n"
    imported = _imported(done.stderr)
    assert "tui.cli" in imported  # the profile is really there
    assert not {name for name in imported if name.split(".")[0] in HEAVY}


def test_version_from_sources_that_are_not_installed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    with (REPO / "pyproject.toml").open("rb") as fh:
        declared = tomllib.load(fh)["project"]["version"]
    assert tui.cli.package_version() == f"{declared} (not installed)"
    # package_version looks for pyproject.toml beside its own module: none there
    monkeypatch.setattr(tui.cli_parser, "__file__", str(tmp_path / "tui" / "cli_parser.py"))
    assert tui.cli.package_version() == "unknown (not installed)"


async def test_status_json_on_a_healthy_lab_writes_nothing_to_stderr(lab: LabRuntime, tmp_path: Path) -> None:
    code, out, err = await run_db2ops_async(
        tmp_path, "--inventory", str(lab.inventory_path), "status", "--json"
    )
    assert (code, err) == (0, ""), err
    (cluster,) = json.loads(out)["clusters"]
    assert cluster["healthy"] is True and cluster["promoted_node"] == "db2a"


def test_locate_and_parse_write_nothing_to_stderr(tmp_path: Path) -> None:
    located = run_db2ops(tmp_path, "locate")
    assert (located.returncode, located.stderr) == (0, "")
    assert located.stdout.startswith(f"inventory      {tmp_path}/cfg/db2ops/inventory.yaml")
    sample = str(corpus_files("db2cm-list/hadr-both-online-qdevice.txt")[0])
    for extra in ((), ("--json",)):
        parsed = run_db2ops(tmp_path, "parse", "db2cm-list", sample, *extra)
        assert (parsed.returncode, parsed.stderr) == (0, ""), parsed.stderr
        assert "jspcmk1" in parsed.stdout


def test_an_error_still_reaches_stderr(tmp_path: Path) -> None:
    done = run_db2ops(tmp_path, "parse", "quorum", str(tmp_path / "missing.txt"))
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"db2ops: cannot read {tmp_path}/missing.txt: No such file or directory\n"


_WARN = """
import warnings
from cryptography.utils import CryptographyDeprecationWarning as Deprecated
from services.quiet_warnings import quiet_dependency_warnings

quiet_dependency_warnings()
warnings.warn_explicit("DSA-noise", Deprecated, "misc.py", 1, module="asyncssh.crypto.misc")
warnings.warn_explicit("ours-deprecated", Deprecated, "plans.py", 1, module="services.plans")
warnings.warn_explicit("asyncssh-other", UserWarning, "connection.py", 1, module="asyncssh.connection")
warnings.warn_explicit("prefix-only", Deprecated, "x.py", 1, module="asyncsshx")
"""


@pytest.mark.parametrize(
    ("pythonwarnings", "shown"),
    [
        (None, ["ours-deprecated", "asyncssh-other", "prefix-only"]),
        ("default", ["DSA-noise", "ours-deprecated", "asyncssh-other", "prefix-only"]),  # -W still wins
    ],
)
def test_only_asyncssh_cryptography_deprecations_are_silenced(
    tmp_path: Path, pythonwarnings: str | None, shown: list[str]
) -> None:
    env = cli_env(tmp_path, **({"PYTHONWARNINGS": pythonwarnings} if pythonwarnings else {}))
    done = subprocess.run(
        [sys.executable, "-c", _WARN], capture_output=True, text=True, env=env, cwd=REPO, timeout=60
    )
    assert done.returncode == 0, done.stderr
    messages = [
        m for m in ("DSA-noise", "ours-deprecated", "asyncssh-other", "prefix-only") if m in done.stderr
    ]
    assert messages == shown


def test_importing_asyncssh_after_the_filter_is_silent(tmp_path: Path) -> None:
    code = "from services.quiet_warnings import quiet_dependency_warnings as q; q(); import asyncssh"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env(tmp_path), cwd=REPO
    )
    assert (done.returncode, done.stderr) == (0, "")


@pytest.mark.parametrize(
    "argv",
    [
        pytest.param([db2ops_script(), "lab", "--serve"], id="db2ops lab --serve"),
        pytest.param([sys.executable, "-m", "lab"], id="python -m lab"),
    ],
)
async def test_a_served_lab_writes_nothing_to_stderr(tmp_path: Path, argv: list[str]) -> None:
    proc = await asyncio.create_subprocess_exec(
        *argv,
        *("--no-aws", "--dir", str(tmp_path / "lab")),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(tmp_path),
        cwd=REPO,  # `python -m lab` runs from the sources
    )
    assert proc.stdout is not None and proc.stderr is not None
    try:
        lines = []
        while not lines or lines[-1] != "press Ctrl-C to stop":  # the lab is up and serving
            line = await asyncio.wait_for(proc.stdout.readline(), 90)
            assert line, (await proc.stderr.read()).decode()
            lines.append(line.decode().rstrip("\n"))
        assert lines[0] == str(tmp_path / "lab" / "inventory.yaml")
    finally:
        proc.send_signal(signal.SIGINT)
        await asyncio.wait_for(proc.wait(), 30)
    assert (await proc.stderr.read()).decode() == ""


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("0", "the lab runs 1 to 200 clusters, not 0"),
        ("-2", "the lab runs 1 to 200 clusters, not -2"),
        ("201", "the lab runs 1 to 200 clusters, not 201"),
        ("two", "'two' is not a whole number: give how many lab clusters to run (1 to 200)"),
    ],
)
def test_lab_clusters_out_of_range_is_an_argument_error(tmp_path: Path, value: str, why: str) -> None:
    done = run_db2ops(
        tmp_path, "lab", "--serve", "--no-aws", "--clusters", value, "--dir", str(tmp_path / "lab")
    )
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("usage: db2ops lab ")
    assert done.stderr.endswith(f"db2ops lab: error: argument --clusters: {why}\n")
    assert not (tmp_path / "lab").exists()  # refused before anything started


def test_python_m_lab_refuses_zero_clusters(capsys: pytest.CaptureFixture[str]) -> None:
    from lab.__main__ import main

    with pytest.raises(SystemExit) as exited:
        main(["--clusters", "0", "--no-aws"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.endswith(
        "python -m lab: error: argument --clusters: the lab runs 1 to 200 clusters, not 0\n"
    )
