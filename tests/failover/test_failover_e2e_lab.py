"""End to end on the embedded lab: real SSH servers on 127.0.0.1, moto for the overlay route, the real
status service and SshPool, and the plan runner with its journal."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest
from lab_over_ssh import lab_fixture, service_fixture  # noqa: F401  (the lab and service fixtures)

from lab.runtime import LabRuntime
from services.failover import OBSERVATION, build_failover_plan
from services.plans import Journal, PlanContext, WriteRefused, run_plan
from services.status.service import StatusService
from services.timeline.model import Timeline

pytest.importorskip("moto")


async def failover(service: StatusService, cluster, journal: Journal, state_dir: Path, timeline: Timeline):
    status = await service.snapshot(cluster)
    timeline.add_snapshot(status)

    async def snapshot(ctx):
        s = await service.snapshot(cluster)
        timeline.add_snapshot(s)
        return s

    plan = build_failover_plan(cluster, status, snapshot=snapshot, poll_interval_s=0.2)
    ctx = PlanContext(cluster=cluster, runner=service.runner, journal=journal)

    def progress(event) -> None:  # what the failover screen does: steps land with their exact time
        timeline.add_step_event(plan.name, event, time.time())

    result = await run_plan(plan, ctx, mode="apply", progress=progress, state_dir=state_dir)
    return plan, ctx, result


async def test_planned_failover_there_and_back_with_journal_and_timeline(
    lab: LabRuntime, service: StatusService, tmp_path: Path
):
    cluster = lab.inventory().clusters[0]
    journal = Journal(tmp_path / "journal")
    timeline = Timeline(cluster.name)
    plan, ctx, result = await failover(service, cluster, journal, tmp_path / "state", timeline)
    assert plan.target == "db2b" and result.ok, result.next_hint
    seen = ctx.facts[OBSERVATION]
    assert (seen.promoted, seen.hadr_primary, seen.hadr_state, seen.route_host) == (
        "db2b",
        "db2b",
        "PEER",
        "db2b",
    )
    after = await service.snapshot(cluster)
    # the cluster itself is healthy again; the lab's CloudWatch alarms may have fired on the takeover's
    # db2diag records (a real effect, timing-dependent on a loaded machine), so they are not judged here
    cluster_verdicts = [v for v in after.verdicts if v.code != "alarm_in_alarm"]
    assert cluster_verdicts == [], [v.message for v in cluster_verdicts]
    assert after.overlay_route.value.instance_id == after.instance_ids["db2b"]

    plan, ctx, result = await failover(service, cluster, journal, tmp_path / "state", timeline)
    assert plan.target == "db2a" and result.ok, result.next_hint
    assert ctx.facts[OBSERVATION].route_host == "db2a"

    entries = journal.read(cluster.name).entries
    assert [e.step_id for e in entries] == ["preflight", "takeover", "verify", "cleanup", "final"] * 2
    assert [e.actions[0]["host"] for e in entries if e.step_id == "takeover"] == ["db2b", "db2a"]
    assert timeline.add_journal(entries) == 0  # every step is already there, with its exact time
    assert len(timeline.entries(sources=["journal"])) == 10
    titles = [e.title for e in timeline.entries()]
    first_takeover = titles.index("Takeover HADR on db2b [verified]")
    promoted = titles.index("promoted node changed: db2a -> db2b")
    assert first_takeover < promoted < titles.index("Takeover HADR on db2a [verified]")
    assert "promoted node changed: db2b -> db2a" in titles
    assert "overlay IP 192.168.1.81/32 moved: db2a -> db2b" in titles


async def test_refuses_when_hadr_is_disconnected(lab: LabRuntime, service: StatusService, tmp_path: Path):
    cluster = lab.inventory().clusters[0]
    lab.control(cluster.name, "disconnect-hadr")
    await lab.settle()
    status = await service.snapshot(cluster)
    plan = build_failover_plan(cluster, status, snapshot=lambda ctx: service.snapshot(cluster))
    assert not plan.runnable
    assert "HADR not in PEER" in plan.refusal
    ctx = PlanContext(cluster=cluster, runner=service.runner, journal=Journal(tmp_path / "journal"))
    result = await run_plan(plan, ctx, mode="apply", confirm=lambda run: True, state_dir=tmp_path / "state")
    assert result.failed_step == "preflight" and ctx.performed == []
    assert (await service.snapshot(cluster)).hadr_primary_host == "db2a"


async def test_refuses_on_a_read_only_cluster(lab: LabRuntime, service: StatusService, tmp_path: Path):
    cluster = dataclasses.replace(lab.inventory().clusters[0], read_only=True)
    status = await service.snapshot(cluster)
    plan = build_failover_plan(cluster, status, snapshot=lambda ctx: service.snapshot(cluster))
    assert plan.runnable, plan.refusal  # the preflight itself only reads
    ctx = PlanContext(cluster=cluster, runner=service.runner, journal=Journal(tmp_path / "journal"))
    with pytest.raises(WriteRefused, match="read-only"):
        await run_plan(plan, ctx, mode="apply", state_dir=tmp_path / "state")
    assert (await service.snapshot(cluster)).promoted_node == "db2a"
    assert Journal(tmp_path / "journal").read().entries == []
