"""Headless `db2ops setup monitoring --cluster NAME [--dry-run | --apply | --prove] [--json]`.

Runs the same plan as the wizard, without the UI: for automation and for reviewing a plan in a change
ticket; `--prove` runs step 8, "prove it fires", and prints each link of the chain as it is seen.
Exit codes: 0 everything done (or planned, for a dry run; the chain completed, for --prove), 1 a step
failed (the chain broke), 2 bad input (unknown cluster, bad parameter), 3 refused by the write guard
(read-only cluster).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import fields, replace
from typing import Any, TextIO

from services.cloudwatch_extras import ExtrasFor
from services.context import ConsoleContext
from services.inventory.model import Inventory
from services.monitoring.plan import MonitoringParamError, MonitoringParams, build_monitoring_plan
from services.monitoring.prove_it_fires import ProofHistory, ProofOptions, prove_it_fires
from services.plans import Journal, WriteRefused
from services.plans.guard import ensure_writable
from services.plans.headless import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    HeadlessSetup,
    fail,
    headless_context,
    no_such_cluster,
)

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "parse_param_overrides",
    "run_prove_it_fires",
    "run_setup_monitoring",
]


def parse_param_overrides(items: Sequence[str]) -> dict[str, Any]:
    """Return MonitoringParams overrides from `key=value` strings (`--set email=dba@example.com`).

    Values are converted to the field's type (int, float, bool: true/false). Raises MonitoringParamError
    for a malformed item, an unknown key or a value of the wrong type.
    """
    types = {f.name: f.type for f in fields(MonitoringParams)}
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in types:
            known = ", ".join(sorted(types))
            raise MonitoringParamError(f"{item!r}: expected KEY=VALUE with KEY one of: {known}")
        kind = str(types[key])
        try:
            if kind.startswith("int"):
                out[key] = int(raw)
            elif kind.startswith("float"):
                out[key] = float(raw)
            elif kind.startswith("bool"):
                if raw.lower() not in ("true", "false"):
                    raise ValueError(raw)
                out[key] = raw.lower() == "true"
            else:
                out[key] = raw if raw or "None" not in kind else None
        except ValueError:
            raise MonitoringParamError(f"{key}={raw!r}: not a valid {kind.split(' ')[0]}") from None
    return out


# await run_setup_monitoring(inventory, cluster_name, mode=..., out=..., params=parse_param_overrides(...),
# ...) runs the monitoring plan and returns the exit code (HeadlessSetup.__call__ says the rest).
run_setup_monitoring = HeadlessSetup(
    MonitoringParams, build_monitoring_plan, param_errors=(MonitoringParamError, ValueError)
)


async def run_prove_it_fires(
    inventory: Inventory,
    cluster_name: str,
    *,
    as_json: bool,
    out: TextIO,
    params: dict[str, Any] | None = None,
    extras_for: ExtrasFor | None = None,
    history: ProofHistory | None = None,
    context: ConsoleContext | None = None,
    runner: Any = None,
    options: Any = None,
    journal: Journal | None = None,
    test_role: str = "",
) -> int:
    """Run "prove it fires" headless, printing each ProofEvent as it happens (one JSON object a line with
    `as_json`); return the exit code: 0 the chain completed (an SNS message was seen), 1 it broke (the
    last line says where and what to check), 2 unknown cluster / bad parameter, 3 refused by the write
    guard (the test statement is a change: read-only clusters refuse it).

    `params` overrides MonitoringParams defaults (see parse_param_overrides); `options` is a ProofOptions
    (default: ProofOptions.for_cluster); `test_role` names a role the test GRANT goes to as well (none by
    default: a database without it answers SQL0204N). `extras_for(cluster, runner)` returns the cluster's CloudWatch
    backend (the composition root's choice: AWS, or the lab that plays it, over SSH from another process);
    `history` bounds the look-back past earlier proofs of this process. Both default to `context`'s; hosts
    are reached through `runner` (a test's fake), else through `context`'s SSH pool (a context is made from
    settings.yaml, and closed, when none is given). Never raises for expected problems.
    """

    cluster = inventory.cluster(cluster_name)
    if cluster is None:
        return _proof_fail(out, as_json, EXIT_USAGE, no_such_cluster(inventory, cluster_name))
    try:
        resolved = MonitoringParams.from_mapping(dict(params or {})).resolve(cluster)
    except (MonitoringParamError, ValueError) as exc:
        return _proof_fail(out, as_json, EXIT_USAGE, str(exc))
    if test_role:
        options = replace(options or ProofOptions.for_cluster(cluster), test_role=test_role)
        try:
            options.grantees()
        except ValueError as exc:
            return _proof_fail(out, as_json, EXIT_USAGE, str(exc))
    try:  # refuse before anything runs, rather than after the first reads
        ensure_writable(cluster, apply_requested=True, inventory_source=inventory.source)
    except WriteRefused as exc:
        return _proof_fail(out, as_json, EXIT_REFUSED, str(exc))
    async with headless_context(
        inventory, cluster, context=context, runner=runner, journal=journal, extras_for=extras_for
    ) as ctx:
        last = None
        if history is None:
            history = context.proof_history if context is not None else ProofHistory()
        async for event in prove_it_fires(ctx, resolved, extras=ctx.extras, history=history, options=options):
            _print_proof_event(event, out, as_json)
            last = event
    return EXIT_OK if last is not None and last.stage == "result" and last.status == "ok" else EXIT_FAILED


def _print_proof_event(event: Any, out: TextIO, as_json: bool) -> None:
    if as_json:
        line = {
            "stage": event.stage,
            "status": event.status,
            "at": event.at.isoformat(),
            "detail": event.detail,
            "lab": event.lab,
            "data": event.data,
        }
        out.write(json.dumps(line, default=str) + "\n")
    elif event.stage == "result":
        print(f"Result: {event.detail if event.status == 'ok' else 'FAILED: ' + event.detail}", file=out)
    else:
        print(f"{event.at:%H:%M:%S} {event.stage:<12} {event.status:<7} {event.text}", file=out)
    out.flush()


def _proof_fail(out: TextIO, as_json: bool, code: int, message: str) -> int:
    if not as_json:
        return fail(out, False, code, message)
    status = "refused" if code == EXIT_REFUSED else "error"
    out.write(json.dumps({"stage": "result", "status": status, "detail": message}) + "\n")
    return code
