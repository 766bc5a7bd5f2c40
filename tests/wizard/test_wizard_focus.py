"""Where the focus is when a wizard opens, and after ctrl+n / ctrl+b: on the first field of the page shown
(the primary button of a page without fields), never on the page list, so the DBA types at once."""

from __future__ import annotations

import pytest
from textual.widgets import Input
from wizard_app import fixed_cluster, services_for, wizard_app
from wizard_harness import NoHosts

from screens.setup_form import PAGE_FIELDS, PAGES

FIELD_PAGES = [key for key, _ in PAGES if PAGE_FIELDS.get(key)]


async def _opened(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("page", FIELD_PAGES)
async def test_the_monitoring_wizard_opens_on_the_first_field_of_its_page(tmp_path, page) -> None:
    cluster = fixed_cluster()
    app = wizard_app(cluster, services_for(cluster, NoHosts(), tmp_path), page=page)
    async with app.run_test() as pilot:
        await _opened(pilot)
        focused = app.focused
        assert isinstance(focused, Input), focused
        assert focused.id == f"param-{PAGE_FIELDS[page][0].name}"


async def test_a_page_without_fields_focuses_its_primary_button_and_ctrl_n_moves_the_focus(tmp_path) -> None:
    cluster = fixed_cluster()
    app = wizard_app(cluster, services_for(cluster, NoHosts(), tmp_path), page="alarms")
    async with app.run_test() as pilot:
        await _opened(pilot)
        await pilot.press("ctrl+n")  # alarms -> plan: no field, its primary action is the dry run
        await pilot.pause()
        assert app.screen.page == "plan" and app.focused is not None and app.focused.id == "btn-dry-run"
        await pilot.press("d")  # a plan key still works from the focused button
        await _opened(pilot)
        assert "(dry-run)" in app.screen.query_one("#plan-dry-run").text  # it ran (no host to reach here)
        await pilot.press("ctrl+n")  # plan -> proof: its first field, the test statement
        await pilot.pause()
        assert app.screen.page == "proof" and app.focused is not None and app.focused.id == "proof-statement"
        await pilot.press("ctrl+b", "ctrl+b")  # back to the alarms page: its first field again
        await pilot.pause()
        assert app.screen.page == "alarms" and app.focused.id == f"param-{PAGE_FIELDS['alarms'][0].name}"


async def test_moving_in_the_page_list_keeps_the_focus_there(tmp_path) -> None:
    cluster = fixed_cluster()
    app = wizard_app(cluster, services_for(cluster, NoHosts(), tmp_path), page="audit")
    async with app.run_test() as pilot:
        await _opened(pilot)
        pages = app.screen.query_one("#wizard-pages")
        pages.focus()
        await pilot.press("down")  # browsing the pages: the list keeps the focus
        await pilot.pause()
        assert app.screen.page == "policies" and app.focused is pages
        await pilot.press("enter")  # picking one goes into it
        await pilot.pause()
        assert app.focused is not None and app.focused.id == f"param-{PAGE_FIELDS['policies'][0].name}"
