"""The HA setup wizard (`:setup ha`, `:ha-setup`): one page per runbook section with the runbook's values
as editable defaults and a preview of what the plan runs, then the plan page (check -> dry run ->
typed confirmation -> apply with live progress; a re-run resumes).

The pages, navigation, form wiring and plan keys are screens/wizard_base.py's; this module adds the HA
runbook's pages (screens/setup_ha_form.py) and plan. Every SSH / AWS call runs in a worker.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.content import Content
from textual.widgets import Static

from screens.setup_ha_form import PAGE_FIELDS, PAGE_INTRO, PAGES, HaForm, preview
from screens.wizard_base import WizardScreen, wizard_opener
from services.ha_setup.params import HaParamError, HaParams
from services.ha_setup.plan import build_ha_plan
from services.plans import Plan
from tui.screen_registry import register_screen


class SetupHaScreen(WizardScreen):
    """The HA wizard for one cluster. ctrl+n / ctrl+b: next / previous page (or pick one on the left)."""

    HELP = (
        "Set up Db2 HADR under IBM Db2 Pacemaker with a qdevice and an AWS overlay IP, one runbook section "
        "per page. Edit any value; the preview under it is what the plan will run. On the plan page: c check, "
        "d dry run, a apply (asks first; read-only clusters are refused), y copy, x export."
    )

    HEADER = "setup › ha"
    NAME_PREFIX = "setup-ha"
    PAGES = PAGES
    PAGE_INTRO = PAGE_INTRO
    PAGE_FIELDS = PAGE_FIELDS
    FORM = HaForm
    DRAFTS: ClassVar[dict[str, dict[str, Any]]] = {}  # cluster -> the DBA's edits, for the process

    def _params_or_defaults(self) -> HaParams:
        try:
            return super()._params_or_defaults()
        except HaParamError:
            return HaParams()  # the inventory itself lacks what the runbook needs: the error line says what

    def refresh_preview(self) -> None:
        if self.page not in self.param_pages:
            return
        try:
            params = self.form.params()
        except HaParamError:
            return  # the error line says what is wrong; the last good preview stays
        title = Content.styled("What the plan runs\n", "bold $primary")
        text = preview(self.page, self.cluster, params)
        self.query_one(f"#preview-{self.page}", Static).update(title + Content(text))

    def build_plan(self) -> Plan:
        """Return the HA plan for the form's values; raise ValueError (HaParamError) with what to fix."""
        return build_ha_plan(self.cluster, self.form.params())


register_screen(
    "setup-ha",
    wizard_opener(SetupHaScreen, ":setup ha"),
    "Set up HA: Pacemaker + db2cm + qdevice + AWS overlay IP (wizard)",
    aliases=("ha-setup",),
)
