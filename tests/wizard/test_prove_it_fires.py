"""Prove it fires, end to end on the real embedded lab (SSH hosts, moto, the lab's log agent and CloudWatch
evaluator): apply the monitoring plan, run the runbook's test statement, see each link of the chain."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from services.monitoring.plan import MonitoringParams
from services.monitoring.prove_it_fires import ProofHistory, ProofOptions, prove_it_fires
from services.plans import Journal, PlanContext
from wizard.prove_lab import applied, lab_session_fixture, ssh_pool_fixture  # noqa: F401

pytest.importorskip("moto")
EMAIL = "dba-team@example.com"


def on_lab(session, ctx, history: ProofHistory | None = None) -> dict:
    """The proof's backend as the console's composition root picks it on `db2ops lab`: the lab's evaluator
    and log agent in this process; `history` is the console's record of earlier proofs."""
    from tui.backends import extras_for

    return {"extras": extras_for(ctx.cluster, session, ctx.runner), "history": history or ProofHistory()}


async def test_on_the_lab_the_chain_ends_with_an_sns_message(lab_session, ssh_pool, tmp_path) -> None:
    ctx, params = await applied(lab_session, ssh_pool, tmp_path, MonitoringParams(email=EMAIL))
    history = ProofHistory()  # the console's: the second proof below must not look back past the first
    events = [e async for e in prove_it_fires(ctx, params, **on_lab(lab_session, ctx, history))]
    final = events[-1]
    assert final.stage == "result" and final.status == "ok", "\n".join(e.text for e in events)
    assert "SNS message recorded by the lab" in final.detail
    oks = [e.stage for e in events if e.status == "ok" and e.stage != "result"]
    assert oks == ["statement", "event", "metric", "alarm", "notification"]
    by_stage = {e.stage: e for e in events if e.status == "ok"}
    assert by_stage["statement"].detail == "ran on db2a as db2inst1 (HADR primary)"
    assert "grant select on table sample.worker to user abcuser, role trole" in by_stage["event"].detail
    assert by_stage["metric"].detail.startswith("datapoint 1 at ")
    assert (
        by_stage["alarm"].detail.startswith("ALARM at ") and "Threshold Crossed" in by_stage["alarm"].detail
    )
    assert by_stage["notification"].text.endswith("(lab)")
    assert (
        'SNS message recorded: \'ALARM: "db2ops-lab1-sensitive-table-access"'
        in by_stage["notification"].detail
    )
    # the lab keeps the e-mail subscription pending until someone confirms it: the proof says so
    assert any("dba-team@example.com is pending confirmation" in e.detail for e in events)
    # timestamps only move forward
    assert [e.at for e in events] == sorted(e.at for e in events)
    sent = lab_session.cloudwatch.notifications_for(params.audit_alarm_name)
    assert sent and sent[-1]["NewStateValue"] == "ALARM"
    # the statement went through the write guard and is in the journal with its commands
    entry = [e for e in Journal(tmp_path / "journal").read().entries if e.plan == "prove-it-fires"][-1]
    assert entry.result == "verified"
    assert [a["command"] for a in entry.actions][
        -1
    ] == "db2 -tvf /home/db2inst1/dbaudit/db2ops_prove_it_fires.sql"
    assert "grant select on table sample.worker to user abcuser, role trole;" in entry.actions[1]["input"]

    assert entry.target == "db2a"

    # a second proof right away, with the SELECT variant (no privilege granted): the alarm is still in
    # ALARM, so it is reset to OK first and fires again. Its clock runs 30 s behind (skew): looking back
    # from its start, it must still not take the first proof's audit record for its own.
    select = replace(ProofOptions.for_cluster(ctx.cluster), statement="select")
    first_event = next(e for e in events if e.stage == "event" and e.status == "ok")
    assert first_event.data["event_id"]

    def behind() -> datetime:
        return datetime.now(UTC) - timedelta(seconds=30)

    proof = prove_it_fires(ctx, params, options=select, now=behind, **on_lab(lab_session, ctx, history))
    again = [e async for e in proof]
    assert again[-1].status == "ok", "\n".join(e.text for e in again)
    second_event = next(e for e in again if e.stage == "event" and e.status == "ok")
    assert second_event.data["event_id"] not in ("", first_event.data["event_id"])
    assert any("the alarm was already in ALARM: set it to OK" in e.detail for e in again)
    assert len(lab_session.cloudwatch.notifications_for(params.audit_alarm_name)) == len(sent) + 1
    assert any(
        e.detail.endswith("select count(*) from sample.worker") for e in again if e.status == "running"
    )


async def test_a_pattern_that_does_not_match_breaks_the_chain_at_the_metric(
    lab_session, ssh_pool, tmp_path
) -> None:
    ctx, params = await applied(lab_session, ssh_pool, tmp_path, MonitoringParams(audit_pattern="NOSUCHWORD"))
    options = replace(ProofOptions.for_cluster(ctx.cluster), metric_timeout_s=4)
    events = [e async for e in prove_it_fires(ctx, params, options=options, **on_lab(lab_session, ctx))]
    final = events[-1]
    assert final.status == "failed"
    assert [e.stage for e in events if e.status == "ok"] == ["statement", "event"]
    assert any(e.stage == "metric" and e.status == "timeout" for e in events)
    assert final.detail.startswith(
        "The event arrived but the metric never ticked: the filter pattern did not match it. "
        "Pattern: 'NOSUCHWORD'. Event: db2inst1: grant select on table sample.worker to user abcuser, role trole."
    )
    assert "db2ops' evaluator agrees the pattern does not match this event" in final.detail
    assert lab_session.cloudwatch.notifications_for(params.audit_alarm_name) == []


async def test_without_the_plan_applied_it_says_to_apply_it_first(lab_session, ssh_pool, tmp_path) -> None:
    cluster = lab_session.inventory.clusters[0]
    ctx = PlanContext(cluster=cluster, runner=ssh_pool, journal=Journal(tmp_path / "journal"))
    events = [
        e async for e in prove_it_fires(ctx, MonitoringParams().resolve(cluster), **on_lab(lab_session, ctx))
    ]
    assert len(events) == 1 and events[0].status == "failed"
    assert events[0].detail == (
        "no metric filter db2ops-sensitive-table-access on db2-db-worker-audit-log: apply the monitoring plan "
        "first (:setup, or db2ops setup monitoring --cluster lab1 --apply)"
    )


async def test_a_read_only_cluster_refuses_the_test_statement(lab_session, ssh_pool, tmp_path) -> None:
    ctx, params = await applied(lab_session, ssh_pool, tmp_path, MonitoringParams())
    ctx.cluster = replace(ctx.cluster, read_only=True)
    audit_alarm = "db2ops-lab1-sensitive-table-access"
    # Only the audit alarm matters: the lab's routine db2diag records may trip the diag alarm meanwhile.
    before = len(lab_session.cloudwatch.notifications_for(audit_alarm))
    events = [e async for e in prove_it_fires(ctx, params, **on_lab(lab_session, ctx))]
    assert events[-1].status == "failed"
    assert events[-1].detail.startswith("the test statement did not run: cluster lab1 is read-only")
    assert not any(e.stage == "statement" and e.status == "ok" for e in events)
    assert len(lab_session.cloudwatch.notifications_for(audit_alarm)) == before


def test_event_summary_makes_control_characters_visible():
    from services.monitoring.proof_diagnosis import summarize_event

    text = summarize_event("  userid=EVE;\n  statement text=select 1 \x1b[2J from sample.worker;\n")
    assert "\x1b" not in text and "\\x1b[2J" in text
