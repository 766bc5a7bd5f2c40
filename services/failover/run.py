"""One failover being applied from the console: what the :failover screen shows while it runs and after.

Textual-free so the console's context (services.context) can keep one per cluster: a run survives leaving
and reopening the screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.failover.observe import FailoverObservation
from services.plans import PlanResult, StepEvent

_ACT_STEPS = ("takeover", "move", "clear-constraints")


@dataclass
class FailoverRun:
    """One failover being applied (kept per cluster, so it survives leaving and reopening the screen)."""

    cluster: str
    target: str
    kind: str
    started_at: float
    running: bool = True
    current_step: str = ""
    events: list[StepEvent] = field(default_factory=list)
    observation: FailoverObservation | None = None
    result: PlanResult | None = None
    error: str = ""
    finished_at: float | None = None
    wall_started: float | None = None  # epoch seconds: where the summary's timeline excerpt starts

    @property
    def acted(self) -> bool:
        """True once a changing step (takeover, move, clear) finished applying."""
        return any(
            e.phase == "finished" and e.status == "applied" and e.step_id in _ACT_STEPS for e in self.events
        )

    @property
    def half_done(self) -> bool:
        """True when it stopped after changing something but before everything was verified."""
        if self.running:
            return False
        failed = self.error or (self.result is not None and self.result.outcome != "ok")
        return bool(failed) and self.acted
