"""How the monitoring wizard reaches a cluster: WizardServices (what tests replace with fakes) and the
console's own wiring, `context_services(app.context)`: the session's one SSH pool, the operator journal,
the lab session when running `db2ops lab`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from services.context import ConsoleContext
from services.inventory_model import Cluster
from services.monitoring.prove_it_fires import ProofEvent, ProofOptions, prove_it_fires
from services.plans import PlanContext, PlanResult, run_plan


@dataclass
class WizardServices:
    """How the wizard reaches the cluster. Tests pass fakes; the console builds it from the app."""

    make_context: Callable[[Cluster], Awaitable[PlanContext]]
    run_plan: Callable[..., Awaitable[PlanResult]] = run_plan
    prove: Callable[..., AsyncIterator[ProofEvent]] = prove_it_fires
    lab_session: Any = None
    state_dir: Path | None = None
    export_dir: Path | None = None
    proof_options: ProofOptions | None = None
    inventory_source: str = ""
    close: Callable[[], Awaitable[None]] | None = None


def context_services(context: ConsoleContext) -> WizardServices:
    """Return WizardServices over the console's context: its one SSH pool, the cluster's journal, the lab."""

    async def make_context(cluster: Cluster) -> PlanContext:
        return PlanContext(
            cluster=cluster,
            runner=await context.host_runner(),
            journal=context.journal(cluster),
            inventory_source=context.inventory.source,
        )

    return WizardServices(
        make_context=make_context,
        lab_session=context.lab,
        inventory_source=context.inventory.source,
    )
