"""LabRuntime's files (key, known_hosts, inventory) and `serve_forever` (db2ops lab --serve)."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import stat

import pytest

from lab.runtime import LabRuntime, serve_forever
from services.inventory.loader import load_inventory


async def test_files_written_and_inventory_reads_back(lab):
    key_mode = stat.S_IMODE(os.stat(lab.client_key_path).st_mode)
    assert key_mode == 0o600
    lines = lab.known_hosts_path.read_text().splitlines()
    assert len(lines) == 6  # 2 clusters x 3 hosts
    ports = {h.port for h in lab.hosts.values()}
    for line in lines:
        hostport, algo, blob = line.split()
        assert hostport.startswith("[127.0.0.1]:") and int(hostport.split(":")[1].rstrip("]")) in ports
        assert algo == "ssh-ed25519" and blob.startswith("AAAA")
    inv = load_inventory(lab.inventory_path)
    assert [c.name for c in inv.clusters] == ["lab1", "lab2"]
    lab2 = inv.cluster("lab2")
    assert [h.name for h in lab2.hosts] == ["lab2-db2a", "lab2-db2b", "lab2-qdev"]
    assert [h.role for h in lab2.hosts] == ["db", "db", "qdevice"]
    assert lab2.lab is True and lab2.read_only is False and lab2.database == "HADRDB"
    assert all(h.address == "127.0.0.1" and h.user == "db2inst1" for h in lab2.hosts)
    assert all(h.known_hosts == str(lab.known_hosts_path) for h in lab2.hosts)
    assert all(h.instance_id and h.instance_id.startswith("i-") for h in lab2.hosts)
    assert lab2.aws.endpoint_url is None and lab2.aws.overlay_ip == "192.168.1.81"


async def test_bad_cluster_count_is_refused(tmp_path):
    with pytest.raises(ValueError, match="between 1 and"):
        await LabRuntime().start(0, base_dir=tmp_path, with_aws=False)


async def test_single_cluster_uses_plain_host_names(tmp_path):
    runtime = LabRuntime()
    await runtime.start(1, base_dir=tmp_path, with_aws=False)
    try:
        assert [h.name for h in runtime.inventory().clusters[0].hosts] == ["db2a", "db2b", "qdev"]
    finally:
        await runtime.stop()


async def test_serve_forever_prints_the_inventory_path_first_and_stops_on_sigterm(tmp_path):
    runtime = LabRuntime()
    await runtime.start(1, base_dir=tmp_path, with_aws=False)
    out = io.StringIO()
    task = asyncio.create_task(serve_forever(runtime, out))
    for _ in range(100):
        if out.getvalue():
            break
        await asyncio.sleep(0.01)
    first, hint = out.getvalue().splitlines()[:2]
    assert first == str(runtime.inventory_path)
    assert f"db2ops --inventory {runtime.inventory_path} status --json" in hint
    os.kill(os.getpid(), signal.SIGTERM)  # serve_forever's handler is installed before it prints
    await asyncio.wait_for(task, 10)
    assert runtime.started is False
    assert all(not h.listening for h in runtime.hosts.values())


async def test_serve_forever_needs_a_started_runtime():
    with pytest.raises(RuntimeError, match="start the lab first"):
        await serve_forever(LabRuntime(), io.StringIO())


async def test_missing_moto_says_how_to_install_it(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "moto.server", None)  # makes `from moto.server import ...` fail
    runtime = LabRuntime()
    with pytest.raises(RuntimeError, match=r"pip install 'db2ops\[lab\]'"):
        await runtime.start(1, base_dir=tmp_path, with_aws=True)
    assert all(not h.listening for h in runtime.hosts.values())  # what did start was cleaned up


async def test_lab_starts_with_a_missing_aws_profile_in_the_environment(tmp_path):
    # moto runs inside the lab's process and builds boto3 sessions from its environment: a DBA's
    # AWS_PROFILE for real AWS (missing here) made every moto call fail and the lab refused to start.
    import subprocess
    import sys
    from pathlib import Path

    from services.aws_clients import make_client

    env = {
        "HOME": str(tmp_path),
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
        "AWS_PROFILE": "prod-admin-not-on-this-host",
    }
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "tui.cli", "lab", "--serve", "--clusters", "1"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        first = await asyncio.wait_for(proc.stdout.readline(), 90)
        assert first, (await proc.stderr.read()).decode()
        cluster = load_inventory(first.decode().strip()).clusters[0]
        ec2 = make_client("ec2", cluster.aws)
        tables = await asyncio.to_thread(
            ec2.describe_route_tables, RouteTableIds=[cluster.aws.route_table_id]
        )
        routes = tables["RouteTables"][0]["Routes"]
        assert any(r.get("DestinationCidrBlock") == "192.168.1.81/32" for r in routes)
    finally:
        proc.send_signal(signal.SIGTERM)
        await asyncio.wait_for(proc.wait(), 30)


async def test_two_labs_of_one_user_never_share_a_folder(tmp_path, monkeypatch):
    # `db2ops lab --serve` and `db2ops lab --fresh-ha --serve` side by side, no --dir: each keeps its own
    # inventory, journal and keys; asking for a running lab's folder is refused; a stopped lab's is free.
    from lab.lab_dir_lock import LabDirInUse

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    first, second = LabRuntime(), LabRuntime()
    await first.start(1, with_aws=False)
    try:
        await second.start(1, with_aws=False, fresh_ha=True)
        try:
            assert first.base_dir == tmp_path / "state" / "db2ops" / "lab"
            assert second.base_dir == tmp_path / "state" / "db2ops" / "lab-2"
            for attr in ("inventory_path", "journal_dir", "client_key_path", "known_hosts_path"):
                assert getattr(first, attr) != getattr(second, attr)
            assert load_inventory(first.inventory_path).clusters[0].hosts[0].known_hosts == str(
                first.known_hosts_path
            )
            assert first.client_key_path.read_text() != second.client_key_path.read_text()
            with pytest.raises(LabDirInUse, match="another lab is running in .*--dir"):
                await LabRuntime().start(1, base_dir=first.base_dir, with_aws=False)
            assert first.inventory_path.exists()  # the refused lab wrote nothing over it
        finally:
            await second.stop()
    finally:
        await first.stop()
    third = LabRuntime()
    await third.start(1, with_aws=False)
    try:
        assert third.base_dir == tmp_path / "state" / "db2ops" / "lab"
    finally:
        await third.stop()
