"""The HA setup wizard (`:setup ha`, `:ha-setup`): one page per runbook section with the runbook's values
as editable defaults and a preview of what the plan runs, then the plan page (check -> dry run ->
typed confirmation -> apply with live progress; a re-run resumes).

The wizard never decides whether a change is allowed: it runs services.plans.run_plan, whose write guard
refuses read-only clusters, and shows what the guard said. Every SSH / AWS call runs in a worker.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Input, OptionList, Static
from textual.widgets.option_list import Option

from screens.setup_ha_form import PAGE_FIELDS, PAGE_INTRO, PAGES, HaForm, preview, shown_value
from screens.setup_pages import ParamField
from screens.setup_services import WizardServices, app_services
from services.ha_setup.params import HaParamError, HaParams
from services.ha_setup.plan import build_ha_plan
from services.inventory_model import Cluster
from services.plans import Plan
from tui.screen_registry import ScreenUnavailable, register_screen
from tui.widgets.header import ConsoleHeader
from tui.widgets.plan_page import PlanPage

_PARAM_PAGES = tuple(key for key, _ in PAGES if key in PAGE_FIELDS)
_PLAN_ACTIONS = ("check", "dry_run", "apply", "copy", "export")
_DRAFTS: dict[str, dict[str, Any]] = {}  # cluster -> the DBA's edits, so leaving the wizard loses nothing


class SetupHaScreen(Screen[None]):
    """The HA wizard for one cluster. ctrl+n / ctrl+b: next / previous page (or pick one on the left)."""

    HELP = (
        "Set up Db2 HADR under IBM Db2 Pacemaker with a qdevice and an AWS overlay IP, one runbook section "
        "per page. Edit any value; the preview under it is what the plan will run. On the plan page: c check, "
        "d dry run, a apply (asks first; read-only clusters are refused), y copy, x export."
    )

    BINDINGS = [
        Binding("ctrl+n", "next_page", "Next page", priority=True),
        Binding("ctrl+b", "prev_page", "Prev page", priority=True),
        Binding("c", "check", "Check"),
        Binding("d", "dry_run", "Dry run"),
        Binding("a", "apply", "Apply"),
        Binding("y", "copy", "Copy"),
        Binding("x", "export", "Export"),
    ]

    DEFAULT_CSS = """
    SetupHaScreen #wizard-body { height: 1fr; }
    SetupHaScreen #wizard-pages { width: 24; height: 1fr; border: none; border-right: vkey $primary 40%; }
    SetupHaScreen #wizard-switcher { width: 1fr; height: 1fr; }
    SetupHaScreen .wizard-page { padding: 0 1; height: 1fr; }
    SetupHaScreen .page-intro { color: $text-muted; margin: 0 0 1 0; }
    SetupHaScreen .preview { margin: 1 0 0 0; padding: 0 1; border-left: outer $primary 40%; }
    SetupHaScreen #wizard-error { height: auto; padding: 0 1; color: $text-error; }
    """

    def __init__(self, cluster: Cluster, services: WizardServices, *, page: str = "prereq") -> None:
        super().__init__(name=f"setup-ha:{cluster.name}")
        self.cluster = cluster
        self.services = services
        self.form = HaForm(cluster, _DRAFTS.get(cluster.name))
        self.page = page if page in dict(PAGES) else "prereq"
        self._shown: dict[str, str] = {}

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield ConsoleHeader("setup › ha", self.cluster)
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
        yield Static("", id="wizard-error")
        yield Footer()

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
        """Switch to page `key` (one of setup_ha_form.PAGES) and refresh its preview."""
        self.page = key
        self.query_one("#wizard-switcher", ContentSwitcher).current = f"page-{key}"
        self.query_one("#wizard-pages", OptionList).highlighted = [k for k, _ in PAGES].index(key)
        self.refresh_bindings()
        self._refresh_preview()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        pages = event.option_list
        if pages.id != "wizard-pages" or event.option.id in (None, self.page):
            return
        if pages.highlighted != event.option_index:
            return  # a stale event from our own quick page changes
        self.show_page(event.option.id)

    def action_next_page(self) -> None:
        keys = [k for k, _ in PAGES]
        self.show_page(keys[min(len(keys) - 1, keys.index(self.page) + 1)])

    def action_prev_page(self) -> None:
        keys = [k for k, _ in PAGES]
        self.show_page(keys[max(0, keys.index(self.page) - 1)])

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action not in _PLAN_ACTIONS or self.page == "plan"

    # ------------------------------------------------------------------ the form
    def _params_or_defaults(self) -> HaParams:
        for make in (self.form.params, self.form.defaults):
            try:
                return make()
            except HaParamError:
                continue
        return HaParams()  # the inventory itself lacks what the runbook needs: the error line says what

    def on_input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("param-")
        if not (event.input.id or "").startswith("param-") or event.value == self._shown.get(name):
            return  # our own update of a derived field, not the DBA's edit
        self.form.set_text(name, event.value)
        _DRAFTS[self.cluster.name] = dict(self.form.overrides)
        self.refresh_form()

    def on_descendant_blur(self, event: Any) -> None:
        if isinstance(event.widget, Input) and (event.widget.id or "").startswith("param-"):
            self.refresh_form()  # an emptied field shows its default again once the DBA leaves it

    def refresh_form(self) -> None:
        """Validate the form, mark fields, refresh derived values and the preview."""
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
        error = f"⚠ {'; '.join(problems.values())} — fix this before running the plan" if problems else ""
        self.query_one("#wizard-error", Static).update(error)
        self._refresh_preview()

    def _refresh_preview(self) -> None:
        if self.page not in _PARAM_PAGES:
            return
        try:
            params = self.form.params()
        except HaParamError:
            return  # the error line says what is wrong; the last good preview stays
        title = Content.styled("What the plan runs\n", "bold $primary")
        text = preview(self.page, self.cluster, params)
        self.query_one(f"#preview-{self.page}", Static).update(title + Content(text))

    # ------------------------------------------------------------------ plan: check, dry run, apply
    def build_plan(self) -> Plan:
        """Return the HA plan for the form's values; raise ValueError (HaParamError) with what to fix."""
        return build_ha_plan(self.cluster, self.form.params())

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


def _open_setup_ha(app: Any) -> SetupHaScreen:
    cluster = app.current_cluster
    if cluster is None:
        raise ScreenUnavailable("no cluster selected: open one on :fleet first, then :setup ha")
    return SetupHaScreen(cluster, app_services(app))


register_screen(
    "setup-ha",
    _open_setup_ha,
    "Set up HA: Pacemaker + db2cm + qdevice + AWS overlay IP (wizard)",
    aliases=("ha-setup",),
)
