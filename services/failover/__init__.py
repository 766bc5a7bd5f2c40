"""The guided failover: preflight, act (takeover or crm resource move), verify, clean up — one plan.

Typical use::

    status = await StatusService(inventory, pool).snapshot(cluster)
    plan = build_failover_plan(cluster, status, "db2b")
    if not plan.runnable:
        print(plan.refusal)
    result = await run_plan(plan, PlanContext(cluster=cluster, runner=pool, journal=Journal()), mode="apply")
"""

from services.failover.checks import PreflightCheck
from services.failover.constraints import (
    CONSTRAINTS_ARGV,
    LocationConstraint,
    cli_constraints_for,
    parse_constraints_xml,
)
from services.failover.observe import EXPECTED_SECONDS, FailoverObservation, observe
from services.failover.plan import PLAN_NAME, FailoverPlan, build_failover_plan
from services.failover.preflight import (
    KINDS,
    FailoverKind,
    Preflight,
    clone_id,
    default_target,
    run_preflight,
)
from services.failover.steps import (
    ACT_DONE,
    FINAL,
    OBSERVATION,
    PREFLIGHT,
    FailoverSettings,
    gather_snapshot,
    read_constraints,
)

__all__ = [
    "ACT_DONE",
    "CONSTRAINTS_ARGV",
    "EXPECTED_SECONDS",
    "FINAL",
    "KINDS",
    "OBSERVATION",
    "PLAN_NAME",
    "PREFLIGHT",
    "FailoverKind",
    "FailoverObservation",
    "FailoverPlan",
    "FailoverSettings",
    "LocationConstraint",
    "Preflight",
    "PreflightCheck",
    "build_failover_plan",
    "cli_constraints_for",
    "clone_id",
    "default_target",
    "gather_snapshot",
    "observe",
    "parse_constraints_xml",
    "read_constraints",
    "run_preflight",
]
