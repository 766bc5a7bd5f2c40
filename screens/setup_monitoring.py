"""The monitoring setup wizard (`:setup`, `:setup monitoring`): one page per runbook action with the
runbook's values as editable defaults, then the plan page (check -> dry run -> confirm -> apply with live
progress; a re-run resumes) and "prove it fires".

The wizard never decides whether a change is allowed: it runs services.plans.run_plan, whose write guard
refuses read-only clusters, and shows what the guard said. Every AWS / SSH call runs in a worker.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from screens.setup_form import PAGE_FIELDS, PAGE_INTRO, PAGES, ParamForm, shown_value
from screens.setup_pages import (
    ParamField,
    agent_preview,
    alarms_preview,
    audit_preview,
    aws_opinion,
    check_pattern,
    cron_preview,
    pattern_content,
    policies_preview,
    sns_preview,
)
from screens.setup_proof import ProofPanel
from screens.setup_services import WizardServices, app_services
from services.inventory_model import Cluster
from services.monitoring.prove_it_fires import ProofEvent, ProofOptions
from services.monitoring_setup import MonitoringParamError, MonitoringParams, build_monitoring_plan
from services.plans import Plan
from tui.screen_registry import ScreenUnavailable, register_screen
from tui.widgets.header import ConsoleHeader
from tui.widgets.plan_page import PlanPage

_PARAM_PAGES = tuple(key for key, _ in PAGES if key in PAGE_FIELDS)
_PAGE_OF_ACTION = {
    "check": "plan",
    "dry_run": "plan",
    "apply": "plan",
    "copy": "plan",
    "export": "plan",
    "use_corrected": "filters",
    "test_patterns": "filters",
    "read_agent_config": "agent",
    "prove": "proof",
}
_DRAFTS: dict[str, dict[str, Any]] = {}  # cluster -> the DBA's edits, so leaving the wizard loses nothing


class SetupMonitoringScreen(Screen[None]):
    """The wizard for one cluster. ctrl+n / ctrl+b: next / previous page (or pick one on the left)."""

    HELP = (
        "Set up Db2 audit + db2diag -> CloudWatch Logs -> metric filters -> alarms -> SNS, one runbook "
        "action per page. Edit any value; the preview under it is what the plan will run. On the plan page: "
        "c check, d dry run, a apply (asks first; read-only clusters are refused), y copy, x export. "
        "Page 8 runs the runbook's test statement and watches the alarm fire."
    )

    BINDINGS = [
        Binding("escape,minus", "leave", "Back", show=False),  # the app's Back shows in the footer
        Binding("ctrl+n", "next_page", "Next page", priority=True),
        Binding("ctrl+b", "prev_page", "Prev page", priority=True),
        Binding("c", "check", "Check"),
        Binding("d", "dry_run", "Dry run"),
        Binding("a", "apply", "Apply"),
        Binding("y", "copy", "Copy"),
        Binding("x", "export", "Export"),
        Binding("u", "use_corrected", "Use corrected pattern"),
        Binding("t", "test_patterns", "Test on recent events"),
        Binding("r", "read_agent_config", "Read agent config"),
        Binding("f", "prove", "Prove it fires"),
    ]

    DEFAULT_CSS = """
    SetupMonitoringScreen #wizard-body { height: 1fr; }
    SetupMonitoringScreen #wizard-pages { width: 24; height: 1fr; border: none; border-right: vkey $primary 40%; }
    SetupMonitoringScreen #wizard-switcher { width: 1fr; height: 1fr; }
    SetupMonitoringScreen .wizard-page { padding: 0 1; height: 1fr; }
    SetupMonitoringScreen .page-intro { color: $text-muted; margin: 0 0 1 0; }
    SetupMonitoringScreen .preview { margin: 1 0 0 0; padding: 0 1; border-left: outer $primary 40%; }
    SetupMonitoringScreen .buttons { height: auto; margin: 0 0 1 0; }
    SetupMonitoringScreen .buttons Button { margin: 0 1 0 0; min-width: 10; }
    SetupMonitoringScreen #wizard-error { height: auto; padding: 0 1; color: $text-error; }
    """

    def __init__(self, cluster: Cluster, services: WizardServices, *, page: str = "audit") -> None:
        super().__init__(name=f"setup:{cluster.name}")
        self.cluster = cluster
        self.services = services
        self.form = ParamForm(cluster, _DRAFTS.get(cluster.name))
        self.page = page if page in dict(PAGES) else "audit"
        self._shown: dict[str, str] = {}
        self.agent_configs: dict[str, str | None] | None = None
        self.pattern_messages: dict[str, list[str] | None] = {"audit": None, "diag": None}
        self.pattern_notes: dict[str, str] = {"audit": "", "diag": ""}
        self.proof_events: list[ProofEvent] = []

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield ConsoleHeader("setup › monitoring", self.cluster)
        params = self._params_or_defaults()
        with Horizontal(id="wizard-body"):
            yield OptionList(*[Option(label, id=key) for key, label in PAGES], id="wizard-pages")
            with ContentSwitcher(initial=f"page-{self.page}", id="wizard-switcher"):
                for key in _PARAM_PAGES:
                    with VerticalScroll(id=f"page-{key}", classes="wizard-page"):
                        yield Static(PAGE_INTRO[key], classes="page-intro")
                        for spec in PAGE_FIELDS[key]:
                            self._shown[spec.name] = shown_value(params, spec.name)
                            yield ParamField(spec, self._shown[spec.name])
                        yield from self._page_extras(key)
                        yield Static("", id=f"preview-{key}", classes="preview")
                yield PlanPage(
                    self.cluster,
                    intro=PAGE_INTRO["plan"],
                    build_plan=self.build_plan,
                    make_context=self.services.make_context,
                    run_plan=self.services.run_plan,
                    state_dir=self.services.state_dir,
                    export_dir=self.services.export_dir,
                    inventory_source=self.services.inventory_source,
                    id="page-plan",
                    classes="wizard-page",
                )
                yield ProofPanel(self.cluster, self._proof_options(), id="page-proof", classes="wizard-page")
        yield Static("", id="wizard-error")
        yield Footer()

    def _page_extras(self, key: str) -> ComposeResult:
        if key == "agent":
            with Horizontal(classes="buttons"):
                yield Button("Read the current config from the hosts (r)", id="btn-read-agent", compact=True)
        elif key == "filters":
            with Horizontal(classes="buttons"):
                yield Button(
                    "Test on recent events (t)", id="btn-test-patterns", variant="primary", compact=True
                )
                yield Button("Use the corrected patterns (u)", id="btn-use-corrected", compact=True)
            yield Static("", id="pattern-audit", classes="preview")
            yield Static("", id="pattern-diag", classes="preview")

    def on_mount(self) -> None:
        pages = self.query_one("#wizard-pages", OptionList)
        pages.highlighted = [key for key, _ in PAGES].index(self.page)
        self.refresh_form()
        pages.focus()
        if self.form.overrides:
            names = ", ".join(sorted(self.form.overrides))
            self.notify(f"Restored your earlier edits: {names} (empty a field to get its default back)")

    async def on_unmount(self) -> None:
        if self.services.close is not None:
            try:
                await self.services.close()
            except Exception:  # leaving the screen: nothing useful left to tell
                pass

    # ------------------------------------------------------------------ pages
    def show_page(self, key: str) -> None:
        """Switch to page `key` (one of setup_form.PAGES) and refresh its preview."""
        self.page = key
        self.query_one("#wizard-switcher", ContentSwitcher).current = f"page-{key}"
        self.query_one("#wizard-pages", OptionList).highlighted = [k for k, _ in PAGES].index(key)
        self.refresh_bindings()
        self._refresh_previews()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        pages = event.option_list
        if pages.id != "wizard-pages" or event.option.id in (None, self.page):
            return
        if pages.highlighted != event.option_index:
            return  # a stale event from our own quick page changes (ctrl+n pressed repeatedly)
        self.show_page(event.option.id)

    def action_next_page(self) -> None:
        keys = [k for k, _ in PAGES]
        self.show_page(keys[min(len(keys) - 1, keys.index(self.page) + 1)])

    def action_prev_page(self) -> None:
        keys = [k for k, _ in PAGES]
        self.show_page(keys[max(0, keys.index(self.page) - 1)])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        page = _PAGE_OF_ACTION.get(action)
        return page is None or page == self.page

    def action_leave(self) -> None:
        """Go back; while a step is being applied, ask first (leaving cancels the run mid-step)."""
        step = self.plan_page.applying_step
        if not step:
            self._left(True)
            return
        from tui.widgets.plan_view import ConfirmLeave

        self.app.push_screen(ConfirmLeave(step), self._left)

    def _left(self, leave: bool | None) -> None:
        if leave and len(self.app.screen_stack) > 2 and self.app.screen is self:  # never the home screen
            self.app.pop_screen()

    # ------------------------------------------------------------------ the form
    def _params_or_defaults(self) -> MonitoringParams:
        try:
            return self.form.params()
        except MonitoringParamError:
            return self.form.defaults()

    def _plan_or_none(self) -> Plan | None:
        try:
            return build_monitoring_plan(self.cluster, self.form.params())
        except (MonitoringParamError, ValueError):
            return None

    def on_input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("param-")
        if not (event.input.id or "").startswith("param-"):
            return
        if name not in self.form.overrides and event.value == self._shown.get(name):
            # Our own refresh of a field that follows the defaults (refresh_form only rewrites those).
            # An edited field that the DBA types back to the default text is an edit: keep it.
            return
        self.form.set_text(name, event.value)
        _DRAFTS[self.cluster.name] = dict(self.form.overrides)
        self.refresh_form()

    def on_descendant_blur(self, event: Any) -> None:
        if isinstance(event.widget, Input) and (event.widget.id or "").startswith("param-"):
            self.refresh_form()  # an emptied field shows its default again once the DBA leaves it

    def refresh_form(self) -> None:
        """Validate the form, mark fields, refresh derived values and previews."""
        problems = self.form.problems()
        params = None if problems else self.form.params()
        for field in self.query(ParamField):
            name = field.spec.name
            field.show_error(problems.get(name, ""))
            field.set_class(name in self.form.overrides, "-edited")
            if params is not None and name not in self.form.overrides:
                value = shown_value(params, name)
                self._shown[name] = value
                box = field.query_one(Input)
                if box.value != value and not box.has_focus:  # never rewrite what the DBA is typing in
                    box.value = value
        error = ""
        if problems:
            error = f"⚠ {'; '.join(problems.values())} — fix this before running the plan"
        self.query_one("#wizard-error", Static).update(error)
        self._refresh_previews()

    def _refresh_previews(self) -> None:
        if self.page not in _PARAM_PAGES:
            return
        plan = self._plan_or_none()
        if plan is None:  # never leave the last valid preview up: it shows values the fields no longer hold
            why = "; ".join(self.form.problems().values()) or "a value is not valid"
            note = f"No preview: {why}. Fix it to see what the plan will run."
            self.query_one(f"#preview-{self.page}", Static).update(Content.styled(note, "$text-warning"))
            if self.page == "filters":
                for kind in ("audit", "diag"):
                    self.query_one(f"#pattern-{kind}", Static).update("")
            return
        p = self.form.params()
        render = {
            "audit": lambda: audit_preview(plan, p),
            "policies": lambda: policies_preview(plan, p),
            "cron": lambda: cron_preview(p),
            "agent": lambda: agent_preview(plan, p, self.agent_configs),
            "sns": lambda: sns_preview(plan, p),
            "alarms": lambda: alarms_preview(plan, p),
            "filters": lambda: Content(
                "Each filter is tested again, on recent events, when the plan checks it."
            ),
        }
        self.query_one(f"#preview-{self.page}", Static).update(render[self.page]())
        if self.page == "filters":
            for kind in ("audit", "diag"):
                check = check_pattern(kind, p, self.pattern_messages[kind], self.pattern_notes[kind])
                title = Content.styled(
                    f"{'Audit' if kind == 'audit' else 'Diag'} pattern {check.pattern!r}\n", "bold $primary"
                )
                self.query_one(f"#pattern-{kind}", Static).update(title + pattern_content(check))

    def action_use_corrected(self) -> None:
        """Replace both patterns by the corrected ones (one key), following table and app user again."""
        for name in ("audit_pattern", "diag_pattern"):
            self.form.reset(name)
        _DRAFTS[self.cluster.name] = dict(self.form.overrides)
        self.refresh_form()
        self.notify("Using the corrected filter patterns", timeout=3)

    # ------------------------------------------------------------------ buttons
    @on(Button.Pressed)
    def _button(self, event: Button.Pressed) -> None:
        actions = {
            "btn-read-agent": self.action_read_agent_config,
            "btn-test-patterns": self.action_test_patterns,
            "btn-use-corrected": self.action_use_corrected,
            "btn-prove": self.action_prove,
        }
        handler = actions.get(event.button.id or "")
        if handler is not None:
            event.stop()
            handler()

    # ------------------------------------------------------------------ reads for the previews
    def action_read_agent_config(self) -> None:
        self.read_agent_configs()

    @work(exclusive=True, group="wizard-read", exit_on_error=False)
    async def read_agent_configs(self) -> None:
        """Read each db host's agent config (sudo cat) for the merge diff; errors become a toast."""
        plan = self._plan_or_none()
        if plan is None:
            self.notify("Fix the parameters first", severity="warning")
            return
        ctx = await self.services.make_context(self.cluster)
        configs: dict[str, str | None] = {}
        for step in plan.steps:
            if step.id.startswith("agent@"):
                try:
                    await step.check(ctx)
                except Exception as exc:
                    self.notify(f"{step.target}: {exc}", title="Agent config", severity="error", timeout=10)
                    continue
                configs[step.target] = (ctx.facts.get(step.id) or {}).get("existing")
        self.agent_configs = configs
        self._refresh_previews()

    def action_test_patterns(self) -> None:
        self.read_recent_events()

    @work(exclusive=True, group="wizard-read", exit_on_error=False)
    async def read_recent_events(self) -> None:
        """Fetch recent events of both log groups and test the patterns on them (no write)."""
        from services.monitoring.pattern_test import recent_messages

        try:
            p = self.form.params()
        except MonitoringParamError as exc:
            self.notify(str(exc), severity="warning")
            return
        ctx = await self.services.make_context(self.cluster)
        for kind, group in (("audit", p.audit_log_group), ("diag", p.diag_log_group)):
            try:
                self.pattern_messages[kind] = await recent_messages(
                    ctx, group or "", p.pattern_test_lookback_s, p.pattern_test_max_events
                )
                hours = p.pattern_test_lookback_s // 3600
                lab = " (lab)" if self.cluster.lab else ""
                self.pattern_notes[kind] = f"last {hours} h of {group}{lab}"
                pattern = p.effective_audit_pattern if kind == "audit" else p.effective_diag_pattern
                opinion = await aws_opinion(ctx, pattern, self.pattern_messages[kind] or [])
                if opinion:
                    self.pattern_notes[kind] += f"; {opinion}"
            except Exception as exc:
                self.pattern_messages[kind] = []
                self.pattern_notes[kind] = f"could not read {group}: {exc}"
        self._refresh_previews()

    # ------------------------------------------------------------------ plan: check, dry run, apply
    def build_plan(self) -> Plan:
        """Return the monitoring plan for the form's values; raise ValueError (MonitoringParamError)."""
        return build_monitoring_plan(self.cluster, self.form.params())

    @property
    def plan_page(self) -> PlanPage:
        return self.query_one(PlanPage)

    def action_check(self) -> None:
        self.plan_page.run_mode("check")

    def action_dry_run(self) -> None:
        self.plan_page.run_mode("dry-run")

    def action_apply(self) -> None:
        self.plan_page.run_mode("apply")

    def action_copy(self) -> None:
        self.plan_page.copy()

    def action_export(self) -> None:
        self.plan_page.export()

    # ------------------------------------------------------------------ prove it fires
    def _proof_options(self) -> ProofOptions:
        return self.services.proof_options or ProofOptions.for_cluster(self.cluster)

    def action_prove(self) -> None:
        self.prove()

    @work(exclusive=True, group="wizard-proof", exit_on_error=False)
    async def prove(self) -> None:
        """Run the test statement and show each link of the chain as it is seen."""
        panel = self.query_one(ProofPanel)
        try:
            params = self.form.params()
            options = panel.options(self._proof_options())
        except (MonitoringParamError, ValueError) as exc:
            panel.show_error(str(exc))
            return
        panel.start(options)
        self.proof_events = []
        try:
            ctx = await self.services.make_context(self.cluster)
            async for event in self.services.prove(
                ctx, params, options=options, lab_session=self.services.lab_session
            ):
                self.proof_events.append(event)
                panel.add(event)
        except Exception as exc:  # never freeze or crash the console on a broken connection
            panel.show_error(f"{type(exc).__name__}: {exc}")
        finally:
            panel.stop()


def _open_setup(app: Any) -> SetupMonitoringScreen:
    cluster = app.current_cluster
    if cluster is None:
        raise ScreenUnavailable("no cluster selected: open one on :fleet first, then :setup")
    return SetupMonitoringScreen(cluster, app_services(app))


register_screen(
    "setup",
    _open_setup,
    "Set up monitoring: audit + diag logs to CloudWatch, alarms to SNS (wizard)",
    aliases=("setup-monitoring", "wizard"),
)
