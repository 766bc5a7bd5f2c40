"""corosync-quorumtool / corosync-qdevice-tool / corosync-qnetd-tool parsers against every corpus capture."""

from __future__ import annotations

import pytest
from corpus import LAB, corpus_files, corpus_id, read

from services.parsers.corosync import parse_qdevice_tool, parse_qnetd_tool, parse_quorumtool
from services.parsers.errors import ParseError

QUORUM_FILES = corpus_files("pacemaker-lab/*/*corosync-quorumtool_-s.txt")
QDEVICE_FILES = corpus_files("pacemaker-lab/*/*qdevice-tool_-s*.txt") + corpus_files(
    "corosync-qdevice/qdevice-tool-s-*.txt"
)
QNETD_FILES = corpus_files("pacemaker-lab/*/*qnetd-tool_-l*.txt") + corpus_files(
    "corosync-qdevice/qnetd-tool-l-*.txt"
)


def _key(path) -> str:
    return f"{path.parent.name}/{path.name.split('__')[0]}"


# ---------------------------------------------------------------- corosync-quorumtool -s

# state/host -> node_id, quorate, nodes, expected, total, member rows (id, votes, flags, name, local),
# activity blocked; read from the captures.
_QD1 = (0, 1, "", "Qdevice", False)
_QD0 = (0, 0, "", "Qdevice", False)  # "Qdevice (votes 1)": the qdevice lost its vote
QUORUM_TRUTH = {
    "01-healthy/db2a": (
        1,
        True,
        2,
        3,
        3,
        [(1, 1, "A,V,NMW", "db2a", True), (2, 1, "A,V,NMW", "db2b", False), _QD1],
    ),
    "01-healthy/db2b": (
        2,
        True,
        2,
        3,
        3,
        [(1, 1, "A,V,NMW", "db2a", False), (2, 1, "A,V,NMW", "db2b", True), _QD1],
    ),
    "02-after-move/db2a": (
        1,
        True,
        2,
        3,
        3,
        [(1, 1, "A,V,NMW", "db2a", True), (2, 1, "A,V,NMW", "db2b", False), _QD1],
    ),
    "02-after-move/db2b": (
        2,
        True,
        2,
        3,
        3,
        [(1, 1, "A,V,NMW", "db2a", False), (2, 1, "A,V,NMW", "db2b", True), _QD1],
    ),
    "03-standby/db2a": (
        1,
        True,
        2,
        3,
        3,
        [(1, 1, "A,V,NMW", "db2a", True), (2, 1, "A,V,NMW", "db2b", False), _QD1],
    ),
    "03-standby/db2b": (
        2,
        True,
        2,
        3,
        3,
        [(1, 1, "A,V,NMW", "db2a", False), (2, 1, "A,V,NMW", "db2b", True), _QD1],
    ),
    "04-node-down/db2a": (1, True, 1, 3, 2, [(1, 1, "A,V,NMW", "db2a", True), _QD1]),
    "04c-cluster-stop/db2b": (2, True, 1, 3, 2, [(2, 1, "A,V,NMW", "db2b", True), _QD1]),
    "05-qnetd-down/db2a": (
        1,
        True,
        2,
        3,
        2,
        [(1, 1, "A,NV,NMW", "db2a", True), (2, 1, "A,NV,NMW", "db2b", False), _QD0],
    ),
    "05-qnetd-down/db2b": (
        2,
        True,
        2,
        3,
        2,
        [(1, 1, "A,NV,NMW", "db2a", False), (2, 1, "A,NV,NMW", "db2b", True), _QD0],
    ),
    "06-no-quorum/db2b": (2, False, 1, 3, 1, [(2, 1, "A,NV,NMW", "db2b", True), _QD0]),
    "07-recovered/db2b": (
        2,
        True,
        2,
        3,
        3,
        [(1, 1, "A,V,NMW", "db2a", False), (2, 1, "A,V,NMW", "db2b", True), _QD1],
    ),
}
CMAP_DOWN = {"04-node-down/db2b"}  # corosync killed: empty stdout, "Cannot initialize CMAP service" on stderr


def test_every_quorumtool_capture_has_a_truth_row():
    assert {_key(p) for p in QUORUM_FILES} == set(QUORUM_TRUTH) | CMAP_DOWN


@pytest.mark.parametrize("path", [p for p in QUORUM_FILES if _key(p) in QUORUM_TRUTH], ids=corpus_id)
def test_quorumtool_capture(path):
    node_id, quorate, nodes, expected, total, rows = QUORUM_TRUTH[_key(path)]
    status = parse_quorumtool(read(path))
    assert (status.node_id, status.quorate, status.nodes) == (node_id, quorate, nodes)
    assert (status.expected_votes, status.total_votes, status.quorum) == (expected, total, 2)
    assert [(m.node_id, m.votes, m.qdevice, m.name, m.local) for m in status.members] == rows
    assert status.provider == "corosync_votequorum"
    assert status.flags == (("Quorate", "Qdevice") if quorate else ("Qdevice",))
    assert status.has_qdevice
    assert status.activity_blocked is (not quorate)
    assert status.date.startswith("Thu Nov 26 1") and status.date.endswith(" 2026")


def test_quorumtool_ring_id_is_kept_verbatim():
    assert parse_quorumtool(read(LAB / "06-no-quorum/db2b__corosync-quorumtool_-s.txt")).ring_id == "2.1f"


def test_quorumtool_without_qdevice_column():
    text = (
        "Quorum information\n------------------\nDate:             Mon Jan  8 10:00:00 2024\n"
        "Quorum provider:  corosync_votequorum\nNodes:            2\nNode ID:          1\n"
        "Ring ID:          1/8\nQuorate:          Yes\n\nVotequorum information\n----------------------\n"
        "Expected votes:   2\nHighest expected: 2\nTotal votes:      2\nQuorum:           1  \n"
        "Flags:            2Node Quorate WaitForAll \n\nMembership information\n----------------------\n"
        "    Nodeid      Votes Name\n         1          1 node1 (local)\n         2          1 node2\n"
    )
    status = parse_quorumtool(text)
    assert status.flags == ("2Node", "Quorate", "WaitForAll") and not status.has_qdevice
    assert [(m.node_id, m.name, m.qdevice, m.local) for m in status.members] == [
        (1, "node1", "", True),
        (2, "node2", "", False),
    ]
    assert status.ring_id == "1/8"


def test_quorumtool_corosync_down_message_says_what_to_do():
    with pytest.raises(ParseError) as err:
        parse_quorumtool(read(LAB / "04-node-down/db2b__corosync-quorumtool_-s.txt.stderr"))
    assert err.value.excerpt == "Cannot initialize CMAP service"
    assert "start corosync" in str(err.value)


def test_quorumtool_empty_stdout_is_a_parse_error():
    with pytest.raises(ParseError, match="printed nothing"):
        parse_quorumtool(read(LAB / "04-node-down/db2b__corosync-quorumtool_-s.txt"))


# ---------------------------------------------------------------- corosync-qdevice-tool -s / -sv

# state/host -> node id, membership, state
QDEVICE_TRUTH = {
    "01-healthy/db2a": (1, (1, 2), "Connected"),
    "01-healthy/db2b": (2, (1, 2), "Connected"),
    "02-after-move/db2a": (1, (1, 2), "Connected"),
    "02-after-move/db2b": (2, (1, 2), "Connected"),
    "03-standby/db2a": (1, (1, 2), "Connected"),
    "03-standby/db2b": (2, (1, 2), "Connected"),
    "04-node-down/db2a": (1, (1,), "Connected"),
    "04c-cluster-stop/db2b": (2, (2,), "Connected"),
    "05-qnetd-down/db2a": (1, (1, 2), "Connect failed"),
    "05-qnetd-down/db2b": (2, (1, 2), "Connect failed"),
    "06-no-quorum/db2b": (2, (2,), "Connect failed"),
    "07-recovered/db2b": (2, (1, 2), "Connected"),
}
QDEVICE_DOWN = {"04-node-down/db2b"}
LAB_QDEVICE = [p for p in QDEVICE_FILES if p.parent.parent.name == "pacemaker-lab"]


def test_every_qdevice_capture_has_a_truth_row():
    assert {_key(p) for p in LAB_QDEVICE} == set(QDEVICE_TRUTH) | QDEVICE_DOWN


@pytest.mark.parametrize("path", [p for p in LAB_QDEVICE if _key(p) in QDEVICE_TRUTH], ids=corpus_id)
def test_qdevice_lab_capture(path):
    node_id, membership, state = QDEVICE_TRUTH[_key(path)]
    status = parse_qdevice_tool(read(path))
    assert (status.node_id, status.membership_node_ids, status.state) == (node_id, membership, state)
    assert status.connected is (state == "Connected")
    assert status.model == "Net" and status.configured_node_ids == (1, 2)
    assert (status.cluster_name, status.qnetd_host) == ("db2hadr", "10.99.0.13:5403")
    assert status.algorithm == "Fifty-Fifty split" and status.tie_breaker == "Node with lowest node ID"
    if path.name.endswith("-sv.txt"):
        assert status.extra["HB interval"] == "10000ms"
        assert status.extra["HB interval (net)"] == "8000ms"
        assert status.extra["TLS"] == "Supported"
        assert f"{node_id}, State = member" in status.extra["Quorum node list"]
    else:
        assert status.extra == {}


def test_qdevice_verbose_connected_fields():
    status = parse_qdevice_tool(read(LAB / "01-healthy/db2a__corosync-qdevice-tool_-sv.txt"))
    assert status.extra["Connected since"] == "2026-11-26T14:58:48"
    assert status.extra["Poll timer running"] == "Yes (cast vote)"
    assert status.extra["Quorum node list"] == "2, State = member; 1, State = member"
    assert status.extra["Expected votes"] == "3"


def test_qdevice_verbose_dead_peer():
    status = parse_qdevice_tool(read(LAB / "04-node-down/db2a__corosync-qdevice-tool_-sv.txt"))
    assert status.extra["Quorum node list"] == "2, State = dead; 1, State = member"


@pytest.mark.parametrize(
    "path", [p for p in QDEVICE_FILES if p.parent.name == "corosync-qdevice"], ids=corpus_id
)
def test_qdevice_db2cm_style_tabs_and_spaces(path):
    status = parse_qdevice_tool(read(path))
    assert (status.model, status.node_id, status.configured_node_ids) == ("Net", 1, (1, 2))
    assert status.membership_node_ids == (1, 2)
    assert (status.cluster_name, status.algorithm, status.state) == ("db2domain", "LMS", "Connected")
    assert status.qnetd_host in ("pacemaker3:5403", "pacemakertest3:5403")


def test_qdevice_daemon_down_message():
    with pytest.raises(ParseError) as err:
        parse_qdevice_tool(read(LAB / "04-node-down/db2b__corosync-qdevice-tool_-s.txt.stderr"))
    assert "corosync-qdevice is not running" in str(err.value)


# ---------------------------------------------------------------- corosync-qnetd-tool -l / -lv

# state -> [(node id, membership)] ; every lab vote is "No change (ACK)"
QNETD_TRUTH = {
    "01-healthy": [(1, (1, 2)), (2, (1, 2))],
    "02-after-move": [(1, (1, 2)), (2, (1, 2))],
    "03-standby": [(1, (1, 2)), (2, (1, 2))],
    "04-node-down": [(1, (1,))],
    "04c-cluster-stop": [(2, (2,))],
    "05-qnetd-down": [],  # qnetd stopped: nothing on stdout
    "06-no-quorum": [],
    "07-recovered": [(1, (1, 2)), (2, (1, 2))],
}
LAB_QNETD = [p for p in QNETD_FILES if p.parent.parent.name == "pacemaker-lab"]


def test_every_qnetd_capture_has_a_truth_row():
    assert {p.parent.name for p in LAB_QNETD} == set(QNETD_TRUTH)


@pytest.mark.parametrize("path", LAB_QNETD, ids=corpus_id)
def test_qnetd_lab_capture(path):
    expected = QNETD_TRUTH[path.parent.name]
    status = parse_qnetd_tool(read(path))
    if not expected:
        assert status.clusters == () and status.cluster("db2hadr") is None
        return
    cluster = status.cluster("db2hadr")
    assert cluster is not None and len(status.clusters) == 1
    assert cluster.algorithm == "Fifty-Fifty split (KAP Tie-breaker)"
    assert cluster.tie_breaker == "Node with lowest node ID"
    assert [(c.node_id, c.membership_node_ids) for c in cluster.clients] == expected
    assert all(c.vote == "No change (ACK)" and c.configured_node_ids == (1, 2) for c in cluster.clients)
    for client in cluster.clients:
        assert client.client_address.startswith(f"::ffff:10.99.0.1{client.node_id}:")
        if path.name.endswith("-lv.txt"):
            assert client.extra["TLS active"] == "Yes (client certificate verified)"
            assert client.extra["HB interval"] == "8000ms"
        else:
            assert client.extra == {}


@pytest.mark.parametrize(
    "path", [p for p in QNETD_FILES if p.parent.name == "corosync-qdevice"], ids=corpus_id
)
def test_qnetd_db2cm_style_tabs_and_spaces(path):
    cluster = parse_qnetd_tool(read(path)).cluster("db2domain")
    assert cluster is not None and cluster.algorithm == "LMS"
    assert [(c.node_id, c.vote, c.membership_node_ids) for c in cluster.clients] == [
        (1, "ACK (ACK)", (1, 2)),
        (2, "ACK (ACK)", (1, 2)),
    ]
    assert cluster.clients[0].client_address.startswith("::ffff:10.11.")


def test_qnetd_several_clusters():
    one = read("corosync-qdevice/qnetd-tool-l-tabs.txt")
    two = read(LAB / "01-healthy/qnetd__corosync-qnetd-tool_-l.txt")
    status = parse_qnetd_tool(one + two)
    assert [c.name for c in status.clusters] == ["db2domain", "db2hadr"]


def test_qnetd_daemon_down_message():
    with pytest.raises(ParseError) as err:
        parse_qnetd_tool(read(LAB / "05-qnetd-down/qnetd__corosync-qnetd-tool_-l.txt.stderr"))
    assert "corosync-qnetd is not running" in str(err.value)


# ---------------------------------------------------------------- bad input

NONEMPTY = [p for p in QUORUM_FILES + QDEVICE_FILES + QNETD_FILES if p.stat().st_size]


def _parser_for(path):
    if "quorumtool" in path.name:
        return parse_quorumtool
    return parse_qdevice_tool if "qdevice-tool" in path.name else parse_qnetd_tool


@pytest.mark.parametrize("path", NONEMPTY, ids=corpus_id)
def test_each_sample_cut_in_half_is_a_parse_error(path):
    text = read(path)
    with pytest.raises(ParseError):
        _parser_for(path)(text[: len(text) // 2])


@pytest.mark.parametrize("parse", [parse_quorumtool, parse_qdevice_tool, parse_qnetd_tool])
@pytest.mark.parametrize(
    "text",
    [
        "hello world",
        "<pacemaker-result/>",
        "Cluster Summary:\n  * Stack: corosync\n",
        "Quorum information\n------------------\nQuorate: Yes\n\nMembership information\n---\n    Nodeid Votes Name\n  x 1 a\n",
        "\x00\x01\x02",
        "Quorum information\nQuorate: Yes\nMembership information\n    Nodeid Votes Name\n    1 1 (local)\n",
    ],
)
def test_garbage_is_a_parse_error(parse, text):
    with pytest.raises(ParseError):
        parse(text)


def test_qnetd_client_without_vote_is_cut_short():
    text = 'Cluster "c":\n    Algorithm:\tLMS\n    Node ID 1:\n        Client address:\t::ffff:10.0.0.1:1\n'
    with pytest.raises(ParseError, match="Vote"):
        parse_qnetd_tool(text)


def test_qdevice_list_outside_a_node_list_is_rejected():
    text = read("corosync-qdevice/qdevice-tool-s-tabs.txt").replace("Configured node list:\n", "")
    with pytest.raises(ParseError) as err:
        parse_qdevice_tool(text)
    assert err.value.line == 5
