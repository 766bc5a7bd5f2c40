"""The guided failover (`:failover`): preflight checklist, target and kind, the dry run, a TYPED confirmation
(cluster name and target node), then act → verify with a live view, clean up, and a summary with the
incident timeline.

The screen never decides whether a change is allowed: services.plans' write guard does (read-only clusters
are refused with its message). The run is an app worker, so leaving the screen never cancels a failover
half-way; Escape asks first while one runs or after one stopped half-way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Input, Select, Static

from screens.failover_services import FailoverServices, context_services
from screens.failover_text import (
    LeaveFailover,
    checklist_content,
    confirm_prompt,
    leave_question,
    progress_content,
    summary_content,
)
from services.failover import (
    FINAL,
    PREFLIGHT,
    FailoverObservation,
    FailoverPlan,
    Preflight,
    build_failover_plan,
)
from services.failover.run import FailoverRun
from services.inventory.model import Cluster
from services.plans import PlanResult, StepEvent, WriteRefused, ensure_writable
from services.status.model import ClusterStatus
from tui.screen_registry import ScreenUnavailable, register_screen
from tui.widgets.fit_size import fit_size
from tui.widgets.fitted_footer import FittedFooter
from tui.widgets.header import ConsoleHeader
from tui.widgets.plain_text import plain
from tui.widgets.plan_view import PlanSteps, render_dry_run

if TYPE_CHECKING:
    from tui.app import Db2OpsApp

KIND_OPTIONS = [
    ("Planned takeover (db2 takeover hadr on the standby)", "planned"),
    ("Pacemaker move (crm resource move, then clear)", "pacemaker"),
    ("FORCED takeover (by force peer window only)", "forced"),
]


class FailoverScreen(Screen[None]):
    """Guided failover of one cluster. r re-checks, Escape goes back (asks while a failover runs)."""

    HELP = (
        "Preflight (✔/✖ with what to do), pick the target and the kind, read the dry run, then type the "
        "cluster name and the target node to enable 'Fail over'. The run shows the promoted node, HADR state "
        "and overlay route live, cleans up, and ends with a summary and the timeline."
    )

    BINDINGS = [
        Binding("escape,minus", "leave", "Back"),
        Binding("r", "recheck", "Re-check"),
    ]

    DEFAULT_CSS = """
    FailoverScreen #fo-body { height: 1fr; padding: 0 1; }
    FailoverScreen #fo-title { text-style: bold; margin: 0 0 1 0; }
    FailoverScreen #fo-options { height: auto; margin: 0 0 1 0; }
    FailoverScreen #fo-options Horizontal { height: auto; }
    FailoverScreen #fo-options Select { width: 60; margin: 0 2 0 0; }
    FailoverScreen #fo-options #fo-target { width: 16; }
    FailoverScreen #fo-options Checkbox { margin: 0 2 0 0; }
    FailoverScreen .box { height: auto; border: round $primary 50%; border-title-color: $primary; padding: 0 1; }
    FailoverScreen #fo-confirm { height: auto; padding: 0 1; border-top: hkey $error 50%; }
    FailoverScreen #fo-confirm Horizontal { height: auto; }
    FailoverScreen #fo-confirm Input { width: 28; margin: 0 1 0 0; }
    FailoverScreen #fo-refusal { color: $text-error; height: auto; }
    FailoverScreen #fo-progress, FailoverScreen #fo-steps, FailoverScreen #fo-summary { display: none; }
    FailoverScreen.-ran #fo-progress, FailoverScreen.-ran #fo-steps { display: block; }
    FailoverScreen.-done #fo-summary { display: block; }
    FailoverScreen.-ran #fo-confirm, FailoverScreen.-ran #fo-options { display: none; }
    FailoverScreen.-ran #fo-checklist, FailoverScreen.-ran #fo-dryrun { display: none; }
    FailoverScreen.-tiny #fo-options Select { width: 1fr; }
    FailoverScreen.-tiny #fo-options #fo-target { width: 12; }
    FailoverScreen.-tiny #fo-confirm Input { width: 22; }
    """

    def __init__(self, cluster: Cluster, services: FailoverServices) -> None:
        super().__init__(name=f"failover:{cluster.name}")
        self.cluster = cluster
        self.services = services
        self.status: ClusterStatus | None = None
        self.plan: FailoverPlan | None = None
        self.dry: PlanResult | None = None
        self.preflight: Preflight | None = None
        self.target: str | None = None
        self.kind = "planned"
        self.problem = ""
        self._events_shown = 0
        self._result_shown = False
        self._syncing = False

    # ------------------------------------------------------------------ layout
    def current_run(self) -> FailoverRun | None:
        """Return the failover last started from this console for this cluster (None when none)."""
        return self.services.runs.get(self.cluster.name)

    def compose(self) -> ComposeResult:
        c = self.cluster
        yield ConsoleHeader("failover", c)
        with VerticalScroll(id="fo-body"):
            yield Static("", id="fo-title", markup=False)
            with Vertical(id="fo-options"):
                with Horizontal():
                    hosts = [(plain(h.name), h.name) for h in c.db_hosts]  # a prompt str is markup
                    yield Select(hosts, id="fo-target", prompt="target", compact=True)
                    yield Select(KIND_OPTIONS, id="fo-kind", value="planned", allow_blank=False, compact=True)
                with Horizontal():
                    yield Checkbox("Acknowledge failed actions", id="fo-ack", compact=True)
                    yield Checkbox("Clear left-over constraints first", id="fo-clear", compact=True)
            yield Static("", id="fo-checklist", classes="box")
            yield Static("", id="fo-dryrun", classes="box")
            yield Static("", id="fo-progress", classes="box")
            yield PlanSteps(id="fo-steps")
            yield Static("", id="fo-summary", classes="box")
        # Below the scrolling part, so the typed confirmation is on screen however long the preflight and
        # dry run are (at 50 rows they pushed it below the fold).
        with Vertical(id="fo-confirm"):
            yield Static("", id="fo-prompt")
            with Horizontal():
                yield Input(placeholder="cluster name", id="fo-type-cluster")
                yield Input(placeholder="target node", id="fo-type-target")
                yield Button("Fail over", id="fo-go", variant="error", disabled=True, compact=True)
            yield Static("", id="fo-refusal")
        yield FittedFooter()

    def on_resize(self, event: events.Resize) -> None:
        narrow = self.has_class("-narrow")
        fit_size(self, event.size.width, event.size.height)
        if narrow != self.has_class("-narrow"):
            self.redraw()

    def on_mount(self) -> None:
        fit_size(self, self.app.size.width, self.app.size.height)
        self.query_one("#fo-checklist").border_title = "Preflight"
        self.query_one("#fo-dryrun").border_title = "Dry run"
        self.query_one("#fo-progress").border_title = "Act → verify"
        self.query_one("#fo-summary").border_title = "Summary"
        self.set_interval(0.25, self.refresh_run)
        run = self.current_run()
        if run is not None:
            self.target, self.kind = run.target, run.kind
        self.redraw()
        if run is None or not run.running:
            # the first input has the focus: typed text goes to the confirmation, never to hotkeys
            self.query_one("#fo-type-cluster", Input).focus()
            self.action_recheck()
        else:
            self.refresh_run()

    # ------------------------------------------------------------------ preparing (reads only)
    def action_recheck(self) -> None:
        """Read the status again, rebuild the plan and its dry run (a finished run is put aside)."""
        run = self.current_run()
        if run is not None and run.running:
            self.notify("a failover is running: wait for it to finish", severity="warning")
            return
        if run is not None:
            self.services.runs.pop(self.cluster.name, None)
            self._events_shown, self._result_shown = 0, False
        self.dry, self.problem = None, ""
        self.redraw()
        self.run_worker(self._prepare(), group="failover-prepare", exclusive=True, exit_on_error=False)

    async def _prepare(self) -> None:
        s = self.services
        try:
            self.status = await s.snapshot(self.cluster)
            if s.timeline is not None:
                s.timeline.add_snapshot(self.status)
            self.plan = self._build(self.status)
            self.preflight = self.plan.preflight
            self.target = self.plan.target
            self.redraw()
            if self.plan.settings is None:
                return
            ctx = await s.make_context(self.cluster)
            self.dry = await s.run_plan(self.plan, ctx, mode="dry-run", state_dir=s.state_dir)
            self.preflight = ctx.facts.get(PREFLIGHT, self.plan.preflight)
        except Exception as exc:  # show it: the DBA needs to know why there is nothing to confirm
            self.problem = f"could not prepare the failover: {type(exc).__name__}: {exc}"
        self.redraw()

    def _build(self, status: ClusterStatus) -> FailoverPlan:
        s = self.services
        return build_failover_plan(
            self.cluster,
            status,
            self.target,
            kind=self.kind,  # type: ignore[arg-type]
            acknowledge_failed_actions=self.query_one("#fo-ack", Checkbox).value,
            clear_constraints=self.query_one("#fo-clear", Checkbox).value,
            snapshot=s.plan_snapshot,
            timeout_s=s.timeout_s,
            poll_interval_s=s.poll_interval_s,
            on_observe=self._observed,
            clock=s.monotonic,
        )

    def _observed(self, seen: FailoverObservation) -> None:
        run = self.current_run()
        if run is not None and run.running:
            run.observation = seen

    def on_select_changed(self, event: Select.Changed) -> None:
        if self._syncing or event.value is Select.BLANK:
            return
        if event.select.id == "fo-target" and event.value != self.target:
            self.target = str(event.value)
            self.action_recheck()
        elif event.select.id == "fo-kind" and event.value != self.kind:
            self.kind = str(event.value)
            self.action_recheck()

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.action_recheck()

    def on_input_changed(self, event: Input.Changed) -> None:
        self._update_go()

    # ------------------------------------------------------------------ acting
    def _typed_ok(self) -> bool:
        return self.query_one(
            "#fo-type-cluster", Input
        ).value.strip() == self.cluster.name and self.query_one("#fo-type-target", Input).value.strip() == (
            self.target or "\0"
        )

    def can_fail_over(self) -> bool:
        """True when the plan is ready (runnable, dry run shown, nothing running) and both names are typed."""
        pf, run = self.preflight, self.current_run()
        ready = (
            self.plan is not None
            and self.plan.settings is not None
            and self.dry is not None
            and pf is not None
            and pf.runnable
            and not pf.already_done
            and (run is None or not run.running)
        )
        return ready and self._typed_ok()

    def _update_go(self) -> None:
        self.query_one("#fo-go", Button).disabled = not self.can_fail_over()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "fo-go":
            event.stop()
            self.start_failover()

    def start_failover(self) -> None:
        """Start the failover (an app worker) after the write guard agreed; show the guard's refusal."""
        if not self.can_fail_over() or self.plan is None:
            return
        try:
            ensure_writable(
                self.cluster, apply_requested=True, inventory_source=self.services.inventory_source
            )
        except WriteRefused as exc:
            self.query_one("#fo-refusal", Static).update(Content(str(exc)))
            self.notify(str(exc), severity="error", timeout=10)
            return
        s = self.services
        run = FailoverRun(self.cluster.name, self.plan.target or "?", self.kind, started_at=s.monotonic())
        s.runs[self.cluster.name] = run
        self._events_shown, self._result_shown = 0, False
        self.query_one(PlanSteps).show_plan(self.plan)
        self.app.run_worker(
            self._apply(run, self.plan, s, s.clock()),
            group=f"failover:{self.cluster.name}",
            exit_on_error=False,
        )
        self.refresh_run()

    async def _apply(self, run: FailoverRun, plan: FailoverPlan, s: FailoverServices, wall: float) -> None:
        # Runs on the app: it must not touch widgets (the screen may be gone); it only fills `run`.
        run.wall_started = wall

        def progress(event: StepEvent) -> None:
            run.events.append(event)
            if event.phase in ("checking", "applying", "verifying"):
                run.current_step = event.step_id
            if s.timeline is not None:
                s.timeline.add_step_event(plan.name, event, s.clock(), target=run.target)

        try:
            ctx = await s.make_context(self.cluster)
            run.result = await s.run_plan(plan, ctx, mode="apply", progress=progress, state_dir=s.state_dir)
            final = ctx.facts.get(FINAL)
            if s.timeline is not None and final is not None:
                s.timeline.add_snapshot(final)
        except WriteRefused as exc:
            run.error = str(exc)
        except Exception as exc:  # the summary says what broke; the journal has what was done
            run.error = f"the failover stopped: {type(exc).__name__}: {exc}"
        finally:
            run.running = False
            run.finished_at = s.monotonic()

    # ------------------------------------------------------------------ leaving
    def action_leave(self) -> None:
        run = self.current_run()
        if run is not None and (run.running or run.half_done):
            self.app.push_screen(LeaveFailover(leave_question(run)), self._left)
            return
        self._left(True)

    def _left(self, leave: bool | None) -> None:
        if leave and len(self.app.screen_stack) > 2 and self.app.screen is self:
            self.app.pop_screen()

    # ------------------------------------------------------------------ drawing
    def redraw(self) -> None:
        """Redraw the preparing part (title, options, checklist, dry run, confirmation)."""
        c, pf = self.cluster, self.preflight
        title = self.plan.title if self.plan is not None else f"Failover of {c.name}"
        self.query_one("#fo-title", Static).update(title)
        self._syncing = True
        try:
            if self.target and self.cluster.host(self.target) is not None:
                self.query_one("#fo-target", Select).value = self.target
            self.query_one("#fo-kind", Select).value = self.kind
        finally:
            self._syncing = False
        self.query_one("#fo-checklist", Static).update(checklist_content(pf, self.has_class("-narrow")))
        if self.dry is not None:
            dry = Content(render_dry_run(self.dry, title))  # plain text: "[planned]" is not markup
        else:
            dry = Content.styled(
                "Preparing the dry run (reads only)…" if not self.problem else "", "$foreground-muted"
            )
        self.query_one("#fo-dryrun", Static).update(dry)
        self.query_one("#fo-prompt", Static).update(confirm_prompt(c.name, self.target or "?", self.kind))
        refusal = self.problem
        if not refusal:
            try:
                ensure_writable(c, apply_requested=True, inventory_source=self.services.inventory_source)
            except WriteRefused as exc:
                refusal = str(exc)
        self.query_one("#fo-refusal", Static).update(Content(refusal))
        self._update_go()

    def refresh_run(self) -> None:
        """Redraw the run part from the shared run state (called every 0.25 s)."""
        run = self.current_run()
        self.set_class(run is not None, "-ran")
        self.set_class(run is not None and not run.running, "-done")
        if run is None:
            return
        focused = self.focused
        if focused is not None and focused.id in ("fo-type-cluster", "fo-type-target", "fo-go"):
            # the confirmation is hidden once a run exists: a hidden input must not swallow r or -
            self.query_one("#fo-body", VerticalScroll).focus()
        steps = self.query_one(PlanSteps)
        if not steps.statuses and self.plan is not None:
            steps.show_plan(self.plan)
        for event in run.events[self._events_shown :]:
            steps.on_step_event(event)
        self._events_shown = len(run.events)
        if self.services.animate:
            steps.tick()
        self.query_one("#fo-progress", Static).update(progress_content(run, self.services.monotonic()))
        if not run.running and not self._result_shown:
            if run.result is not None:
                steps.show_result(run.result)
            self._result_shown = True
            self.query_one("#fo-summary", Static).update(summary_content(run, self._excerpt(run)))

    def _excerpt(self, run: FailoverRun) -> list:
        timeline = self.services.timeline
        if timeline is None:
            return []
        since = run.wall_started
        return timeline.entries(since=None if since is None else since - 5)[-12:]


def _open_failover(app: Db2OpsApp) -> FailoverScreen:
    cluster = app.current_cluster
    if cluster is None:
        raise ScreenUnavailable("no cluster selected: open one on :fleet first, then :failover")
    return FailoverScreen(cluster, context_services(app.context, cluster))


register_screen(
    "failover",
    _open_failover,
    "Guided failover: preflight, typed confirmation, takeover, verify, clean up",
    aliases=("takeover", "switchover"),
)
