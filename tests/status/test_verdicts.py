from __future__ import annotations

from dataclasses import replace

import pytest
from status_builders import (
    IDS,
    crm,
    down,
    exited,
    failed_on_each,
    hadr,
    healthy,
    not_found,
    part,
    with_verdicts,
)

from services.cluster_model import CrmFailedAction, OverlayRoute, QdeviceStatus, QuorumStatus
from services.part_errors import ErrorKind, PartError
from services.status.model import Part, Severity
from services.status.render_json import status_exit_code


def codes(s) -> set[str]:
    return {v.code for v in s.verdicts}


def test_healthy_cluster_has_no_verdicts():
    s = healthy()
    assert s.verdicts == ()
    assert s.severity is Severity.OK
    assert s.promoted_node == "db2a"
    assert s.hadr_primary_host == "db2a"


def test_promoted_node_differs_from_hadr_primary():
    s = with_verdicts(replace(healthy(), crm=part(crm(promoted="db2b"))))
    v = next(v for v in s.verdicts if v.code == "promoted_vs_hadr_mismatch")
    assert v.severity is Severity.CRITICAL
    assert "db2b" in v.message and "db2a" in v.message


def test_hadr_not_peer_and_log_gap():
    s = healthy()
    s = with_verdicts(
        replace(s, hadr={**s.hadr, "db2b": part(hadr("STANDBY", state="REMOTE_CATCHUP", gap=200 << 20))})
    )
    assert {"hadr_not_peer", "hadr_log_gap"} <= codes(s)
    assert "200 MiB" in next(v.message for v in s.verdicts if v.code == "hadr_log_gap")


def test_disconnected_hadr_is_critical():
    s = healthy()
    s = with_verdicts(
        replace(s, hadr={"db2b": part(hadr("PRIMARY", state="DISCONNECTED", connect="DISCONNECTED"))})
    )
    assert "hadr_disconnected" in codes(s)
    assert s.severity is Severity.CRITICAL


def test_no_quorum_from_crm_or_quorumtool():
    s = with_verdicts(replace(healthy(), crm=part(crm(quorum=False))))
    assert "no_quorum" in codes(s)
    s2 = healthy()
    s2 = with_verdicts(replace(s2, quorum={**s2.quorum, "db2b": part(QuorumStatus(quorate=False), "db2b")}))
    v = next(v for v in s2.verdicts if v.code == "no_quorum")
    assert "db2b" in v.message


@pytest.mark.parametrize(
    ("policy", "effect"),
    [
        ("stop", "Pacemaker stops resources there"),
        ("", "Pacemaker stops resources there"),
        ("ignore", "no-quorum-policy=ignore keeps its resources running"),
    ],
)
def test_no_quorum_says_what_the_clusters_no_quorum_policy_does(policy, effect):
    """11.5.7's db2cm left no-quorum-policy=stop, 11.5.5's ignore (lab/release.py); unknown: Pacemaker's
    default, stop."""
    s = with_verdicts(replace(healthy(), crm=part(replace(crm(quorum=False), no_quorum_policy=policy))))
    v = next(v for v in s.verdicts if v.code == "no_quorum")
    assert effect in v.message
    assert ("stops resources" in v.message) is (policy != "ignore")


def test_qdevice_disconnected_names_the_host():
    s = healthy()
    s = with_verdicts(replace(s, qdevice={**s.qdevice, "db2a": part(QdeviceStatus(state="Connect failed"))}))
    v = next(v for v in s.verdicts if v.code == "qdevice_disconnected")
    assert "db2a" in v.message and "Connect failed" in v.message


def test_failed_actions_and_offline_node():
    c = replace(
        crm(online=("db2a",)),
        failed_actions=(CrmFailedAction("db2_x", "monitor", "db2b", rc=7, rc_text="not running"),),
    )
    s = with_verdicts(replace(healthy(), crm=part(c)))
    assert {"failed_action", "node_offline"} <= codes(s)


def test_overlay_route_pointing_at_standby():
    route = OverlayRoute("rtb-1", "192.168.1.81/32", instance_id=IDS["db2b"], state="active")
    s = with_verdicts(replace(healthy(), overlay_route=part(route, "aws")))
    v = next(v for v in s.verdicts if v.code == "overlay_route_mismatch")
    assert "db2b" in v.message and "db2a is promoted" in v.message


def test_unreachable_host_is_critical_and_worst_first():
    s = with_verdicts(replace(healthy(), host_errors={"db2b": down("db2b")}))
    assert s.verdicts[0].severity is Severity.CRITICAL
    assert "host_unreachable" in codes(s)


def test_stale_part_is_not_judged():
    """A part that failed this refresh but kept its last value must not produce verdicts from old data."""
    s = healthy()
    stale = replace(s.hadr["db2b"], value=hadr("STANDBY", state="REMOTE_CATCHUP"), error=timeout("db2b"))
    s = with_verdicts(replace(s, hadr={**s.hadr, "db2b": stale}))
    assert "hadr_not_peer" not in codes(s)


def test_qnetd_without_our_cluster_is_reported():
    from services.cluster_model import QnetdCluster, QnetdStatus

    s = healthy()
    qd = {h: part(QdeviceStatus(state="Connected", cluster_name="db2hadr"), h) for h in ("db2a", "db2b")}
    s = with_verdicts(
        replace(s, qdevice=qd, qnetd=part(QnetdStatus(clusters=(QnetdCluster(name="other"),)), "qdev"))
    )
    v = next(v for v in s.verdicts if v.code == "qnetd_missing_cluster")
    assert "db2hadr" in v.message
    s2 = with_verdicts(replace(s, qnetd=part(QnetdStatus(clusters=(QnetdCluster(name="db2hadr"),)), "qdev")))
    assert "qnetd_missing_cluster" not in codes(s2)


def _failed(host: str, error: PartError, command: str) -> Part:
    return Part(source=host, fetched_at=1000.0, error=error, command=command)


def timeout(host: str) -> PartError:
    return PartError(ErrorKind.TIMEOUT, "timeout", host=host)


def test_unreadable_hadr_on_a_reachable_host_is_not_healthy():
    # db2pd failing on both nodes (e.g. not on the SSH user's PATH) used to leave no verdict at all:
    # the banner said Healthy and `db2ops status` exited 0 while HADR was unknown.
    s = healthy()
    err = "`db2pd -hadr -db HADRDB` exited 127: bash: line 1: db2pd: command not found"
    failed = {
        h: _failed(h, not_found(h, "db2pd -hadr -db HADRDB"), "db2pd -hadr -db HADRDB")
        for h in ("db2a", "db2b")
    }
    s = with_verdicts(replace(s, hadr=failed))
    unknown = [v for v in s.verdicts if v.code == "hadr_unknown"]
    assert [v.message for v in unknown] == [f"HADR state on {h} is unknown: {err}" for h in ("db2a", "db2b")]
    assert unknown[0].severity is Severity.WARNING
    assert unknown[0].hint.startswith("run `db2pd -hadr -db HADRDB` on db2a yourself")
    assert status_exit_code([s]) == 2  # HADR could not be read anywhere: "unreachable/error"
    one = with_verdicts(replace(healthy(), hadr={**healthy().hadr, "db2b": failed["db2b"]}))
    assert codes(one) == {"hadr_unknown"} and status_exit_code([one]) == 1


def test_unreadable_quorum_and_stopped_qdevice_daemon_are_reported():
    s = healthy()
    unreadable = PartError(ErrorKind.PARSE, "quorum: expected ... got 'x'", host="db2b")
    quorum = {**s.quorum, "db2b": _failed("db2b", unreadable, "corosync-quorumtool -s")}
    stopped = "Can't connect to QDevice socket (is QDevice running?): No such file"
    qdevice = {
        **s.qdevice,
        "db2b": _failed("db2b", exited("db2b", "corosync-qdevice-tool -s", 3, stopped), "x"),
    }
    s = with_verdicts(replace(s, quorum=quorum, qdevice=qdevice))
    assert codes(s) == {"quorum_unknown", "qdevice_down"}
    v = next(v for v in s.verdicts if v.code == "qdevice_down")
    assert v.message == "corosync-qdevice is not running on db2b: its vote for this node is missing"
    assert "systemctl start corosync-qdevice" in v.hint


def test_parts_of_an_offline_or_unreachable_node_are_explained_by_that():
    # A crashed node answers SSH in the real tier: its failing corosync tools add nothing to node_offline.
    s = healthy()
    err = exited("db2a", "corosync-quorumtool -s", 1, "Cannot initialize CMAP service")
    s = replace(
        s,
        crm=part(crm(promoted="db2b", online=("db2b",))),
        quorum={**s.quorum, "db2a": _failed("db2a", err, "corosync-quorumtool -s")},
        qdevice={
            **s.qdevice,
            "db2a": _failed("db2a", exited("db2a", "x", 1, "Can't connect to QDevice socket"), "x"),
        },
        hadr={
            "db2a": _failed("db2a", timeout("db2a"), "db2pd"),
            "db2b": part(hadr("PRIMARY", connect="DISCONNECTED")),
        },
    )
    assert codes(with_verdicts(s)) == {"node_offline", "hadr_disconnected", "overlay_route_mismatch"}
    gone = with_verdicts(replace(s, crm=part(crm()), host_errors={"db2a": down("db2a")}))
    assert "hadr_unknown" not in codes(gone) and "quorum_unknown" not in codes(gone)


def test_host_key_problems_say_how_to_trust_or_refuse_not_to_check_ec2():
    # The hint used to be "check the EC2 instance of db2a and that sshd answers" for an unknown host key.
    from pathlib import Path

    from services.ssh.errors import HostKeyChanged, HostKeyUnknown

    args = ("db2a", "10.0.1.11", 22, "SHA256:abc", "ssh-ed25519", "line", Path("/k/known_hosts"))
    unknown = with_verdicts(replace(healthy(), host_errors={"db2a": HostKeyUnknown(*args).part_error()}))
    v = next(v for v in unknown.verdicts if v.code == "host_key_unknown")
    assert v.severity is Severity.CRITICAL
    assert (
        v.message == "db2a's SSH host key is not trusted yet (ssh-ed25519 SHA256:abc, not in /k/known_hosts)"
    )
    assert v.hint == (
        "compare it with `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` run on db2a; if it matches, accept it "
        "when db2ops asks or run `db2ops trust db2a`"
    )
    assert "host_unreachable" not in codes(unknown) and status_exit_code([unknown]) == 2
    changed = with_verdicts(replace(healthy(), host_errors={"db2a": HostKeyChanged(*args).part_error()}))
    v = next(v for v in changed.verdicts if v.code == "host_key_changed")
    assert v.message.startswith("REFUSED: host db2a (10.0.1.11:22) presented a ssh-ed25519 key SHA256:abc")
    assert "ssh-keygen -R" in v.message and "man-in-the-middle" in v.hint
    assert status_exit_code([changed]) == 2


def test_unreachable_hosts_are_not_repeated_by_the_pacemaker_and_qnetd_verdicts():
    err = "cannot connect to 10.0.1.11:22 (Connection refused); check the address in the inventory"
    s = healthy()
    crm_err = failed_on_each(down("db2a", err), down("db2b", err))
    qnetd_err = Part(source="qdev", fetched_at=1000.0, error=down("qdev", err))
    hosts = {h: down(h, err) for h in ("db2a", "db2b", "qdev")}
    s = with_verdicts(replace(s, crm=crm_err, qnetd=qnetd_err, host_errors=hosts))
    v = next(v for v in s.verdicts if v.code == "pacemaker_unavailable")
    assert v.message == "Pacemaker status unavailable: no Db2 host answered"
    assert "qnetd_down" not in codes(s)  # qdev's own verdict says it is unreachable
    assert sum(err in v.message for v in s.verdicts) == 3  # once per host


def test_hosts_not_yet_clustered_get_one_verdict_per_missing_piece_and_what_sets_it_up():
    # Before the HA runbook: neither Pacemaker/corosync on the Db2 hosts nor qnetd on the quorum host.
    # One verdict says Pacemaker is missing (not three "unknown"s per node), one says qnetd is.
    t = 1000.0
    fresh = replace(
        healthy(),
        crm=failed_on_each(*(not_found(h, "crm_mon -1 --output-as=xml") for h in ("db2a", "db2b"))),
        quorum={h: Part(h, t, error=not_found(h, "corosync-quorumtool -s")) for h in ("db2a", "db2b")},
        qdevice={h: Part(h, t, error=not_found(h, "corosync-qdevice-tool -s")) for h in ("db2a", "db2b")},
        qnetd=Part("qdev", t, error=not_found("qdev", "corosync-qnetd-tool -l")),
    )
    verdicts = with_verdicts(fresh).verdicts
    assert [(v.code, v.severity) for v in verdicts] == [
        ("pacemaker_unavailable", Severity.CRITICAL),
        ("qnetd_down", Severity.WARNING),
    ]
    pcmk, qnetd = verdicts
    assert pcmk.message == (
        "Pacemaker is not installed on db2a, db2b (crm_mon: command not found): no automatic failover"
    )
    assert pcmk.hint == (
        "set it up with `:setup ha`, or review the plan first: `db2ops setup ha --cluster lab --dry-run`"
    )
    assert qnetd.message == "corosync-qnetd is not installed on qdev (corosync-qnetd-tool: command not found)"
    assert qnetd.hint == "the HA setup's Quorum device page installs and starts it (`:setup ha`)"


def test_a_node_whose_crm_mon_fails_otherwise_keeps_the_plain_verdicts():
    # one node without crm_mon and the other failing for another reason is not "not installed"
    crm_mon = "crm_mon -1 --output-as=xml"
    other = exited("db2b", crm_mon, 1, "crm_mon: Error: cluster is not available on this node")
    mixed = replace(
        healthy(),
        crm=failed_on_each(not_found("db2a", crm_mon), other),
        quorum={
            **healthy().quorum,
            "db2a": Part("db2a", 1000.0, error=exited("db2a", "corosync-quorumtool -s", 127, "x")),
        },
    )
    verdicts = with_verdicts(mixed).verdicts
    v = next(v for v in verdicts if v.code == "pacemaker_unavailable")
    assert v.message.startswith("Pacemaker status unavailable: db2a: `crm_mon")
    assert v.hint == "run `crm status` on a Db2 host; is pacemaker running there?"
    assert any(v.message.startswith("corosync quorum on db2a is unknown") for v in verdicts)


# Verdicts decide on the error's kind: rewording a message (ssh_errors, status.py) changes no verdict.
REWORDED = "something else entirely"


def test_host_key_verdicts_come_from_the_kind_not_the_wording():
    key = {"host": "db2a", "key_type": "ssh-ed25519", "fingerprint": "SHA256:abc", "known_hosts": "/k/kh"}
    unknown = PartError(ErrorKind.HOST_KEY_UNKNOWN, REWORDED, **key)
    s = with_verdicts(replace(healthy(), host_errors={"db2a": unknown}))
    v = next(v for v in s.verdicts if v.code == "host_key_unknown")
    assert v.message == "db2a's SSH host key is not trusted yet (ssh-ed25519 SHA256:abc, not in /k/kh)"
    changed = PartError(ErrorKind.HOST_KEY_CHANGED, REWORDED, host="db2a")
    s = with_verdicts(replace(healthy(), host_errors={"db2a": changed}))
    assert [(v.code, v.message) for v in s.verdicts] == [("host_key_changed", REWORDED)]
    # and a message that reads like a host-key one is just an unreachable host when its kind says so
    lookalike = PartError(
        ErrorKind.UNREACHABLE, "REFUSED: host db2a (10.0.1.11:22) presented a key", host="db2a"
    )
    s = with_verdicts(replace(healthy(), host_errors={"db2a": lookalike}))
    assert codes(s) == {"host_unreachable"}


def test_not_installed_comes_from_the_kind_not_the_exit_wording():
    crm_mon = "crm_mon -1 --output-as=xml"
    bare = [PartError(ErrorKind.NOT_INSTALLED, REWORDED, host=h, command=crm_mon) for h in ("db2a", "db2b")]
    qnetd = Part("qdev", 1000.0, error=PartError(ErrorKind.NOT_INSTALLED, REWORDED, host="qdev"))
    s = with_verdicts(replace(healthy(), crm=failed_on_each(*bare), qnetd=qnetd))
    assert [v.message.split(" (")[0] for v in s.verdicts] == [
        "Pacemaker is not installed on db2a, db2b",
        "corosync-qnetd is not installed on qdev",
    ]
    # "exited 127" in the text of another kind is not "not installed"
    said = "`crm_mon -1 --output-as=xml` exited 127: looks like it"
    other = [PartError(ErrorKind.EXIT_CODE, said, host=h, exit_status=1) for h in ("db2a", "db2b")]
    s = with_verdicts(replace(healthy(), crm=failed_on_each(*other)))
    v = next(v for v in s.verdicts if v.code == "pacemaker_unavailable")
    assert v.message == f"Pacemaker status unavailable: db2a: {said}; db2b: {said}"


def test_a_stopped_qdevice_daemon_is_read_from_the_tools_output_not_our_message():
    s = healthy()
    stopped = PartError(
        ErrorKind.EXIT_CODE, REWORDED, host="db2b", exit_status=3, output="Can't connect to QDevice socket"
    )
    s = with_verdicts(replace(s, qdevice={**s.qdevice, "db2b": _failed("db2b", stopped, "x")}))
    assert codes(s) == {"qdevice_down"}


@pytest.mark.parametrize(("db2", "symmetric"), [("11.5.5", False), ("11.5.7", True)])
def test_overlay_resource_stopped_while_promoted_points_at_location_constraints(db2, symmetric):
    """On the lab's db2cm-shaped cluster the overlay-IP resource Stopped is caught even while the route
    still looks right; the hint follows the cluster's symmetric-cluster as crm_mon reports it: in 11.5.5's
    opt-in cluster a missing location constraint, in 11.5.7's symmetric one a ban or failures."""
    from lab.render_pacemaker import render_crm_mon_xml
    from lab.state import LabCluster
    from services.parsers.crm_mon_xml import parse_crm_mon_xml

    lab = LabCluster("lab1", db2=db2)
    status = parse_crm_mon_xml(render_crm_mon_xml(lab))
    assert status.symmetric_cluster is symmetric
    assert codes(with_verdicts(replace(healthy(), crm=part(status)))) == set()
    stopped = tuple(
        replace(r, role="Stopped", active=False, nodes=()) if r.id == lab.oip_rsc else r
        for r in status.resources
    )
    s = with_verdicts(replace(healthy(), crm=part(replace(status, resources=stopped))))
    v = next(v for v in s.verdicts if v.code == "overlay_resource_stopped")
    assert v.severity is Severity.CRITICAL and lab.oip_rsc in v.message and "db2a is promoted" in v.message
    if symmetric:
        assert "symmetric-cluster" not in v.hint and "-inf location" in v.hint and "--failcounts" in v.hint
    else:
        assert "symmetric-cluster=false" in v.hint and "location constraint" in v.hint
    unmanaged = tuple(replace(r, managed=False) if r.id == lab.oip_rsc else r for r in stopped)
    s = with_verdicts(replace(healthy(), crm=part(replace(status, resources=unmanaged))))
    assert "overlay_resource_stopped" not in codes(s)  # the HA plan's step says "not managed" for that
