"""Headless `db2ops failover --cluster NAME [--to NODE] [--kind K] [--dry-run | --apply --confirm C] [--json]`.

The same plan as the console's :failover, for automation and change tickets. The default is a dry run
(reads only): the preflight checks and every command the failover would run. `--apply` needs the typed
confirmation of the console as `--confirm CLUSTER/NODE` (`CLUSTER/NODE/force` for a forced takeover).
Exit codes: 0 done (dry run: runnable), 1 refused by the preflight or a step failed, 2 bad input (unknown
cluster or node, wrong --confirm), 3 refused by the write guard (read-only cluster).
With `--json`: one JSON object at the end, like `setup --json` (see JSON_LISTS for what it gathers).
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any, TextIO, TypeGuard

from services.context import ConsoleContext
from services.failover.observe import FailoverObservation
from services.failover.plan import FailoverPlan, build_failover_plan
from services.failover.preflight import KINDS, FailoverKind, Preflight
from services.failover.steps import OBSERVATION, PREFLIGHT
from services.inventory.model import Cluster, Inventory
from services.plans import Journal, PlanContext, StepEvent, WriteRefused, ensure_writable, run_plan
from services.plans.headless import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    headless_context,
    no_such_cluster,
)
from services.ssh.runner import HostRunner

EXIT_INTERRUPTED = 130  # what the CLI exits with on Ctrl-C
_MARK = {"pass": "✔", "fail": "✖", "warn": "⚠", "pending": "…"}
FORCED_WARNING = (
    "WARNING: FORCED takeover (by force peer window only): the old primary is not asked to stop; if it "
    "still runs, clients can write to both databases (split brain). Use it only when the primary is "
    "really down."
)


def _is_kind(kind: str) -> TypeGuard[FailoverKind]:
    return kind in KINDS


def expected_confirmation(cluster: str, target: str, kind: str) -> str:
    """Return what `--confirm` must be: "CLUSTER/NODE", or "CLUSTER/NODE/force" for a forced takeover."""
    return f"{cluster}/{target}" + ("/force" if kind == "forced" else "")


# `--json` gathers the events of the run into these lists of its one object (event name -> key).
JSON_LISTS = {
    "check": "checks",  # the preflight checks: code, title, state (pass/fail/warn), message, hint
    "command": "commands",  # dry run: every command the failover would run, with its step
    "step": "progress",  # apply: each step applying, then finished with the actions it ran
    "observation": "observations",  # apply: what the verify step saw, each time it changed
    "warning": "warnings",
}


class _Output:
    """The command's output on `out`: text lines flushed as they happen, or (`as_json`) one JSON
    object written when the run ends: outcome, exit_code, message, the run's facts (cluster, target,
    kind, mode, title...), then the events gathered into the JSON_LISTS lists."""

    def __init__(self, out: TextIO, as_json: bool) -> None:
        self.out, self.as_json = out, as_json
        self.facts: dict[str, Any] = {}
        self.lists: dict[str, list[dict[str, Any]]] = {key: [] for key in JSON_LISTS.values()}

    def text(self, line: str) -> None:
        if not self.as_json:
            print(line, file=self.out, flush=True)

    def event(self, event_name: str, /, **data: Any) -> None:
        """Keep an event for the JSON object: in its JSON_LISTS list, else (e.g. "plan") as facts."""
        if event_name in JSON_LISTS:
            self.lists[JSON_LISTS[event_name]].append(data)
        else:
            self.facts.update(data)

    def finish(self, code: int, outcome: str, message: str, **data: Any) -> int:
        if self.as_json:
            document = {"outcome": outcome, "exit_code": code, "message": message, **self.facts, **data}
            json.dump({**document, **self.lists}, self.out, indent=2, ensure_ascii=False, default=str)
            self.out.write("\n")
            self.out.flush()
        self.text(f"db2ops: {message}" if code in (EXIT_USAGE, EXIT_REFUSED) else f"Result: {message}")
        return code


def _show_preflight(o: _Output, pf: Preflight) -> None:
    o.text("Preflight:")
    width = max((len(c.title) for c in pf.checks), default=0) + 2
    for c in pf.checks:
        o.event("check", code=c.code, title=c.title, state=c.state, message=c.message, hint=c.hint)
        o.text(f"  {_MARK[c.state]} {c.title:<{width}}{c.message}")
        if c.state in ("fail", "warn") and c.hint:
            o.text(f"      → {c.hint}")


def _show_observation(o: _Output, seen: FailoverObservation) -> None:
    o.event(
        "observation",
        promoted=seen.promoted,
        hadr_primary=seen.hadr_primary,
        hadr_state=seen.hadr_state,
        route_host=seen.route_host,
        elapsed_s=round(seen.elapsed_s, 2),
        complete=seen.complete,
    )
    o.text(f"    seen: {seen.summary()}")


async def run_failover(
    inventory: Inventory,
    cluster_name: str,
    *,
    target: str | None = None,
    kind: str = "planned",
    apply: bool = False,
    confirm: str | None = None,
    as_json: bool = False,
    out: TextIO,
    runner: HostRunner | None = None,
    journal: Journal | None = None,
    state_dir: Path | None = None,
    operator: str | None = None,
    timeout_s: float = 60.0,
    poll_interval_s: float = 0.5,
    context: ConsoleContext | None = None,
) -> int:
    """Run the guided failover headless (dry run, or apply with `confirm`); write to `out`; return the
    exit code (0 ok, 1 refused by the preflight or a failed step, 2 bad input, 3 read-only cluster).

    `runner` defaults to `context`'s SSH pool (`context` defaults to one made from settings.yaml, closed
    at the end; its settings bound each AWS call and status read), `journal` to the operator journal. Never raises for expected problems: they become exit codes with the message on `out`.
    """
    o = _Output(out, as_json)
    cluster = inventory.cluster(cluster_name)
    if cluster is None:
        return o.finish(EXIT_USAGE, "error", no_such_cluster(inventory, cluster_name))
    db_names = [h.name for h in cluster.db_hosts]
    if not _is_kind(kind):
        return o.finish(EXIT_USAGE, "error", f"unknown kind {kind!r}: use one of {', '.join(KINDS)}")
    if target is not None and target not in db_names:
        return o.finish(
            EXIT_USAGE,
            "error",
            f"{target!r} is not a Db2 host of {cluster.name}: use one of {', '.join(db_names)}",
        )
    if confirm is not None and not apply:
        return o.finish(
            EXIT_USAGE, "error", "--confirm goes with --apply: add --apply to fail over, or drop --confirm"
        )
    if apply:
        try:  # the write guard decides, before any host is contacted
            ensure_writable(cluster, apply_requested=True, inventory_source=inventory.source)
        except WriteRefused as exc:
            return o.finish(EXIT_REFUSED, "refused", str(exc))
    async with headless_context(
        inventory, cluster, context=context, runner=runner, journal=journal, operator=operator
    ) as ctx:
        return await _run(
            o, ctx, cluster, target, kind, apply, confirm, state_dir, timeout_s, poll_interval_s
        )


async def _run(
    o: _Output,
    ctx: PlanContext,
    cluster: Cluster,
    target: str | None,
    kind: FailoverKind,
    apply: bool,
    confirm: str | None,
    state_dir: Path | None,
    timeout_s: float,
    poll_interval_s: float,
) -> int:
    from services.status.service import gather_cluster_status

    status = await gather_cluster_status(cluster, ctx.runner, deadline_s=ctx.status_deadline_s)
    last: list[tuple[str | None, str | None, str | None, str | None, bool]] = []

    def observed(seen: FailoverObservation) -> None:  # print a poll only when something changed
        key = (seen.promoted, seen.hadr_primary, seen.hadr_state, seen.route_host, seen.complete)
        if not last or last[-1] != key:
            last.append(key)
            _show_observation(o, seen)

    plan = build_failover_plan(
        cluster,
        status,
        target,
        kind=kind,
        timeout_s=timeout_s,
        poll_interval_s=poll_interval_s,
        on_observe=observed,
    )
    target = plan.target or "?"
    expected = expected_confirmation(cluster.name, target, kind)
    plan.rerun_hint = (
        f"`db2ops failover --cluster {cluster.name} --to {target} --kind {kind} --apply --confirm {expected}`"
    )
    facts = {"cluster": cluster.name, "target": target, "kind": kind, "mode": "apply" if apply else "dry-run"}
    if apply and confirm != expected:
        what = "is missing" if confirm is None else f"{confirm!r} does not match"
        forced = " (a FORCED takeover: with /force)" if kind == "forced" else ""
        return o.finish(
            EXIT_USAGE,
            "error",
            f"--confirm {what}: to fail over {cluster.name} to {target} type --confirm {expected}{forced}",
            **facts,
        )
    o.event("plan", title=plan.title, source=plan.preflight.source if plan.preflight else None, **facts)
    o.text(f"{plan.title} — {facts['mode']}")
    if kind == "forced":
        o.event("warning", message=FORCED_WARNING)
        o.text(FORCED_WARNING)
    if apply:
        return await _apply(o, ctx, plan, facts, state_dir)
    return await _dry_run(o, ctx, plan, facts, state_dir)


async def _dry_run(
    o: _Output, ctx: PlanContext, plan: FailoverPlan, facts: dict[str, str], state_dir: Path | None
) -> int:
    result = await run_plan(plan, ctx, mode="dry-run", state_dir=state_dir) if plan.settings else None
    # the preflight step files its fresh judgement; the plan's own is the one made when it was built
    pf: Preflight | None = ctx.facts.get(PREFLIGHT, plan.preflight)
    assert pf is not None  # build_failover_plan always judges one
    _show_preflight(o, pf)
    if result is not None:
        o.text("Commands the failover would run:")
        for step in result.steps:
            o.text(f"  {step.step_id:<18} {step.title}" + ("  (reads only)" if not step.actions else ""))
            for action in step.actions:
                o.event("command", step=step.step_id, **action.to_dict())
                o.text(f"      {action.render()}")
    if pf.already_done:
        return o.finish(EXIT_OK, "already_done", pf.summary(), **facts)
    if not pf.runnable:
        return o.finish(EXIT_FAILED, "refused", pf.refusal, **facts)
    if result is not None and not result.ok:
        return o.finish(EXIT_FAILED, "failed", result.next_hint, **facts)
    cmd = plan.rerun_hint.strip("`")
    return o.finish(
        EXIT_OK, "runnable", f"runnable: {pf.summary().rstrip('.')}. To apply: {cmd}", **facts, next=cmd
    )


async def _apply(
    o: _Output, ctx: PlanContext, plan: FailoverPlan, facts: dict[str, str], state_dir: Path | None
) -> int:
    pf = plan.preflight
    assert pf is not None  # build_failover_plan always judges one
    _show_preflight(o, pf)
    if pf.already_done:
        return o.finish(EXIT_OK, "already_done", pf.summary(), **facts)
    if not pf.runnable:
        return o.finish(EXIT_FAILED, "refused", pf.refusal, **facts)
    started = time.monotonic()
    current = {"step": "", "phase": ""}

    def progress(event: StepEvent) -> None:
        current["step"], current["phase"] = event.step_id, event.phase
        if event.phase not in ("applying", "finished"):
            return
        actions = [a.to_dict() for a in ctx.performed] if event.phase == "finished" else []
        elapsed = round(time.monotonic() - started, 2)
        o.event("step", step=event.step_id, title=event.title, phase=event.phase, status=event.status,
                message=event.message, actions=actions, elapsed_s=elapsed)  # fmt: skip
        if event.phase == "applying":
            o.text(f"… {event.step_id}: {event.title}")
            return
        for action in ctx.performed:
            o.text(f"    ran: {action.render()}")
        detail = event.message
        if event.step_id == "preflight" and ctx.facts.get(PREFLIGHT) is not None:
            detail = ctx.facts[PREFLIGHT].summary()
        if event.step_id == "verify" and ctx.facts.get(OBSERVATION) is not None:
            detail = ctx.facts[OBSERVATION].summary()
        mark = "✔" if event.status == "applied" else "✖"
        o.text(f"{mark} {event.step_id}: {detail} ({elapsed:.1f} s)")

    try:
        result = await run_plan(plan, ctx, mode="apply", progress=progress, state_dir=state_dir)
    except WriteRefused as exc:  # the guard again, at the moment of applying
        return o.finish(EXIT_REFUSED, "refused", str(exc), **facts)
    except asyncio.CancelledError:  # Ctrl-C: say where it stopped before the process exits (130)
        message = (
            f"interrupted at step {current['step'] or '?'} ({current['phase']}); what was sent is in the "
            f"journal (db2ops journal). Check `db2ops status`, then re-run {plan.rerun_hint}."
        )
        if o.as_json:  # the one object still comes, saying where it stopped
            o.finish(EXIT_INTERRUPTED, "interrupted", message, **facts)
        o.text(f"db2ops: {message}")
        raise
    elapsed = round(time.monotonic() - started, 2)
    done = {
        **facts,
        "run_id": result.run_id,
        "elapsed_s": elapsed,
        "steps": [s.to_dict() for s in result.steps],
    }
    if not result.ok:
        return o.finish(EXIT_FAILED, result.outcome, result.next_hint, **done)
    seen: FailoverObservation | None = ctx.facts.get(OBSERVATION)
    where = seen.summary() if seen is not None else "already in place"
    message = (
        f"ok: {facts['target']} is the primary ({where}); {elapsed:.1f} s in all, journal run {result.run_id}"
    )
    return o.finish(EXIT_OK, "ok", message, **done)
