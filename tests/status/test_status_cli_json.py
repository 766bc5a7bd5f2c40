"""`db2ops status --json` prints one shape on every path: one cluster, several, and --cluster NAME."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from lab.runtime import LabRuntime
from tui.cli import build_parser, main


@pytest.fixture(autouse=True)
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


async def _lab(tmp_path: Path, clusters: int) -> LabRuntime:
    runtime = LabRuntime()
    await runtime.start(clusters, base_dir=tmp_path / f"lab{clusters}", failover_delay_s=0, with_aws=False)
    return runtime


async def _status_json(runtime: LabRuntime, capsys, *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    # main() runs its own event loop: in a thread, so the lab's SSH hosts keep answering on this one
    argv = ["--inventory", str(runtime.inventory_path), "status", "--json", *extra]
    code = await asyncio.to_thread(main, argv)
    return code, json.loads(capsys.readouterr().out)


def _summary(doc: dict) -> list[tuple[str, str | None, str]]:
    return [
        (c["cluster"], c["promoted_node"], c["hadr"][c["hadr_primary"]]["source"]) for c in doc["clusters"]
    ]


async def test_one_cluster_prints_the_document_with_a_list_of_one(tmp_path: Path, capsys) -> None:
    runtime = await _lab(tmp_path, 1)
    try:
        code, doc = await _status_json(runtime, capsys)
    finally:
        await runtime.stop()
    assert set(doc) == {"schema_version", "exit_code", "clusters"}
    assert (doc["schema_version"], doc["exit_code"], code) == (1, 0, 0)
    assert _summary(doc) == [("lab1", "db2a", "db2a")]  # a one-cluster lab names its hosts plainly
    assert doc["clusters"][0]["hadr"]["db2b"]["value"]["streams"][0]["state"] == "PEER"


async def test_several_clusters_and_one_picked_with_cluster_print_the_same_shape(
    tmp_path: Path, capsys
) -> None:
    runtime = await _lab(tmp_path, 2)
    try:
        assert runtime.control("lab2", "kill-primary")[0] == 0
        await runtime.settle()
        code_all, everything = await _status_json(runtime, capsys)
        code_one, picked = await _status_json(runtime, capsys, "--cluster", "lab1")
    finally:
        await runtime.stop()
    assert set(everything) == set(picked) == {"schema_version", "exit_code", "clusters"}
    assert everything["schema_version"] == picked["schema_version"] == 1
    assert [c["cluster"] for c in everything["clusters"]] == ["lab1", "lab2"]
    assert everything["clusters"][1]["promoted_node"] == "lab2-db2b"  # lab2 failed over
    assert _summary(picked) == [("lab1", "lab1-db2a", "lab1-db2a")]
    # the crashed host makes lab2 unreachable-in-part: the document says what the process exits with
    assert (everything["exit_code"], code_all) == (2, 2)
    assert [c["exit_code"] for c in everything["clusters"]] == [0, 2]
    assert (picked["exit_code"], code_one) == (0, 0)


def test_status_help_documents_the_json_shape(capsys) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["status", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert '{"schema_version": 1, "exit_code": 0|1|2, "clusters": [{"cluster": NAME,' in text
    assert "the same shape for one cluster, several or --cluster NAME" in text


@pytest.mark.parametrize(
    ("db2", "environment"),
    [
        ("11.5.7", "lab"),  # versions and cluster properties both captured: nothing to say
        (None, "lab (Db2 11.5.8: properties assumed from 11.5.7)"),  # the default
        ("12.1", "not checked against a real capture; properties assumed from 11.5.7"),
    ],
)
async def test_each_cluster_carries_its_environment_and_a_stand_in_release_says_so(
    tmp_path: Path, capsys, db2: str | None, environment: str
) -> None:
    runtime = LabRuntime()
    await runtime.start(1, base_dir=tmp_path / "lab", failover_delay_s=0, with_aws=False, db2=db2)
    try:
        _, doc = await _status_json(runtime, capsys)
    finally:
        await runtime.stop()
    label = doc["clusters"][0]["environment"]
    if db2 == "12.1":
        assert environment in label and label.startswith("lab (Db2 12.1: stand-in versions")
    else:
        assert label == environment
