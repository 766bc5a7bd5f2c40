"""The plan runner: guard, dry run, apply + verify, stop at the first failure, resume, journal."""

from __future__ import annotations

from pathlib import Path

import pytest

from plans.fakes import FakeRunner, WriteFileStep, make_cluster
from services.plans import (
    Journal,
    Plan,
    PlanContext,
    StepEvent,
    WriteRefused,
    load_progress,
    run_plan,
)
from services.plans.guard import require_guarded


def _plan(cluster, files=("/etc/a", "/etc/b", "/etc/c")):
    db2a, db2b = cluster.db_hosts
    steps = [WriteFileStep(host, path, f"content of {path}\n") for path in files for host in (db2a, db2b)]
    return Plan(name="demo", cluster=cluster, steps=steps, rerun_hint="db2ops setup demo --apply")


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    return Journal(tmp_path / "journal")


async def test_read_only_cluster_refuses_apply_before_any_step_runs(tmp_path: Path, journal: Journal) -> None:
    cluster = make_cluster(read_only=True, name="prod")
    plan = _plan(cluster)
    runner = FakeRunner()
    ctx = PlanContext(cluster=cluster, runner=runner, journal=journal, inventory_source="/etc/inv.yaml")
    with pytest.raises(
        WriteRefused, match="cluster prod is read-only: set read_only: false .* /etc/inv.yaml"
    ):
        await run_plan(plan, ctx, mode="apply", state_dir=tmp_path)
    assert all(step.apply_calls == 0 for step in plan.steps)
    assert runner.ran == []  # not even a check reached a host
    assert journal.read().entries == []


async def test_step_applied_outside_a_plan_run_is_refused() -> None:
    cluster = make_cluster(read_only=False)
    step = WriteFileStep(cluster.db_hosts[0], "/etc/a", "x")
    runner = FakeRunner()
    with pytest.raises(WriteRefused, match="only made by a plan run"):
        await step.apply(PlanContext(cluster=cluster, runner=runner))
    assert runner.ran == []
    with pytest.raises(WriteRefused):
        require_guarded(cluster, "anything")


async def test_dry_run_lists_every_command_and_changes_nothing(tmp_path: Path) -> None:
    cluster = make_cluster(read_only=True)  # a dry run is allowed on a read-only cluster
    runner = FakeRunner()
    result = await run_plan(_plan(cluster), PlanContext(cluster=cluster, runner=runner), mode="dry-run")
    assert result.ok
    assert [r.status for r in result.steps] == ["planned"] * 6
    commands = [(a.host, a.command) for r in result.steps for a in r.actions]
    assert commands == [
        ("db2a", "tee /etc/a"),
        ("db2b", "tee /etc/a"),
        ("db2a", "tee /etc/b"),
        ("db2b", "tee /etc/b"),
        ("db2a", "tee /etc/c"),
        ("db2b", "tee /etc/c"),
    ]
    assert result.steps[0].actions[0].input == "content of /etc/a\n"
    assert all(argv[0] == "cat" for _, argv in runner.ran)
    assert load_progress(cluster.name, "demo", tmp_path) is None


async def test_apply_then_second_run_is_all_already_done(tmp_path: Path, journal: Journal) -> None:
    cluster = make_cluster()
    runner = FakeRunner()
    ctx = PlanContext(cluster=cluster, runner=runner, journal=journal, operator="alice")
    events: list[StepEvent] = []
    first = await run_plan(_plan(cluster), ctx, mode="apply", progress=events.append, state_dir=tmp_path)
    assert first.ok, first.next_hint
    assert [r.status for r in first.steps] == ["applied"] * 6
    assert runner.files[("db2b", "/etc/c")] == "content of /etc/c\n"
    assert [e.phase for e in events if e.step_id == "write/etc/a@db2a"] == [
        "checking",
        "checked",
        "applying",
        "verifying",
        "finished",
    ]
    entries = journal.read().entries
    assert [(e.step_id, e.result, e.who) for e in entries][:2] == [
        ("write/etc/a@db2a", "verified", "alice"),
        ("write/etc/a@db2b", "verified", "alice"),
    ]
    assert entries[0].actions[0]["command"] == "tee /etc/a"

    plan2 = _plan(cluster)
    second = await run_plan(plan2, ctx, mode="apply", state_dir=tmp_path)
    assert [r.status for r in second.steps] == ["already_done"] * 6
    assert all(step.apply_calls == 0 for step in plan2.steps)
    assert len(journal.read().entries) == 6  # nothing new journaled


async def test_failure_stops_the_run_and_a_rerun_resumes(tmp_path: Path, journal: Journal) -> None:
    cluster = make_cluster()
    runner = FakeRunner(fail_on={"/etc/b"})
    ctx = PlanContext(cluster=cluster, runner=runner, journal=journal)
    first = await run_plan(_plan(cluster), ctx, mode="apply", state_dir=tmp_path)
    assert first.outcome == "failed"
    assert first.failed_step == "write/etc/b@db2a"
    assert [r.status for r in first.steps] == [
        "applied",
        "applied",
        "failed",
        "skipped",
        "skipped",
        "skipped",
    ]
    failed = first.by_id("write/etc/b@db2a")
    assert "`tee /etc/b` exited with status 1: tee: /etc/b: Permission denied" in failed.message
    assert (
        "db2ops setup demo --apply" in first.next_hint
        and "the 2 steps already done are skipped" in first.next_hint
    )
    record = load_progress(cluster.name, "demo", tmp_path)
    assert record is not None and record.outcome == "failed" and record.current_step == "write/etc/b@db2a"
    assert [e.result for e in journal.read().entries] == ["verified", "verified", "failed"]

    plan2 = _plan(cluster)
    second = await run_plan(plan2, ctx, mode="apply", state_dir=tmp_path)
    assert second.ok
    assert second.previous is not None and second.previous.outcome == "failed"
    assert [r.status for r in second.steps] == ["already_done"] * 2 + ["applied"] * 4
    assert [s.apply_calls for s in plan2.steps] == [0, 0, 1, 1, 1, 1]


class _Interrupted(BaseException):
    """Stands for the process being killed mid-step (not an ordinary failure)."""


async def test_interrupted_run_is_visible_and_resumable(tmp_path: Path, journal: Journal) -> None:
    cluster = make_cluster()
    runner = FakeRunner()
    plan = _plan(cluster)
    victim = plan.steps[3]

    async def dies(ctx) -> None:
        await ctx.write(victim.host, ["tee", "/tmp/partial"], input="half")
        raise _Interrupted()

    victim.apply = dies  # type: ignore[method-assign]
    ctx = PlanContext(cluster=cluster, runner=runner, journal=journal)
    with pytest.raises(_Interrupted):
        await run_plan(plan, ctx, mode="apply", state_dir=tmp_path)
    record = load_progress(cluster.name, "demo", tmp_path)
    assert record is not None and record.interrupted
    assert record.current_step == victim.id
    assert record.steps[victim.id] == "applying"
    assert record.steps[plan.steps[2].id] == "applied"

    rerun = await run_plan(_plan(cluster), ctx, mode="apply", state_dir=tmp_path)
    assert rerun.ok
    assert rerun.previous is not None and rerun.previous.interrupted
    assert [r.status for r in rerun.steps] == ["already_done"] * 3 + ["applied"] * 3
    after = load_progress(cluster.name, "demo", tmp_path)
    assert after is not None and not after.interrupted and after.outcome == "ok"


async def test_interrupted_record_is_closed_when_a_later_run_finds_everything_done(tmp_path, journal) -> None:
    from services.plans.progress import PlanProgress, save_progress

    cluster = make_cluster()
    runner = FakeRunner()
    plan = _plan(cluster, files=("/etc/a",))
    for step in plan.steps:
        runner.files[(step.host.name, step.path)] = step.content  # done by hand meanwhile
    save_progress(PlanProgress("demo", cluster.name, "old-run", "bob", "2025-09-01T00:00:00Z"), tmp_path)
    result = await run_plan(
        plan, PlanContext(cluster=cluster, runner=runner, journal=journal), mode="apply", state_dir=tmp_path
    )
    assert [r.status for r in result.steps] == ["already_done", "already_done"]
    record = load_progress(cluster.name, "demo", tmp_path)
    assert record is not None and record.finished and record.run_id == "old-run"
    assert record.message.startswith("every step found done by run ")


async def test_confirm_false_cancels_without_changes(tmp_path: Path, journal: Journal) -> None:
    cluster = make_cluster()
    runner = FakeRunner()
    seen = []

    async def confirm(result) -> bool:
        seen.append([a.command for r in result.steps for a in r.actions])
        return False

    plan = _plan(cluster)
    ctx = PlanContext(cluster=cluster, runner=runner, journal=journal)
    result = await run_plan(plan, ctx, mode="apply", confirm=confirm)
    assert result.outcome == "cancelled"
    assert seen and seen[0][0] == "tee /etc/a"
    assert [r.status for r in result.steps] == ["skipped"] * 6
    assert runner.files == {}


async def test_check_mode_reports_unreachable_host_as_failed() -> None:
    cluster = make_cluster()

    class Down(FakeRunner):
        async def run(self, host, argv, **kw):
            if host.name == "db2b":
                raise ConnectionError("db2b: connection refused; is sshd running?")
            return await super().run(host, argv, **kw)

    result = await run_plan(_plan(cluster), PlanContext(cluster=cluster, runner=Down()), mode="check")
    assert result.outcome == "failed"
    assert result.steps[1].status == "failed"
    assert "could not check: db2b: connection refused" in result.steps[1].message
    assert result.steps[0].status == "planned" and result.steps[0].actions == []


def test_unknown_mode_and_duplicate_ids_are_rejected() -> None:
    cluster = make_cluster()
    host = cluster.db_hosts[0]
    with pytest.raises(ValueError, match="two steps with id"):
        Plan("p", cluster, [WriteFileStep(host, "/x", "1"), WriteFileStep(host, "/x", "2")])


async def test_a_channel_closed_without_exit_status_says_the_connection_was_lost(
    tmp_path: Path, journal: Journal
) -> None:
    cluster = make_cluster()
    runner = FakeRunner(drop_on={"/etc/b"})
    ctx = PlanContext(cluster=cluster, runner=runner, journal=journal)
    first = await run_plan(_plan(cluster, files=("/etc/a", "/etc/b")), ctx, mode="apply", state_dir=tmp_path)
    assert first.failed_step == "write/etc/b@db2a"
    message = first.by_id("write/etc/b@db2a").message
    assert message == (
        "apply failed: db2a: `tee /etc/b` ended without an exit status (status 255, no output): the connection "
        "was lost or the command was killed; check that db2a is up (ssh to it), then re-run: the step checks "
        "again what is already done"
    )
    second = await run_plan(_plan(cluster, files=("/etc/a", "/etc/b")), ctx, mode="apply", state_dir=tmp_path)
    assert second.ok and second.by_id("write/etc/b@db2a").status == "applied"


async def test_ctrl_c_mid_step_journals_what_was_sent_and_marks_the_run_interrupted(
    tmp_path: Path, journal: Journal
) -> None:
    # Ctrl-C in `db2ops setup ... --apply` cancels the run: the commands the step already sent must be in
    # the journal (they may have changed the host) and the record must say where it stopped.
    import asyncio

    cluster = make_cluster()
    plan = _plan(cluster, files=("/etc/a", "/etc/b"))
    victim = plan.steps[2]
    started = asyncio.Event()

    async def hangs(ctx) -> None:
        await ctx.write(victim.host, ["tee", "/tmp/partial"], input="half")
        started.set()
        await asyncio.Event().wait()  # until cancelled

    victim.apply = hangs  # type: ignore[method-assign]
    ctx = PlanContext(cluster=cluster, runner=FakeRunner(), journal=journal, operator="alice")
    run = asyncio.ensure_future(run_plan(plan, ctx, mode="apply", state_dir=tmp_path))
    await started.wait()
    run.cancel()
    with pytest.raises(asyncio.CancelledError):
        await run
    read = journal.read()
    last = read.entries[-1]
    assert (last.step_id, last.result, last.who) == (victim.id, "interrupted", "alice")
    assert last.message.startswith("interrupted while applying: ")
    assert [a["command"] for a in last.actions] == ["tee /tmp/partial"]
    # the intent written before anything was sent is closed by that outcome (same intent_id)
    intent = read.intents[-1]
    assert (intent.step_id, intent.intent_id) == (victim.id, last.intent_id) and not read.unfinished
    record = load_progress(cluster.name, "demo", tmp_path)
    assert record is not None and record.interrupted and record.outcome == "interrupted"
    assert record.current_step == victim.id and record.steps[victim.id] == "applying"


async def test_boto3_clients_are_built_off_the_event_loop() -> None:
    # Building a boto3 client loads its service model: 0.1-0.3 s the console's loop must not wait for.
    import threading

    built_in: list[str] = []

    def factory(service: str) -> object:
        built_in.append(threading.current_thread().name)
        return object()

    async def call(client: object, method: str, **params: object) -> dict:
        return {"Topics": []}

    ctx = PlanContext(cluster=make_cluster(), runner=FakeRunner(), aws_client_factory=factory, aws_call=call)
    loop_thread = threading.current_thread().name
    assert await ctx.aws_read("sns", "ListTopics") == {"Topics": []}
    assert await ctx.aws_read("sns", "ListTopics") == {"Topics": []}
    assert len(built_in) == 1 and built_in[0] != loop_thread  # built once, in a worker thread


async def test_apply_without_a_journal_is_refused_before_anything_runs(tmp_path: Path) -> None:
    cluster = make_cluster()
    runner = FakeRunner()
    with pytest.raises(ValueError, match="cannot apply without a journal") as caught:
        await run_plan(
            _plan(cluster), PlanContext(cluster=cluster, runner=runner), mode="apply", state_dir=tmp_path
        )
    assert "nothing was changed" in str(caught.value)
    assert runner.ran == [] and runner.files == {}  # not even a check: no host was asked anything
    assert load_progress(cluster.name, "demo", tmp_path) is None  # no run record either
    # reading needs no journal: check and dry run still work without one
    dry = await run_plan(_plan(cluster), PlanContext(cluster=cluster, runner=runner), mode="dry-run")
    assert dry.ok and runner.files == {}
