"""Run a plan without the UI (`db2ops setup monitoring|ha`): the shared part of the headless CLIs.

Looks the cluster up, builds the plan, runs it (progress lines while applying, a clear word on Ctrl-C)
and reports it as text (a change ticket can review every command and AWS parameter) or JSON.
HeadlessSetup is one `db2ops setup WHAT` command; no_such_cluster and headless_context (the PlanContext
on the command's ConsoleContext: its SSH pool, fed from settings.yaml, and its journals) also serve
`setup monitoring --prove` and `db2ops failover`.
Exit codes: 0 everything done (or planned, for a dry run), 1 a step failed, 2 bad input (unknown
cluster, bad parameter), 3 refused by the write guard (read-only cluster and --apply).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from services.cloudwatch_extras import ExtrasFor
from services.context import ConsoleContext
from services.inventory.model import Cluster, Inventory
from services.plans.context import PlanContext
from services.plans.guard import WriteRefused
from services.plans.journal import Journal, unfinished_line
from services.plans.runner import PlanResult, StepEvent, run_plan
from services.plans.step import Plan
from services.ssh.runner import HostRunner

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3
_STATUS_WORD = {
    "already_done": "done   ",
    "planned": "planned",
    "applied": "applied",
    "failed": "FAILED ",
    "skipped": "skipped",
}


def print_plan_report(result: PlanResult, out: TextIO, *, with_actions: bool) -> None:
    """Write the run as text to `out`: one line per step with its [status] and message, and (unless
    `with_actions` is False) every command with its stdin and every AWS call with all its parameters:
    what was sent after an apply, what would be sent otherwise. Returns None; raises nothing of its own.
    """
    print(f"Plan {result.plan} on cluster {result.cluster} ({result.mode})", file=out)
    if result.previous is not None and result.previous.interrupted:
        print(
            f"  note: the last apply run ({result.previous.run_id}) was interrupted at step "
            f"{result.previous.current_step!r}; this run re-checks every step and resumes",
            file=out,
        )
    print_unfinished(result, out)
    for step in result.steps:
        print(f"[{_STATUS_WORD[step.status]}] {step.step_id:<22} {step.title}", file=out)
        if step.message:
            print(f"            {step.message}", file=out)
        if not with_actions or step.status == "already_done":
            continue
        # After apply: what was sent (real ARNs), else what would be sent (the dry run).
        actions = step.performed if result.mode == "apply" and step.performed else step.actions
        for action in actions:
            if action.kind == "ssh":
                print(f"              {action.render()}", file=out)
                body = (action.input or "").splitlines() if action.input is not None else []
            else:  # every parameter, not render()'s one-line summary: a change ticket reviews them all
                note = f"  # {action.note}" if action.note else ""
                print(f"              aws {action.service} {action.operation}{note}", file=out)
                params = json.dumps(action.to_dict()["params"], indent=2, sort_keys=True, default=str)
                body = params.splitlines()
            for line in body:
                print(f"                | {line}", file=out)
    print(f"Result: {result.outcome}", file=out)
    if result.next_hint:
        print(result.next_hint, file=out)


def print_unfinished(result: PlanResult, out: TextIO, verify_hint: str = "") -> None:
    """Write one line per unfinished step of an earlier run (its intent was journaled, its outcome never
    was: the process was killed mid-step), with what this run's check of that step says now: the verify."""
    by_id = {s.step_id: s for s in result.steps}
    for intent in result.unfinished:
        print(unfinished_line(intent, verify_hint or _dry_run_hint(result)), file=out)
        step = by_id.get(intent.step_id)
        if step is not None and step.status in ("already_done", "planned", "failed"):
            now = {"already_done": "done", "planned": "not done (apply sends it again)", "failed": "FAILED"}
            detail = f": {step.message}" if step.message else ""
            print(f"  its check now: {now[step.status]}{detail}", file=out)


def _dry_run_hint(result: PlanResult) -> str:
    command = result.rerun_hint.strip("`")
    if " --apply" in command:
        dry = command.split(" --apply")[0] + " --dry-run"
        return f"{dry} shows its state"
    return f"db2ops status --cluster {result.cluster} shows the cluster's state"


async def run_plan_headless(
    inventory: Inventory,
    cluster_name: str,
    *,
    build_plan: Callable[[Cluster], Plan],
    param_errors: tuple[type[Exception], ...] = (ValueError,),
    mode: str = "dry-run",
    as_json: bool = False,
    out: TextIO,
    context: ConsoleContext | None = None,
    runner: HostRunner | None = None,
    journal: Journal | None = None,
    operator: str | None = None,
    state_dir: Path | None = None,
    extras_for: ExtrasFor | None = None,
) -> int:
    """Build the plan for `cluster_name` with `build_plan(cluster)`, run it in `mode` ("check",
    "dry-run" or "apply") and write a text or JSON report to `out`; return the exit code (EXIT_*).

    Hosts are reached through `runner` when given (tests), else `context`'s SSH pool (default: a context
    made from settings.yaml, closed at the end); `journal` defaults to the context's journal of the
    cluster. Never raises for expected problems: an unknown cluster or one of `param_errors` raised by
    `build_plan` gives 2, a read-only cluster with "apply" gives 3, with the message on `out`.
    Re-raises asyncio.CancelledError (Ctrl-C) after saying on `out` where the apply stopped.
    """
    cluster = inventory.cluster(cluster_name)
    if cluster is None:
        return fail(out, as_json, EXIT_USAGE, no_such_cluster(inventory, cluster_name))
    try:
        plan = build_plan(cluster)
    except param_errors as exc:
        return fail(out, as_json, EXIT_USAGE, str(exc))
    async with headless_context(
        inventory,
        cluster,
        context=context,
        runner=runner,
        journal=journal,
        operator=operator,
        extras_for=extras_for,
    ) as ctx:
        return await _run_and_report(plan, ctx, mode=mode, as_json=as_json, out=out, state_dir=state_dir)


async def _run_and_report(
    plan: Plan, ctx: PlanContext, *, mode: str, as_json: bool, out: TextIO, state_dir: Path | None
) -> int:
    """Run `plan` in `ctx` (progress lines while applying), report it on `out`; return the exit code."""
    current = {"step": "", "phase": ""}

    def progress(event: StepEvent) -> None:
        current["step"], current["phase"] = event.step_id, event.phase
        if not as_json and mode == "apply" and event.phase in ("applying", "finished"):
            word = "applying" if event.phase == "applying" else event.status
            print(f"... {event.step_id}: {word}", file=out, flush=True)

    try:
        result = await run_plan(plan, ctx, mode=mode, progress=progress, state_dir=state_dir)  # type: ignore[arg-type]
    except WriteRefused as exc:
        return fail(out, as_json, EXIT_REFUSED, str(exc))
    except asyncio.CancelledError:  # Ctrl-C: say where it stopped before the process exits (130)
        if mode == "apply" and current["phase"] in ("checking", "checked"):
            print("db2ops: interrupted while checking the steps; nothing was changed.", file=out, flush=True)
        elif mode == "apply":
            print(
                f"db2ops: interrupted while applying step {current['step'] or '?'}; what it sent is in the "
                f"journal (db2ops journal). Re-run {plan.rerun_hint}: steps already done are skipped.",
                file=out,
                flush=True,
            )
        raise
    if as_json:
        json.dump({**result.to_dict(), "title": plan.title}, out, indent=2, default=str)
        out.write("\n")
    else:
        print_plan_report(result, out, with_actions=mode != "check")
    return EXIT_OK if result.ok else EXIT_FAILED


@dataclass(frozen=True)
class HeadlessSetup:
    """One `db2ops setup WHAT` without the UI: calling it runs the plan that `build_plan(cluster,
    params)` makes, with `params_type.from_mapping(--set overrides)` as params (see __call__)."""

    params_type: Any  # MonitoringParams / HaParams: from_mapping(dict) over the runbook's defaults
    build_plan: Callable[[Cluster, Any], Plan]
    param_errors: tuple[type[Exception], ...]  # what bad overrides raise: exit code 2, not a traceback

    async def __call__(
        self,
        inventory: Inventory,
        cluster_name: str,
        *,
        mode: str = "dry-run",
        as_json: bool = False,
        out: TextIO,
        params: dict[str, Any] | None = None,
        context: ConsoleContext | None = None,
        runner: HostRunner | None = None,
        journal: Journal | None = None,
        operator: str | None = None,
        state_dir: Path | None = None,
        extras_for: ExtrasFor | None = None,
    ) -> int:
        """Run the plan headless; write text or JSON to `out`; return the exit code.

        `mode` is "check", "dry-run" or "apply". `params` overrides the params' defaults (the command's
        parse_*_overrides). `context`, `runner` and `journal` as for run_plan_headless. Never raises for expected problems: they become exit codes
        2 (unknown cluster / bad parameter) or 3 (read-only cluster and --apply), with the message on
        `out`. Re-raises asyncio.CancelledError (Ctrl-C) after saying where the apply stopped.
        """
        overrides = dict(params or {})
        return await run_plan_headless(
            inventory,
            cluster_name,
            build_plan=lambda cluster: self.build_plan(cluster, self.params_type.from_mapping(overrides)),
            param_errors=self.param_errors,
            mode=mode,
            as_json=as_json,
            out=out,
            context=context,
            runner=runner,
            journal=journal,
            operator=operator,
            state_dir=state_dir,
            extras_for=extras_for,
        )


def no_such_cluster(inventory: Inventory, cluster_name: str) -> str:
    """Return the message for a cluster name the inventory lacks: where it looked, which names it has."""
    known = ", ".join(c.name for c in inventory.clusters) or "none"
    where = inventory.source or "the inventory"
    return f"no cluster {cluster_name!r} in {where} (known: {known})"


@asynccontextmanager
async def headless_context(
    inventory: Inventory,
    cluster: Cluster,
    *,
    context: ConsoleContext | None = None,
    runner: HostRunner | None = None,
    journal: Journal | None = None,
    operator: str | None = None,
    extras_for: ExtrasFor | None = None,
) -> AsyncIterator[PlanContext]:
    """Yield the PlanContext a headless command runs `cluster` in.

    Hosts are reached through `runner` when given (a test's fake), else through `context`'s SSH pool; with
    no `context`, one is made from the user's settings.yaml (so its SSH timeouts apply) and closed on the
    way out. `journal` defaults to the context's journal of the cluster, `operator` to the PlanContext's.
    The cluster's CloudWatch backend is `extras_for(cluster, runner)` (the composition root's choice,
    tui/backends.py; default: the context's `extras_for`), closed on the way out.
    Raises services.settings.SettingsError only when it must read a broken settings.yaml.
    """
    own = context is None
    if context is not None:
        session = context
    elif runner is not None:  # nothing of the pool is used: no need to read settings.yaml
        session = ConsoleContext(inventory, runner=runner)
    else:
        session = ConsoleContext.from_settings_file(inventory)
    try:
        hosts = runner if runner is not None else session.runner
        plan_context = PlanContext(
            cluster=cluster,
            runner=hosts,
            journal=journal if journal is not None else session.journal(cluster),
            inventory_source=inventory.source,
            aws_deadline_s=session.settings.aws_call_deadline_s,
            status_deadline_s=session.settings.status_deadline_s,
        )
        if operator:
            plan_context.operator = operator
        # the composition root's backend choice: given, else the context's (AWS unless it runs a lab)
        plan_context.extras = (extras_for or session.extras_for)(cluster, hosts)
        try:
            yield plan_context
        finally:
            await plan_context.extras.close()
    finally:
        if own:
            await session.close()


def fail(out: TextIO, as_json: bool, code: int, message: str) -> int:
    """Write `message` to `out` (`db2ops: ...`, or a JSON object with outcome refused/error); return `code`."""
    if as_json:
        json.dump(
            {"outcome": "refused" if code == EXIT_REFUSED else "error", "error": message}, out, indent=2
        )
        out.write("\n")
    else:
        print(f"db2ops: {message}", file=out)
    return code
