"""First Pilot checks: the console opens on fake data and shows the verdict."""

from __future__ import annotations

import tui_fixtures as fx

from screens.status import StatusScreen
from tui.app import Db2OpsApp
from tui.widgets.banner import VerdictBanner


async def test_single_cluster_opens_status_screen_with_healthy_banner():
    source = fx.FakeStatusSource("healthy")
    app = Db2OpsApp(fx.inventory(), fx.settings(), status_source=source, clock=lambda: fx.NOW)
    async with app.run_test(size=(160, 50)) as pilot:
        await app.poller.wait_polls("lab-hadr", 1)
        await pilot.pause()
        assert isinstance(app.screen, StatusScreen)
        banner = app.screen.query_one(VerdictBanner)
        assert "Healthy: db2a is primary, HADR PEER, quorum with qdevice" in str(banner.render())
