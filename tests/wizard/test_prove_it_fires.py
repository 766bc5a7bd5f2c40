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
    # the record in CloudWatch is the one of the GRANT the proof ran (no role), not the runbook's text
    assert "grant select on table sample.worker to user abcuser" in by_stage["event"].detail
    assert "trole" not in by_stage["event"].detail
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
    # the diag alarm is not proven on a Pacemaker pair (db2_kill would fail over): the report says so
    diag = [e for e in events if "db2ops-lab1-db2diag-error-severe is not proven here" in e.detail]
    assert len(diag) == 1 and diag[0].status == "info"
    assert "maintenance-mode=true" in diag[0].detail and "db2ops lab" in diag[0].detail
    # timestamps only move forward
    assert [e.at for e in events] == sorted(e.at for e in events)
    sent = lab_session.cloudwatch.notifications_for(params.audit_alarm_name)
    assert sent and sent[-1]["NewStateValue"] == "ALARM"
    # the statement went through the write guard and is in the journal with its commands
    entry = [e for e in Journal(tmp_path / "journal").read().entries if e.plan == "prove-it-fires"][-1]
    assert entry.result == "verified"
    commands = [a["command"] for a in entry.actions]
    grant_at = commands.index("db2 -tvf /home/db2inst1/dbaudit/db2ops_prove_it_fires.sql")
    # the grant names no role (a database without role TROLE answers SQL0204N) and is revoked in the
    # same step, so the test user does not keep SELECT on the sensitive table; the journal has both
    assert "grant select on table sample.worker to user abcuser;" in entry.actions[grant_at - 1]["input"]
    assert commands[grant_at + 1 :] == [
        "mkdir -p /home/db2inst1/dbaudit",
        "tee /home/db2inst1/dbaudit/db2ops_prove_it_fires_revoke.sql",
        "db2 -tvf /home/db2inst1/dbaudit/db2ops_prove_it_fires_revoke.sql",
    ]
    assert "revoke select on table sample.worker from user abcuser;" in entry.actions[grant_at + 2]["input"]
    assert held_by_test_user(lab_session) == set()
    assert any(
        e.detail == "revoked on db2a: revoke select on table sample.worker from user abcuser" for e in events
    )

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


def held_by_test_user(session) -> set:
    from lab.db2admin_state import catalog

    held = catalog(session.runtime.clusters["lab1"]).held
    return {h for h in held if h[3] in ("ABCUSER", "TROLE")}


async def test_a_role_the_database_lacks_fails_with_sql0204n_and_leaves_nothing_granted(
    lab_session, ssh_pool, tmp_path
) -> None:
    # The runbook's "to user abcuser, role trole" on a database without role TROLE: Db2 refuses the whole
    # GRANT (SQL0204N), so the proof says so and there is nothing to revoke.
    ctx, params = await applied(lab_session, ssh_pool, tmp_path, MonitoringParams())
    options = replace(ProofOptions.for_cluster(ctx.cluster), test_role="trole")
    events = [e async for e in prove_it_fires(ctx, params, options=options, **on_lab(lab_session, ctx))]
    assert events[-1].status == "failed"
    assert events[-1].detail.startswith("the test statement did not run: no db host ran it (db2a: SQL0204N)")
    assert held_by_test_user(lab_session) == set()


async def test_a_named_role_is_granted_and_revoked(lab_session, ssh_pool, tmp_path) -> None:
    from lab.db2admin_state import catalog

    ctx, params = await applied(lab_session, ssh_pool, tmp_path, MonitoringParams())
    catalog(lab_session.runtime.clusters["lab1"]).roles.add("TROLE")
    options = replace(ProofOptions.for_cluster(ctx.cluster), test_role="trole")
    events = [e async for e in prove_it_fires(ctx, params, options=options, **on_lab(lab_session, ctx))]
    assert events[-1].status == "ok", "\n".join(e.text for e in events)
    grants = catalog(lab_session.runtime.clusters["lab1"]).grants
    assert grants == ["grant select on table sample.worker to user abcuser, role trole"]
    assert held_by_test_user(lab_session) == set()


async def test_an_interrupted_proof_still_revokes_the_grant(lab_session, ssh_pool, tmp_path) -> None:
    import asyncio
    import contextlib

    ctx, params = await applied(lab_session, ssh_pool, tmp_path, MonitoringParams())
    backend = on_lab(lab_session, ctx)
    granted = asyncio.Event()

    class AnswerNeverComes:
        """The GRANT runs on the host, but its answer never comes back (the wizard is closed meanwhile)."""

        async def run(self, host, argv, **kwargs):
            result = await ssh_pool.run(host, argv, **kwargs)
            if argv[0] == "db2" and argv[-1].endswith("db2ops_prove_it_fires.sql"):
                granted.set()
                await asyncio.Event().wait()
            return result

    ctx.runner = AnswerNeverComes()
    events: list = []

    async def consume() -> None:
        async for event in prove_it_fires(ctx, params, **backend):
            events.append(event)

    consumer = asyncio.ensure_future(consume())
    await asyncio.wait_for(granted.wait(), 30)
    assert held_by_test_user(lab_session) == {("SELECT", "SAMPLE.WORKER", "USER", "ABCUSER")}
    consumer.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await consumer
    assert held_by_test_user(lab_session) == set()
    entry = [e for e in Journal(tmp_path / "journal").read().entries if e.plan == "prove-it-fires"][-1]
    assert [a["command"] for a in entry.actions][-1].endswith("db2ops_prove_it_fires_revoke.sql")


def test_a_test_user_or_role_that_is_not_an_authorization_id_is_refused() -> None:
    params = MonitoringParams()
    with pytest.raises(ValueError, match="not a Db2 authorization id"):
        ProofOptions(test_role="x; drop table t").statement_text(params)


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
        "Pattern: 'NOSUCHWORD'. Event: db2inst1: grant select on table sample.worker to user abcuser."
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


def test_the_diag_note_is_for_a_pacemaker_pair_only():
    from services.inventory.model import Cluster, Host
    from services.monitoring.proof_diagnosis import diag_proof_note

    db = [Host(name=n, address="10.0.0.1", role="db") for n in ("db2a", "db2b")]
    assert "db2_kill" in diag_proof_note(Cluster(name="c", hosts=tuple(db)), "d")
    assert diag_proof_note(Cluster(name="c", hosts=tuple(db[:1])), "d") == ""
