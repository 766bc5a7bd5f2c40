"""The monitoring setup wizard (`:setup`, `:setup monitoring`): one page per runbook action with the
runbook's values as editable defaults, then the plan page (check -> dry run -> confirm -> apply with live
progress; a re-run resumes) and "prove it fires".

The pages, navigation, form wiring and plan keys are screens/wizard_base.py's; this module adds the
monitoring runbook's pages (screens/setup_form.py), previews (screens/setup_pages.py), the pattern test,
the agent config read and the proof page. Every AWS / SSH call runs in a worker.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Button, Input, Static

from screens.setup_form import PAGE_FIELDS, PAGE_INTRO, PAGES, ParamForm
from screens.setup_pages import (
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
from screens.setup_services import WizardServices
from screens.wizard_base import WizardScreen, wizard_opener
from services.inventory.model import Cluster
from services.monitoring.params import NO_EMAIL_WARNING
from services.monitoring.plan import MonitoringParamError, build_monitoring_plan
from services.monitoring.prove_it_fires import ProofEvent, ProofOptions
from services.plans import Plan
from tui.screen_registry import register_screen


class SetupMonitoringScreen(WizardScreen):
    """The wizard for one cluster. ctrl+n / ctrl+b: next / previous page (or pick one on the left)."""

    HELP = (
        "Set up Db2 audit + db2diag -> CloudWatch Logs -> metric filters -> alarms -> SNS, one runbook "
        "action per page. Edit any value; the preview under it is what the plan will run. On the plan page: "
        "c check, d dry run, a apply (asks first; read-only clusters are refused), y copy, x export. "
        "Page 8 runs the runbook's test statement and watches the alarm fire."
    )

    BINDINGS = [
        Binding("u", "use_corrected", "Use corrected pattern"),
        Binding("t", "test_patterns", "Test on recent events"),
        Binding("r", "read_agent_config", "Read agent config"),
        Binding("f", "prove", "Prove it fires"),
    ]

    DEFAULT_CSS = """
    SetupMonitoringScreen .buttons { height: auto; margin: 0 0 1 0; }
    SetupMonitoringScreen .buttons Button { margin: 0 1 0 0; min-width: 10; }
    """

    HEADER = "setup › monitoring"
    NAME_PREFIX = "setup"
    PAGES = PAGES
    PAGE_INTRO = PAGE_INTRO
    PAGE_FIELDS = PAGE_FIELDS
    FORM = ParamForm
    DRAFTS: ClassVar[dict[str, dict[str, Any]]] = {}  # cluster -> the DBA's edits, for the process
    PAGE_OF_ACTION = {
        **WizardScreen.PAGE_OF_ACTION,
        "use_corrected": "filters",
        "test_patterns": "filters",
        "read_agent_config": "agent",
        "prove": "proof",
    }

    def __init__(self, cluster: Cluster, services: WizardServices, *, page: str = "audit") -> None:
        super().__init__(cluster, services, page=page)
        self.agent_configs: dict[str, str | None] | None = None
        self.pattern_messages: dict[str, list[str] | None] = {"audit": None, "diag": None}
        self.pattern_notes: dict[str, str] = {"audit": "", "diag": ""}
        self.proof_events: list[ProofEvent] = []

    # ------------------------------------------------------------------ layout
    def page_extras(self, key: str) -> ComposeResult:
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

    def extra_pages(self) -> ComposeResult:
        yield ProofPanel(self.cluster, self._proof_options(), id="page-proof", classes="wizard-page")

    def on_mount(self) -> None:
        super().on_mount()
        self.plan_page.apply_warning = self._no_email_warning

    def _no_email_warning(self) -> str:
        """The runbook subscribes an e-mail address: applying without one needs this warning read first."""
        try:
            email = self.form.params().email
        except (MonitoringParamError, ValueError):
            return ""
        return "" if email else NO_EMAIL_WARNING

    # ------------------------------------------------------------------ previews
    def _plan_or_none(self) -> Plan | None:
        try:
            return build_monitoring_plan(self.cluster, self.form.params())
        except (MonitoringParamError, ValueError):
            return None

    def refresh_preview(self) -> None:
        if self.page not in self.param_pages:
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
        self.save_draft()
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
        self.refresh_preview()

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
        self.refresh_preview()

    # ------------------------------------------------------------------ plan
    def build_plan(self) -> Plan:
        """Return the monitoring plan for the form's values; raise ValueError (MonitoringParamError)."""
        return build_monitoring_plan(self.cluster, self.form.params())

    # ------------------------------------------------------------------ prove it fires
    def _proof_options(self) -> ProofOptions:
        return self.services.proof_options or ProofOptions.for_cluster(self.cluster)

    def action_prove(self) -> None:
        """Ask first (it pages the subscribers), then run the proof."""
        from screens.setup_proof import ConfirmProve

        statement = self.query_one("#proof-statement", Input).value.strip() or "grant"

        def answered(go: bool | None) -> None:
            if go:
                self.prove()

        self.app.push_screen(ConfirmProve(self.cluster, statement), answered)

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
            extras = ctx.extras  # the cluster's CloudWatch backend: AWS, or the lab that plays it
            try:
                proof = self.services.prove(
                    ctx,
                    params,
                    extras=extras,
                    history=self.services.proof_history,
                    options=options,
                    state_dir=self.services.state_dir,
                )
                async for event in proof:
                    self.proof_events.append(event)
                    panel.add(event)
            finally:
                await extras.close()
        except Exception as exc:  # never freeze or crash the console on a broken connection
            panel.show_error(f"{type(exc).__name__}: {exc}")
        finally:
            panel.stop()


register_screen(
    "setup",
    wizard_opener(SetupMonitoringScreen, ":setup"),
    "Set up monitoring: audit + diag logs to CloudWatch, alarms to SNS (wizard)",
    aliases=("setup-monitoring", "wizard"),
)
