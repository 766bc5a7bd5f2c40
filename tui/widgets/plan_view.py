"""Widgets for running a plan in the console: the step table with live status (spinner on the running
step), and the text of a dry run (every command with its host, every AWS call with its parameters).

`render_dry_run` is plain text so the same string is shown, copied and exported.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from textual.binding import Binding
from textual.content import Content
from textual.widgets import DataTable

from services.inventory.model import Cluster
from services.plans import Plan, PlanResult, StepEvent, StepResult
from services.plans.step import Action, redact
from services.words import plural
from tui.widgets.fit_size import NARROW_COLUMNS
from tui.widgets.plain_text import plain_cell, plain_cells
from tui.widgets.yes_no_modal import YesNoModal, yes_no_css

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
STATUS_LOOK: dict[str, tuple[str, str]] = {
    "": ("  ·", "$foreground-muted"),
    "already_done": ("✓ already done", "$text-success"),
    "planned": ("• planned", "$text-accent"),
    "applied": ("✔ applied", "bold $text-success"),
    "failed": ("✗ FAILED", "bold $text-error"),
    "skipped": ("– skipped", "$foreground-muted"),
}
_RUNNING_WORD = {"checking": "checking", "applying": "applying", "verifying": "verifying"}


def status_cell(status: str, phase: str = "", frame: int = 0) -> Content:
    """Return the status cell: a spinner + phase while running, else the status word."""
    if phase in _RUNNING_WORD:
        return Content.styled(f"{SPINNER[frame % len(SPINNER)]} {_RUNNING_WORD[phase]}", "bold $text-warning")
    word, style = STATUS_LOOK.get(status, (status, ""))
    return Content.styled(word, style)


def action_text(action: Action, indent: str = "    ") -> list[str]:
    """Return the dry-run lines of one action: `host$ command` with stdin as a heredoc, or the AWS call
    with its full parameters as JSON (secrets redacted)."""
    note = f"   # {action.note}" if action.note else ""
    if action.kind == "ssh":
        if action.input is None:
            return [f"{indent}{action.host}$ {action.command}{note}"]
        marker = "DB2OPS_EOF"
        while marker in action.input:
            marker += "_"
        body = [f"{indent}  {line}" for line in action.input.splitlines()]
        return [f"{indent}{action.host}$ {action.command} <<'{marker}'{note}", *body, f"{indent}  {marker}"]
    params = json.dumps(redact(dict(action.params)), indent=2, sort_keys=True, default=str)
    lines = [f"{indent}aws {action.service} {action.operation}{note}"]
    return lines + [f"{indent}  {line}" for line in params.splitlines()]


def render_dry_run(result: PlanResult, title: str = "") -> str:
    """Return the dry run as text: per step its status, target, message and every action it would run."""
    head = title or f"Plan {result.plan} on cluster {result.cluster}"
    out = [f"{head} ({result.mode})", ""]
    for step in result.steps:
        out.append(f"[{step.status}] {step.step_id} on {step.target}: {step.title}")
        if step.message:
            out.append(f"    {step.message}")
        actions = step.performed if result.mode == "apply" and step.performed else step.actions
        if step.status == "already_done":
            out.append("    (nothing to run)")
        for action in actions:
            out += action_text(action)
        out.append("")
    out.append(f"Result: {result.outcome}")
    if result.next_hint:
        out.append(result.next_hint)
    return "\n".join(out) + "\n"


def count_actions(result: PlanResult) -> tuple[int, int]:
    """Return (host commands, AWS calls) the planned steps of `result` would run."""
    actions = [a for s in result.steps if s.status == "planned" for a in s.actions]
    return sum(a.kind == "ssh" for a in actions), sum(a.kind == "aws" for a in actions)


class PlanSteps(DataTable):
    """One row per plan step: status (spinner while running), id, target, title. Rows are keyed by id."""

    DEFAULT_CSS = """
    PlanSteps { height: auto; max-height: 16; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(cursor_type="row", zebra_stripes=True, id=id)
        self.statuses: dict[str, str] = {}
        self.phases: dict[str, str] = {}
        self.messages: dict[str, str] = {}
        self.frame = 0
        self._columns_added = False

    def on_mount(self) -> None:
        if not self._columns_added:
            self._add_columns()

    def _add_columns(self) -> None:
        widths = self._widths()
        self.add_column("Status", key="status", width=widths["status"])
        self.add_column("Step", key="step", width=widths["step"])
        self.add_column("Target", key="target", width=widths["target"])
        self.add_column("What", key="title")
        self._columns_added = True

    def _widths(self) -> dict[str, int]:
        """Column widths: below 110 columns the step id and target shrink so What keeps the width."""
        if self.app.size.width < NARROW_COLUMNS:
            return {"status": 14, "step": 16, "target": 8}
        return {"status": 16, "step": 24, "target": 10}

    def on_resize(self) -> None:
        if not self._columns_added:
            return
        widths = self._widths()
        changed = False
        for key, column in self.columns.items():
            width = widths.get(str(key.value))
            if width is not None and column.width != width:
                column.width = width
                changed = True
        if changed:  # DataTable keeps no public setter for a width: this is what add_column sets
            self._require_update_dimensions = True
            self.refresh()

    def show_plan(self, plan: Plan) -> None:
        """Show the plan's steps, none checked yet."""
        if not self._columns_added:
            self._add_columns()
        self.clear()
        self.statuses, self.phases, self.messages = {}, {}, {}
        for step in plan.steps:
            self.statuses[step.id] = ""
            self.add_row(*plain_cells(status_cell(""), step.id, step.target, step.title), key=step.id)

    def on_step_event(self, event: StepEvent) -> None:
        """Update the row of `event.step_id` (unknown ids are ignored)."""
        if event.step_id not in self.statuses:
            return
        if event.status is not None:
            self.statuses[event.step_id] = event.status
        self.messages[event.step_id] = event.message or self.messages.get(event.step_id, "")
        self.phases[event.step_id] = event.phase if event.phase in _RUNNING_WORD else ""
        self._redraw(event.step_id)

    def show_result(self, result: PlanResult) -> None:
        """Show the final status of every step (and the target a step resolved, e.g. the primary)."""
        for step in result.steps:
            if step.step_id not in self.statuses:
                continue
            self.statuses[step.step_id] = step.status
            self.phases[step.step_id] = ""
            self.messages[step.step_id] = step.message
            self.update_cell(step.step_id, "target", plain_cell(step.target))
            self._redraw(step.step_id)

    @property
    def running(self) -> list[str]:
        return [sid for sid, phase in self.phases.items() if phase]

    def tick(self) -> None:
        """Advance the spinner of the running step(s)."""
        self.frame += 1
        for step_id in self.running:
            self._redraw(step_id)

    def _redraw(self, step_id: str) -> None:
        cell = status_cell(self.statuses.get(step_id, ""), self.phases.get(step_id, ""), self.frame)
        self.update_cell(step_id, "status", cell)


def step_detail(result: StepResult | None, explain: str = "", actions: Sequence[Action] = ()) -> Content:
    """Return the detail text of one step: status, message, why, and its commands / calls."""
    if result is None:
        return Content.styled("Run a check or a dry run to see each step's state.", "$foreground-muted")
    word, style = STATUS_LOOK.get(result.status, (result.status, ""))
    lines = [
        Content.assemble((word, style), "  ", (result.step_id, "bold"), f" on {result.target}"),
        Content(result.title),
    ]
    if result.message:
        lines.append(Content.styled(result.message, "$text-error" if result.status == "failed" else ""))
    if explain or result.explain:
        lines.append(Content.styled(explain or result.explain, "$foreground-muted"))
    for action in actions or result.performed or result.actions:
        lines += [Content(line) for line in action_text(action, indent="  ")]
    return Content("\n").join(lines)


def outcome_content(result: PlanResult) -> Content:
    """Return the outcome line(s) of a run: counts, the failed step with what to do, an interrupted run."""
    counts: dict[str, int] = {}
    for step in result.steps:
        counts[step.status] = counts.get(step.status, 0) + 1
    summary = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in counts.items())
    lines: list[Content] = []
    previous = result.previous
    if previous is not None and previous.interrupted and result.mode != "apply":
        lines.append(
            Content.styled(
                f"The last apply ({previous.run_id}) stopped at step {previous.current_step!r}: applying "
                "again re-checks every step and resumes there.",
                "$text-warning",
            )
        )
    if result.outcome == "ok":
        if result.mode == "apply" and not counts.get("applied"):
            head = "✓ Nothing to do: every step is already done."
        elif result.mode == "apply":
            head = "✔ Applied and verified. Running it again changes nothing (every step already done)."
        else:
            head = f"✓ {result.mode}: " + (
                "nothing to do." if not counts.get("planned") else "ready to apply."
            )
        lines.append(Content.assemble((head, "bold $text-success"), f"  ({summary})"))
    elif result.outcome == "cancelled":
        lines.append(Content.styled(f"Cancelled: nothing was changed. ({summary})", "$text-warning"))
    else:
        lines.append(
            Content.styled(f"✗ Stopped at step {result.failed_step!r}. ({summary})", "bold $text-error")
        )
        if result.next_hint:
            lines.append(Content.styled(f"What to do: {result.next_hint}", "$text-error"))
    return Content("\n").join(lines)


def apply_question(
    cluster: Cluster, planned: Sequence[str], commands: int, calls: int, plan_name: str = "monitoring"
) -> Content:
    """Return the confirmation text: which plan will change what, where, how many commands / AWS calls."""
    env = f"env {cluster.environment}" if cluster.environment else "no environment label"
    lines = [
        Content.assemble(
            (f"Apply the {plan_name} plan to ", "bold"), (cluster.name, "bold $accent"), f" ({env})?"
        ),
        Content(""),
        Content(f"{plural(len(planned), 'step')} will change the cluster: {', '.join(planned)}."),
        Content(
            f"{plural(commands, 'host command')} and {plural(calls, 'AWS call')}, as listed in the dry run."
        ),
        Content.styled(
            "Each step is verified and written to the operator journal (:journal).", "$foreground-muted"
        ),
    ]
    return Content("\n").join(lines)


class ConfirmApply(YesNoModal):
    """Ask once before a plan changes anything. y / enter: apply; n / escape: cancel."""

    BINDINGS = [
        Binding("y", "answer(True)", "Apply"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]
    DEFAULT_CSS = yes_no_css("ConfirmApply")
    BUTTONS = (("Apply (y)", "confirm-yes", "warning"), ("Cancel (n)", "confirm-no", "default"))
    YES_ID, SAFE_ID = "confirm-yes", "confirm-no"  # the safe answer is the default


class ConfirmLeave(YesNoModal):
    """Ask before leaving a screen whose plan is applying a step (leaving stops the run mid-step).
    y: stop it and leave; n / escape: stay (the safe default)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Stop and leave"),
        Binding("n,escape", "answer(False)", "Stay"),
    ]
    DEFAULT_CSS = yes_no_css("ConfirmLeave")
    BUTTONS = (("Stop it and leave (y)", "leave-yes", "warning"), ("Stay (n)", "leave-no", "default"))
    YES_ID, SAFE_ID = "leave-yes", "leave-no"

    def __init__(self, step_id: str) -> None:
        super().__init__(
            f"The plan is applying step {step_id}. Leaving stops it in the middle of that step: "
            "what it already sent is written to the journal, and applying again later re-checks the "
            "step and resumes there."
        )
        self.step_id = step_id
