"""Run a plan: check every step, show the dry run, confirm, apply + verify step by step, stop at the first
failure with what to do next. A re-run resumes: steps whose check says "done" are skipped.

Modes: "check" (status only), "dry-run" (status + every command / API call), "apply" (changes, through
the write guard; a read-only cluster raises WriteRefused before any host or AWS call).
"""

from __future__ import annotations

import asyncio
import inspect
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from services.plans.cluster_lock import cluster_lock
from services.plans.context import PlanContext
from services.plans.guard import ensure_writable, guarded_run
from services.plans.journal import INTENT, JournalEntry, utc_now_iso
from services.plans.progress import PlanProgress, load_progress, save_progress
from services.plans.step import Action, Plan, Step, StepFailed
from services.words import plural

Mode = Literal["check", "dry-run", "apply"]
StepStatus = Literal["already_done", "planned", "applied", "failed", "skipped"]
Phase = Literal["checking", "checked", "applying", "verifying", "finished"]
MODES: tuple[str, ...] = ("check", "dry-run", "apply")


@dataclass(frozen=True)
class StepEvent:
    """Progress of one step, sent to the `progress` callback as it happens."""

    step_id: str
    title: str
    phase: Phase
    status: StepStatus | None = None
    message: str = ""


@dataclass
class StepResult:
    """The outcome of one step in a run."""

    step_id: str
    title: str
    target: str
    explain: str
    status: StepStatus = "planned"
    message: str = ""
    actions: list[Action] = field(default_factory=list)  # dry run: what apply would run
    performed: list[Action] = field(default_factory=list)  # apply: what actually ran

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.step_id,
            "title": self.title,
            "target": self.target,
            "explain": self.explain,
            "status": self.status,
            "message": self.message,
            "actions": [a.to_dict() for a in self.actions],
            "performed": [a.to_dict() for a in self.performed],
        }


@dataclass
class PlanResult:
    """The run: per-step results, outcome ("ok", "failed", "cancelled"), the failed step and what to do."""

    plan: str
    cluster: str
    mode: str
    run_id: str
    steps: list[StepResult]
    outcome: str = "ok"
    failed_step: str = ""
    next_hint: str = ""
    previous: PlanProgress | None = None  # the last apply run's record (interrupted runs show here)
    unfinished: list[JournalEntry] = field(default_factory=list)  # intents of a killed run, no outcome
    rerun_hint: str = ""  # the plan's command (e.g. `db2ops setup monitoring --cluster C --apply`)

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def by_id(self, step_id: str) -> StepResult:
        """Return the result of `step_id`; raise KeyError when the plan has no such step."""
        for result in self.steps:
            if result.step_id == step_id:
                return result
        raise KeyError(step_id)

    def to_dict(self) -> dict[str, Any]:
        previous = None
        if self.previous is not None:
            previous = {
                "run_id": self.previous.run_id,
                "finished": self.previous.finished,
                "outcome": self.previous.outcome,
                "current_step": self.previous.current_step,
                "message": self.previous.message,
                "updated_at": self.previous.updated_at,
            }
        return {
            "plan": self.plan,
            "cluster": self.cluster,
            "mode": self.mode,
            "run_id": self.run_id,
            "outcome": self.outcome,
            "failed_step": self.failed_step,
            "next": self.next_hint,
            "previous_run": previous,
            "unfinished": [
                {"step_id": i.step_id, "target": i.target, "when": i.when, "run_id": i.run_id, "who": i.who}
                for i in self.unfinished
            ],
            "steps": [s.to_dict() for s in self.steps],
        }


Confirm = Callable[[PlanResult], bool | Awaitable[bool]]
Progress = Callable[[StepEvent], None]


def _error_text(exc: BaseException) -> str:
    text = str(exc).strip()
    return text if isinstance(exc, StepFailed) or not text else f"{text}"


def _new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


async def _check_step(step: Step, ctx: PlanContext, result: StepResult, describe: bool) -> None:
    try:
        state = await step.check(ctx)
    except Exception as exc:  # a host down, AccessDenied on a read...: this step cannot be judged
        result.status = "failed"
        result.message = f"could not check: {_error_text(exc) or type(exc).__name__}"
        return
    result.status = "already_done" if state.done else "planned"
    result.message = state.detail
    if describe:
        try:
            result.actions = step.describe(ctx)
        except Exception as exc:  # a hostile/invalid parameter is refused here, before any change
            result.status = "failed"
            result.message = f"cannot build the commands: {_error_text(exc)}"


async def run_plan(
    plan: Plan,
    ctx: PlanContext,
    *,
    mode: Mode,
    confirm: Confirm | None = None,
    progress: Progress | None = None,
    state_dir: Path | None = None,
) -> PlanResult:
    """Run `plan` in `mode`; return the PlanResult (per step: already_done, planned, applied, failed,
    skipped). In "apply" mode, `confirm(result)` (sync or async) is asked once after the dry run when
    something is planned; False cancels. Raises WriteRefused (before touching anything) when mode is
    "apply" and the cluster is read-only, ClusterBusy (a WriteRefused) when another apply holds the
    cluster's lock (services.plans.cluster_lock); raises ValueError for an unknown mode, and for "apply" without
    a journal (ctx.journal): every change is journaled, so there is no apply without one.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; use one of {', '.join(MODES)}")
    apply = mode == "apply"
    ensure_writable(plan.cluster, apply_requested=apply, inventory_source=ctx.inventory_source)
    if apply and ctx.journal is None:
        raise ValueError(
            f"plan {plan.name} cannot apply without a journal: give the PlanContext one "
            "(services.plans.journal.journal_for(cluster)); nothing was changed"
        )

    if not apply:
        return await _run(plan, ctx, mode, confirm, progress, state_dir)
    # one apply at a time per cluster: a second one is refused (ClusterBusy) naming the holder
    with cluster_lock(plan.cluster.name, plan.name, operator=ctx.operator, directory=state_dir):
        return await _run(plan, ctx, mode, confirm, progress, state_dir)


async def _run(
    plan: Plan,
    ctx: PlanContext,
    mode: Mode,
    confirm: Confirm | None,
    progress: Progress | None,
    state_dir: Path | None,
) -> PlanResult:
    apply = mode == "apply"

    def emit(event: StepEvent) -> None:
        if progress is not None:
            progress(event)

    run = PlanResult(
        plan=plan.name,
        cluster=plan.cluster.name,
        mode=mode,
        run_id=_new_run_id(),
        steps=[StepResult(s.id, s.title, s.target, s.explain) for s in plan.steps],
        previous=load_progress(plan.cluster.name, plan.name, state_dir),
        unfinished=_unfinished_of(ctx, plan),
        rerun_hint=plan.rerun_hint,
    )
    for step, result in zip(plan.steps, run.steps, strict=True):
        emit(StepEvent(step.id, step.title, "checking"))
        await _check_step(step, ctx, result, describe=mode != "check")
        result.target = step.target  # a step may resolve its target on check (e.g. the HADR primary)
        emit(StepEvent(step.id, step.title, "checked", result.status, result.message))

    first_bad = next((r for r in run.steps if r.status == "failed"), None)
    if not apply:
        if first_bad is not None:
            run.outcome, run.failed_step = "failed", first_bad.step_id
            run.next_hint = (
                f"Fix the problem of step {first_bad.step_id!r} ({first_bad.message}) and check again."
            )
        return run
    _close_unfinished(ctx, run)
    if not any(r.status == "planned" for r in run.steps) and first_bad is None:
        # Everything already done: nothing to confirm or journal; an interrupted record is now complete.
        if run.previous is not None and run.previous.interrupted:
            done = PlanProgress(**{**run.previous.to_dict(), "finished": True, "outcome": "ok"})
            done.updated_at, done.message = utc_now_iso(), f"every step found done by run {run.run_id}"
            save_progress(done, state_dir)
        return run
    if confirm is not None:
        answer = confirm(run)
        if inspect.isawaitable(answer):
            answer = await answer
        if not answer:
            for result in run.steps:
                if result.status == "planned":
                    result.status = "skipped"
            run.outcome = "cancelled"
            run.next_hint = "Nothing was changed."
            return run
    await _apply_steps(plan, ctx, run, emit, state_dir)
    return run


async def _apply_steps(
    plan: Plan, ctx: PlanContext, run: PlanResult, emit: Progress, state_dir: Path | None
) -> None:
    record = PlanProgress(
        plan=plan.name,
        cluster=plan.cluster.name,
        run_id=run.run_id,
        operator=ctx.operator,
        started_at=utc_now_iso(),
        steps={r.step_id: r.status for r in run.steps},
    )

    def save(message: str = "") -> None:
        record.updated_at = utc_now_iso()
        record.message = message
        record.steps = {r.step_id: r.status for r in run.steps}
        save_progress(record, state_dir)

    save()
    stopped: StepResult | None = None
    with guarded_run(plan.cluster, plan.name, inventory_source=ctx.inventory_source):
        for step, result in zip(plan.steps, run.steps, strict=True):
            if result.status == "already_done":
                continue
            if result.status == "failed":  # its check failed: stop here
                stopped = result
                break
            record.current_step = step.id
            record.steps[step.id] = "applying"
            save_progress(record, state_dir)
            try:
                ok = await _apply_one(step, ctx, run, result, emit)
            except asyncio.CancelledError:
                # Not finished: the next run shows where this one stopped, and resumes there.
                record.outcome = "interrupted"
                record.updated_at, record.message = utc_now_iso(), f"{step.id}: {result.message}"
                save_progress(record, state_dir)
                raise
            save(result.message if not ok else "")
            if not ok:
                stopped = result
                break
    for result in run.steps:
        if result.status == "planned":
            result.status = "skipped"
    record.finished = True
    if stopped is not None:
        run.outcome, run.failed_step = "failed", stopped.step_id
        done = sum(1 for r in run.steps if r.status in ("already_done", "applied"))
        again = plan.rerun_hint or "the plan"
        run.next_hint = (
            f"Step {stopped.step_id!r} ({stopped.target}) failed: {stopped.message}. Fix that, then re-run "
            f"{again}: {_already_done(done)} and it continues from this step."
        )
        record.outcome = "failed"
        record.current_step = stopped.step_id
        save(run.next_hint)
    else:
        record.outcome = "ok"
        record.current_step = ""
        save()


async def _apply_one(
    step: Step, ctx: PlanContext, run: PlanResult, result: StepResult, emit: Progress
) -> bool:
    ctx.performed = []
    # Write-ahead: the intent is on disk before anything is sent, so a process killed mid-step (SIGKILL,
    # a host crash) still leaves a trace the next run reports (JournalRead.unfinished).
    _journal_intent(ctx, run, step, result)
    emit(StepEvent(step.id, step.title, "applying"))
    verdict: bool | str
    try:
        await step.apply(ctx)
    except asyncio.CancelledError:  # Ctrl-C, SIGTERM/SIGHUP, the console closed: sent may have changed it
        result.performed, result.target = list(ctx.performed), step.target
        result.status, result.message = "failed", INTERRUPTED + _sent(result.performed)
        _journal(ctx, run, step, result, "interrupted")
        raise
    except Exception as exc:
        verdict = f"apply failed: {_error_text(exc) or type(exc).__name__}"
    else:
        emit(StepEvent(step.id, step.title, "verifying"))
        try:
            verdict = await step.verify(ctx)
        except asyncio.CancelledError:  # applied, not verified: the journal must still say what ran
            result.performed, result.target = list(ctx.performed), step.target
            result.status, result.message = "failed", INTERRUPTED + "applied, not verified yet"
            _journal(ctx, run, step, result, "interrupted")
            raise
        except Exception as exc:
            verdict = f"could not verify: {_error_text(exc) or type(exc).__name__}"
        if verdict is not True:
            verdict = f"applied but not verified: {verdict or 'verification failed'}"
    result.performed = list(ctx.performed)
    result.target = step.target
    if verdict is True:
        result.status, result.message = "applied", "applied and verified"
    else:
        result.status, result.message = "failed", str(verdict)
    _journal(ctx, run, step, result, "verified" if verdict is True else "failed")
    emit(StepEvent(step.id, step.title, "finished", result.status, result.message))
    return verdict is True


INTERRUPTED = "interrupted while applying: "


def _already_done(done: int) -> str:
    """Return "the 2 steps already done are skipped" ("the 1 step already done is skipped")."""
    if done == 1:
        return "the 1 step already done is skipped"
    return f"the {done} steps already done are skipped"


def _sent(performed: list[Action]) -> str:
    if not performed:
        return "nothing was sent yet"
    sent = plural(len(performed), "command or call", "commands or calls")
    return f"{sent} {'was' if len(performed) == 1 else 'were'} sent (listed here); a re-run checks the step again"


def intent_id(run: PlanResult, step: Step) -> str:
    """Return the id linking a step's intent line to its outcome line in the journal."""
    return f"{run.run_id}/{step.id}"


def _journal_intent(ctx: PlanContext, run: PlanResult, step: Step, result: StepResult) -> None:
    assert ctx.journal is not None  # run_plan refuses "apply" without one
    ctx.journal.record(
        who=ctx.operator,
        cluster=run.cluster,
        plan=run.plan,
        run_id=run.run_id,
        step_id=step.id,
        step_title=step.title,
        target=step.target,
        result=INTENT,
        message="about to send what the dry run shows (listed here)",
        actions=result.actions,
        intent_id=intent_id(run, step),
        details=step.journal_details(),
    )


def _unfinished_of(ctx: PlanContext, plan: Plan) -> list[JournalEntry]:
    """Return the journal's intents of `plan` on its cluster that have no outcome (never raises)."""
    if ctx.journal is None:
        return []
    try:
        read = ctx.journal.read(plan.cluster.name)
    except OSError:  # an unreadable journal must not stop a dry run; apply fails on writing it anyway
        return []
    return [i for i in read.unfinished if i.plan == plan.name]


def _close_unfinished(ctx: PlanContext, run: PlanResult) -> None:
    """Close the unfinished intents of `plan` whose step this run's check found done: the change of the
    killed run is in place, and the journal says so (an outcome line linked to that intent)."""
    assert ctx.journal is not None
    results = {r.step_id: r for r in run.steps}
    for intent in run.unfinished:
        found = results.get(intent.step_id)
        if found is None or found.status != "already_done":
            continue
        ctx.journal.record(
            who=ctx.operator,
            cluster=run.cluster,
            plan=run.plan,
            run_id=run.run_id,
            step_id=intent.step_id,
            step_title=intent.step_title,
            target=found.target,
            result="verified",
            message=f"unfinished step of run {intent.run_id}: checked by run {run.run_id}, found done",
            intent_id=intent.intent_id,
        )


def _journal(ctx: PlanContext, run: PlanResult, step: Step, result: StepResult, outcome: str) -> None:
    assert ctx.journal is not None  # run_plan refuses "apply" without one
    ctx.journal.record(
        intent_id=intent_id(run, step),
        who=ctx.operator,
        cluster=run.cluster,
        plan=run.plan,
        run_id=run.run_id,
        step_id=step.id,
        step_title=step.title,
        target=step.target,
        result=outcome,
        message=result.message,
        actions=result.performed,
        details=step.journal_details(),
    )
