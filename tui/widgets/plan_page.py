"""The plan page of a wizard: Check / Dry run / Apply buttons, what the write guard says, the step table
with live progress, the outcome (with what to do after a failure) and the dry run text + step detail.

It runs services.plans.run_plan (or the injected equivalent) in a worker; apply asks ConfirmApply first.
Whether apply is allowed is decided by the guard inside run_plan: this page only reports it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, DataTable, Static, TextArea

from services.inventory.model import Cluster
from services.plans import Plan, PlanContext, PlanResult, StepEvent, WriteRefused, ensure_writable
from tui.widgets.plan_view import (
    ConfirmApply,
    PlanSteps,
    apply_question,
    count_actions,
    outcome_content,
    render_dry_run,
    step_detail,
)
from tui.write_export import write_export


class PlanPage(Vertical):
    """Runs one plan. `build_plan()` returns the plan (or raises ValueError with what to fix)."""

    DEFAULT_CSS = """
    PlanPage .buttons { height: auto; margin: 0 0 1 0; }
    PlanPage .buttons Button { margin: 0 1 0 0; }
    PlanPage #plan-guard { height: auto; }
    PlanPage #plan-outcome { height: auto; margin: 1 0; }
    PlanPage #plan-lower { height: 1fr; min-height: 8; }
    PlanPage #plan-dry-run { width: 3fr; height: 1fr; }
    PlanPage #plan-detail-scroll { width: 2fr; height: 1fr; padding: 0 1; }
    """

    def __init__(
        self,
        cluster: Cluster,
        *,
        intro: str,
        build_plan: Callable[[], Plan],
        make_context: Callable[[Cluster], Awaitable[PlanContext]],
        run_plan: Callable[..., Awaitable[PlanResult]],
        state_dir: Path | None = None,
        export_dir: Path | None = None,
        inventory_source: str = "",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.cluster = cluster
        self.intro = intro
        self.build_plan = build_plan
        self.make_context = make_context
        self.run_plan_fn = run_plan
        self.state_dir = state_dir
        self.export_dir = export_dir
        self.inventory_source = inventory_source
        self.last_result: PlanResult | None = None
        self.dry_run_text = ""
        self.refusal = ""  # what the write guard says about applying to this cluster
        self.applying_step = ""  # the step being applied right now ("" when no change is under way)
        # a screen's last word before apply (e.g. "nobody will be notified"): shown in the confirmation
        self.apply_warning: Callable[[], str] = lambda: ""

    def compose(self) -> ComposeResult:
        yield Static(self.intro, classes="page-intro")
        with Horizontal(classes="buttons"):
            yield Button("Check (c)", id="btn-check", compact=True)
            yield Button("Dry run (d)", id="btn-dry-run", variant="primary", compact=True)
            yield Button("Apply… (a)", id="btn-apply", variant="warning", compact=True)
            yield Button("Copy (y)", id="btn-copy", compact=True)
            yield Button("Export (x)", id="btn-export", compact=True)
        yield Static("", id="plan-guard")
        yield PlanSteps(id="plan-steps")
        yield Static("", id="plan-outcome")
        with Horizontal(id="plan-lower"):
            yield TextArea(
                "",
                id="plan-dry-run",
                read_only=True,
                soft_wrap=False,
                placeholder="The dry run (d) lists every command with its host and every AWS call here.",
            )
            with VerticalScroll(id="plan-detail-scroll"):
                yield Static(step_detail(None), id="plan-detail")

    def on_mount(self) -> None:
        try:
            plan = self.build_plan()
        except ValueError:
            plan = Plan(name="-", cluster=self.cluster, steps=[])
        self.query_one(PlanSteps).show_plan(plan)
        try:  # the guard decides; the page only reports what it says
            ensure_writable(self.cluster, apply_requested=True, inventory_source=self.inventory_source)
        except WriteRefused as exc:
            self.refusal = str(exc)
        self._show_guard()
        self.set_interval(0.12, self._spin)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        modes = {"btn-check": "check", "btn-dry-run": "dry-run", "btn-apply": "apply"}
        button = event.button.id or ""
        if button in modes:
            event.stop()
            self.run_mode(modes[button])
        elif button == "btn-copy":
            event.stop()
            self.copy()
        elif button == "btn-export":
            event.stop()
            self.export()

    # ------------------------------------------------------------------ running
    @work(exclusive=True, group="plan-page", exit_on_error=False)
    async def run_mode(self, mode: str) -> None:
        """Run the plan in `mode` with live progress; show the result, the refusal or the error."""
        try:
            plan = self.build_plan()
        except ValueError as exc:
            self._outcome(Content.styled(f"✗ {exc}", "bold $text-error"))
            return
        table = self.query_one(PlanSteps)
        table.show_plan(plan)
        self._outcome(Content.styled(f"{mode}: checking every step…", "$foreground-muted"))

        def progress(event: StepEvent) -> None:
            self.applying_step = event.step_id if event.phase in ("applying", "verifying") else ""
            table.on_step_event(event)

        try:
            ctx = await self.make_context(self.cluster)
            result = await self.run_plan_fn(
                plan,
                ctx,
                mode=mode,
                progress=progress,
                confirm=self._confirm if mode == "apply" else None,
                state_dir=self.state_dir,
            )
        except WriteRefused as exc:
            self.refusal = str(exc)
            self._show_guard()
            self._outcome(Content.styled(f"✗ Refused by the write guard: {exc}", "bold $text-error"))
            table.show_plan(plan)
            return
        except Exception as exc:  # SSH/AWS set-up errors before any step: say so, keep the console alive
            self._outcome(Content.styled(f"✗ The plan could not run: {exc}", "bold $text-error"))
            return
        finally:
            self.applying_step = ""
        self.last_result = result
        table.show_result(result)
        self.dry_run_text = render_dry_run(result, plan.title)
        self.query_one("#plan-dry-run", TextArea).load_text(self.dry_run_text)
        self._outcome(outcome_content(result))
        if result.steps:
            index = next((i for i, s in enumerate(result.steps) if s.status == "failed"), 0)
            table.move_cursor(row=index)  # the failed step, with its message, is what to look at
            self.show_detail(result.steps[index].step_id)

    async def _confirm(self, result: PlanResult) -> bool:
        commands, calls = count_actions(result)
        planned = [s.step_id for s in result.steps if s.status == "planned"]
        question = apply_question(self.cluster, planned, commands, calls, plan_name=result.plan)
        warning = self.apply_warning()
        if warning:
            question = Content.assemble(question, "\n\n", Content.styled(warning, "bold $text-error"))
        answer: bool = await self.app.push_screen_wait(ConfirmApply(question))
        return answer

    def _outcome(self, content: Content) -> None:
        self.query_one("#plan-outcome", Static).update(content)

    def _show_guard(self) -> None:
        guard = self.query_one("#plan-guard", Static)
        self.query_one("#btn-apply", Button).disabled = bool(self.refusal)
        if self.refusal:
            guard.update(
                Content.styled(f"READ-ONLY · apply is refused: {self.refusal}", "bold $text-warning")
            )
        else:
            guard.update(
                Content.styled("READ-WRITE · apply asks before changing anything", "$foreground-muted")
            )

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "plan-steps" and event.row_key.value:
            self.show_detail(str(event.row_key.value))

    def show_detail(self, step_id: str) -> None:
        """Show step `step_id` of the last run in the detail panel."""
        found = None
        if self.last_result is not None:
            found = next((s for s in self.last_result.steps if s.step_id == step_id), None)
        self.query_one("#plan-detail", Static).update(step_detail(found))

    def _spin(self) -> None:
        table = self.query_one(PlanSteps)
        if table.running:
            table.tick()

    # ------------------------------------------------------------------ copy / export
    def copy(self) -> None:
        """Copy the last dry run (or run) text to the clipboard."""
        if not self.dry_run_text:
            self.notify("Run a dry run first (d)", severity="warning")
            return
        self.app.copy_to_clipboard(self.dry_run_text)
        self.notify("Dry run copied to the clipboard", timeout=3)

    @work(exclusive=True, group="plan-export", exit_on_error=False)
    async def export(self) -> None:
        """Write the last dry run / run as text under the data dir; toast the path."""
        if not self.dry_run_text:
            self.notify("Run a dry run first (d)", severity="warning")
            return
        from services.paths import data_dir

        directory = self.export_dir or data_dir() / "plans"
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        plan = _file_part(self.last_result.plan if self.last_result is not None else "plan") or "plan"
        path = directory / f"{plan}-{_file_part(self.cluster.name) or 'cluster'}-{stamp}.txt"
        try:
            await write_export(path, self.dry_run_text)
        except OSError as exc:
            self.notify(f"Could not write {path}: {exc}", severity="error")
            return
        self.notify(f"Plan written to {path}", title="Export", timeout=10)


def _file_part(name: str) -> str:
    """Return `name` safe in a file name: anything but letters, digits, - _ . becomes _; no leading dot."""
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip(".")
