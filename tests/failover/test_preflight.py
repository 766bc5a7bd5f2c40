"""Preflight verdicts on built ClusterStatus snapshots (no I/O)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from status.status_builders import CLONE, IDS, crm, down, hadr, healthy, part, with_verdicts

from services.cluster_model import (
    CrmBan,
    CrmFailedAction,
    CrmStatus,
    OverlayRoute,
    QdeviceStatus,
    QuorumStatus,
)
from services.failover import LocationConstraint, build_failover_plan, default_target, run_preflight
from services.inventory.model import AwsSettings, Cluster, Host

CLUSTER = Cluster(
    name="lab",
    read_only=False,
    instance="db2inst1",
    database="HADRDB",
    hosts=(
        Host("db2a", "10.0.0.1", instance_id=IDS["db2a"]),
        Host("db2b", "10.0.0.2", instance_id=IDS["db2b"]),
        Host("qdev", "10.0.0.3", role="qdevice", instance_id=IDS["qdev"]),
    ),
    aws=AwsSettings(route_table_id="rtb-1", overlay_ip="192.168.1.81"),
)


def states(pf) -> dict[str, str]:
    return {c.code: c.state for c in pf.checks}


def check(pf, code: str):
    return next(c for c in pf.checks if c.code == code)


def with_hadr(status, state="PEER", connect="CONNECTED", gap=0):
    t = status.taken_at
    return with_verdicts(
        replace(
            status,
            hadr={
                "db2a": part(hadr("PRIMARY", state, connect, gap), "db2a", t),
                "db2b": part(hadr("STANDBY", state, connect, gap), "db2b", t),
            },
        )
    )


def with_crm(status, value: CrmStatus):
    return with_verdicts(replace(status, crm=part(value, "db2a", status.taken_at)))


def test_healthy_cluster_passes_every_check_and_targets_the_standby():
    s = healthy()
    pf = run_preflight(CLUSTER, s, constraints=())
    assert pf.target == "db2b" and pf.source == "db2a" and pf.clone == CLONE
    assert pf.runnable and not pf.warnings and not pf.already_done
    assert set(states(pf).values()) == {"pass"}
    assert list(states(pf)) == [
        "hosts_reachable",
        "pacemaker",
        "no_maintenance",
        "quorum",
        "qdevice",
        "roles_agree",
        "target",
        "hadr_peer",
        "log_gap",
        "failed_actions",
        "constraints",
        "route",
        "instance_owner",
    ]
    assert check(pf, "route").message == "192.168.1.81/32 routes to db2a"
    assert default_target(CLUSTER, s) == "db2b"


def test_failover_refuses_when_hadr_not_peer():
    s = with_hadr(healthy(), state="REMOTE_CATCHUP")
    plan = build_failover_plan(CLUSTER, s, "db2b")
    assert not plan.runnable
    c = check(plan.preflight, "hadr_peer")
    assert c.state == "fail"
    assert "db2a is REMOTE_CATCHUP (CONNECTED)" in c.message
    assert "wait for PEER" in c.hint
    assert plan.refusal.startswith("failover of lab to db2b refused: HADR not in PEER")


def test_disconnected_hadr_blocks_a_planned_but_only_warns_a_forced_takeover():
    s = with_hadr(healthy(), state="DISCONNECTED", connect="DISCONNECTED")
    assert check(run_preflight(CLUSTER, s), "hadr_peer").state == "fail"
    forced = run_preflight(CLUSTER, s, kind="forced")
    assert check(forced, "hadr_peer").state == "warn"
    warning = check(forced, "forced_takeover")
    assert warning.state == "warn" and "split brain" in warning.message
    assert forced.runnable
    plan = build_failover_plan(CLUSTER, s, kind="forced")
    assert plan.step("takeover").title == "FORCED takeover HADR on db2b"
    assert plan.settings.takeover_argv() == (
        "db2",
        "takeover",
        "hadr",
        "on",
        "db",
        "HADRDB",
        "by",
        "force",
        "peer",
        "window",
        "only",
    )


def test_big_log_gap_is_a_warning_not_a_refusal():
    s = with_hadr(healthy(), gap=200 * 1024 * 1024)
    pf = run_preflight(CLUSTER, s, constraints=())
    assert check(pf, "log_gap").state == "warn" and check(pf, "log_gap").message == "log gap 200.0 MiB"
    assert pf.runnable and "1 warning: log gap 200.0 MiB" in pf.summary()


def test_no_quorum_and_qdevice_down_refuse():
    s = healthy()
    lost = replace(
        s,
        quorum={h: part(QuorumStatus(quorate=False), h) for h in ("db2a", "db2b")},
        qdevice={h: part(QdeviceStatus(state="Connect failed"), h) for h in ("db2a", "db2b")},
    )
    pf = run_preflight(CLUSTER, with_crm(lost, crm(quorum=False)))
    assert check(pf, "quorum").message == "the cluster has no quorum (not quorate on db2a, db2b)"
    assert (
        check(pf, "qdevice").message
        == "qdevice not connected on db2a (Connect failed), db2b (Connect failed)"
    )
    assert {c.code for c in pf.failures} >= {"quorum", "qdevice"}


def test_target_in_standby_or_unknown_is_refused():
    s = with_crm(healthy(), crm(standby=("db2b",)))
    pf = run_preflight(CLUSTER, s)
    assert check(pf, "target").message == "db2b is in standby (`crm node online db2b` first)"
    pf = run_preflight(CLUSTER, healthy(), "db2z")
    assert check(pf, "target").message == "unknown target 'db2z'"
    assert check(pf, "target").hint == "pick one of db2a, db2b"
    plan = build_failover_plan(CLUSTER, healthy(), "qdev")
    assert not plan.runnable and plan.steps == []


def test_target_already_primary_is_nothing_to_do():
    pf = run_preflight(CLUSTER, healthy(), "db2a")
    assert pf.already_done and pf.runnable
    assert pf.summary() == "db2a already is the HADR primary and the promoted node: nothing to do"


def test_failed_actions_refuse_until_acknowledged():
    fa = CrmFailedAction("db2_db2inst1_db2inst1_HADRDB", "monitor", "db2b", rc=7, rc_text="not running")
    s = with_crm(healthy(), replace(crm(), failed_actions=(fa,)))
    c = check(run_preflight(CLUSTER, s), "failed_actions")
    assert c.state == "fail" and c.fix == "acknowledge_failed_actions"
    assert c.message == "failed actions: db2_db2inst1_db2inst1_HADRDB monitor on db2b"
    ok = check(run_preflight(CLUSTER, s, acknowledge_failed_actions=True), "failed_actions")
    assert ok.state == "pass" and ok.message.startswith("acknowledged: ")


def test_left_over_move_constraint_refuses_and_offers_clear():
    prefer = LocationConstraint(f"cli-prefer-{CLONE}", CLONE, "db2b", "INFINITY", "Started")
    pf = run_preflight(CLUSTER, healthy(), constraints=[prefer])
    c = check(pf, "constraints")
    assert c.state == "fail" and c.fix == "clear_constraints"
    assert (
        c.message == f"left-over constraint(s): cli-prefer-{CLONE} ({CLONE} role Started on db2b, INFINITY)"
    )
    assert f"`crm resource clear {CLONE}` first" in c.hint and "108" in c.hint
    cleared = run_preflight(CLUSTER, healthy(), constraints=[prefer], clear_constraints=True)
    assert check(cleared, "constraints").state == "pass" and cleared.runnable
    plan = build_failover_plan(CLUSTER, healthy(), constraints=[prefer], clear_constraints=True)
    assert [s.id for s in plan.steps] == [
        "preflight",
        "clear-constraints",
        "takeover",
        "verify",
        "cleanup",
        "final",
    ]


def test_cli_ban_from_crm_mon_counts_without_reading_the_cib():
    ban = CrmBan(f"cli-ban-{CLONE}-on-db2a", CLONE, "db2a", weight=-1000000, promoted_only=True)
    s = with_crm(healthy(), replace(crm(), bans=(ban,)))
    c = check(run_preflight(CLUSTER, s), "constraints")
    assert c.state == "fail" and f"cli-ban-{CLONE}-on-db2a" in c.message


def test_unread_constraints_are_pending_and_unreadable_ones_warn():
    assert check(run_preflight(CLUSTER, healthy()), "constraints").state == "pending"
    c = check(
        run_preflight(CLUSTER, healthy(), constraints_error="exit 13: permission denied"), "constraints"
    )
    assert c.state == "warn" and "permission denied" in c.message


def test_maintenance_mode_and_route_mismatch_refuse():
    s = with_crm(healthy(), replace(crm(), maintenance_mode=True))
    assert check(run_preflight(CLUSTER, s), "no_maintenance").state == "fail"
    wrong = OverlayRoute("rtb-1", "192.168.1.81/32", instance_id=IDS["db2b"], state="active")
    s = with_verdicts(replace(healthy(), overlay_route=part(wrong, "aws")))
    c = check(run_preflight(CLUSTER, s), "route")
    assert c.state == "fail" and c.message == "192.168.1.81/32 routes to db2b, not to db2a"
    s = with_verdicts(replace(healthy(), overlay_route=None))
    assert (
        check(run_preflight(CLUSTER, s), "route").message == "no overlay IP route configured for this cluster"
    )


def test_unreachable_host_and_disagreeing_roles_refuse():
    s = with_verdicts(replace(healthy(), host_errors={"db2b": down("db2b")}))
    assert (
        check(run_preflight(CLUSTER, s), "hosts_reachable").message
        == "db2b is unreachable: connection refused"
    )
    s = with_crm(healthy(), crm(promoted="db2b"))
    c = check(run_preflight(CLUSTER, s, "db2b"), "roles_agree")
    assert c.state == "fail" and c.message == "Pacemaker promoted db2b but the HADR primary is db2a"


def test_unknown_kind_and_bad_timeout_are_value_errors():
    with pytest.raises(ValueError, match="unknown failover kind 'switch'"):
        run_preflight(CLUSTER, healthy(), kind="switch")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="greater than 0"):
        build_failover_plan(CLUSTER, healthy(), timeout_s=0)


def test_takeover_as_another_user_than_the_instance_owner_warns():
    hosts = tuple(replace(h, user="ec2-user") if h.name == "db2b" else h for h in CLUSTER.hosts)
    pf = run_preflight(replace(CLUSTER, hosts=hosts), healthy(), constraints=())
    c = check(pf, "instance_owner")
    assert c.state == "warn" and c.message == "ssh user on db2b is ec2-user, not db2inst1"
    assert "set `user: db2inst1` for db2b in the inventory" in c.hint
    assert pf.runnable
    moved = run_preflight(replace(CLUSTER, hosts=hosts), healthy(), kind="pacemaker", constraints=())
    assert "instance_owner" not in states(moved)
