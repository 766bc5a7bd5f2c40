"""crm_mon XML parser against every real capture in the corpus, plus old formats and hostile input."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from corpus import LAB, corpus_files, corpus_id, read

from services.parsers.crm_mon_xml import normalise_role, parse_crm_mon_xml
from services.parsers.errors import ParseError

LAB_XML = corpus_files("pacemaker-lab/*/*crm_mon*--output-as=xml*.xml")
REGRESSION = "crm_mon-xml/pacemaker-2.1.2-regression-xml-output.txt"
ALL_XML = LAB_XML + corpus_files("crm_mon-xml/*")

# Truth per capture, read from the same state's `crm_mon -1` text: DC, quorum, promoted, unpromoted,
# offline nodes, standby nodes, last change "by".
TRUTH = {
    "01-healthy/db2a": ("db2b", True, ("db2a",), ("db2b",), (), (), "root via cibadmin on db2a"),
    "01-healthy/db2b": ("db2b", True, ("db2a",), ("db2b",), (), (), "root via cibadmin on db2a"),
    "02-after-move/db2a": ("db2b", True, ("db2b",), ("db2a",), (), (), "root via crm_resource on db2a"),
    "02-after-move/db2b": ("db2b", True, ("db2b",), ("db2a",), (), (), "root via crm_resource on db2a"),
    "03-standby/db2a": ("db2b", True, ("db2a",), (), (), ("db2b",), "root via cibadmin on db2b"),
    "03-standby/db2b": ("db2b", True, ("db2a",), (), (), ("db2b",), "root via cibadmin on db2b"),
    "04-node-down/db2a": ("db2a", True, ("db2a",), (), ("db2b",), (), "root via crm_resource on db2b"),
    "04c-cluster-stop/db2b": ("db2b", True, ("db2b",), (), ("db2a",), (), "root via crm_resource on db2b"),
    "05-qnetd-down/db2a": ("db2b", True, ("db2b",), ("db2a",), (), (), "root via crm_resource on db2b"),
    "05-qnetd-down/db2b": ("db2b", True, ("db2b",), ("db2a",), (), (), "root via crm_resource on db2b"),
    "06-no-quorum/db2b": ("db2b", False, (), (), ("db2a",), (), "root via crm_resource on db2b"),
    "07-recovered/db2b": ("db2b", True, ("db2a",), ("db2b",), (), (), "root via crm_resource on db2b"),
}
NOT_CONNECTED = {"04-node-down/db2b"}
NODES_ONLY = {"08-extras-healthy/db2a"}


def _key(path) -> str:
    return f"{path.parent.name}/{path.name.split('__')[0]}"


def test_every_lab_capture_has_a_truth_row():
    assert {_key(p) for p in LAB_XML} == set(TRUTH) | NOT_CONNECTED | NODES_ONLY


@pytest.mark.parametrize("path", [p for p in LAB_XML if _key(p) in TRUTH], ids=corpus_id)
def test_lab_capture_matches_crm_mon_text_truth(path):
    dc, quorum, promoted, unpromoted, offline, standby, change_by = TRUTH[_key(path)]
    status = parse_crm_mon_xml(read(path))
    assert status.connected and status.status_code == 0 and status.status_message == "OK"
    assert status.pacemakerd_state == "running"
    assert status.stack == "corosync"
    assert status.dc == dc
    assert status.dc_version == "2.1.5-a3f44794f94"
    assert status.with_quorum is quorum
    assert status.promoted_nodes == promoted
    assert status.promotable_clones[0].unpromoted_nodes == unpromoted
    assert status.promotable_clones[0].id == "db2_db2inst1_db2inst1_HADRDB-clone"
    assert tuple(n.name for n in status.nodes) == ("db2a", "db2b")
    assert tuple(n.name for n in status.nodes if not n.online) == offline
    assert tuple(n.name for n in status.nodes if n.standby) == standby
    assert [n.name for n in status.nodes if n.is_dc] == [dc]
    assert status.last_change_by == change_by
    assert re.fullmatch(r"Thu Nov 26 1[45]:\d\d:\d\d 2026", status.last_change)
    assert status.nodes_configured == 2 and status.resources_configured == 5
    assert status.stonith_enabled is False and status.maintenance_mode is False
    assert status.no_quorum_policy == "stop"
    assert status.failed_actions == ()
    assert {b.id for b in status.bans} == {"no_db2_db2b_db2inst1_0_on_db2a", "no_db2_db2a_db2inst1_0_on_db2b"}
    ban = next(b for b in status.bans if b.resource == "db2_db2b_db2inst1_0")
    assert (ban.node, ban.weight, ban.promoted_only) == ("db2a", -1000000, False)
    assert {r.id for r in status.resources} == {
        "db2_db2a_db2inst1_0",
        "db2_db2b_db2inst1_0",
        "db2_db2inst1_db2inst1_HADRDB-AWS-primary-OIP",
    }
    assert all(r.agent == "ocf:heartbeat:Dummy" for r in status.resources)
    oip = next(r for r in status.resources if r.id.endswith("-OIP"))
    # The overlay IP follows the promoted instance (colocation); stopped when nothing is promoted.
    assert oip.nodes == promoted and oip.role == ("Started" if promoted else "Stopped")


@pytest.mark.parametrize("path", [p for p in LAB_XML if _key(p) in TRUTH], ids=corpus_id)
def test_lab_capture_agrees_with_the_text_output_of_the_same_moment(path):
    """The independent `crm_mon -1` text of the same state and host names the same promoted node."""
    text_path = path.with_name(path.name.replace("_--output-as=xml.xml", ".txt"))
    if not text_path.exists():
        pytest.skip("no text capture beside this XML")
    text = text_path.read_text()
    promoted = re.findall(r"\* Promoted: \[ (.*?) \]", text)
    assert parse_crm_mon_xml(read(path)).promoted_nodes == tuple(" ".join(promoted).split())
    dc = re.search(r"Current DC: (\S+)", text).group(1)
    assert parse_crm_mon_xml(read(path)).dc == dc


def test_healthy_node_attributes_and_running_counts():
    status = parse_crm_mon_xml(read(LAB / "01-healthy/db2a__crm_mon_-1_--output-as=xml.xml"))
    assert status.node_attributes == {
        "db2a": {"master-db2_db2inst1_db2inst1_HADRDB": "10"},
        "db2b": {"master-db2_db2inst1_db2inst1_HADRDB": "5"},
    }
    assert [(n.name, n.id, n.resources_running, n.type) for n in status.nodes] == [
        ("db2a", "1", 3, "member"),
        ("db2b", "2", 2, "member"),
    ]
    clone = status.clones[0]
    assert clone.promotable and clone.managed and not clone.failed and not clone.disabled
    assert [(r.role, r.nodes, r.agent) for r in clone.instances] == [
        ("Promoted", ("db2a",), "ocf:pacemaker:Stateful"),
        ("Unpromoted", ("db2b",), "ocf:pacemaker:Stateful"),
    ]


def test_standby_node_runs_nothing_and_its_instance_is_stopped():
    status = parse_crm_mon_xml(read(LAB / "03-standby/db2a__crm_mon_-1_--output-as=xml.xml"))
    db2b = status.node("db2b")
    assert db2b is not None and db2b.online and db2b.standby and db2b.resources_running == 0
    assert [r.role for r in status.clones[0].instances] == ["Promoted", "Stopped"]


def test_not_connected_is_a_fact_not_an_error():
    status = parse_crm_mon_xml(read(LAB / "04-node-down/db2b__crm_mon_-1_--output-as=xml.xml"))
    assert not status.connected
    assert (status.status_code, status.status_message) == (102, "Not connected")
    assert status.status_errors == (
        "error: Could not connect to launcher: Connection refused",
        "crm_mon: Connection to cluster failed: Connection refused",
    )
    assert status.nodes == () and status.dc is None and status.promoted_nodes == ()


def test_include_nodes_only_has_no_summary_but_knows_the_dc():
    status = parse_crm_mon_xml(
        read(LAB / "08-extras-healthy/db2a__crm_mon_-1_--output-as=xml_--include=none_nodes.xml")
    )
    assert status.connected and status.dc == "db2b"
    assert status.with_quorum is None and status.stonith_enabled is None
    assert [n.name for n in status.nodes if n.online] == ["db2a", "db2b"]
    assert status.clones == () and status.resources == ()


def test_regression_output_of_pacemaker_2_1_2():
    status = parse_crm_mon_xml(read(REGRESSION))
    assert status.dc == "cluster02"  # name scrubbed in <current_dc>: taken from is_dc
    assert status.with_quorum is True and status.stonith_enabled is True
    assert status.nodes_configured == 5 and status.resources_configured == 32
    remote = status.node("httpd-bundle-2")
    assert remote is not None and remote.type == "remote" and not remote.online
    assert [c.id for c in status.clones] == [
        "ping-clone",
        "inactive-clone",
        "mysql-clone-group",
        "promotable-clone",
    ]
    assert [c.id for c in status.promotable_clones] == ["promotable-clone"]
    assert status.promoted_nodes == ("cluster02",)
    assert status.promotable_clones[0].unpromoted_nodes == ("cluster01",)
    assert [r.role for r in status.promotable_clones[0].instances].count("Stopped") == 3
    inactive = next(c for c in status.clones if c.id == "inactive-clone")
    assert inactive.disabled and not inactive.promotable
    mysql = next(c for c in status.clones if c.id == "mysql-clone-group")
    assert [r.nodes for r in mysql.instances if r.active] == [("cluster02",), ("cluster01",)]
    assert [g.id for g in status.groups] == ["inactive-group", "exim-group"]
    exim = status.groups[1]
    assert [(m.id, m.agent, m.nodes) for m in exim.members] == [
        ("Public-IP", "ocf:heartbeat:IPaddr", ("cluster02",)),
        ("Email", "lsb:exim", ("cluster02",)),
    ]
    assert [r.id for r in status.resources] == ["Fencing", "dummy"]
    assert status.bans[0].id == "not-on-cluster1" and status.bans[0].node == "cluster01"
    assert status.node_attributes["cluster01"] == {"location": "office", "pingd": "1000"}
    assert status.failed_actions == ()


# ---------------------------------------------------------------- other versions (built from the documented format)

SAMPLES = Path(__file__).parent / "samples"  # one file per version, as crm_mon writes it
PCMK_20_WITH_FAILURES = (SAMPLES / "crm_mon-2.0.4-with-failures.xml").read_text(encoding="utf-8")
PCMK_11_AS_XML = (SAMPLES / "crm_mon-1.1.19.xml").read_text(encoding="utf-8")


def test_pacemaker_2_0_old_role_names_failures_and_promoted_only_ban():
    status = parse_crm_mon_xml(PCMK_20_WITH_FAILURES)
    assert status.promoted_nodes == ("jspcmk2",)
    assert status.clones[0].instances[0].agent == "ocf::heartbeat:db2hadr"
    assert status.maintenance_mode is True and status.stonith_enabled is False
    assert status.last_change_by == "hacluster via crmd on jspcmk2"
    jspcmk1 = status.node("jspcmk1")
    assert jspcmk1 is not None and jspcmk1.unclean and jspcmk1.maintenance and not jspcmk1.online
    first, second = status.failed_actions
    assert (first.resource, first.operation, first.node) == (
        "db2_db2inst1_db2inst1_SAMPLE",
        "monitor",
        "jspcmk1",
    )
    assert (first.rc, first.rc_text, first.status) == (7, "not running", "complete")
    assert (first.exit_reason, first.interval_ms, first.call) == ("HADR is not active", 9000, "51")
    assert first.last_rc_change == "2021-03-03 09:58:39 -05:00"
    assert (second.resource, second.operation, second.rc, second.status) == (
        "db2_jspcmk1_eth0",
        "start",
        1,
        "Timed Out",
    )
    (ban,) = status.bans
    assert ban.promoted_only and ban.weight == -1_000_000 and ban.node == "jspcmk1"


def test_pacemaker_1_1_as_xml_root():
    status = parse_crm_mon_xml(PCMK_11_AS_XML)
    assert status.connected and status.status_code == 0
    assert status.dc == "db2-hadr-1" and status.with_quorum is True
    assert status.no_quorum_policy == "ignore" and status.stonith_enabled is True
    assert status.promoted_nodes == ("db2-hadr-1",)
    assert status.promotable_clones[0].unpromoted_nodes == ("db2-hadr-2",)
    assert status.groups[0].members[0].agent == "ocf::suse:aws-vpc-move-ip"
    (failure,) = status.failed_actions
    assert (failure.resource, failure.operation, failure.rc, failure.interval_ms) == (
        "rsc_db2_db2inst1_HADRDB",
        "monitor",
        7,
        31000,
    )
    assert failure.exit_reason == ""


def test_promotable_clone_without_multi_state_attribute_is_recognised_by_roles():
    xml = PCMK_20_WITH_FAILURES.replace(' multi_state="true"', "")
    assert parse_crm_mon_xml(xml).promoted_nodes == ("jspcmk2",)


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("Master", "Promoted"),
        ("Slave", "Unpromoted"),
        ("promoted", "Promoted"),
        ("Started", "Started"),
        ("Weird", "Weird"),
    ],
)
def test_normalise_role(raw, normal):
    assert normalise_role(raw) == normal


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("path", ALL_XML, ids=corpus_id)
def test_each_sample_cut_in_half_is_a_parse_error(path):
    text = read(path)
    with pytest.raises(ParseError) as err:
        parse_crm_mon_xml(text[: len(text) // 2])
    assert err.value.kind == "crm_mon-xml" and err.value.line is not None


def test_missing_status_element_is_reported_as_cut_short():
    text = read(LAB / "01-healthy/db2a__crm_mon_-1_--output-as=xml.xml")
    with pytest.raises(ParseError, match="<status>"):
        parse_crm_mon_xml(re.sub(r"\s*<status [^>]*/>", "", text))


def test_wrong_root_message_names_what_was_expected():
    with pytest.raises(ParseError) as err:
        parse_crm_mon_xml("<foo/>")
    assert (
        str(err.value)
        == "crm_mon-xml: expected <pacemaker-result> or <crm_mon> root element at line 1: got '<foo/>'"
    )
    assert (err.value.expected, err.value.line, err.value.excerpt) == (
        "<pacemaker-result> or <crm_mon> root element",
        1,
        "<foo/>",
    )


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n",
        "Cluster Summary:\n  * Stack: corosync\n",  # the text output pasted instead of XML
        "\x00\x01garbage",
        "<pacemaker-result><summary></pacemaker-result>",
        "<pacemaker-result><nodes><node id='1'/></nodes><status code='0' message='OK'/></pacemaker-result>",
        "<pacemaker-result><status code='zero' message='OK'/></pacemaker-result>",
    ],
)
def test_garbage_is_a_parse_error(text):
    with pytest.raises(ParseError):
        parse_crm_mon_xml(text)


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<pacemaker-result><status code="0" message="&lol9;"/></pacemaker-result>
"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!doctype pacemaker-result [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<pacemaker-result><status code="0" message="&xxe;"/></pacemaker-result>
"""


@pytest.mark.parametrize("text", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_dtd_and_entities_are_refused_not_expanded(text):
    with pytest.raises(ParseError) as err:
        parse_crm_mon_xml(text)
    assert "DTD" in err.value.expected and err.value.line == 2


def test_undeclared_entity_is_a_parse_error():
    with pytest.raises(ParseError):
        parse_crm_mon_xml('<pacemaker-result><status code="0" message="&lol;"/></pacemaker-result>')
