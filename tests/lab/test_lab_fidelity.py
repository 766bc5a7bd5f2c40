"""The lab's outputs have exactly the layout of the real tools' (corpus/pacemaker-lab and the Db2 samples).

A LabCluster named like the captured cluster (db2hadr: db2a, db2b) is put in each captured state and its
renders are compared with the captures after masking only what must differ (clock times, ring ids,
addresses, and the quorum device's algorithm and qnetd host: the capture's qdevice is a plain-Pacemaker
ffsplit one, the lab's is configured as db2cm does it, LMS with the host by name). The lab models IBM's
db2pcmk builds, so crm_mon text and XML are compared with the db2 corpus of the same release in
test_lab_release_shape.py; here only their skeleton is checked against the real capture.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from corpus import CORPUS, LAB, corpus_files, read

from lab import render_corosync, render_db2, render_pacemaker
from lab.state import LabCluster

corpus_files("pacemaker-lab/01-healthy/*")  # fails the module when the corpus is missing

NOW = 1_795_700_000.0


def cluster_in(state: str, db2: str | None = None) -> LabCluster:
    """A lab cluster put in the state the corpus directory `state` captured."""
    c = LabCluster("db2hadr", index=0, failover_delay_s=0, clock=lambda: NOW, db2=db2)
    if state in ("05-qnetd-down", "06-no-quorum"):
        c.move_primary("db2b")  # 02-after-move left db2b promoted
        c.stop_qnetd()
    if state == "04-node-down":
        c.kill_node("db2b")
    if state == "06-no-quorum":
        c.kill_node("db2a")
    return c


def mask(text: str) -> str:
    text = re.sub(r"\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}", "<ctime>", text)
    text = re.sub(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\dZ?", "<iso>", text)
    text = re.sub(r"(Ring ID:\s+)\S+", r"\1<ring>", text)
    text = re.sub(r"10\.99\.\d+\.\d+(:\d+)?", "<addr>", text)
    text = re.sub(r"\(ocf:[^)]*\)", "(<agent>)", text)
    text = re.sub(r"(Algorithm:\s+).*", r"\1<algorithm>", text)
    text = re.sub(r"(QNetd host:\s+)\S+", r"\1<qnetd>", text)
    text = text.replace("KAP Tie-breaker:\tEnabled\n", "")  # ffsplit only
    return re.sub(r"(Last change:  <ctime> by \w+ via )\S+ on \S+", r"\1<who>", text)


COROSYNC_CASES = [
    (state, host, tool)
    for state in ("01-healthy", "04-node-down", "05-qnetd-down", "06-no-quorum")
    for host in ("db2a", "db2b", "qnetd")
    for tool in (
        "corosync-quorumtool_-s",
        "corosync-qdevice-tool_-s",
        "corosync-qdevice-tool_-sv",
        "corosync-qnetd-tool_-l",
        "corosync-qnetd-tool_-lv",
        "corosync-qnetd-tool_-s",
        "corosync-cfgtool_-s",
    )
    if (LAB / state / f"{host}__{tool}.txt").exists()
]
RC = {line.split("\t")[5]: int(line.split("\t")[2]) for line in read(LAB / "INDEX.tsv").splitlines()[1:]}


def render(cluster: LabCluster, host: str, tool: str) -> tuple[int, str, str]:
    if tool == "corosync-quorumtool_-s":
        return render_corosync.render_quorumtool(cluster, host)
    if tool.startswith("corosync-qdevice-tool"):
        return render_corosync.render_qdevice_tool(cluster, host, verbose=tool.endswith("v"))
    if tool.startswith("corosync-qnetd-tool"):
        return render_corosync.render_qnetd_tool(cluster, [tool.rsplit("_", 1)[1]])
    if tool == "corosync-cfgtool_-s":
        return render_corosync.render_cfgtool(cluster, host)
    raise AssertionError(tool)


@pytest.mark.parametrize(("state", "host", "tool"), COROSYNC_CASES, ids="/".join)
def test_text_outputs_match_the_capture(state: str, host: str, tool: str) -> None:
    path = LAB / state / f"{host}__{tool}.txt"
    status, out, err = render(cluster_in(state), host, tool)
    assert status == RC[f"{state}/{path.name}"]
    assert mask(out) == mask(read(path))
    stderr = path.with_name(path.name + ".stderr")
    assert err == (read(stderr) if stderr.exists() else "")


def shapes(xml_text: str) -> list[str]:
    """Each line with attribute values blanked: element names, attribute order and indentation."""
    return [re.sub(r'="[^"]*"', '=""', line) for line in xml_text.splitlines()]


# The capture is Pacemaker 2.1.5; the nearest build the lab models is 11.5.9's 2.1.6 (with <pacemakerd>).
NEAREST = "11.5.9"


def test_crm_mon_xml_has_the_capture_skeleton() -> None:
    lab = render_pacemaker.render_crm_mon_xml(
        cluster_in("01-healthy", NEAREST), ["crm_mon", "-1", "--output-as=xml"]
    )
    real = read(LAB / "01-healthy/db2a__crm_mon_-1_--output-as=xml.xml")
    assert set(shapes(lab)) == set(shapes(real))
    assert [child.tag for child in ET.fromstring(lab)] == [child.tag for child in ET.fromstring(real)]
    lab_root, real_root = ET.fromstring(lab), ET.fromstring(real)
    assert list(lab_root.attrib) == list(real_root.attrib)  # api-version (of the release) and the request
    for path in ("summary/current_dc", "nodes/node", "resources/clone", "bans/ban", "status"):
        assert list(lab_root.find(path).attrib) == list(real_root.find(path).attrib)


@pytest.mark.parametrize("state", ["04-node-down", "06-no-quorum"])
def test_crm_mon_xml_degraded_states_use_only_real_shapes(state: str) -> None:
    lab = render_pacemaker.render_crm_mon_xml(
        cluster_in(state, NEAREST), ["crm_mon", "-1", "--output-as=xml"]
    )
    real_shapes: set[str] = set()
    for path in corpus_files("pacemaker-lab/0[1-7]*/*crm_mon_-1_--output-as=xml.xml"):
        real_shapes |= set(shapes(read(path)))
    assert set(shapes(lab)) <= real_shapes
    real = read(
        LAB / state / f"{'db2a' if state.startswith('04') else 'db2b'}__crm_mon_-1_--output-as=xml.xml"
    )
    assert [c.tag for c in ET.fromstring(lab)] == [c.tag for c in ET.fromstring(real)]
    offline = ET.fromstring(lab).find("nodes/node[@online='false']")
    assert offline is not None and "feature_set" not in offline.attrib


def test_db2pd_layout_matches_db2_11_samples() -> None:
    _, out, _ = render_db2.render_db2pd_hadr(cluster_in("01-healthy"), "db2a", "hadrdb")
    sample = read(CORPUS / "db2pd-hadr/peer-primary-azure-rhel-v111.txt").splitlines()
    body = [line for line in out.splitlines() if " = " in line or line.endswith(" =")]
    assert all(line.index("=") == 38 for line in body)
    names = [line.split(" =")[0].strip() for line in body]
    sample_names = [line.split(" =")[0].strip() for line in sample if line.endswith(" =") or " = " in line]
    assert [n for n in names if n in sample_names] == sample_names  # same fields, same order
    assert out.startswith("\nDatabase Member 0 -- Database HADRDB -- Active -- Up ")
    assert re.search(
        r"^ +HADR_CONNECT_STATUS_TIME = \d\d/\d\d/\d{4} \d\d:\d\d:\d\d\.\d{6} \(\d+\)$", out, re.M
    )


def test_db2pd_not_activated_matches_the_sample_text() -> None:
    sample = read(CORPUS / "db2pd-hadr/error-db-not-activated-on-member.txt")
    status, out, _ = render_db2.render_db2pd_hadr(cluster_in("01-healthy"), "db2a", "HADRDB2")
    assert status == 0
    assert out == sample.replace("HADRDB", "HADRDB2").replace("member 1", "member 0")


def test_db2cm_list_layout_matches_the_sample() -> None:
    _, out, _ = render_db2.render_db2cm_list(cluster_in("01-healthy"), "db2a")
    sample = read(CORPUS / "db2cm-list/hadr-both-online-qdevice.txt")
    ours, theirs = out.splitlines(), sample.splitlines()
    assert ours[:6] == theirs[:6]  # title, single-space blank lines, HA configuration
    for line in ours[: ours.index("Qdevice information")]:
        if " = " in line or line.endswith("= "):
            assert line.index("=") == (26 if not line.startswith(" ") else 32), line
    keys = lambda lines: [ln.split("=")[0].rstrip() for ln in lines if "=" in ln and "Node ID" not in ln]  # noqa: E731
    hadr_keys = keys(theirs[theirs.index("Resource Name             = db2_db2inst1_db2inst1_SAMPLE") :][:11])
    assert hadr_keys == keys(
        ours[ours.index("Resource Name             = db2_db2inst1_db2inst1_HADRDB") :][:11]
    )
    assert (
        ours[ours.index("Fencing Information:") :][:5] == theirs[theirs.index("Fencing Information:") :][:5]
    )


def test_db_cfg_hadr_lines_match_the_sample_descriptions() -> None:
    _, out, _ = render_db2.render_db_cfg(cluster_in("01-healthy"), "db2a", "HADRDB")
    sample = read(CORPUS / "db2-dbcfg-hadr/grep-hadr-primary-aws.BR-DECODED.txt").splitlines()
    ours = [line for line in out.splitlines() if line.lstrip().startswith("HADR")]
    assert [line.split("=")[0] for line in ours] == [line.split("=")[0] for line in sample]
    assert ours[-2] == " HADR SSL certificate label             (HADR_SSL_LABEL) ="


def test_failed_actions_render_and_parse() -> None:
    from services.parsers.crm_mon_xml import parse_crm_mon_xml

    c = cluster_in("01-healthy")
    c.add_failed_action("db2b", c.instance_rsc("db2b"))
    status = parse_crm_mon_xml(render_pacemaker.render_crm_mon_xml(c))
    (failed,) = status.failed_actions
    assert (failed.resource, failed.operation, failed.node, failed.rc) == (
        "db2_db2b_db2inst1_0",
        "monitor",
        "db2b",
        7,
    )
    assert failed.interval_ms == 10_000 and failed.rc_text == "not running"
    text = render_pacemaker.render_crm_mon_text(c)
    assert (
        "Failed Resource Actions:\n  * db2_db2b_db2inst1_0_monitor_10000 on db2b 'not running' (7):" in text
    )
    c.restore()
    assert parse_crm_mon_xml(render_pacemaker.render_crm_mon_xml(c)).failed_actions == ()
