"""The events panel lines up with the panels above it: when the status panels scroll, their scrollbar
takes two columns and the events panel (outside that scroll) must not stick out past them."""

from __future__ import annotations

import pytest
from test_tui_app import make_app, polled


@pytest.mark.parametrize("size", [(100, 30), (160, 50)])
async def test_the_events_panel_ends_where_the_status_panels_end(size):
    app, _ = make_app("healthy")
    async with app.run_test(size=size) as pilot:
        await polled(pilot, app)
        await pilot.press("K")  # the fake lab fails over: events appear
        await polled(pilot, app, count=2)
        await pilot.pause()
        body = app.screen.query_one("#status-body")
        events = app.screen.query_one("#events")
        nodes = app.screen.query_one("#nodes")
        assert events.display and app.screen.query_one("#events-body").region.height >= 1
        assert body.show_vertical_scrollbar is (size == (100, 30))  # the case that went wrong, and not
        gutter = 2 if size == (100, 30) else 0  # the scrollbar's columns
        assert events.region.right == nodes.region.right == body.region.right - gutter == size[0] - gutter
        await pilot.resize_terminal(160, 50)  # the panels stop scrolling: the events panel widens again
        await pilot.pause()
        assert not body.show_vertical_scrollbar
        assert events.region.right == nodes.region.right == 160
