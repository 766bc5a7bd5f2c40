"""The HA wizard opens with the focus on the first field of its page (the dry run button on the plan
page), as the monitoring wizard does (tests/wizard/test_wizard_focus.py)."""

from __future__ import annotations

import pytest
from textual.widgets import Input
from wizard_harness import NoHosts

from ha_setup.ha_wizard_app import HaWizardApp, fixed_cluster, services_for
from screens.setup_ha_form import PAGE_FIELDS, PAGES


@pytest.mark.parametrize("page", [key for key, _ in PAGES])
async def test_the_ha_wizard_opens_on_the_first_field_of_its_page(tmp_path, page) -> None:
    app = HaWizardApp(fixed_cluster(), services_for(NoHosts(), tmp_path), page=page)
    async with app.run_test() as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        if PAGE_FIELDS.get(page):
            assert isinstance(app.focused, Input) and app.focused.id == f"param-{PAGE_FIELDS[page][0].name}"
        else:
            assert app.focused is not None and app.focused.id == "btn-dry-run"
