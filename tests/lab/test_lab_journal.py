"""The embedded lab keeps its own operator journal: a new lab run starts it empty, real clusters keep the
real journal, any process that loads the lab's inventory finds the same lab journal, `db2ops locate`
names it."""

from __future__ import annotations

import asyncio
import contextlib
import io
from pathlib import Path
from types import SimpleNamespace

import pytest

from lab.runtime import LabRuntime, serve_forever
from services import paths
from services.inventory.loader import load_inventory
from services.inventory.model import Cluster, Host
from services.plans.journal import Journal, journal_dir_for, journal_for


@pytest.fixture
def xdg_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's real journal lives here during the test (never the developer's own)."""
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    return tmp_path / "xdg-state" / "db2ops" / "journal"


def record(journal: Journal, cluster: str, step: str) -> None:
    journal.record(
        who="dba",
        cluster=cluster,
        plan="alarm",
        run_id="R1",
        step_id=step,
        step_title=f"Alarm db2ops-{cluster}-diag-severe {step}",
        target=cluster,
        result="verified",
    )


async def test_lab_clusters_journal_in_the_lab_dir_and_real_clusters_in_the_real_journal(
    lab, xdg_state, tmp_path
):
    assert lab.journal_dir == lab.base_dir / "journal" and lab.journal_dir.is_dir()
    lab1 = lab.inventory().cluster("lab1")
    assert journal_dir_for(lab1) == lab.journal_dir
    # Another process loading the lab's inventory.yaml finds the same journal.
    reloaded = load_inventory(lab.inventory_path).cluster("lab2")
    assert journal_for(reloaded).path == lab.journal_dir / "journal.jsonl"
    real = Cluster(name="lab1", environment="prod", hosts=(Host("db2a", "10.0.0.5", known_hosts="/tmp/kh"),))
    assert journal_dir_for(real) == xdg_state
    # `lab: true` alone never moves a journal: a real cluster marked so by mistake keeps the operator's
    assert journal_dir_for(Cluster(name="other", lab=True)) == xdg_state
    kh = str(tmp_path / "ssh" / "known_hosts")
    prod = Cluster(name="prod", lab=True, hosts=(Host("db2a", "10.0.0.5", known_hosts=kh),))
    assert journal_dir_for(prod) == xdg_state
    # nor does a known_hosts in the lab's folder for a cluster the lab does not run
    in_lab = Cluster(
        name="prod", lab=True, hosts=(Host("db2a", "10.0.0.5", known_hosts=str(lab.known_hosts_path)),)
    )
    assert journal_dir_for(in_lab) == xdg_state


async def test_a_new_lab_run_starts_with_an_empty_journal(tmp_path, xdg_state):
    base = tmp_path / "lab"
    first = LabRuntime()
    await first.start(1, base_dir=base, with_aws=False)
    try:
        record(journal_for(first.inventory().clusters[0]), "lab1", "create")
    finally:
        await first.stop()
    record(Journal(), "lab1", "real")  # a real cluster that happens to be called lab1
    second = LabRuntime()
    await second.start(1, base_dir=base, with_aws=False)
    try:
        lab1 = second.inventory().clusters[0]
        assert journal_for(lab1).read("lab1").entries == []
        kept = (second.journal_dir / "previous-run.jsonl").read_text()
        assert "Alarm db2ops-lab1-diag-severe create" in kept
        assert [e.step_id for e in Journal().read("lab1").entries] == ["real"]
    finally:
        await second.stop()


async def test_failover_on_the_lab_journals_to_the_lab_not_the_users_journal(tmp_path, xdg_state):
    pytest.importorskip("moto")
    from services.failover.cli import EXIT_OK, run_failover
    from services.ssh.pool import SshPool

    runtime = LabRuntime()
    await runtime.start(1, base_dir=tmp_path / "lab", failover_delay_s=0)
    try:
        async with SshPool(connect_timeout=5, command_timeout=10) as pool:
            out = io.StringIO()
            code = await run_failover(
                runtime.inventory(),
                "lab1",
                apply=True,
                confirm="lab1/db2b",
                out=out,
                runner=pool,
                state_dir=tmp_path / "state",
                poll_interval_s=0.2,
            )
        assert code == EXIT_OK, out.getvalue()
        steps = [e.step_id for e in Journal(runtime.journal_dir).read("lab1").entries]
        assert steps == ["preflight", "takeover", "verify", "cleanup", "final"]
        assert not (xdg_state / "journal.jsonl").exists()
    finally:
        await runtime.stop()


async def test_journal_screen_of_a_lab_cluster_reads_the_lab_journal(lab, xdg_state):
    from screens.journal import _open_journal

    inventory = lab.inventory()
    app = SimpleNamespace(current_cluster=inventory.cluster("lab2"), inventory=inventory)
    assert _open_journal(app).journal.directory == lab.journal_dir
    app = SimpleNamespace(current_cluster=None, inventory=inventory)
    assert _open_journal(app).journal.directory == lab.journal_dir


async def test_locate_names_the_lab_journal(lab, xdg_state):
    report = paths.locate_report(lab.inventory_path)
    assert report["lab journal"] == str(lab.journal_dir)
    assert report["lab"] == str(lab.base_dir)
    assert report["journal"] == f"{xdg_state} (missing)"
    default = paths.locate_report(None)
    assert default["lab journal"] == f"{xdg_state.parent / 'lab' / 'journal'} (missing)"


async def test_serve_prints_where_this_labs_journal_is(tmp_path, xdg_state):
    runtime = LabRuntime()
    await runtime.start(1, base_dir=tmp_path / "lab", with_aws=False)
    out = io.StringIO()
    task = asyncio.create_task(serve_forever(runtime, out))
    for _ in range(200):
        if "journal" in out.getvalue():
            break
        await asyncio.sleep(0.01)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert f"this lab's operator journal (empty at each start): {tmp_path / 'lab' / 'journal'}" in (
        out.getvalue().splitlines()
    )
    assert runtime.started is False
