"""The lab cluster has the shape db2cm gives it, per Db2 release (lab/release.py).

Every rendered output of one lab cluster names the same Pacemaker build, and each output has the structure
of the real db2cm cluster's output of the same release in the corpus (crm-status/, crm-config/,
db2cm-list/, corosync-qdevice/): names and times are masked, the layout is compared line by line.
"""

from __future__ import annotations

import re

import pytest
from corpus import CORPUS, read

from lab import render_pacemaker
from lab.commands import run_command
from lab.ha_render import render_crm_config
from lab.ha_state import cluster_ha, oip_placeable
from lab.release import RELEASES, release
from lab.state import LabCluster
from services.parsers.corosync import parse_qdevice_tool
from services.parsers.crm_mon_xml import parse_crm_mon_xml
from services.parsers.db2cm import parse_db2cm_list

NOW = 1_795_700_000.0


def lab(db2: str | None = None) -> LabCluster:
    return LabCluster("db2domain", index=0, failover_delay_s=0, clock=lambda: NOW, db2=db2)


def sh(c: LabCluster, host: str, *argv: str) -> str:
    status, out, err = run_command(c, c.hosts[host], ["sudo", "-n", *argv], "")
    assert status == 0, (argv, err)
    return out


@pytest.mark.parametrize("db2", list(RELEASES))
def test_every_output_names_one_pacemaker_build(db2: str) -> None:
    c = lab(db2)
    rel = c.release
    xml = parse_crm_mon_xml(sh(c, "db2a", "crm_mon", "-1", "--output-as=xml"))
    text = sh(c, "db2a", "crm", "status")
    config = render_crm_config(c, cluster_ha(c))
    listing = parse_db2cm_list(sh(c, "db2b", f"/home/{c.instance}/sqllib/adm/db2cm", "-list"))
    rpm = sh(c, "db2a", "rpm", "-q", "pacemaker", "corosync", "crmsh")
    os_release = sh(c, "db2a", "cat", "/etc/os-release")
    assert "db2pcmk" in xml.dc_version
    assert xml.promoted_nodes == ("db2a",)  # role Master (2.0 builds) or Promoted (2.1) alike
    assert f'role="{rel.xml_roles[0]}"' in sh(c, "db2a", "crm_mon", "-1", "--output-as=xml")
    assert xml.dc_version == rel.dc_version
    assert f"(version {xml.dc_version})" in text
    assert f"dc-version={xml.dc_version} " in config
    assert xml.dc_version.startswith(listing.pacemaker_version + "-")
    assert f"pacemaker-{listing.pacemaker_version}.x86_64" in rpm.split()
    assert f"corosync-{listing.corosync_version}-" in rpm
    el = listing.pacemaker_version.rsplit(".", 1)[1]  # "el8"
    assert all(f".{el}." in line for line in rpm.split())  # every rpm built for the OS the hosts run
    assert f'PLATFORM_ID="platform:{el}"' in os_release and f'VERSION_ID="{rel.rhel}"' in os_release
    assert f"{rel.db2_level} " in sh(c, "db2a", "db2ls")


def test_unknown_release_says_which_exist() -> None:
    with pytest.raises(ValueError, match="11.5.5, 11.5.7, 11.5.8, 11.5.9, 12.1"):
        release("11.1")
    assert release("11.5.9.0").db2 == "11.5.9" and release("12.1.0.0").db2 == "12.1"


# --------------------------------------------------------------------------- crm status


def skeleton(text: str) -> list[str]:
    """crm status with names, times and counts masked; TABs or spaces between the columns alike."""
    out = []
    for line in text.splitlines():
        line = re.sub(r"\s+<===$", "", line)  # an author's annotation in one sample
        line = re.sub(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}", "<ctime>", line)
        line = re.sub(r"\(version \S+\)", "(version <v>)", line)
        line = re.sub(r"Current DC: \S+", "Current DC: <dc>", line)
        line = re.sub(r"by \w+ via \S+ on \S+", "by <who>", line)
        line = re.sub(r"\* \d+ resource instances", "* <n> resource instances", line)
        line = re.sub(r"\[ [^]]+ \]", "[ <nodes> ]", line)
        line = re.sub(r"Clone Set: \S+ \[\S+\]", "Clone Set: <clone> [<db>]", line)
        row = re.match(r"  \* (\S+)\s+\(([^)]+)\):\s+(Started|Stopped)( \S+)?$", line)
        if row:
            agent = row.group(2).rsplit(":", 1)[1]
            kind = "ip" if agent in ("IPaddr2", "aws-vpc-move-ip") else agent
            where = " <node>" if row.group(4) else ""
            colons = "::" if "::" in row.group(2) else ":"
            line = f"  * <{kind}>\t(ocf{colons}heartbeat:{kind}):\t {row.group(3)}{where}"
        out.append(line)
    return out


# (release, corpus sample): samples of a healthy cluster, primary on the first node
CRM_STATUS = [
    ("11.5.5", "crm-status/db2-hadr-full-vip-spaces.txt"),
    ("11.5.7", "crm-status/db2-hadr-full-vip.txt"),
    ("11.5.8", "crm-status/db2-hadr-after-takeover-annotated.txt"),
]


@pytest.mark.parametrize(("db2", "sample"), CRM_STATUS)
def test_crm_status_has_the_shape_of_the_same_release(db2: str, sample: str) -> None:
    c = lab(db2)
    ours = sh(c, "db2a", "crm", "status")
    theirs = read(CORPUS / sample)
    assert re.search(r"\(version (\S+)\)", theirs).group(1) == c.release.dc_version
    expected = skeleton(theirs)
    if not any("<ip>" in line for line in expected):  # this sample's cluster had no IP resource yet
        expected.append("  * <ip>\t(ocf::heartbeat:ip):\t Started <node>")
    assert skeleton(ours) == expected
    assert "    * Masters: [ db2a ]" in ours and "    * Slaves: [ db2b ]" in ours


def test_crm_status_with_the_primary_node_down_lists_it_stopped() -> None:
    c = lab("11.5.7")
    c.kill_node("db2a")
    c.tick(NOW + 10)
    ours = sh(c, "db2b", "crm", "status")
    theirs = read(CORPUS / "crm-status/db2-hadr-primary-node-offline.PDFTEXT.txt")
    theirs = theirs.replace("]\n(promotable):", "] (promotable):")  # the PDF wrapped this line
    assert skeleton(ours) == skeleton(theirs)


# --------------------------------------------------------------------------- crm configure show


def _ids(text: str) -> set[str]:
    return {line.split()[1] for line in text.splitlines() if line and not line.startswith(" ")}


def test_crm_config_holds_every_object_db2cm_creates() -> None:
    """Every object of the real 11.5.5 cluster's configuration (renamed: hosts, instance, database),
    except the IPaddr2 VIP the lab replaces with the plan's aws-vpc-move-ip resource."""
    sample = read(CORPUS / "crm-config/db2-hadr-vip-v1155.txt")
    renamed = sample.replace("pacemaker1", "db2a").replace("pacemaker2", "db2b").replace("SAMPLE", "HADRDB")
    c = lab("11.5.5")
    ours = render_crm_config(c, cluster_ha(c))
    db2cm_ids = {i for i in _ids(renamed) if "VIP" not in i}
    assert db2cm_ids <= _ids(ours)
    assert "        symmetric-cluster=false \\\n" in ours
    assert ours.endswith(renamed[renamed.index("rsc_defaults rsc-options:") :])
    for ident in ("db2_db2a_eth0", "db2_db2b_eth0"):
        block = re.compile(rf"^primitive {ident} .*?(?=\n\S)", re.M | re.S)
        assert block.search(ours).group(0) == block.search(renamed).group(0)


# The `crm config show` capture of each release (tests/corpus/SOURCES.md); 11.5.6 has none.
CONFIG_SAMPLES = {
    "11.5.5": "crm-config/db2-hadr-vip-v1155.txt",
    "11.5.7": "crm-config/db2-hadr-vip-no-quorum-stop.txt",
}
# set per cluster, not by the release
PER_CLUSTER = ("dc-version", "cluster-name")


def _option_sets(text: str) -> dict[str, dict[str, str]]:
    """`property NAME:` / `rsc_defaults NAME:` blocks of `crm configure show` as {"kind NAME": {key: value}}."""
    joined = re.sub(r" \\\n\s+", " ", text)
    out: dict[str, dict[str, str]] = {}
    for line in joined.splitlines():
        words = line.split()
        if words[:1] in (["property"], ["rsc_defaults"]):
            pairs = dict(w.split("=", 1) for w in words[2:])
            out[f"{words[0]} {words[1]}"] = {k: v for k, v in pairs.items() if k not in PER_CLUSTER}
    return out


@pytest.mark.parametrize("db2", list(CONFIG_SAMPLES))
def test_crm_config_properties_and_rsc_defaults_are_the_releases_capture(db2: str) -> None:
    """The property block and both rsc_defaults sets equal the same release's capture, key for key, and
    crm_mon's cluster_options say the same."""
    theirs = _option_sets(read(CORPUS / CONFIG_SAMPLES[db2]))
    c = lab(db2)
    ours = _option_sets(render_crm_config(c, cluster_ha(c)))
    assert set(theirs) == {
        "property cib-bootstrap-options:",
        "rsc_defaults rsc-options:",
        "rsc_defaults rsc_defaults-options:",
    }
    assert ours == theirs
    props = theirs["property cib-bootstrap-options:"]
    xml = parse_crm_mon_xml(sh(c, "db2a", "crm_mon", "-1", "--output-as=xml"))
    assert xml.no_quorum_policy == props["no-quorum-policy"]
    assert xml.symmetric_cluster is (props["symmetric-cluster"] == "true")


def test_no_release_mixes_the_properties_of_two_captures() -> None:
    """Each release's (symmetric-cluster, no-quorum-policy, failure-timeout) is one capture's set: its own,
    or (not captured) 11.5.7's, the nearest release with a `crm config show`."""
    captured = {}
    for db2, sample in CONFIG_SAMPLES.items():
        sets = _option_sets(read(CORPUS / sample))
        props, defaults = sets["property cib-bootstrap-options:"], sets["rsc_defaults rsc-options:"]
        captured[db2] = (
            props["symmetric-cluster"] == "true",
            props["no-quorum-policy"],
            int(defaults["failure-timeout"]),
        )
    assert len(set(captured.values())) == len(captured)  # the two captures differ in all three
    for rel in RELEASES.values():
        ours = (rel.symmetric_cluster, rel.no_quorum_policy, rel.failure_timeout)
        assert rel.properties_captured is (rel.db2 in CONFIG_SAMPLES)
        assert ours == captured[rel.db2 if rel.properties_captured else "11.5.7"], rel.db2


@pytest.mark.parametrize(("db2", "symmetric"), [("11.5.5", False), ("11.5.7", True)])
def test_the_overlay_resource_runs_where_the_releases_symmetric_cluster_lets_it(
    db2: str, symmetric: bool
) -> None:
    """Opt-in (11.5.5): only on a node a positive location constraint names; symmetric (11.5.7): on any node
    no -inf constraint bans. Both: a ban wins."""
    c = lab(db2)
    state = cluster_ha(c)
    assert oip_placeable(c, state, "db2b")  # the HA plan's prefer-node lines
    state.constraints = {k: v for k, v in state.constraints.items() if not k.startswith("prefer-node")}
    assert oip_placeable(c, state, "db2b") is symmetric
    state.constraints["cli-ban"] = f"location cli-ban-{c.oip_rsc}-on-db2b {c.oip_rsc} -inf: db2b"
    assert not oip_placeable(c, state, "db2b")
    state.constraints["prefer"] = f"location prefer-db2b {c.oip_rsc} 100: db2b"
    assert not oip_placeable(c, state, "db2b")


# --------------------------------------------------------------------------- db2cm -list


def test_db2cm_list_of_11_5_8_has_the_sample_resources_and_qdevice() -> None:
    c = lab("11.5.8")
    out = sh(c, "db2a", f"/home/{c.instance}/sqllib/adm/db2cm", "-list")
    ours, theirs = (
        parse_db2cm_list(out),
        parse_db2cm_list(read(CORPUS / "db2cm-list/hadr-both-online-qdevice.txt")),
    )
    kinds = lambda listing: sorted(r.type for r in listing.resources)  # noqa: E731
    assert kinds(ours) == kinds(theirs)  # HADR, IP, two Instance, two Network Interface
    assert ours.qdevice is not None and theirs.qdevice is not None
    assert (ours.qdevice.algorithm, theirs.qdevice.algorithm) == ("LMS", "LMS")
    assert ours.qdevice.qnetd_host == f"{c.qdevice_name}:5403"  # by name, as db2cm -create -qdevice
    assert ours.fencing == theirs.fencing == "Not configured"


@pytest.mark.parametrize("db2", ["11.5.5", "11.5.7"])
def test_db2cm_list_of_older_releases_ends_with_the_resources(db2: str) -> None:
    c = lab(db2)
    out = sh(c, "db2a", f"/home/{c.instance}/sqllib/adm/db2cm", "-list")
    assert "Fencing Information:" not in out and "Qdevice" not in out
    listing = parse_db2cm_list(out)
    assert listing.fencing == "" and listing.qdevice is None
    assert listing.pacemaker_version == c.release.pacemaker
    assert sum(r.type == "Network Interface" for r in listing.resources) == 2


# --------------------------------------------------------------------------- the quorum device


def test_qdevice_status_has_the_shape_of_db2cms_qdevice() -> None:
    c = lab()
    ours = sh(c, "db2a", "corosync-qdevice-tool", "-s")
    theirs = read(CORPUS / "corosync-qdevice/qdevice-tool-s-tabs.txt")
    keys = lambda text: [line.split(":")[0] for line in text.splitlines()]  # noqa: E731
    assert keys(ours) == keys(theirs)
    status = parse_qdevice_tool(ours)
    assert (status.algorithm, status.qnetd_host) == ("LMS", "qdev:5403")
    qnetd = sh(c, "qdev", "corosync-qnetd-tool", "-l")
    assert qnetd.splitlines()[1] == "    Algorithm:\t\tLMS"


# --------------------------------------------------------------------------- the overlay IP resource


def test_overlay_resource_has_the_ha_plans_name() -> None:
    c = lab()
    assert c.oip_rsc == "db2_db2inst1_db2inst1_HADRDB_AWS_primary-OIP"  # services/ha_setup/params.py
    status = parse_crm_mon_xml(render_pacemaker.render_crm_mon_xml(c))
    oip = next(r for r in status.resources if r.agent == "ocf:heartbeat:aws-vpc-move-ip")
    assert (oip.id, oip.nodes) == (c.oip_rsc, ("db2a",))


# --------------------------------------------------------------------------- crm_mon XML


def test_crm_mon_xml_of_11_5_8_uses_only_pacemaker_2_1_2_shapes() -> None:
    """Each element of the lab's XML, with its attributes in order, is one Pacemaker 2.1.2's crm_mon prints
    (its regression output; the harness scrubbed times and the DC, so those elements are left out)."""
    real = read(CORPUS / "crm_mon-xml/pacemaker-2.1.2-regression-xml-output.txt")
    scrubbed = ("<current_dc ", "<last_change ", "<operation_history ", "<pacemaker-result ")

    def shapes(text: str) -> set[str]:
        lines = (re.sub(r'="[^"]*"', '=""', line).strip() for line in text.splitlines())
        return {line for line in lines if not line.startswith(scrubbed)}

    c = lab("11.5.8")
    c.kill_node("db2b")
    for xml in (render_pacemaker.render_crm_mon_xml(lab("11.5.8")), render_pacemaker.render_crm_mon_xml(c)):
        assert shapes(xml) <= shapes(real), shapes(xml) - shapes(real)


def test_uncaptured_releases_say_so_in_help_and_captured_ones_do_not() -> None:
    from lab.release import RELEASES, releases_help

    stand_ins = [r.db2 for r in RELEASES.values() if not r.captured]
    assert stand_ins == ["11.5.9", "12.1"]  # no real output of theirs was found (tests/corpus/SOURCES.md)
    text = releases_help()
    assert "11.5.9*" in text and "12.1*" in text and "11.5.8*" not in text
    assert "not checked against a real capture" in text
    assert all(not RELEASES[d].shape_note for d in ("11.5.5", "11.5.7"))
    assert "stand-in" not in RELEASES["11.5.8"].shape_note  # its versions are captured, its properties not
    assert "not checked against a real capture" in RELEASES["11.5.9"].shape_note


@pytest.mark.parametrize("db2", ["11.5.5", "11.5.7", "11.5.8", "11.5.9", "12.1"])
def test_a_release_without_its_own_crm_config_show_says_its_cluster_properties_are_another_s(db2) -> None:
    from lab.release import RELEASES, releases_help

    rel = RELEASES[db2]
    note = "properties assumed from 11.5.7"
    if db2 in ("11.5.5", "11.5.7"):  # their `crm config show` is in tests/corpus/crm-config
        assert rel.properties_captured and rel.properties_note == "" and "properties" not in rel.shape_note
    else:
        assert not rel.properties_captured and rel.properties_note == note
        assert rel.shape_note.startswith(f"Db2 {db2}: ") and rel.shape_note.endswith(note)
    assumed = "No `crm config show` of 11.5.8, 11.5.9 or 12.1 is in the corpus: their cluster properties are 11.5.7's"
    assert assumed in releases_help()
