"""Headless `db2ops setup ha --cluster NAME [--dry-run | --apply] [--json] [--set KEY=VALUE]`.

Runs the same plan as the wizard (`:setup ha`), without the UI. Exit codes as `setup monitoring`:
0 everything done (or planned, for a dry run), 1 a step failed, 2 bad input (unknown cluster, bad
parameter), 3 refused by the write guard (read-only cluster and --apply).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields
from typing import Any, TextIO

from services.ha_setup.params import HaParamError, HaParams
from services.ha_setup.plan import build_ha_plan
from services.inventory_model import Inventory
from services.plans import Journal, PlanContext, PlanResult, StepEvent, WriteRefused, run_plan

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_REFUSED = 0, 1, 2, 3
_WORD = {
    "already_done": "done   ",
    "planned": "planned",
    "applied": "applied",
    "failed": "FAILED ",
    "skipped": "skipped",
}


def parse_ha_overrides(items: Sequence[str]) -> dict[str, Any]:
    """Return HaParams overrides from `key=value` strings (`--set domain=db2domain --set nic=ens5`).

    Booleans take true/false, numbers are converted, `route_table_ids` takes a comma-separated list.
    Raises HaParamError for a malformed item, an unknown key or a value of the wrong type.
    """
    types = {f.name: str(f.type) for f in fields(HaParams)}
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in types:
            raise HaParamError(f"{item!r}: expected KEY=VALUE with KEY one of: {', '.join(sorted(types))}")
        kind = types[key]
        if kind.startswith("bool"):
            if raw.lower() not in ("true", "false"):
                raise HaParamError(f"{key}={raw!r}: use true or false")
            out[key] = raw.lower() == "true"
        elif kind.startswith("float"):
            try:
                out[key] = float(raw)
            except ValueError:
                raise HaParamError(f"{key}={raw!r}: not a number") from None
        elif key == "route_table_ids":
            out[key] = tuple(p.strip() for p in raw.split(",") if p.strip()) or None
        else:
            out[key] = raw if raw or "None" not in kind else None
    return out


def print_result(result: PlanResult, out: TextIO, *, with_actions: bool) -> None:
    """Write the run as text: one line per step, its message, and (dry run) every command / AWS call."""
    print(f"Plan {result.plan} on cluster {result.cluster} ({result.mode})", file=out)
    if result.previous is not None and result.previous.interrupted:
        print(
            f"  note: the last apply run ({result.previous.run_id}) stopped at step "
            f"{result.previous.current_step!r}; this run re-checks every step and resumes",
            file=out,
        )
    for step in result.steps:
        print(f"[{_WORD[step.status]}] {step.step_id:<22} {step.title}", file=out)
        if step.message:
            print(f"            {step.message}", file=out)
        if with_actions and step.status != "already_done":
            for action in step.actions:
                print(f"              {action.render()}", file=out)
                if action.kind == "ssh" and action.input is not None:
                    for line in action.input.splitlines():
                        print(f"                | {line}", file=out)
    print(f"Result: {result.outcome}", file=out)
    if result.next_hint:
        print(result.next_hint, file=out)


async def run_setup_ha(
    inventory: Inventory,
    cluster_name: str,
    *,
    mode: str = "dry-run",
    as_json: bool = False,
    out: TextIO,
    params: dict[str, Any] | None = None,
    runner: Any = None,
    journal: Journal | None = None,
    operator: str | None = None,
    state_dir: Any = None,
) -> int:
    """Run the HA setup plan headless; write text or JSON to `out`; return the exit code.

    `mode` is "check", "dry-run" or "apply". `params` overrides HaParams defaults (parse_ha_overrides).
    `runner` defaults to a new services.ssh.SshPool (closed at the end), `journal` to the operator
    journal. Never raises for expected problems: they become exit codes 2 (unknown cluster, bad
    parameter) or 3 (read-only cluster and --apply), with the message on `out`.
    """
    cluster = inventory.cluster(cluster_name)
    if cluster is None:
        known = ", ".join(c.name for c in inventory.clusters) or "none"
        message = f"no cluster {cluster_name!r} in {inventory.source or 'the inventory'} (known: {known})"
        return _fail(out, as_json, EXIT_USAGE, message)
    try:
        plan = build_ha_plan(cluster, HaParams.from_mapping(dict(params or {})))
    except (HaParamError, TypeError) as exc:
        return _fail(out, as_json, EXIT_USAGE, str(exc))
    own_pool = runner is None
    if own_pool:
        from services.ssh import SshPool

        runner = SshPool()
    ctx = PlanContext(
        cluster=cluster,
        runner=runner,
        journal=journal if journal is not None else Journal(),
        inventory_source=inventory.source,
        **({"operator": operator} if operator else {}),
    )

    def progress(event: StepEvent) -> None:
        if not as_json and mode == "apply" and event.phase in ("applying", "finished"):
            print(
                f"... {event.step_id}: {'applying' if event.phase == 'applying' else event.status}",
                file=out,
                flush=True,
            )

    try:
        result = await run_plan(plan, ctx, mode=mode, progress=progress, state_dir=state_dir)  # type: ignore[arg-type]
    except WriteRefused as exc:
        return _fail(out, as_json, EXIT_REFUSED, str(exc))
    finally:
        if own_pool:
            await runner.close()
    if as_json:
        json.dump({**result.to_dict(), "title": plan.title}, out, indent=2, default=str)
        out.write("\n")
    else:
        print_result(result, out, with_actions=mode != "check")
    return EXIT_OK if result.ok else EXIT_FAILED


def _fail(out: TextIO, as_json: bool, code: int, message: str) -> int:
    if as_json:
        json.dump(
            {"outcome": "refused" if code == EXIT_REFUSED else "error", "error": message}, out, indent=2
        )
        out.write("\n")
    else:
        print(f"db2ops: {message}", file=out)
    return code
