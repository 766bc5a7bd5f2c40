"""How the monitoring wizard reaches a cluster: WizardServices (what tests replace with fakes) and the
console's own wiring, `app_services(app)`: the status poller's SSH pool (or a pool of its own, closed when
the wizard closes), the operator journal, the cluster's CloudWatch backend (tui/backends.py: AWS, or the
lab that plays it) and the console's record of earlier proofs.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.cloudwatch_extras import CloudWatchExtras
from services.inventory_model import Cluster
from services.monitoring.prove_it_fires import ProofEvent, ProofHistory, ProofOptions, prove_it_fires
from services.plans import PlanContext, PlanResult, run_plan
from services.plans.journal import journal_for


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


def app_services(app: Any) -> WizardServices:
    """Return WizardServices for the running console: its SSH pool (or a new one), the journal, the lab."""
    own: dict[str, Any] = {}

    async def make_context(cluster: Cluster) -> PlanContext:
        runner = getattr(app.current_status_source, "runner", None)
        if runner is None:
            if "pool" not in own:
                # asyncssh is imported on first use, off the event loop (it takes a moment)
                ssh = await asyncio.to_thread(importlib.import_module, "services.ssh")
                s = app.settings
                own["pool"] = ssh.SshPool(
                    connect_timeout=s.ssh_connect_timeout_s, command_timeout=s.ssh_command_timeout_s
                )
            runner = own["pool"]
        return PlanContext(
            cluster=cluster,
            runner=runner,
            journal=journal_for(cluster),
            inventory_source=app.inventory.source,
        )

    async def close() -> None:
        if "pool" in own:
            await own.pop("pool").close()

    lab = getattr(app, "lab", None)
    return WizardServices(
        make_context=make_context,
        extras_for=lambda cluster, runner: _extras_for(cluster, lab, runner),
        proof_history=app.proof_history,
        inventory_source=app.inventory.source,
        close=close,
    )


def _extras_for(cluster: Cluster, lab_session: Any, runner: Any) -> CloudWatchExtras:
    from tui.backends import extras_for  # the composition root's choice (the lab is imported only for a lab)

    return extras_for(cluster, lab_session, runner)
