"""The status screen's events panel keeps at least 5 rows on screen at 160x48 after a kill (it showed one,
pushed below the grown panels), and scrolls when there are more events than rows."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent.parent
sys.path[:0] = [str(HERE / "tui"), str(HERE)]

from test_tui_app import make_app, polled, until  # noqa: E402

from services.status.events import StatusEvent  # noqa: E402
from services.status.model import Severity  # noqa: E402
from tui.widgets.events_log import EventsLog  # noqa: E402


def visible_rows(app) -> int:
    """Rows of the events panel's content that are on screen (inside its border, above the footer)."""
    panel = app.screen.query_one(EventsLog)
    inner = panel.content_region.intersection(app.screen.region)
    footer = app.screen.query_one("Footer").region
    return max(0, min(inner.bottom, footer.y) - inner.y)


async def test_events_panel_keeps_five_rows_at_160x48_after_a_kill_and_scrolls():
    app, _ = make_app(toasts=False)
    async with app.run_test(size=(160, 48)) as pilot:
        await polled(pilot, app)
        await pilot.press("K")
        await until(pilot, lambda: app.drills_done == 1, "drill finished")
        await polled(pilot, app, count=app.poller.polls["lab-hadr"])
        await pilot.pause()
        feed = app.feed("lab-hadr")
        assert len(feed.events) >= 3
        assert visible_rows(app) >= 5
        # many more events than rows: the panel scrolls, it does not grow over the panels
        for i in range(30):
            feed.events.append(
                StatusEvent(feed.events[-1].at + i, "lab-hadr", "note", f"event {i}", Severity.INFO)
            )
        feed.events_total += 30
        app.screen.refresh_view()
        await pilot.pause()
        panel = app.screen.query_one(EventsLog)
        assert 5 <= visible_rows(app) <= 10 and panel.max_scroll_y > 0
