from __future__ import annotations

from dataclasses import replace

from status_builders import IDS, crm, hadr, healthy, part, with_verdicts

from services.cluster_model import CrmFailedAction, OverlayRoute, QdeviceStatus, QuorumStatus
from services.status_model import Severity


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
    s = with_verdicts(replace(healthy(), host_errors={"db2b": "connection refused"}))
    assert s.verdicts[0].severity is Severity.CRITICAL
    assert "host_unreachable" in codes(s)


def test_stale_part_is_not_judged():
    """A part that failed this refresh but kept its last value must not produce verdicts from old data."""
    s = healthy()
    stale = replace(s.hadr["db2b"], value=hadr("STANDBY", state="REMOTE_CATCHUP"), error="timeout")
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
