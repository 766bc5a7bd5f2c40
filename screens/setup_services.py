"""How the monitoring wizard reaches a cluster: WizardServices (what tests replace with fakes) and the
console's own wiring, `context_services(app.context)`: the session's one SSH pool, the operator journal,
the cluster's CloudWatch backend (the context's choice: AWS, or the lab that plays it) and the console's
record of earlier proofs.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.cloudwatch_extras import CloudWatchExtras
from services.context import ConsoleContext
from services.inventory.model import Cluster
from services.monitoring.prove_it_fires import ProofEvent, ProofHistory, ProofOptions, prove_it_fires
from services.plans import PlanContext, PlanResult, run_plan


@dataclass
class WizardServices:
    """How the wizard reaches the cluster. Tests pass fakes; the console builds it from the app."""

    make_context: Callable[[Cluster], Awaitable[PlanContext]]
    run_plan: Callable[..., Awaitable[PlanResult]] = run_plan
    prove: Callable[..., AsyncIterator[ProofEvent]] = prove_it_fires
    # (cluster, runner) -> the cluster's CloudWatch backend; default: no lab in this process
    extras_for: Callable[[Cluster, Any], CloudWatchExtras] = field(
        default=lambda c, r: _extras_for(c, None, r)
    )
    proof_history: ProofHistory = field(default_factory=ProofHistory)
    state_dir: Path | None = None
    export_dir: Path | None = None
    proof_options: ProofOptions | None = None
    inventory_source: str = ""
    close: Callable[[], Awaitable[None]] | None = None

    def __post_init__(self) -> None:
        # Every context the wizard makes carries the cluster's CloudWatch backend (the composition root's
        # choice), whoever supplied `make_context` (the console, or a test).
        make = self.make_context

        async def make_context(cluster: Cluster) -> PlanContext:
            ctx = await make(cluster)
            ctx.extras = self.extras_for(cluster, ctx.runner)
            return ctx

        self.make_context = make_context


def context_services(context: ConsoleContext) -> WizardServices:
    """Return WizardServices over the console's context: its one SSH pool, the cluster's journal, the lab."""

    async def make_context(cluster: Cluster) -> PlanContext:
        return PlanContext(
            cluster=cluster,
            runner=await context.host_runner(),
            journal=context.journal(cluster),
            inventory_source=context.inventory.source,
            aws_deadline_s=context.settings.aws_call_deadline_s,
            status_deadline_s=context.settings.status_deadline_s,
        )

    return WizardServices(
        make_context=make_context,
        extras_for=context.extras_for,
        proof_history=context.proof_history,
        inventory_source=context.inventory.source,
    )


def _extras_for(cluster: Cluster, lab_session: Any, runner: Any) -> CloudWatchExtras:
    from tui.backends import extras_for  # the composition root's choice (the lab is imported only for a lab)

    return extras_for(cluster, lab_session, runner)
