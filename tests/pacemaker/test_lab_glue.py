"""lab/pacemaker.py without a cluster: what it says is missing, the inventory it writes, how `up` fails."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from lab import pacemaker
from services.inventory.loader import load_inventory


def test_not_root_is_named(monkeypatch) -> None:
    monkeypatch.setattr(pacemaker.os, "geteuid", lambda: 1000)
    monkeypatch.setattr(pacemaker.shutil, "which", lambda cmd, path=None: f"/usr/sbin/{cmd}")
    monkeypatch.setattr(pacemaker.os, "access", lambda path, mode: True)
    message = pacemaker.pacemaker_lab_available()
    assert message is not None
    assert "root" in message and "sudo" in message
    assert "packages" not in message


def test_missing_commands_name_their_packages(monkeypatch) -> None:
    monkeypatch.setattr(pacemaker.os, "geteuid", lambda: 0)
    gone = {"corosync-qnetd", "crm"}
    monkeypatch.setattr(
        pacemaker.shutil, "which", lambda cmd, path=None: None if cmd in gone else f"/usr/sbin/{cmd}"
    )
    monkeypatch.setattr(pacemaker.os, "access", lambda path, mode: "aws-vpc-move-ip" not in path)
    message = pacemaker.pacemaker_lab_available()
    assert message is not None and "root" not in message
    assert "corosync-qnetd (corosync-qnetd)" in message
    assert "crmsh (crm)" in message
    assert "resource-agents (/usr/lib/ocf/resource.d/heartbeat/aws-vpc-move-ip)" in message
    assert "apt-get install -y corosync-qnetd crmsh resource-agents" in message


def test_everything_present_means_available(monkeypatch) -> None:
    monkeypatch.setattr(pacemaker.os, "geteuid", lambda: 0)
    monkeypatch.setattr(pacemaker.shutil, "which", lambda cmd, path=None: f"/usr/sbin/{cmd}")
    monkeypatch.setattr(pacemaker.os, "access", lambda path, mode: True)
    assert pacemaker.pacemaker_lab_available() is None


def test_inventory_points_at_the_namespaces_with_the_lab_key(tmp_path: Path) -> None:
    (tmp_path / "lab.env").write_text("PREFIX=d2t\nNET=10.99.5\nCLUSTER_NAME=pcmk\n")
    aws = {"endpoint_url": "http://127.0.0.1:5123", "route_table_id": "rtb-1", "overlay_ip": "192.168.1.81"}
    path = pacemaker.write_inventory(tmp_path, {**aws, "instance_ids": {"db2a": "i-0a", "db2b": "i-0b"}})
    cluster = load_inventory(path).cluster("pcmk")
    assert cluster is not None and not cluster.read_only and not cluster.lab
    assert cluster.database == "HADRDB" and cluster.instance == "db2inst1"
    got = {h.name: (h.address, h.role, h.user, h.port, h.instance_id) for h in cluster.hosts}
    assert got == {
        "db2a": ("10.99.5.11", "db", "root", 22, "i-0a"),
        "db2b": ("10.99.5.12", "db", "root", 22, "i-0b"),
        "qnetd": ("10.99.5.13", "qdevice", "root", 22, None),
    }
    for host in cluster.hosts:
        assert host.identity == str(tmp_path / "ssh" / "id_ed25519")
        assert host.known_hosts == str(tmp_path / "ssh" / "known_hosts")
    assert cluster.aws.endpoint_url == "http://127.0.0.1:5123" and cluster.aws.route_table_id == "rtb-1"


def test_unknown_aws_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="endpoint"):
        pacemaker.write_inventory(tmp_path, {"endpoint": "http://127.0.0.1:1"})


def test_start_refuses_with_the_missing_sentence(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pacemaker, "pacemaker_lab_available", lambda: "The real Pacemaker lab needs root.")
    with pytest.raises(pacemaker.PacemakerLabError, match="needs root"):
        asyncio.run(pacemaker.start_pacemaker_lab(root=tmp_path))


def _fake_script(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-lab.sh"
    script.write_text(f'#!/bin/bash\n[ "$1" = up ] || exit 9\n{body}\n')
    return script


def test_failed_up_reports_exit_and_log_tail(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pacemaker, "pacemaker_lab_available", lambda: None)
    script = _fake_script(tmp_path, 'echo "[pcmk-lab] ERROR: corosync on db2a did not start" >&2; exit 1')
    with pytest.raises(pacemaker.PacemakerLabError) as info:
        asyncio.run(pacemaker.start_pacemaker_lab(script, root=tmp_path))
    assert "exit 1" in str(info.value) and "corosync on db2a did not start" in str(info.value)
    assert "down" in str(info.value)  # says what to do next


def test_successful_up_writes_the_inventory(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(pacemaker, "pacemaker_lab_available", lambda: None)
    script = _fake_script(tmp_path, 'echo "NET=10.99.6" > "$DB2OPS_PCMK_ROOT/lab.env"')
    # the AWS side (EC2 emulation, the real overlay-IP agent) is set up after `up`; its settings land in
    # the inventory
    aws = {"endpoint_url": "http://10.99.6.1:4566", "route_table_id": "rtb-9", "overlay_ip": "192.168.1.81"}
    calls = []
    monkeypatch.setattr(pacemaker, "setup_overlay_ip", lambda s, r: calls.append((s, r)) or dict(aws))
    path = asyncio.run(pacemaker.start_pacemaker_lab(script, root=tmp_path))
    assert path == tmp_path / "inventory.yaml" and calls == [(script, tmp_path)]
    cluster = load_inventory(path).cluster("pcmk")
    assert cluster.host("db2b").address == "10.99.6.12"
    assert cluster.aws.endpoint_url == aws["endpoint_url"] and cluster.aws.route_table_id == "rtb-9"


def test_ci_turns_the_skip_into_a_failure(monkeypatch) -> None:
    from . import conftest

    monkeypatch.setattr(conftest, "pacemaker_lab_available", lambda: "The real Pacemaker lab needs root.")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI must run the pacemaker tier, but: .*needs root"):
        conftest.require_pacemaker_lab()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="needs root"):
        conftest.require_pacemaker_lab()
