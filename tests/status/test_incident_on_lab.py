"""Acceptance (issue 9): `db2ops status --cluster C --json` 10 s after `db2ops-lab kill-primary` names the
takeover and the new primary in its first verdict, and no snapshot taken during the promotion recommends a
cleanup. The embedded lab over real SSH with moto for the overlay route, promoting 8 s after the loss (the
real lab's 7.5 s); each `status` is the real headless command (a fresh process context: no earlier
snapshot to lean on)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from incident_checks import recommends_cleanup

from lab.runtime import LabRuntime
from tui.cli import main

pytest.importorskip("moto")

FAILOVER_DELAY_S = 8.0


@pytest.fixture(autouse=True)
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


async def _status(runtime: LabRuntime, capsys) -> dict:
    capsys.readouterr()
    argv = ["--inventory", str(runtime.inventory_path), "status", "--cluster", "lab1", "--json"]
    await asyncio.to_thread(main, argv)  # its own event loop: the lab's SSH hosts keep answering on ours
    return json.loads(capsys.readouterr().out)["clusters"][0]


async def test_status_json_after_kill_primary_names_the_takeover(tmp_path: Path, capsys) -> None:
    runtime = LabRuntime()
    await runtime.start(1, base_dir=tmp_path / "lab", failover_delay_s=FAILOVER_DELAY_S, with_aws=True)
    try:
        before = await _status(runtime, capsys)
        assert before["headline"]["code"] == "healthy" and before["promoted_node"] == "db2a"
        code, out, _ = runtime.control("lab1", "kill-primary")
        assert code == 0, out
        killed_at = time.monotonic()
        during: list[dict] = []
        late: list[dict] = []  # answered after the promotion may have begun (a loaded machine): hints only
        while time.monotonic() - killed_at < FAILOVER_DELAY_S - 2:
            doc = await _status(runtime, capsys)
            (during if time.monotonic() - killed_at < FAILOVER_DELAY_S - 0.5 else late).append(doc)
        await asyncio.sleep(max(0.0, 10 - (time.monotonic() - killed_at)))
        after = await _status(runtime, capsys)
    finally:
        await runtime.stop()

    assert during, "no status was taken during the promotion"
    for doc in late:
        hints = [doc["headline"]["hint"], *(v["hint"] for v in doc["verdicts"])]
        assert not [h for h in hints if recommends_cleanup(h)], hints
    for doc in during:
        assert doc["promoted_node"] is None, doc["headline"]
        assert doc["verdicts"][0]["code"] == "failover_in_progress"
        assert doc["headline"]["title"].startswith(
            "failover in progress: Pacemaker is promoting db2b after db2a stopped answering, started "
        )
        hints = [doc["headline"]["hint"], *(v["hint"] for v in doc["verdicts"])]
        assert not [h for h in hints if recommends_cleanup(h)], hints

    first = after["verdicts"][0]
    assert first["code"] == "failover_completed"
    assert first["message"].startswith("db2b took over as HADR primary at ")
    assert "overlay route follows db2b; running without a standby" in first["message"]
    assert after["promoted_node"] == after["hadr_primary"] == "db2b"
    head = after["headline"]
    assert head["title"] == first["message"] and head["code"] == "failover_completed"
    # db2a refuses SSH and Pacemaker reports it offline: the cause, never "check the address"
    assert "db2a: host down or instance stopped (Pacemaker reports it offline)" in head["consequences"]
    unreachable = [v for v in after["verdicts"] if v["code"] == "host_unreachable"]
    assert unreachable and "check the address" not in unreachable[0]["message"] + unreachable[0]["hint"]
    assert (
        "bring db2a back as standby" in head["hint"] and "one more failure stops the database" in head["hint"]
    )
