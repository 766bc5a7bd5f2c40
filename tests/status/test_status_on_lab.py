"""The status service over real SSH (SshPool) against the embedded lab, plus moto for the overlay route."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest
from lab_over_ssh import lab_fixture, service_fixture  # noqa: F401  (the lab and service fixtures)

from lab.runtime import LabRuntime
from services.status.render_json import status_exit_code, status_to_dict
from services.status.service import StatusService

pytest.importorskip("moto")


async def test_healthy_lab_snapshot(lab: LabRuntime, service: StatusService):
    cluster = lab.inventory().clusters[0]
    s = await service.snapshot(cluster)
    assert s.verdicts == (), [v.message for v in s.verdicts]
    assert s.promoted_node == "db2a" and s.hadr_primary_host == "db2a"
    assert {h: p.value.state for h, p in s.hadr.items()} == {"db2a": "PEER", "db2b": "PEER"}
    assert all(p.value.connected for p in s.qdevice.values())
    assert s.qnetd.source == "qdev" and len(s.qnetd.value.clusters[0].clients) == 2
    assert s.overlay_route.value.instance_id == s.instance_ids["db2a"]
    assert s.crm.source in ("db2a", "db2b") and s.crm.age(s.taken_at) < 5
    assert status_exit_code([s]) == 0


async def test_status_json_shows_the_shape_db2cm_gives_the_cluster(lab: LabRuntime, service: StatusService):
    """`db2ops status --json` on a default lab: IBM's db2pcmk build in crm_mon, the same build every other
    output of the lab names, a db2ethmon resource per db host, and the qdevice as db2cm configures it."""
    cluster = lab.inventory().clusters[0]
    doc = json.loads(json.dumps(status_to_dict(await service.snapshot(cluster))))
    crm = doc["crm"]["value"]
    build = lab.clusters[cluster.name].release
    assert "db2pcmk" in crm["dc_version"] and crm["dc_version"] == build.dc_version
    ethmon = [r for r in crm["resources"] if r["agent"] == "ocf:heartbeat:db2ethmon"]
    assert sorted((r["id"], tuple(r["nodes"])) for r in ethmon) == [
        ("db2_db2a_eth0", ("db2a",)),
        ("db2_db2b_eth0", ("db2b",)),
    ]
    assert {p["value"]["algorithm"] for p in doc["qdevice"].values()} == {"LMS"}
    assert {p["value"]["qnetd_host"] for p in doc["qdevice"].values()} == {"qdev:5403"}


async def test_kill_primary_then_next_snapshot_shows_standby_promoted(
    lab: LabRuntime, service: StatusService
):
    cluster = lab.inventory().clusters[0]
    before = await service.snapshot(cluster)
    assert before.promoted_node == "db2a"
    code, out, _ = lab.control(cluster.name, "kill-primary")
    assert code == 0, out
    await lab.settle()
    after = await service.snapshot(cluster)
    assert after.promoted_node == "db2b"
    assert after.hadr_primary_host == "db2b"
    assert "db2a" in after.host_errors
    codes = {v.code for v in after.verdicts}
    assert {"host_unreachable", "node_offline", "hadr_disconnected"} <= codes
    # The route followed the promotion (the lab plays aws-vpc-move-ip): no mismatch verdict.
    assert after.overlay_route.value.instance_id == after.instance_ids["db2b"]
    assert "overlay_route_mismatch" not in codes
    # db2a's HADR part keeps its last good value, marked stale, instead of going blank.
    stale = after.hadr["db2a"]
    assert stale.stale and stale.value.role == "PRIMARY" and stale.error
    assert status_exit_code([after]) == 2


async def test_qnetd_down_and_node_loss_means_no_quorum(lab: LabRuntime, service: StatusService):
    cluster = lab.inventory().clusters[0]
    lab.control(cluster.name, "stop-qnetd")
    await lab.settle()
    s = await service.snapshot(cluster)
    codes = {v.code for v in s.verdicts}
    assert "qdevice_disconnected" in codes and "qnetd_down" in codes
    assert s.promoted_node == "db2a"
    lab.control(cluster.name, "kill-primary")
    await lab.settle()
    s = await service.snapshot(cluster)
    assert "no_quorum" in {v.code for v in s.verdicts}


async def test_one_dead_host_never_blanks_the_rest(lab: LabRuntime, service: StatusService):
    cluster = lab.inventory().clusters[0]
    lab.control(cluster.name, "stop-qnetd")  # qnetd daemon down, host still up
    await lab.settle()
    s = await service.snapshot(cluster)
    assert s.qnetd.error and "qdev" not in s.host_errors
    assert s.crm.ok and all(p.ok for p in s.hadr.values())


async def test_polls_reuse_one_connection_per_host(lab: LabRuntime, service: StatusService):
    """Three refreshes (two of them concurrent) hold exactly one server-side connection per host."""
    cluster = lab.inventory().clusters[0]
    await service.snapshot(cluster)
    conns_after_first = {name: set(h.connections) for name, h in lab.hosts.items()}
    await asyncio.gather(service.snapshot(cluster), service.snapshot(cluster))
    assert all(len(h.connections) == 1 for h in lab.hosts.values())
    assert {name: set(h.connections) for name, h in lab.hosts.items()} == conns_after_first


async def _status_json(lab: LabRuntime, tmp_path: Path, **env: str) -> dict:
    """Run `db2ops status --json` on the lab in a subprocess with a bare environment plus `env`; assert it
    exits 0 and return the lab's one cluster entry."""
    base = {"HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    cmd = [sys.executable, "-m", "tui.cli", "--inventory", str(lab.inventory_path), "status", "--json"]
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**base, **env},
        cwd=Path(__file__).resolve().parents[2],
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    (snap,) = json.loads(out)["clusters"]
    return snap


async def test_status_cli_json_against_lab(lab: LabRuntime, tmp_path: Path):
    """`db2ops status --json` (the headless path a DBA scripts) reports the lab's promoted node and PEER."""
    snap = await _status_json(lab, tmp_path)
    assert snap["promoted_node"] == "db2a"
    assert snap["hadr"]["db2b"]["value"]["streams"][0]["state"] == "PEER"
    assert snap["healthy"] is True


async def test_status_cli_on_a_jump_host_with_a_proxy_and_an_aws_profile(lab: LabRuntime, tmp_path: Path):
    """A DBA's shell exports HTTPS_PROXY (no NO_PROXY) and AWS_PROFILE for real AWS: the lab's overlay
    route still comes from the lab's moto on 127.0.0.1, not through the proxy, without that profile."""
    proxy = {
        name: "http://127.0.0.1:9" for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")
    }
    snap = await _status_json(lab, tmp_path, AWS_PROFILE="prod-admin-not-on-this-host", **proxy)
    route = snap["overlay_route"]
    assert route["error"] is None and route["value"]["instance_id"] == snap["instance_ids"]["db2a"]
