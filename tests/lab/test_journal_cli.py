"""`db2ops journal` reads the lab's own journal for the lab clusters of the inventory it is given, next to the
operator journal of real clusters, and names the clusters when asked for one the inventory lacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.runtime import LabRuntime
from services.plans.journal import Journal, journal_for
from tui import cli


def record(journal: Journal, cluster: str, step: str) -> None:
    journal.record(
        who="dba",
        cluster=cluster,
        plan="failover",
        run_id="R1",
        step_id=step,
        step_title=f"{step} on {cluster}",
        target=cluster,
        result="verified",
    )


@pytest.fixture
async def lab_with_journals(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))  # no default inventory
    runtime = LabRuntime()
    await runtime.start(2, base_dir=tmp_path / "lab", with_aws=False)
    try:
        record(journal_for(runtime.inventory().cluster("lab1")), "lab1", "takeover")
        record(journal_for(runtime.inventory().cluster("lab2")), "lab2", "preflight")
        record(Journal(), "prod1", "mute")  # the operator journal of a real cluster
        yield runtime
    finally:
        await runtime.stop()


def steps(out: str) -> list[tuple[str, str]]:
    return [(e["cluster"], e["step_id"]) for e in map(json.loads, out.splitlines())]


async def test_journal_of_a_lab_cluster_comes_from_the_lab(lab_with_journals, capsys) -> None:
    inventory = str(lab_with_journals.inventory_path)
    assert cli.main(["--inventory", inventory, "journal", "--cluster", "lab1", "--json"]) == 0
    assert steps(capsys.readouterr().out) == [("lab1", "takeover")]
    assert cli.main(["--inventory", inventory, "journal", "--json"]) == 0
    assert sorted(steps(capsys.readouterr().out)) == [
        ("lab1", "takeover"),
        ("lab2", "preflight"),
        ("prod1", "mute"),
    ]


async def test_without_an_inventory_only_the_operator_journal(lab_with_journals, capsys) -> None:
    assert cli.main(["journal", "--json"]) == 0
    assert steps(capsys.readouterr().out) == [("prod1", "mute")]


async def test_unknown_cluster_names_the_inventory_clusters(lab_with_journals, capsys) -> None:
    code = cli.main(["--inventory", str(lab_with_journals.inventory_path), "journal", "--cluster", "nope"])
    err = capsys.readouterr().err
    assert code != 0
    assert "no cluster 'nope'" in err and "lab1, lab2" in err
