"""What both setup wizards (`:setup` monitoring, `:setup ha`) are: a page per runbook section with the
runbook's values as editable defaults and a preview of what the plan runs, then the plan page (check ->
dry run -> confirm -> apply with live progress; a re-run resumes).

WizardScreen holds the layout, the page navigation, the form wiring (the DBA's edits are kept per cluster,
so leaving the wizard loses nothing) and the plan page's keys; a wizard subclass names its pages, form and
plan, and draws its previews. ParamField is one edited parameter. The wizard never decides whether a change
is allowed: the plan page runs services.plans.run_plan, whose write guard refuses read-only clusters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from screens.setup_services import WizardServices, context_services
from screens.wizard_form import FieldSpec, WizardForm
from services.inventory.model import Cluster
from services.plans import Plan
from tui.screen_registry import ScreenUnavailable
from tui.widgets.fit_size import fit_size
from tui.widgets.fitted_footer import FittedFooter
from tui.widgets.header import ConsoleHeader
from tui.widgets.plan_page import PlanPage

if TYPE_CHECKING:
    from tui.app import Db2OpsApp

PLAN_ACTIONS = ("check", "dry_run", "apply", "copy", "export")


class ParamField(Horizontal):
    """One parameter: label, input (id `param-<name>`) and the hint / error line under it."""

    DEFAULT_CSS = """
    ParamField { height: auto; margin: 0 0 1 0; }
    ParamField > Label { width: 26; padding: 0 1 0 0; color: $text-muted; }
    ParamField > Vertical { width: 1fr; height: auto; }
    ParamField Input { width: 1fr; }
    ParamField .hint { color: $text-muted; padding: 0 1; height: auto; }
    ParamField.-invalid .hint { color: $text-error; }
    ParamField .hint.-empty { display: none; }
    ParamField.-edited > Label { color: $text-accent; }
    """

    def __init__(self, spec: FieldSpec, value: str) -> None:
        super().__init__(id=f"field-{spec.name}")
        self.spec = spec
        self.value = value

    def compose(self) -> ComposeResult:
        yield Label(self.spec.label)
        with Vertical():
            yield Input(self.value, id=f"param-{self.spec.name}", select_on_focus=False, compact=True)
            hint = self.hint_text()
            yield Static(hint, classes="hint" if hint else "hint -empty", markup=False)

    def hint_text(self, error: str = "") -> str:
        """Return the line under the input: the error (⚠ …), else the hint and the choices."""
        if error:
            return f"⚠ {error}"
        choices = f" (one of: {', '.join(self.spec.choices)})" if self.spec.choices else ""
        return (self.spec.hint + choices).strip()

    def show_error(self, error: str) -> None:
        """Mark the field invalid with `error`, or valid again with its hint ("")."""
        self.set_class(bool(error), "-invalid")
        hint = self.query_one(".hint", Static)
        text = self.hint_text(error)
        hint.set_class(not text, "-empty")
        hint.update(text)


class WizardScreen(Screen[None]):
    """A setup wizard for one cluster. ctrl+n / ctrl+b: next / previous page (or pick one on the left)."""

    BINDINGS = [
        Binding("escape,minus", "leave", "Back", show=False),  # the app's Back shows in the footer
        Binding("ctrl+n", "next_page", "Next page", priority=True),
        Binding("ctrl+b", "prev_page", "Prev page", priority=True),
        Binding("c", "check", "Check"),
        Binding("d", "dry_run", "Dry run"),
        Binding("a", "apply", "Apply"),
        Binding("y", "copy", "Copy"),
        Binding("x", "export", "Export"),
    ]

    DEFAULT_CSS = """
    WizardScreen #wizard-body { height: 1fr; }
    WizardScreen #wizard-pages { width: 24; height: 1fr; border: none; border-right: vkey $primary 40%; }
    WizardScreen #wizard-switcher { width: 1fr; height: 1fr; }
    WizardScreen .wizard-page { padding: 0 1; height: 1fr; }
    WizardScreen .page-intro { color: $text-muted; margin: 0 0 1 0; }
    WizardScreen .preview { margin: 1 0 0 0; padding: 0 1; border-left: outer $primary 40%; }
    WizardScreen #wizard-error { height: auto; padding: 0 1; color: $text-error; }
    /* 80 columns: each label goes above its input, so a path or pattern is not cut at 28 columns */
    WizardScreen.-tiny ParamField { layout: vertical; }
    WizardScreen.-tiny ParamField > Label { width: 1fr; }
    """

    # What each wizard names: its header, the prefix of its screen name, its pages (key, label; the
    # first is the default), their intro texts and fields, its form and where the DBA's edits are kept.
    HEADER: ClassVar[str]
    NAME_PREFIX: ClassVar[str]
    PAGES: ClassVar[tuple[tuple[str, str], ...]]
    PAGE_INTRO: ClassVar[dict[str, str]]
    PAGE_FIELDS: ClassVar[dict[str, tuple[FieldSpec, ...]]]
    FORM: ClassVar[type[WizardForm[Any]]]
    DRAFTS: ClassVar[dict[str, dict[str, Any]]]  # cluster -> the DBA's edits, for the process
    # action -> the only page whose footer offers it (an action not named here works on every page)
    PAGE_OF_ACTION: ClassVar[dict[str, str]] = dict.fromkeys(PLAN_ACTIONS, "plan")

    def __init__(self, cluster: Cluster, services: WizardServices, *, page: str | None = None) -> None:
        super().__init__(name=f"{self.NAME_PREFIX}:{cluster.name}")
        self.cluster = cluster
        self.services = services
        self.form = self.FORM(cluster, self.DRAFTS.get(cluster.name))
        self.page = page if page in dict(self.PAGES) else self.PAGES[0][0]
        self._shown: dict[str, str] = {}  # field -> the default text it shows (not the DBA's)

    @property
    def param_pages(self) -> tuple[str, ...]:
        """Return the keys of the pages with fields, in page order."""
        return tuple(key for key, _ in self.PAGES if key in self.PAGE_FIELDS)

    # ------------------------------------------------------------------ what a wizard adds
    def build_plan(self) -> Plan:
        """Return the plan for the form's values; raise ValueError with what to fix."""
        raise NotImplementedError

    def refresh_preview(self) -> None:
        """Show what the plan runs for the values of the page shown (pages without fields: nothing)."""
        raise NotImplementedError

    def page_extras(self, key: str) -> ComposeResult:
        """Yield the widgets page `key` shows between its fields and its preview (default: none)."""
        yield from ()

    def extra_pages(self) -> ComposeResult:
        """Yield the pages after the plan page (default: none)."""
        yield from ()

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield ConsoleHeader(self.HEADER, self.cluster)
        params = self._params_or_defaults()
        with Horizontal(id="wizard-body"):
            yield OptionList(*[Option(label, id=key) for key, label in self.PAGES], id="wizard-pages")
            with ContentSwitcher(initial=f"page-{self.page}", id="wizard-switcher"):
                for key in self.param_pages:
                    with VerticalScroll(id=f"page-{key}", classes="wizard-page"):
                        yield Static(self.PAGE_INTRO[key], classes="page-intro")
                        for spec in self.PAGE_FIELDS[key]:
                            self._shown[spec.name] = self.form.shown(params, spec.name)
                            yield ParamField(spec, self._shown[spec.name])
                        yield from self.page_extras(key)
                        yield Static("", id=f"preview-{key}", classes="preview")
                yield PlanPage(
                    self.cluster,
                    intro=self.PAGE_INTRO["plan"],
                    build_plan=self.build_plan,
                    make_context=self.services.make_context,
                    run_plan=self.services.run_plan,
                    state_dir=self.services.state_dir,
                    export_dir=self.services.export_dir,
                    inventory_source=self.services.inventory_source,
                    id="page-plan",
                    classes="wizard-page",
                )
                yield from self.extra_pages()
        yield Static("", id="wizard-error", markup=False)
        yield FittedFooter()

    def on_resize(self, event: events.Resize) -> None:
        fit_size(self, event.size.width, event.size.height)

    def on_mount(self) -> None:
        fit_size(self, self.app.size.width, self.app.size.height)
        pages = self.query_one("#wizard-pages", OptionList)
        pages.highlighted = [key for key, _ in self.PAGES].index(self.page)
        self.refresh_form()
        self.focus_page()
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
        """Switch to page `key` (one of PAGES) and refresh its preview."""
        self.page = key
        self.query_one("#wizard-switcher", ContentSwitcher).current = f"page-{key}"
        self.query_one("#wizard-pages", OptionList).highlighted = [k for k, _ in self.PAGES].index(key)
        self.refresh_bindings()
        self.refresh_preview()

    def focus_page(self) -> None:
        """Focus where the DBA starts on the page shown: its first field, else its primary button (the
        dry run on the plan page); the page list only when the page has neither."""
        page = self.query_one(f"#page-{self.page}")
        fields = (box for box in page.query(Input) if box.can_focus and not box.disabled)
        buttons = (b for b in page.query(Button) if b.variant == "primary" and not b.disabled)
        target = next(fields, None) or next(buttons, None) or self.query_one("#wizard-pages", OptionList)
        target.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option_list.id == "wizard-pages" and event.option.id is not None:
            self.show_page(event.option.id)  # Enter on a page of the list goes into it
            self.focus_page()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        pages = event.option_list
        if pages.id != "wizard-pages" or event.option.id in (None, self.page):
            return
        if pages.highlighted != event.option_index:
            return  # a stale event from our own quick page changes (ctrl+n pressed repeatedly)
        self.show_page(event.option.id)

    def action_next_page(self) -> None:
        keys = [k for k, _ in self.PAGES]
        self.show_page(keys[min(len(keys) - 1, keys.index(self.page) + 1)])
        self.focus_page()

    def action_prev_page(self) -> None:
        keys = [k for k, _ in self.PAGES]
        self.show_page(keys[max(0, keys.index(self.page) - 1)])
        self.focus_page()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        page = self.PAGE_OF_ACTION.get(action)
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
    def _params_or_defaults(self) -> Any:
        """Return the form's params, else the defaults (the error line says what is wrong)."""
        try:
            return self.form.params()
        except self.form.error_type:
            return self.form.defaults()

    def _is_own_refresh(self, name: str, value: str) -> bool:
        """Return True when a change of field `name` to `value` is refresh_form's, not the DBA's."""
        # refresh_form only rewrites fields that follow the defaults; an edited field that the DBA
        # types back to the default text is an edit: keep it.
        return name not in self.form.overrides and value == self._shown.get(name)

    def save_draft(self) -> None:
        """Keep the DBA's edits for this cluster, so leaving the wizard loses nothing."""
        self.DRAFTS[self.cluster.name] = dict(self.form.overrides)

    def on_input_changed(self, event: Input.Changed) -> None:
        name = (event.input.id or "").removeprefix("param-")
        if not (event.input.id or "").startswith("param-") or self._is_own_refresh(name, event.value):
            return
        self.form.set_text(name, event.value)
        self.save_draft()
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
                value = self.form.shown(params, name)
                self._shown[name] = value
                box = field.query_one(Input)
                if box.value != value and not box.has_focus:  # never rewrite what the DBA is typing in
                    box.value = value
        error = f"⚠ {'; '.join(problems.values())} — fix this before running the plan" if problems else ""
        self.query_one("#wizard-error", Static).update(error)
        self.refresh_preview()

    # ------------------------------------------------------------------ plan: check, dry run, apply
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


def wizard_opener(screen: type[WizardScreen], command: str) -> Callable[[Db2OpsApp], WizardScreen]:
    """Return the screen registry's factory opening `screen` on the console's current cluster, wired to
    the console's context (context_services); the factory raises ScreenUnavailable, naming `command`, when no cluster
    is selected."""

    def open_wizard(app: Db2OpsApp) -> WizardScreen:
        cluster = app.current_cluster
        if cluster is None:
            raise ScreenUnavailable(f"no cluster selected: open one on :fleet first, then {command}")
        return screen(cluster, context_services(app.context))

    return open_wizard
