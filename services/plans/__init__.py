"""The one change mechanism: plans of steps, the write guard, the runner and the operator journal.

Typical use::

    plan = build_monitoring_plan(cluster, MonitoringParams())
    ctx = PlanContext(cluster=cluster, runner=pool, journal=Journal())
    result = await run_plan(plan, ctx, mode="dry-run")
"""

from services.plans.cluster_lock import ClusterBusy
from services.plans.context import PlanContext, describe_aws_error
from services.plans.guard import WriteRefused, ensure_writable, guarded_run, require_guarded
from services.plans.journal import Journal, JournalEntry, JournalRead, export_markdown, read_journal
from services.plans.progress import PlanProgress, load_progress
from services.plans.runner import MODES, PlanResult, StepEvent, StepResult, run_plan
from services.plans.step import (
    Action,
    AwsCall,
    AwsCallStep,
    HostCommand,
    HostCommandStep,
    Plan,
    Step,
    StepFailed,
    StepState,
    VerifiedByCheck,
    aws_action,
    ssh_action,
)

__all__ = [
    "ClusterBusy",
    "MODES",
    "Action",
    "AwsCall",
    "AwsCallStep",
    "HostCommand",
    "HostCommandStep",
    "Journal",
    "JournalEntry",
    "JournalRead",
    "Plan",
    "PlanContext",
    "PlanProgress",
    "PlanResult",
    "Step",
    "StepEvent",
    "StepFailed",
    "StepResult",
    "StepState",
    "VerifiedByCheck",
    "WriteRefused",
    "aws_action",
    "describe_aws_error",
    "ensure_writable",
    "export_markdown",
    "guarded_run",
    "load_progress",
    "read_journal",
    "require_guarded",
    "run_plan",
    "ssh_action",
]
