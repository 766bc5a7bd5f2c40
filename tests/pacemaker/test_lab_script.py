"""lab/data/pcmk-lab.sh itself: idempotent `up`, a `down` that leaves nothing behind, and Db2 stand-ins that
answer in Db2's formats (parsed by db2ops' own parsers) and follow the node's real Pacemaker role."""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

import pytest

from lab.pacemaker import CLONE, SCRIPT
from services.parsers.crm_mon_xml import parse_crm_mon_xml
from services.parsers.db2cm import parse_db2cm_list
from services.parsers.db2pd_hadr import parse_db2pd_hadr
from services.parsers.dbcfg import parse_dbcfg_hadr
from services.ssh.pool import SshPool

from .conftest import require_pacemaker_lab

pytestmark = pytest.mark.pacemaker


def lab(env: dict[str, str], *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=timeout
    )


def _pid_files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): p.read_text().strip() for p in root.glob("hosts/*/pids/*.pid")}


def _alive(pid: str) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie waits for PID 1 to reap it: not running


def test_second_up_is_a_no_op(pcmk_lab) -> None:
    before = _pid_files(pcmk_lab.paths.root)
    done = lab(pcmk_lab.env, "up")
    assert done.returncode == 0, done.stderr
    assert "already up" in done.stderr
    assert _pid_files(pcmk_lab.paths.root) == before
    assert all(_alive(pid) for pid in before.values())


def test_down_leaves_the_machine_clean(tmp_path: Path) -> None:
    """A second, separate lab (own prefix, subnet and root) goes up and down; nothing of it remains."""
    require_pacemaker_lab()
    root = Path("/run/db2ops-pcmk-cleanup-test")
    env = {
        **os.environ,
        "DB2OPS_PCMK_ROOT": str(root),
        "DB2OPS_PCMK_PREFIX": "d2t",
        "DB2OPS_PCMK_NET": "10.99.7",
    }
    try:
        up = lab(env, "up")
        assert up.returncode == 0, up.stderr[-2000:]
        pids = _pid_files(root)
        assert len(pids) >= 10  # holders, sshd x3, qnetd, corosync/qdevice/pacemaker x2
        assert "d2t-db2a" in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    finally:
        down = lab(env, "down")
    assert down.returncode == 0, down.stderr
    assert [name for name, pid in pids.items() if _alive(pid)] == []
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    assert "d2t-" not in netns
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert "d2t" not in links
    assert not root.exists()
    assert str(root) not in Path("/proc/self/mountinfo").read_text()
    again = lab(env, "down")  # idempotent
    assert again.returncode == 0, again.stderr


async def _on(pool: SshPool, cluster, node: str, *argv: str):
    return await pool.run(cluster.host(node), list(argv))


def test_db2_stand_ins_follow_pacemaker(pcmk_lab) -> None:
    cluster = pcmk_lab.cluster

    async def gather():
        async with SshPool(config_paths=[]) as pool:
            xml = (await _on(pool, cluster, "db2a", "crm_mon", "-1", "--output-as=xml")).stdout
            out = {"crm": parse_crm_mon_xml(xml)}
            for node in ("db2a", "db2b"):
                out[f"db2pd {node}"] = await _on(pool, cluster, node, "db2pd", "-hadr", "-db", "HADRDB")
                out[f"cfg {node}"] = await _on(
                    pool, cluster, node, "db2", "get", "db", "cfg", "for", "HADRDB"
                )
            out["db2cm"] = await _on(pool, cluster, "db2b", "db2cm", "-list")
            out["other db"] = await _on(pool, cluster, "db2a", "db2pd", "-hadr", "-db", "NOSUCHDB")
            out["db2 other db"] = await _on(
                pool, cluster, "db2a", "db2", "get", "db", "cfg", "for", "NOSUCHDB"
            )
            return out

    assert lab(pcmk_lab.env, "wait-promoted", "any", "60").returncode == 0
    got = asyncio.run(gather())
    crm = got["crm"]
    (primary,) = crm.promoted_nodes
    standby = "db2b" if primary == "db2a" else "db2a"
    assert crm.promotable_clones[0].id == CLONE

    hadr_p = parse_db2pd_hadr(got[f"db2pd {primary}"].stdout)
    hadr_s = parse_db2pd_hadr(got[f"db2pd {standby}"].stdout)
    assert (hadr_p.role, hadr_p.state, hadr_p.db_state) == ("PRIMARY", "PEER", "Active")
    assert (hadr_s.role, hadr_s.state, hadr_s.db_state) == ("STANDBY", "PEER", "Standby")
    assert hadr_p.streams[0].primary_host == primary and hadr_p.streams[0].standby_host == standby
    assert hadr_p.streams[0].connect_status == "CONNECTED"

    assert parse_dbcfg_hadr(got[f"cfg {primary}"].stdout).role == "PRIMARY"
    cfg_s = parse_dbcfg_hadr(got[f"cfg {standby}"].stdout)
    assert cfg_s.role == "STANDBY" and cfg_s.params["HADR_REMOTE_HOST"] == primary

    cm = parse_db2cm_list(got["db2cm"].stdout)
    assert cm.nodes == {"db2a": "Online", "db2b": "Online"}
    assert cm.domain_name == "pcmk" and cm.pacemaker_version.startswith("2.1.5")
    assert cm.domain_leader == crm.dc
    hadr_rsc = next(r for r in cm.resources if r.type == "HADR")
    assert hadr_rsc.fields["HADR Primary Node"] == primary
    assert hadr_rsc.fields["HADR Standby Node"] == standby
    assert cm.qdevice is not None and cm.qdevice.state == "Connected"

    other = parse_db2pd_hadr(got["other db"].stdout)
    assert not other.activated and other.database == "NOSUCHDB"
    assert got["db2 other db"].exit_status == 4 and "SQL1013N" in got["db2 other db"].stdout


def test_systemctl_stand_in_serves_crmsh(pcmk_lab) -> None:
    """No systemd in the hosts: the stand-in maps units to the lab's daemons so crmsh's cluster commands work."""
    cluster = pcmk_lab.cluster

    async def gather():
        async with SshPool(config_paths=[]) as pool:
            return (
                await _on(
                    pool,
                    cluster,
                    "db2a",
                    "systemctl",
                    "is-active",
                    "corosync",
                    "pacemaker",
                    "corosync-qdevice",
                ),
                await _on(pool, cluster, "qnetd", "systemctl", "is-active", "corosync-qnetd", "pacemaker"),
                await _on(pool, cluster, "db2b", "crm", "cluster", "status"),
            )

    active, qnetd, crm_status = asyncio.run(gather())
    assert (active.exit_status, active.stdout.split()) == (0, ["active", "active", "active"])
    # qnetd runs no pacemaker: systemd's is-active answers "inactive" with exit 3
    assert (qnetd.exit_status, qnetd.stdout.split()) == (3, ["active", "inactive"])
    assert crm_status.exit_status == 0, crm_status.stderr
    assert "pacemaker        active/running/enabled" in crm_status.stdout
    assert "Name: pcmk" in crm_status.stdout


def test_real_lab_has_db2cms_constraints_and_defaults(pcmk_lab) -> None:
    """The real lab's CIB carries the constraints db2cm 11.5.7+ creates, under db2cm's names, and its
    rsc_defaults (failure-timeout=10): the corpus capture of a db2cm cluster with the capture's hosts and
    database put in the lab's place. Names matter: a DBA reads them in `crm config show` and the console's
    ban list, and the HA plan's checks look for them."""
    import re
    import xml.etree.ElementTree as ET

    capture = (
        Path(__file__).parents[1] / "corpus" / "crm-config" / "db2-hadr-vip-no-quorum-stop.txt"
    ).read_text()
    renamed = {"pacemakertest1": "db2a", "pacemakertest2": "db2b", "SAMPLE": "HADRDB"}
    expected = set()
    for line in capture.splitlines():
        found = re.match(r"location (\S+) ", line)
        if found and "VIP" not in found.group(1):  # the overlay IP's constraints come from the HA plan
            name = found.group(1)
            for old, new in renamed.items():
                name = name.replace(old, new)
            expected.add(name)

    async def cib() -> str:
        async with SshPool(config_paths=[]) as pool:
            return (
                await _on(pool, pcmk_lab.cluster, "db2a", "cibadmin", "-Q", "--scope", "configuration")
            ).stdout

    root = ET.fromstring(asyncio.run(cib()))
    ids = {c.get("id") for c in root.iter("rsc_location")}
    assert expected <= ids, sorted(expected - ids)
    # what the lab has beyond the capture: the second host's prefer constraints (the capture lists the first
    # host's only), the HA plan's overlay-IP constraints, and nothing of the lab's own invention
    extra = {i for i in ids - expected if "OIP" not in (i or "") and not (i or "").startswith("cli-")}
    assert extra <= {"prefer-db2_db2b_db2inst1_0", "prefer-db2_db2b_eth0"}, sorted(extra)
    defaults = {nv.get("name"): nv.get("value") for nv in root.iterfind("rsc_defaults//nvpair")}
    assert defaults == {"failure-timeout": "10"}
