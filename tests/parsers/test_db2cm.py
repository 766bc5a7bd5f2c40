"""db2cm -list parser against both corpus samples (HADR with qdevice, mutual failover)."""

from __future__ import annotations

import pytest
from corpus import corpus_files, corpus_id, read

from services.parsers.db2cm import parse_db2cm_list
from services.parsers.errors import ParseError

SAMPLES = corpus_files("db2cm-list/*")
HADR = "db2cm-list/hadr-both-online-qdevice.txt"
MUTUAL = "db2cm-list/mutual-failover-partition-fs.txt"


def test_every_sample_is_covered_below():
    assert sorted(p.name for p in SAMPLES) == [
        "hadr-both-online-qdevice.txt",
        "mutual-failover-partition-fs.txt",
    ]


def test_hadr_cluster_with_qdevice():
    result = parse_db2cm_list(read(HADR))
    assert (result.ha_configuration, result.domain_name, result.domain_leader) == (
        "HADR",
        "db2domain",
        "jspcmk2",
    )
    assert (result.pacemaker_version, result.corosync_version) == ("2.1.2-4.db2pcmk.el8", "3.1.6")
    assert result.nodes == {"jspcmk1": "Online", "jspcmk2": "Online"}
    assert (result.fencing, result.quorum) == ("Not configured", "Qdevice")
    assert [(r.name, r.type) for r in result.resources] == [
        ("db2_db2inst1_db2inst1_SAMPLE", "HADR"),
        ("db2_db2inst1_db2inst1_SAMPLE-primary-VIP", "IP"),
        ("db2_jspcmk1_db2inst1_0", "Instance"),
        ("db2_jspcmk1_eth0", "Network Interface"),
        ("db2_jspcmk2_db2inst1_0", "Instance"),
        ("db2_jspcmk2_eth0", "Network Interface"),
    ]
    hadr = result.resources[0].fields
    assert hadr["DB Name"] == "SAMPLE" and hadr["Managed"] == "true"
    assert (hadr["HADR Primary Node"], hadr["HADR Primary State"]) == ("jspcmk1", "Online")
    assert (hadr["HADR Standby Node"], hadr["HADR Standby Instance"]) == ("jspcmk2", "db2inst1")
    vip = result.resources[1].fields
    assert (vip["Ip Address"], vip["Location"], vip["State"]) == ("10.11.36.250", "jspcmk1", "Online")
    qdevice = result.qdevice
    assert qdevice is not None and qdevice.connected
    assert (qdevice.cluster_name, qdevice.qnetd_host, qdevice.algorithm) == (
        "db2domain",
        "jspcmk3:5403",
        "LMS",
    )
    assert qdevice.configured_node_ids == (1, 2) and qdevice.node_id == 1


def test_mutual_failover_with_partition_and_truncated_quoted_mount_options():
    result = parse_db2cm_list(read(MUTUAL))
    assert (result.ha_configuration, result.domain_leader, result.fencing) == (
        "Mutual Failover",
        "pctest1",
        "Configured",
    )
    assert result.nodes == {"pctest1": "Online", "pctest2": "Online"}
    partition = result.resources[0]
    assert (partition.type, partition.fields["Partition"], partition.fields["Current Host"]) == (
        "Partition",
        "0",
        "pctest1",
    )
    fs = next(r for r in result.resources if r.type == "File System")
    assert fs.fields["Mount Point"] == "/db2fs"
    assert fs.fields["Device"] == "/dev/disk/by-uuid/766d78e6-8c97-4df3-b969-bcb557318a3b"
    assert fs.fields["Mount Options"] == "rw,relatime,stripe"  # db2cm cut it, closing quote and all
    assert result.qdevice is not None and result.qdevice.qnetd_host == "pctest3:5403"


def test_standby_node_down_leaves_empty_standby_fields():
    text = read(HADR).replace("jspcmk2             Online", "jspcmk2             Offline")
    text = text.replace("    HADR Standby Instance       = db2inst1", "    HADR Standby Instance       = ")
    result = parse_db2cm_list(text)
    assert result.nodes["jspcmk2"] == "Offline"
    assert result.resources[0].fields["HADR Standby Instance"] == ""


def test_output_without_ha_configuration_line():
    """11.5.7 does not print "HA configuration"."""
    text = read(HADR).replace("HA configuration          = HADR\n", "")
    assert parse_db2cm_list(text).ha_configuration == ""


@pytest.mark.parametrize("path", SAMPLES, ids=corpus_id)
def test_each_sample_cut_in_half_is_a_parse_error(path):
    text = read(path)
    with pytest.raises(ParseError) as err:
        parse_db2cm_list(text[: len(text) // 2])
    assert err.value.kind == "db2cm-list"


def test_broken_qdevice_block_is_reported_with_the_db2cm_line_number():
    text = read(HADR).replace("Model:\t\t\tNet", "Model Net")
    with pytest.raises(ParseError) as err:
        parse_db2cm_list(text)
    assert err.value.kind == "db2cm-list" and "qdevice" in err.value.expected
    assert text.split("\n")[err.value.line - 1] == "Model Net"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hello",
        "Domain information:\nDomain name = x\n",
        read(HADR).replace("Fencing Information:", "Fencing:"),
    ],
)
def test_garbage_is_a_parse_error(text):
    with pytest.raises(ParseError):
        parse_db2cm_list(text)


def _older_layout(text: str) -> str:
    """The sample as db2cm before 11.5.8 prints it: it ends with the resources (no Fencing Information,
    Quorum Information or qdevice block)."""
    return text[: text.index("Fencing Information:")]


@pytest.mark.parametrize("sample", [HADR, MUTUAL])
def test_older_releases_layout_without_fencing_or_qdevice_parses(sample):
    full, older = parse_db2cm_list(read(sample)), parse_db2cm_list(_older_layout(read(sample)))
    assert older.resources == full.resources and older.nodes == full.nodes
    assert (older.fencing, older.quorum, older.qdevice) == ("", "", None)
    assert older.pacemaker_version == full.pacemaker_version


def test_older_layout_cut_inside_its_last_resource_is_a_parse_error():
    text = _older_layout(read(HADR)).rstrip(" \n")
    cut = text[: text.rindex("\n")]  # the last resource loses "Interface Name = eth0"
    with pytest.raises(ParseError) as err:
        parse_db2cm_list(cut)
    assert "Interface Name" in err.value.expected
