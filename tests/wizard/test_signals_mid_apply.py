"""`db2ops setup monitoring --apply` in another process, stopped mid-apply: SIGTERM and SIGHUP (a dropped
jump-host session) are handled like Ctrl-C and leave an "interrupted" record in `db2ops journal`; SIGKILL
leaves the intent, which the next run and `db2ops journal` report as unfinished."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest.importorskip("moto")
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(name="slow_lab")
async def slow_lab_fixture(tmp_path: Path) -> AsyncIterator:
    """A started LabSession whose every host command takes 400 ms: long enough to stop the CLI mid-step."""
    from moto.moto_api._internal.models import moto_api_backend

    from lab.session import LabSession

    moto_api_backend.reset()
    session = LabSession(clusters=1, failover_delay_s=0, latency_ms=400, base_dir=tmp_path / "lab")
    await session.start()
    try:
        yield session
    finally:
        await session.stop()


async def _cli(*args: str) -> asyncio.subprocess.Process:
    # The lab lives in this process: its loop serves the CLI's SSH and AWS calls while it runs.
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tui.cli",
        *args,
        cwd=str(REPO),
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def _stop_mid_apply(inventory: Path, signum: int) -> tuple[int, str, str]:
    """Start `setup monitoring --apply`; when it prints its first host step "applying", send `signum`."""
    proc = await _cli(
        *("--inventory", str(inventory), "setup", "monitoring", "--cluster", "lab1", "--apply"),
        *("--set", "email=dba-team@example.com"),
    )
    assert proc.stdout is not None and proc.stderr is not None
    seen: list[str] = []
    step = ""
    while True:
        raw = await asyncio.wait_for(proc.stdout.readline(), 120)
        assert raw, "the apply ended before a host step started:\n" + "".join(seen)
        line = raw.decode()
        seen.append(line)
        # a host step (its id names the host): its commands go through the lab's 400 ms latency
        if line.startswith("... ") and line.rstrip().endswith(": applying") and "@db2" in line:
            step = line[4:].split(":")[0]
            break
    proc.send_signal(signum)
    rest, err = await asyncio.wait_for(proc.communicate(), 60)
    return proc.returncode or 0, step, "".join(seen) + rest.decode() + err.decode()


async def _journal(inventory: Path) -> str:
    proc = await _cli("--inventory", str(inventory), "journal", "--cluster", "lab1")
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    return out.decode()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
async def test_a_stop_signal_mid_apply_journals_an_interrupted_record(slow_lab, signum) -> None:
    inventory = slow_lab.inventory_path
    code, step, output = await _stop_mid_apply(inventory, signum)
    assert code == 128 + signum, output
    assert f"db2ops: interrupted while applying step {step}" in output
    assert f"db2ops: stopped by {signal.Signals(signum).name}" in output
    journal = await _journal(inventory)
    block = journal[journal.index(f"step {step} on") :]
    assert "INTENT      about to send" in block
    assert "INTERRUPTED" in block and "interrupted while applying: " in block
    assert "unfinished:" not in journal  # the outcome closed the intent


async def test_sigkill_mid_apply_leaves_an_intent_the_next_run_reports(slow_lab) -> None:
    inventory = slow_lab.inventory_path
    code, step, output = await _stop_mid_apply(inventory, signal.SIGKILL)
    assert code == -signal.SIGKILL, output
    journal = await _journal(inventory)
    assert f"unfinished: step {step} on " in journal
    assert "--dry-run shows its state" in journal
    proc = await _cli("--inventory", str(inventory), "setup", "monitoring", "--cluster", "lab1", "--dry-run")
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    text = out.decode()
    assert proc.returncode == 0, text + err.decode()
    unfinished = [line for line in text.splitlines() if line.startswith("unfinished: ")]
    assert len(unfinished) == 1 and unfinished[0].startswith(f"unfinished: step {step} on "), text
    assert unfinished[0].endswith(
        "verify it: db2ops setup monitoring --cluster lab1 --dry-run shows its state"
    )
    assert "  its check now: " in text
