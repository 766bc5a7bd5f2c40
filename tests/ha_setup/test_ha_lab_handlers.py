"""The HA lab's answers: a fresh host has no Pacemaker until it is installed, a cluster appears only when
db2cm makes it, crm refuses unknown agents and objects, and the seeded lab looks built."""

from __future__ import annotations

from lab.commands import run_command
from lab.ha_state import TARBALL, cluster_ha, start_fresh
from lab.state import LabCluster
from services.parsers.crm_mon_xml import parse_crm_mon_xml
from services.parsers.db2cm import parse_db2cm_list

DB2CM = "/home/db2inst1/sqllib/adm/db2cm"


def sh(lab: LabCluster, host: str, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    return run_command(lab, lab.hosts[host], ["sudo", "-n", *argv], stdin)


def build_up_to_cluster(lab: LabCluster) -> None:
    for host in lab.db_nodes:
        assert sh(lab, host, "tar", "-zxf", TARBALL, "-C", "/tmp")[0] == 0
        rpms = sh(lab, host, "tar", "-tzf", TARBALL)[1].split()
        assert (
            sh(
                lab,
                host,
                "dnf",
                "install",
                "-y",
                *(f"/tmp/{r}" for r in rpms if r.endswith(".rpm")),
            )[0]
            == 0
        )
        assert sh(lab, host, "cp", f"/tmp/{TARBALL[5:-7]}/Db2/db2cm", DB2CM)[0] == 0
    for host in lab.db_nodes:
        assert (
            sh(lab, "db2a", DB2CM, "-copy_resources", f"/tmp/{TARBALL[5:-7]}/Db2agents", "-host", host)[0]
            == 0
        )


def test_a_fresh_host_answers_like_one_without_pacemaker() -> None:
    lab = LabCluster("lab1")
    start_fresh(lab)
    assert sh(lab, "db2a", "crm_mon", "-1", "--output-as=xml") == (
        127,
        "",
        "bash: line 1: crm_mon: command not found\n",
    )
    assert sh(lab, "db2a", DB2CM, "-list")[0] == 127
    assert sh(lab, "db2a", "rpm", "-q", "pacemaker", "ksh") == (
        2,
        "package pacemaker is not installed\npackage ksh is not installed\n",
        "",
    )
    assert sh(lab, "qdev", "corosync-qnetd-tool", "-l")[0] == 127


def test_installed_but_not_clustered_then_created_by_db2cm() -> None:
    lab = LabCluster("lab1")
    start_fresh(lab)
    build_up_to_cluster(lab)
    status, xml, _ = sh(lab, "db2b", "crm_mon", "-1", "--output-as=xml")
    assert status == 102 and not parse_crm_mon_xml(xml).connected
    assert sh(lab, "db2a", "corosync-quorumtool", "-s") == (1, "", "Cannot initialize CMAP service\n")
    bad_nic = sh(lab, "db2a", DB2CM, "-create", "-cluster", "-domain", "db2domain", "-publicEthernet", "ens5",
                 "-host", "db2a", "-publicEthernet", "ens5", "-host", "db2b")  # fmt: skip
    assert bad_nic == (1, "", "Error: Network interface ens5 does not exist on host db2a.\n")
    created = sh(lab, "db2a", DB2CM, "-create", "-cluster", "-domain", "db2domain", "-publicEthernet", "eth0",
                 "-host", "db2a", "-publicEthernet", "eth0", "-host", "db2b")  # fmt: skip
    assert created[0] == 0 and created[1].endswith("Cluster created successfully.\n")
    listing = parse_db2cm_list(sh(lab, "db2b", DB2CM, "-list")[1])
    # the domain brings db2cm's network-interface monitors, one per host, and nothing else yet
    ethmon = ("db2_db2a_eth0", "db2_db2b_eth0")
    assert (listing.domain_name, listing.qdevice) == ("db2domain", None)
    assert [(r.name, r.type) for r in listing.resources] == [(n, "Network Interface") for n in ethmon]
    status = parse_crm_mon_xml(sh(lab, "db2a", "crm_mon", "-1", "--output-as=xml")[1])
    assert status.connected and status.clones == ()
    assert [(r.id, r.agent, r.nodes) for r in status.resources] == [
        (n, "ocf:heartbeat:db2ethmon", (n.split("_")[1],)) for n in ethmon
    ]
    crm_status = sh(lab, "db2a", "crm", "status")[1]
    assert "* 2 resource instances configured" in crm_status and "Clone Set" not in crm_status
    refused = sh(lab, "db2a", DB2CM, "-create", "-db", "HADRDB", "-instance", "db2inst1")
    assert refused[0] == 1 and "instance resources on both hosts first" in refused[2]


def test_crm_load_refuses_unknown_agents_and_missing_objects() -> None:
    lab = LabCluster("lab1")
    start_fresh(lab)
    build_up_to_cluster(lab)
    sh(lab, "db2a", DB2CM, "-create", "-cluster", "-domain", "lab1", "-publicEthernet", "eth0", "-host", "db2a",
       "-publicEthernet", "eth0", "-host", "db2b")  # fmt: skip
    sh(lab, "db2a", "tee", "/root/x.txt", stdin="primitive evil ocf:heartbeat:anything\n")
    assert sh(lab, "db2a", "crm", "configure", "load", "update", "/root/x.txt") == (
        1,
        "",
        "ERROR: ocf:heartbeat:anything: got no meta-data, does this RA exist?\n",
    )
    sh(
        lab,
        "db2a",
        "tee",
        "/root/y.txt",
        stdin="order o1 Mandatory: db2_db2inst1_db2inst1_HADRDB-clone db2_nope\n",
    )
    assert sh(lab, "db2a", "crm", "configure", "load", "update", "/root/y.txt")[2] == (
        "ERROR: o1: object db2_nope does not exist\n"
    )
    assert cluster_ha(lab).oip_name is None and cluster_ha(lab).constraints == {}


def test_the_seeded_lab_shows_the_overlay_resource_in_its_configuration() -> None:
    lab = LabCluster("lab1")
    show = sh(lab, "db2a", "crm", "configure", "show")[1]
    assert f"primitive {lab.oip_rsc} aws-vpc-move-ip \\\n        params ip=192.168.1.81" in show
    assert (
        f"colocation db2_db2inst1_db2inst1_HADRDB_AWS_primary-colocation inf: {lab.oip_rsc}:Started" in show
    )
    assert "        cluster-name=lab1" in show
    assert sh(lab, "db2a", "ip", "-o", "address", "show", "dev", "eth0")[1].count("inet ") == 2  # + overlay
    assert sh(lab, "db2b", "ip", "-o", "address", "show", "dev", "eth0")[1].count("inet ") == 1


def test_start_fresh_after_the_first_command_is_refused() -> None:
    import pytest

    lab = LabCluster("lab1")
    sh(lab, "db2a", "rpm", "-q", "pacemaker")
    with pytest.raises(ValueError, match="before the first command"):
        start_fresh(lab)
