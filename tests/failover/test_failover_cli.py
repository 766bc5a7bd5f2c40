"""`db2ops failover` headless, on the embedded lab: real SSH servers on 127.0.0.1, moto for the overlay
route, the real SshPool, plan runner, write guard and journal. In-process, and once as a subprocess."""

from __future__ import annotations

import asyncio
import io
import json
import os
import sys
from pathlib import Path

import pytest
from lab_over_ssh import lab_fixture, pool_fixture  # noqa: F401  (the lab and pool fixtures)

from lab.runtime import LabRuntime
from services.failover.cli import EXIT_FAILED, EXIT_OK, EXIT_REFUSED, EXIT_USAGE, run_failover
from services.inventory.loader import load_inventory
from services.plans import Journal
from services.ssh.pool import SshPool
from services.status.service import gather_cluster_status

pytest.importorskip("moto")
REPO = Path(__file__).resolve().parents[2]
TAKEOVER = "db2b$ db2 takeover hadr on db HADRDB"


async def cli(lab: LabRuntime, pool: SshPool, tmp_path: Path, *, inventory=None, runner=None, **kw):
    out = io.StringIO()
    code = await run_failover(
        inventory or lab.inventory(),
        "lab1",
        out=out,
        runner=runner or pool,
        journal=Journal(tmp_path / "journal"),
        state_dir=tmp_path / "state",
        poll_interval_s=0.2,
        **kw,
    )
    return code, out.getvalue()


async def promoted(lab: LabRuntime, pool: SshPool) -> tuple[str | None, str | None]:
    status = await gather_cluster_status(lab.inventory().clusters[0], pool)
    return status.promoted_node, status.hadr_primary_host


async def test_dry_run_lists_the_takeover_on_the_standby(lab, pool, tmp_path):
    code, text = await cli(lab, pool, tmp_path)
    assert code == EXIT_OK, text
    assert text.splitlines()[0] == "Failover of lab1: db2a → db2b (planned takeover) — dry-run"
    assert "  ✔ HADR in PEER and CONNECTED" in text and "HADR in PEER and CONNECTED on both" in text
    assert f"      {TAKEOVER}  # the standby takes over; expect DB20000I" in text.splitlines()
    assert text.splitlines()[-1] == (
        "Result: runnable: 13 checks passed. To apply: db2ops failover --cluster lab1 --to db2b "
        "--kind planned --apply --confirm lab1/db2b"
    )
    code, text = await cli(lab, pool, tmp_path, as_json=True)
    doc = json.loads(text)  # exactly one JSON object, like setup --json
    commands = [c for c in doc["commands"] if c["step"] == "takeover"]
    assert [(c["host"], c["argv"]) for c in commands] == [
        ("db2b", ["db2", "takeover", "hadr", "on", "db", "HADRDB"])
    ]
    assert (doc["outcome"], doc["exit_code"], code) == ("runnable", 0, EXIT_OK)
    assert (doc["cluster"], doc["target"], doc["kind"], doc["mode"]) == ("lab1", "db2b", "planned", "dry-run")
    assert doc["title"] == "Failover of lab1: db2a → db2b (planned takeover)"
    assert len(doc["checks"]) == 13 and {c["state"] for c in doc["checks"]} == {"pass"}
    assert (
        doc["next"] == "db2ops failover --cluster lab1 --to db2b --kind planned --apply --confirm lab1/db2b"
    )
    assert (doc["progress"], doc["observations"]) == ([], [])
    assert await promoted(lab, pool) == ("db2a", "db2a")  # a dry run changes nothing
    assert Journal(tmp_path / "journal").read().entries == []


async def test_apply_without_or_with_a_wrong_confirmation_changes_nothing(lab, pool, tmp_path):
    code, text = await cli(lab, pool, tmp_path, apply=True)
    assert code == EXIT_USAGE
    assert text == "db2ops: --confirm is missing: to fail over lab1 to db2b type --confirm lab1/db2b\n"
    code, text = await cli(lab, pool, tmp_path, apply=True, confirm="lab1/db2a")
    assert code == EXIT_USAGE and "'lab1/db2a' does not match" in text and "--confirm lab1/db2b" in text
    code, text = await cli(lab, pool, tmp_path, apply=True, confirm="lab1/db2b", kind="forced")
    assert code == EXIT_USAGE and "type --confirm lab1/db2b/force (a FORCED takeover" in text
    code, text = await cli(lab, pool, tmp_path, confirm="lab1/db2b")  # a dry run with --confirm
    assert code == EXIT_USAGE and "--confirm goes with --apply" in text
    code, text = await cli(lab, pool, tmp_path, apply=True, confirm="lab1/qdev", target="qdev")
    assert code == EXIT_USAGE and "'qdev' is not a Db2 host of lab1: use one of db2a, db2b" in text
    code, text = await cli(lab, pool, tmp_path, apply=True, as_json=True)
    doc = json.loads(text)
    assert (code, doc["outcome"], doc["exit_code"]) == (EXIT_USAGE, "error", EXIT_USAGE)
    assert doc["message"] == "--confirm is missing: to fail over lab1 to db2b type --confirm lab1/db2b"
    await lab.settle()
    assert await promoted(lab, pool) == ("db2a", "db2a")
    assert Journal(tmp_path / "journal").read().entries == []


async def test_apply_with_the_confirmation_fails_over_and_journals(lab, pool, tmp_path):
    code, text = await cli(lab, pool, tmp_path, apply=True, confirm="lab1/db2b")
    lines = text.splitlines()
    assert code == EXIT_OK, text
    order = [
        "… preflight: Preflight: may lab1 fail over to db2b?",
        "… takeover: Takeover HADR on db2b",
        f"    ran: {TAKEOVER}",
        "… verify: Verify: db2b promoted, HADR primary in PEER, route → db2b",
        "… cleanup: Clean up failed actions created during the failover",
        "… final: Final snapshot",
    ]
    assert [line for line in lines if line in order] == order
    assert any(line.startswith("✔ preflight: 13 checks passed (") for line in lines)
    verified = [line for line in lines if line.startswith("✔ verify: ")]
    assert verified and verified[0].startswith(
        "✔ verify: promoted db2b · HADR primary db2b PEER · route → db2b"
    )
    assert lines[-1].startswith("Result: ok: db2b is the primary (promoted db2b · HADR primary db2b PEER")
    await lab.settle()
    assert await promoted(lab, pool) == ("db2b", "db2b")
    entries = Journal(tmp_path / "journal").read("lab1").entries
    assert [e.step_id for e in entries] == ["preflight", "takeover", "verify", "cleanup", "final"]
    assert [(a["host"], a["command"]) for a in entries[1].actions] == [
        ("db2b", "db2 takeover hadr on db HADRDB")
    ]
    assert {e.result for e in entries} == {"verified"}


async def test_refused_when_hadr_is_not_in_peer(lab, pool, tmp_path):
    lab.control("lab1", "disconnect-hadr")
    await lab.settle()
    code, text = await cli(lab, pool, tmp_path)
    assert code == EXIT_FAILED, text
    assert "  ✖ HADR in PEER and CONNECTED" in text
    last = text.splitlines()[-1]
    assert last.startswith("Result: failover of lab1 to db2b refused: HADR not in PEER: ")
    assert "wait for PEER" in last
    code, text = await cli(lab, pool, tmp_path, apply=True, confirm="lab1/db2b", as_json=True)
    doc = json.loads(text)
    assert code == EXIT_FAILED and (doc["outcome"], doc["exit_code"]) == ("refused", EXIT_FAILED)
    assert "HADR not in PEER" in doc["message"]
    assert "fail" in {c["state"] for c in doc["checks"]}
    assert doc["progress"] == []  # no step ran
    assert await promoted(lab, pool) == ("db2a", "db2a")
    assert Journal(tmp_path / "journal").read().entries == []


class NoHosts:
    """A runner that fails the test if any host is contacted."""

    async def run(self, host, argv, **kw):
        raise AssertionError(f"contacted {host.name}: {argv}")


async def test_read_only_inventory_is_refused_by_the_guard(lab, pool, tmp_path):
    copy = tmp_path / "read-only.yaml"
    text = lab.inventory_path.read_text()
    assert "read_only: false" in text
    copy.write_text(text.replace("read_only: false", "read_only: true"))
    inventory = load_inventory(copy)
    code, out = await cli(
        lab, pool, tmp_path, inventory=inventory, runner=NoHosts(), apply=True, confirm="lab1/db2b"
    )
    assert code == EXIT_REFUSED
    assert out == (
        f"db2ops: cluster lab1 is read-only: set read_only: false for it in {copy} to allow changes "
        "(or run with --dry-run to only review the plan)\n"
    )
    assert await promoted(lab, pool) == ("db2a", "db2a")


async def test_subprocess_apply_json(lab, pool, tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "HOME": str(tmp_path),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "XDG_STATE_HOME": str(tmp_path / "xdg-state"),
    }
    argv = [
        *(sys.executable, "-m", "tui.cli", "--inventory", str(lab.inventory_path)),
        *("failover", "--cluster", "lab1", "--apply", "--confirm", "lab1/db2b", "--json"),
    ]
    # The lab lives in this process: its loop must keep running while the CLI does.
    proc = await asyncio.create_subprocess_exec(
        *argv, cwd=str(REPO), env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == EXIT_OK, out.decode() + err.decode()
    assert err.decode() == ""
    doc = json.loads(out.decode())  # one object for the whole run
    finished = [e["step"] for e in doc["progress"] if e["phase"] == "finished"]
    assert finished == ["preflight", "takeover", "verify", "cleanup", "final"]
    assert [s["id"] for s in doc["steps"]] == finished
    seen = doc["observations"]
    assert (seen[-1]["promoted"], seen[-1]["hadr_state"], seen[-1]["route_host"]) == ("db2b", "PEER", "db2b")
    assert (doc["outcome"], doc["exit_code"], doc["target"], doc["mode"]) == ("ok", EXIT_OK, "db2b", "apply")
    journal = Journal(lab.journal_dir).read("lab1").entries  # the lab's own journal, next to its inventory
    assert not (tmp_path / "xdg-state" / "db2ops" / "journal" / "journal.jsonl").exists()
    assert [e.step_id for e in journal] == finished
    await lab.settle()
    assert await promoted(lab, pool) == ("db2b", "db2b")


class CancelAtTakeover:
    """The pool, until the takeover command: then Ctrl-C (asyncio.CancelledError) as it is sent."""

    def __init__(self, pool: SshPool) -> None:
        self.pool = pool

    def __getattr__(self, name):
        return getattr(self.pool, name)

    async def run(self, host, argv, **kw):
        if "takeover" in argv:
            raise asyncio.CancelledError
        return await self.pool.run(host, argv, **kw)


async def test_apply_json_interrupted_still_prints_its_one_object(lab, pool, tmp_path):
    out = io.StringIO()
    with pytest.raises(asyncio.CancelledError):
        await run_failover(
            lab.inventory(),
            "lab1",
            apply=True,
            confirm="lab1/db2b",
            as_json=True,
            out=out,
            runner=CancelAtTakeover(pool),
            journal=Journal(tmp_path / "journal"),
            state_dir=tmp_path / "state",
        )
    doc = json.loads(out.getvalue())
    assert (doc["outcome"], doc["exit_code"]) == ("interrupted", 130)
    assert doc["message"].startswith(
        "interrupted at step takeover (applying); what was sent is in the journal"
    )
    assert [(p["step"], p["phase"]) for p in doc["progress"]][-1] == ("takeover", "applying")
