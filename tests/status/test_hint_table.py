"""Walk the hint table (services/status/hints.HINTS): every row in a state where it holds, and the rules
that make advice safe: no cleanup while Pacemaker acts, real names instead of "...", the risk said when
redundancy is gone."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from incident_checks import recommends_cleanup  # noqa: E402
from status_builders import crm, hadr, healthy, part, with_verdicts  # noqa: E402

from services.cluster_model import CrmResource, HadrStatus, QdeviceStatus  # noqa: E402
from services.part_errors import ErrorKind, PartError  # noqa: E402
from services.status.hints import HINTS, STATES, _fields, hint_for  # noqa: E402
from services.status.model import ClusterStatus  # noqa: E402

VALUES = {
    "node": "db2b",  # "qdev" for the quorum host's rows (see _values)
    "peer": "db2b",
    "host": "db2a",
    "new": "db2b",
    "old": "db2a",
    "old_instance_id": "i-0aaa",
    "clone": "db2_db2inst1_db2inst1_HADRDB-clone",
    "resource": "db2_db2inst1_db2inst1_HADRDB",
}


def _named(s: ClusterStatus) -> ClusterStatus:
    return replace(s, instance="db2inst1", database="HADRDB")


def _pending() -> ClusterStatus:
    s = healthy()
    value = s.crm.value
    promoting = CrmResource(
        id="db2_db2inst1_db2inst1_HADRDB", role="Unpromoted", pending="Promoting", nodes=("db2b",)
    )
    clone = replace(value.clones[0], instances=(promoting,))
    return _named(with_verdicts(replace(s, crm=replace(s.crm, value=replace(value, clones=(clone,))))))


def _peer_down() -> ClusterStatus:
    s = healthy()
    err = PartError(ErrorKind.UNREACHABLE, "connection refused", host="db2b")
    return _named(with_verdicts(replace(s, crm=part(crm(online=("db2a",))), host_errors={"db2b": err})))


def _peer_stopped() -> ClusterStatus:
    s = healthy()
    inactive = part(HadrStatus(database="HADRDB", activated=False, message="SQL1032N"), "db2b")
    return _named(with_verdicts(replace(s, hadr={**s.hadr, "db2b": inactive})))


def _peer_running() -> ClusterStatus:
    s = healthy()
    off = {h: part(hadr(p.value.role, "DISCONNECTED", "DISCONNECTED"), h) for h, p in s.hadr.items()}
    return _named(with_verdicts(replace(s, hadr=off)))


def _peer_standby() -> ClusterStatus:
    return _named(with_verdicts(replace(healthy(), crm=part(crm(standby=("db2b",))))))


def _no_quorum() -> ClusterStatus:
    return _named(with_verdicts(replace(healthy(), crm=part(crm(promoted=None, quorum=False)))))


def _quorum_host_down() -> ClusterStatus:
    s = _qnetd_down()
    off = {h: part(QdeviceStatus(state="Connect failed"), h) for h in s.qdevice}
    err = PartError(ErrorKind.UNREACHABLE, "connection refused", host="qdev")
    return _named(with_verdicts(replace(s, qdevice=off, host_errors={"qdev": err})))


def _qnetd_down() -> ClusterStatus:
    err = PartError(ErrorKind.EXIT_CODE, "corosync-qnetd-tool exited 3", host="qdev", exit_status=3)
    return _named(with_verdicts(replace(healthy(), qnetd=part(None, "qdev", error=err))))


# one snapshot where each state holds ("any": a healthy one)
EXAMPLES = {
    "any": lambda: _named(healthy()),
    "transition_pending": _pending,
    "peer_host_down": _peer_down,
    "node_known_down": _peer_down,
    "peer_instance_stopped": _peer_stopped,
    "peer_instance_running": _peer_running,
    "node_online_per_pacemaker": lambda: _named(healthy()),
    "peer_in_standby": _peer_standby,
    "no_quorum": _no_quorum,
    "qnetd_down": _qnetd_down,
    "both_nodes_up": lambda: _named(healthy()),
    "quorum_host_down": lambda: _quorum_host_down(),
}


def _values(state: str) -> dict[str, str]:
    return {**VALUES, "node": "qdev"} if state == "quorum_host_down" else VALUES


def test_every_state_of_the_table_has_an_example_and_holds_there() -> None:
    assert set(EXAMPLES) == set(STATES)
    for name, check in STATES.items():
        assert check(EXAMPLES[name](), _values(name)), name


@pytest.mark.parametrize("row", HINTS, ids=lambda h: f"{h.code}/{h.state}")
def test_each_row_fills_with_known_values_and_is_safe_in_its_state(row) -> None:
    s = EXAMPLES[row.state]()
    assert STATES[row.state](s, _values(row.state))
    known = {
        **VALUES,
        "cluster": s.cluster,
        "database": "HADRDB",
        "instance": "db2inst1",
        "qnetd_host": "qdev",
    }
    known["node_instance_id"] = known["peer_instance_id"] = "i-0bbb"
    assert _fields(row.text) <= known.keys(), row.text
    text = row.text.format(**known)
    assert "..." not in text and "{" not in text
    if row.state == "transition_pending":
        assert not recommends_cleanup(text), text
    if "db2start" in text:
        assert row.state == "peer_instance_stopped"  # only when the instance really is stopped


def test_a_cleanup_row_always_has_a_wait_row_before_it() -> None:
    """Every code that may advise `crm resource cleanup` first checks that no transition is pending."""
    for i, row in enumerate(HINTS):
        if recommends_cleanup(row.text):
            earlier = [h.state for h in HINTS[:i] if h.code == row.code]
            assert "transition_pending" in earlier, row


def test_the_first_fitting_row_wins_and_unknown_values_skip_a_row() -> None:
    s = _peer_down()
    full = hint_for("hadr_disconnected", s, host="db2a", peer="db2b")
    assert full.startswith(
        "no standby: one more failure stops the database. Start db2b (EC2 instance i-0bbb)"
    )
    no_ids = replace(s, instance_ids={})
    assert hint_for("hadr_disconnected", no_ids, host="db2a", peer="db2b").startswith(
        "no standby: one more failure stops the database. Start db2b;"
    )
    # the database unknown: never a command with a hole in it
    stopped = replace(_peer_stopped(), database="")
    text = hint_for("hadr_disconnected", stopped, host="db2a", peer="db2b")
    assert "start hadr on db" not in text and text == "check the standby host and `db2pd -hadr` there"


def test_the_risk_is_said_when_redundancy_is_gone() -> None:
    assert "one more failure stops the database" in hint_for("qnetd_down", _qnetd_down())
    assert "one more failure stops the database" in hint_for("node_offline", _peer_down(), node="db2b")
    qnetd = [v for v in _qnetd_down().verdicts if v.code == "qnetd_down"]
    assert qnetd and "one more failure stops the database" in qnetd[0].message


def test_ssh_failing_to_a_node_pacemaker_sees_online_is_an_ssh_problem_not_a_down_host() -> None:
    err = PartError(
        ErrorKind.UNREACHABLE, "db2b: cannot connect (Connection refused); check the address", host="db2b"
    )
    s = _named(with_verdicts(replace(healthy(), host_errors={"db2b": err})))
    [v] = [v for v in s.verdicts if v.code == "host_unreachable"]
    assert v.message.startswith("db2b is unreachable over SSH although Pacemaker sees it online")
    assert v.hint.startswith("Pacemaker sees db2b online, so only SSH fails: check sshd on db2b")
    assert "failover_completed" not in {x.code for x in s.verdicts}
