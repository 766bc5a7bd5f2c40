"""Run the installed `db2ops` entry point (the console script pip put beside this Python) in a subprocess,
with a bare environment: its own HOME and XDG dirs, no PYTHONPATH, started outside the repository."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path


def db2ops_script() -> str:
    """Path of the installed `db2ops` script; fails (never skips) when the package is not installed."""
    beside = Path(sys.executable).with_name("db2ops")
    found = str(beside) if beside.exists() else shutil.which("db2ops")
    assert found, "no installed `db2ops` entry point: run `pip install -e '.[test]'` (tests/run-all.sh does)"
    return found


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    """A bare environment for the CLI: HOME and XDG dirs under `home`, plus `extra`."""
    return {
        "HOME": str(home),
        "PATH": "/usr/bin:/bin",
        "XDG_CONFIG_HOME": str(home / "cfg"),
        "XDG_STATE_HOME": str(home / "state"),
        "AWS_EC2_METADATA_DISABLED": "true",
        **extra,
    }


def run_db2ops(home: Path, *args: str, timeout: float = 60, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `db2ops ARGS` to the end (for commands that need no lab in this process)."""
    return subprocess.run(
        [db2ops_script(), *args],
        capture_output=True,
        text=True,
        env=cli_env(home, **env),
        cwd=home,
        timeout=timeout,
    )


async def run_db2ops_async(home: Path, *args: str, timeout: float = 60, **env: str) -> tuple[int, str, str]:
    """Run `db2ops ARGS` while this process's event loop keeps serving (a lab started by the test);
    return (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        db2ops_script(),
        *args,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=cli_env(home, **env),
        cwd=home,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()
