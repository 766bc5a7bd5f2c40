"""The failover plan run by services.plans.run_plan against a lab cluster in-process (fast, no SSH)."""

from __future__ import annotations

import pytest

from failover.helpers import in_process, snapshot
from services.failover import OBSERVATION, build_failover_plan
from services.plans import Journal, PlanContext, WriteRefused, run_plan
from services.status.service import gather_cluster_status


async def status_of(cluster, runner):
    return await gather_cluster_status(cluster, runner, aws_route=False)


def ctx_for(cluster, runner, tmp_path):
    return PlanContext(cluster=cluster, runner=runner, journal=Journal(tmp_path / "journal"))


async def test_dry_run_lists_the_exact_commands(tmp_path):
    lab, cluster, runner = in_process()
    plan = build_failover_plan(cluster, await status_of(cluster, runner), snapshot=snapshot)
    result = await run_plan(plan, ctx_for(cluster, runner, tmp_path), mode="dry-run", state_dir=tmp_path)
    assert [(s.step_id, s.status) for s in result.steps] == [
        ("preflight", "planned"),
        ("takeover", "planned"),
        ("verify", "planned"),
        ("cleanup", "planned"),
        ("final", "planned"),
    ]
    assert [a.render() for a in result.by_id("takeover").actions] == [
        "db2b$ db2 takeover hadr on db HADRDB  # the standby takes over; expect DB20000I"
    ]
    assert result.by_id("preflight").message == "13 checks passed"
    assert runner.writes() == []
    assert lab.summary()["hadr_primary"] == "db2a"


async def test_planned_failover_and_back(tmp_path):
    lab, cluster, runner = in_process()
    seen = []
    for target, source in (("db2b", "db2a"), ("db2a", "db2b")):
        plan = build_failover_plan(
            cluster, await status_of(cluster, runner), snapshot=snapshot, on_observe=seen.append
        )
        assert plan.target == target and plan.preflight.source == source
        ctx = ctx_for(cluster, runner, tmp_path)
        result = await run_plan(plan, ctx, mode="apply", state_dir=tmp_path)
        assert result.ok, result.next_hint
        assert lab.summary()["promoted"] == target and lab.summary()["hadr_primary"] == target
        assert ctx.facts[OBSERVATION].complete and seen[-1].promoted == target
    entries = Journal(tmp_path / "journal").read().entries
    assert [e.step_id for e in entries] == ["preflight", "takeover", "verify", "cleanup", "final"] * 2
    takeovers = [e for e in entries if e.step_id == "takeover"]
    assert [(e.target, e.actions[0]["command"]) for e in takeovers] == [
        ("db2b", "db2 takeover hadr on db HADRDB"),
        ("db2a", "db2 takeover hadr on db HADRDB"),
    ]
    assert all(e.result == "verified" for e in entries)
    assert runner.writes() == [
        ("db2b", ("db2", "takeover", "hadr", "on", "db", "HADRDB")),
        ("db2a", ("db2", "takeover", "hadr", "on", "db", "HADRDB")),
    ]


async def test_re_running_a_finished_failover_changes_nothing(tmp_path):
    lab, cluster, runner = in_process()
    status = await status_of(cluster, runner)
    plan = build_failover_plan(cluster, status, "db2b", snapshot=snapshot)
    assert (await run_plan(plan, ctx_for(cluster, runner, tmp_path), mode="apply", state_dir=tmp_path)).ok
    again = await run_plan(plan, ctx_for(cluster, runner, tmp_path), mode="apply", state_dir=tmp_path)
    assert {s.status for s in again.steps} == {"already_done"}
    assert len(Journal(tmp_path / "journal").read().entries) == 5
    assert len(runner.writes()) == 1


async def test_refuses_at_run_time_when_hadr_left_peer_after_the_preview(tmp_path):
    lab, cluster, runner = in_process()
    plan = build_failover_plan(cluster, await status_of(cluster, runner), snapshot=snapshot)
    assert plan.runnable
    lab.disconnect_hadr()
    asked = []
    result = await run_plan(
        plan,
        ctx_for(cluster, runner, tmp_path),
        mode="apply",
        confirm=lambda run: asked.append(run) or True,
        state_dir=tmp_path,
    )
    assert result.outcome == "failed" and result.failed_step == "preflight"
    assert "HADR not in PEER: db2a is DISCONNECTED (DISCONNECTED)" in result.by_id("preflight").message
    assert runner.writes() == []
    assert lab.summary()["hadr_primary"] == "db2a"


async def test_read_only_cluster_is_refused_before_any_host_command(tmp_path):
    lab, cluster, runner = in_process(read_only=True)
    plan = build_failover_plan(cluster, await status_of(cluster, runner), snapshot=snapshot)
    runner.ran.clear()
    with pytest.raises(WriteRefused, match="cluster lab1 is read-only: set read_only: false"):
        await run_plan(plan, ctx_for(cluster, runner, tmp_path), mode="apply", state_dir=tmp_path)
    assert runner.ran == []


async def test_pacemaker_move_clears_its_constraint(tmp_path):
    lab, cluster, runner = in_process()
    plan = build_failover_plan(cluster, await status_of(cluster, runner), kind="pacemaker", snapshot=snapshot)
    assert [s.id for s in plan.steps] == ["preflight", "move", "verify", "clear-move", "cleanup", "final"]
    result = await run_plan(plan, ctx_for(cluster, runner, tmp_path), mode="apply", state_dir=tmp_path)
    assert result.ok, result.next_hint
    clone = lab.clone_rsc
    assert runner.writes() == [
        ("db2b", ("sudo", "-n", "crm", "resource", "move", clone, "db2b")),
        ("db2b", ("sudo", "-n", "crm", "resource", "clear", clone)),
    ]
    xml = (await runner.run(cluster.host("db2a"), ["cibadmin", "-Q", "-o", "constraints"])).stdout
    assert "cli-prefer" not in xml


def test_pacemaker_changes_skip_sudo_when_the_ssh_user_is_root() -> None:
    """A root ssh user (the real-Pacemaker lab's) has no sudo to call; any other user needs `sudo -n`."""
    from dataclasses import replace

    from services.failover.steps import FailoverSettings

    _, cluster, _ = in_process()
    as_root = replace(cluster, hosts=tuple(replace(h, user="root") for h in cluster.hosts))
    argv = ("crm", "resource", "move", "clone", "db2b")
    assert FailoverSettings(as_root, "db2b", "pacemaker", "clone").pcmk(*argv) == argv
    assert FailoverSettings(cluster, "db2b", "pacemaker", "clone").pcmk(*argv) == ("sudo", "-n", *argv)


async def test_left_over_constraint_is_cleared_first_when_asked(tmp_path):
    lab, cluster, runner = in_process()
    clone = lab.clone_rsc
    await runner.run(cluster.host("db2a"), ["crm_resource", "--ban", "--resource", clone, "--node", "qdev"])
    await runner.run(cluster.host("db2a"), ["crm_resource", "--ban", "--resource", clone, "--node", "db2a"])
    status = await status_of(cluster, runner)
    refused = build_failover_plan(cluster, status, snapshot=snapshot)
    result = await run_plan(refused, ctx_for(cluster, runner, tmp_path), mode="apply", state_dir=tmp_path)
    assert (
        result.failed_step == "preflight"
        and "left-over constraint(s): cli-ban-" in result.by_id("preflight").message
    )
    plan = build_failover_plan(cluster, status, clear_constraints=True, snapshot=snapshot)
    result = await run_plan(plan, ctx_for(cluster, runner, tmp_path), mode="apply", state_dir=tmp_path)
    assert result.ok, result.next_hint
    assert result.by_id("clear-constraints").status == "applied"


async def test_new_failed_actions_are_cleaned_but_acknowledged_old_ones_kept(tmp_path):
    lab, cluster, runner = in_process()
    lab.add_failed_action("db2a", lab.instance_rsc("db2a"), "monitor", rc=7)
    status = await status_of(cluster, runner)
    assert not build_failover_plan(cluster, status, snapshot=snapshot).runnable

    def during(observation) -> None:
        if not any(fa.task == "start" for fa in lab.failed_actions):
            lab.add_failed_action("db2b", lab.oip_rsc, "start", rc=1)

    plan = build_failover_plan(
        cluster, status, acknowledge_failed_actions=True, snapshot=snapshot, on_observe=during
    )
    result = await run_plan(plan, ctx_for(cluster, runner, tmp_path), mode="apply", state_dir=tmp_path)
    assert result.ok, result.next_hint
    assert [a.command for a in result.by_id("cleanup").performed] == [
        f"sudo -n crm resource cleanup {lab.oip_rsc} db2b"
    ]
    assert [(f.resource, f.node) for f in lab.failed_actions] == [(lab.instance_rsc("db2a"), "db2a")]


async def test_verify_times_out_with_what_is_still_wrong(tmp_path):
    lab, cluster, runner = in_process()
    clock = [0.0]

    async def stuck(ctx):  # Pacemaker never follows: every look shows the old primary promoted
        return frozen

    async def sleep(seconds: float) -> None:
        clock[0] += seconds

    frozen = await status_of(cluster, runner)
    plan = build_failover_plan(
        cluster, frozen, snapshot=stuck, timeout_s=5, poll_interval_s=1, sleep=sleep, clock=lambda: clock[0]
    )
    result = await run_plan(plan, ctx_for(cluster, runner, tmp_path), mode="apply", state_dir=tmp_path)
    assert result.failed_step == "verify"
    message = result.by_id("verify").message
    assert message.startswith(
        "apply failed: not settled after 5 s: Pacemaker promoted db2a, waiting for db2b"
    )
    assert "re-run to verify again" in message
    assert clock[0] == 5


async def test_forced_takeover_when_the_hadr_link_is_down(tmp_path):
    lab, cluster, runner = in_process()
    lab.disconnect_hadr()
    status = await status_of(cluster, runner)
    assert not build_failover_plan(cluster, status, snapshot=snapshot).runnable
    plan = build_failover_plan(cluster, status, kind="forced", snapshot=snapshot)
    assert plan.runnable and plan.step("verify").title == "Verify: db2b promoted, HADR primary, route → db2b"
    ctx = ctx_for(cluster, runner, tmp_path)
    result = await run_plan(plan, ctx, mode="apply", state_dir=tmp_path)
    assert result.ok, result.next_hint
    assert runner.writes() == [
        ("db2b", ("db2", "takeover", "hadr", "on", "db", "HADRDB", "by", "force", "peer", "window", "only"))
    ]
    seen = ctx.facts[OBSERVATION]
    assert (seen.promoted, seen.hadr_primary) == ("db2b", "db2b") and seen.hadr_state != "PEER"
