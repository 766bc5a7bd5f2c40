"""`db2ops check` headless: exit codes 0 / 1 / 2, the JSON document, the text, on an in-process lab."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_check_lab import LabRunner

from lab.check_seeds import seed_wrong
from lab.state import LabCluster
from services.context import ConsoleContext
from tui.cli import main

INVENTORY = """clusters:
  - name: lab1
    instance: db2inst1
    database: HADRDB
    aws: {region: us-east-1, overlay_ip: 192.168.1.81}
    hosts:
      - {name: db2a, address: 127.0.0.1, role: db}
      - {name: db2b, address: 127.0.0.1, role: db}
      - {name: qdev, address: 127.0.0.1, role: qdevice}
"""


@pytest.fixture
def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[LabCluster, Path]:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # default settings
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(INVENTORY)
    lab_cluster = LabCluster("lab1")

    async def host_runner(self):  # the command's hosts are the lab's command handlers, not SSH
        return LabRunner(lab_cluster)

    monkeypatch.setattr(ConsoleContext, "host_runner", host_runner)
    return lab_cluster, inventory


def test_a_correct_cluster_exits_0(lab, capsys) -> None:
    _, inventory = lab
    assert main(["--inventory", str(inventory), "check", "--cluster", "lab1"]) == 0
    assert capsys.readouterr().out.startswith("lab1: no findings")


def test_a_finding_exits_1_and_prints_why_and_fix(lab, capsys) -> None:
    lab_cluster, inventory = lab
    seed_wrong(lab_cluster, "OIP-NO-COLOCATION")
    assert main(["--inventory", str(inventory), "check", "--cluster", "lab1"]) == 1
    out = capsys.readouterr().out
    assert "ERROR   OIP-NO-COLOCATION" in out
    assert "why: " in out and "fix: crm configure colocation" in out


def test_json_has_the_documented_shape(lab, capsys) -> None:
    lab_cluster, inventory = lab
    seed_wrong(lab_cluster, "HADR-PEER-WINDOW-SHORT")
    assert main(["--inventory", str(inventory), "check", "--cluster", "lab1", "--json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == 1 and doc["cluster"] == "lab1" and doc["exit_code"] == 1
    assert [f["code"] for f in doc["findings"]] == [
        "HADR-PEER-WINDOW-SHORT",
        "HADR-PEER-WINDOW-BELOW-MINIMUM",
    ]
    assert set(doc["findings"][0]) == {"code", "severity", "layer", "summary", "why", "fix"}
    assert doc["unreadable"] == []


def test_an_unknown_cluster_is_exit_2_naming_the_known_ones(lab, capsys) -> None:
    _, inventory = lab
    assert main(["--inventory", str(inventory), "check", "--cluster", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no cluster 'nope'" in err and "lab1" in err


def test_cluster_is_required(lab) -> None:
    _, inventory = lab
    with pytest.raises(SystemExit) as exc:
        main(["--inventory", str(inventory), "check"])
    assert exc.value.code == 2
