"""`:failover` and `:timeline` inside the real console app, sharing one timeline per cluster."""

from __future__ import annotations

from dataclasses import dataclass

from failover.helpers import InProcessLabRunner, in_process
from screens.failover import FailoverScreen
from screens.timeline import TimelineScreen
from services.inventory.model import Inventory
from services.settings import Settings
from services.status.service import gather_cluster_status
from tui.app import Db2OpsApp


@dataclass
class LabSource:
    """A status source as the console expects one (`snapshot`), over the in-process lab."""

    runner: InProcessLabRunner

    async def snapshot(self, cluster):
        return await gather_cluster_status(cluster, self.runner, aws_route=False)


async def test_failover_and_timeline_open_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    lab, cluster, runner = in_process()
    app = Db2OpsApp(
        Inventory(clusters=(cluster,)),
        Settings(),
        status_source=LabSource(runner),
        runner=runner,  # the context's one runner: the failover's plan runs over it
        toasts=False,
        settings_path=tmp_path / "settings.toml",
    )
    async with app.run_test(size=(130, 50)) as pilot:
        await pilot.pause()
        app.run_command("failover")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, FailoverScreen) and screen.cluster.name == "lab1"
        await pilot.pause(0.5)
        for _ in range(20):
            if screen.dry is not None:
                break
            await pilot.pause(0.1)
        assert screen.dry is not None and screen.preflight.runnable
        assert screen.plan.target == "db2b"
        assert screen.services.timeline is app.context.timeline("lab1")
        assert screen.services.runs is app.context.failover_runs  # a run outlives the screen, not the console
        await pilot.press("escape")
        await pilot.pause()
        app.run_command("timeline")
        await pilot.pause()
        assert isinstance(app.screen, TimelineScreen)
        assert app.screen.timeline is app.context.timeline("lab1")
    assert runner.writes() == []
