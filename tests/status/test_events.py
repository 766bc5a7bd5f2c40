from __future__ import annotations

from dataclasses import replace

from status_builders import IDS, crm, down, hadr, healthy, part, with_verdicts

from services.cluster_model import OverlayRoute, QdeviceStatus
from services.part_errors import ErrorKind, PartError
from services.status.events import diff_snapshots


def kinds(events) -> list[str]:
    return [e.kind for e in events]


def test_first_snapshot_has_no_events():
    assert diff_snapshots(None, healthy()) == []


def test_identical_snapshots_have_no_events():
    assert diff_snapshots(healthy(1000), healthy(1002)) == []


def test_failover_produces_node_left_promoted_changed_role_and_route_events():
    before = healthy(1000)
    after = with_verdicts(
        replace(
            healthy(1010),
            crm=part(crm(promoted="db2b", online=("db2b",)), "db2b", 1010),
            hadr={
                "db2a": part(None, "db2a", 1010, error=down("db2a", "refused")),
                "db2b": part(hadr("PRIMARY", "DISCONNECTED", "DISCONNECTED"), "db2b", 1010),
            },
            overlay_route=part(
                OverlayRoute("rtb-1", "192.168.1.81/32", instance_id=IDS["db2b"]), "aws", 1010
            ),
            host_errors={"db2a": down("db2a")},
        )
    )
    ev = diff_snapshots(before, after)
    k = kinds(ev)
    assert {
        "host_unreachable",
        "node_left",
        "promoted_changed",
        "hadr_role_changed",
        "hadr_state_changed",
        "route_moved",
    } <= set(k)
    promoted = next(e for e in ev if e.kind == "promoted_changed")
    assert promoted.message == "promoted node changed: db2a -> db2b"
    assert all(e.at == 1010 and e.cluster == "lab" for e in ev)
    route = next(e for e in ev if e.kind == "route_moved")
    assert "db2a -> db2b" in route.message


def test_qdevice_and_quorum_changes():
    a = healthy(1000)
    b = with_verdicts(
        replace(
            healthy(1002),
            crm=part(crm(quorum=False)),
            qdevice={**a.qdevice, "db2a": part(QdeviceStatus(state="Connect failed"))},
        )
    )
    assert {"quorum_lost", "qdevice_disconnected"} <= set(kinds(diff_snapshots(a, b)))
    assert {"quorum_regained", "qdevice_connected"} <= set(kinds(diff_snapshots(b, a)))


def test_failed_refresh_is_not_a_change():
    a = healthy(1000)
    b = replace(
        healthy(1002),
        hadr={
            **a.hadr,
            "db2b": part(None, "db2b", 1002, error=PartError(ErrorKind.TIMEOUT, "timeout", host="db2b")),
        },
    )
    assert "hadr_state_changed" not in kinds(diff_snapshots(a, b))
