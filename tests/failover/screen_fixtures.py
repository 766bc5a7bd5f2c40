"""A small app around the failover / timeline screens, wired to an in-process lab cluster."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.app import App
from textual.screen import Screen
from textual.widgets import Static

from failover.helpers import InProcessLabRunner, in_process
from screens.failover import FailoverScreen
from screens.failover_services import FailoverServices
from services.plans import Journal, PlanContext, run_plan
from services.status.service import gather_cluster_status
from services.timeline.model import Timeline

WALL = 1_790_000_000.0  # a fixed wall clock: 2026-09-21 ... UTC, so snapshots are stable


class Home(Screen[None]):
    def compose(self):
        yield Static("home")


class ScreenApp(App[None]):
    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.under_test = screen

    def on_mount(self) -> None:
        self.push_screen(Home())
        self.push_screen(self.under_test)


class Gate:
    """Holds run_plan(apply) until released, so a test can look at a running failover."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = asyncio.Event()

    async def run_plan(self, plan, ctx, *, mode, **kw):
        if mode == "apply":
            self.entered.set()
            await self.release.wait()
        return await run_plan(plan, ctx, mode=mode, **kw)


def make(
    tmp_path: Path,
    *,
    read_only: bool = False,
    gate: Gate | None = None,
    drill: str | None = None,
    stuck: bool = False,
):
    """The app, screen, lab and runner. `stuck`: Pacemaker never seems to follow (verify times out)."""
    lab, cluster, runner = in_process(read_only=read_only)
    if drill == "disconnect-hadr":
        lab.disconnect_hadr()
    timeline = Timeline(cluster.name)

    async def snap(c):
        return await gather_cluster_status(c, runner, aws_route=False, clock=lambda: WALL)

    before: list = []

    async def plan_snapshot(ctx):
        status = await gather_cluster_status(ctx.cluster, runner, aws_route=False, clock=lambda: WALL + 1)
        if stuck:
            before.append(status)
            status = before[0]  # every look shows the first status read
        timeline.add_snapshot(status)
        return status

    ticks = iter(range(100, 10_000))  # a clock that moves one second per read when stuck

    async def make_context(c):
        return PlanContext(cluster=c, runner=runner, journal=Journal(tmp_path / "journal"))

    services = FailoverServices(
        snapshot=snap,
        make_context=make_context,
        run_plan=gate.run_plan if gate is not None else run_plan,
        plan_snapshot=plan_snapshot,
        timeline=timeline,
        state_dir=tmp_path / "state",
        clock=lambda: WALL,
        monotonic=(lambda: float(next(ticks))) if stuck else (lambda: 100.0),
        timeout_s=3.0 if stuck else 60.0,
        poll_interval_s=0.05,
        animate=False,
    )
    screen = FailoverScreen(cluster, services)
    return ScreenApp(screen), screen, lab, runner


async def prepared(pilot) -> FailoverScreen:
    screen = pilot.app.under_test
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return screen


async def type_names(pilot, cluster: str, target: str) -> None:
    screen = pilot.app.under_test
    screen.query_one("#fo-type-cluster").value = cluster
    screen.query_one("#fo-type-target").value = target
    await pilot.pause()


async def confirmed(pilot) -> FailoverScreen:
    """Prepared, with lab1 and db2b typed: ready to fail over."""
    screen = await prepared(pilot)
    await type_names(pilot, "lab1", "db2b")
    return screen


async def failed_over(pilot) -> FailoverScreen:
    """Confirmed, the failover started and run to its end, the summary drawn."""
    screen = await confirmed(pilot)
    screen.start_failover()
    await pilot.app.workers.wait_for_complete()
    await run_drawn(pilot, screen)
    return screen


async def run_drawn(pilot, screen: FailoverScreen) -> None:
    """Draw the finished run now, as the screen's 0.25 s tick would. Waiting for that tick instead (a
    0.3 s pause) flaked under load: a loop blocked past a tick makes the timer skip to up to two
    intervals later, so the snapshot showed the run still going and no summary."""
    screen.refresh_run()
    await pilot.pause()


__all__ = [
    "Gate",
    "InProcessLabRunner",
    "ScreenApp",
    "confirmed",
    "failed_over",
    "make",
    "prepared",
    "run_drawn",
    "type_names",
]
