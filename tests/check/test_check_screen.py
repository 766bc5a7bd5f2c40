"""The `:check` screen: nothing read until `r`, then one row per finding (errors first) and the selected
one's why and fix; outside text drawn literally; an SVG snapshot of a lab cluster seeded wrong twice."""

from __future__ import annotations

from test_check_lab import LabRunner, _lab
from textual.app import App
from textual.widgets import DataTable, Static

from lab.check_seeds import seed_wrong
from screens.check import CheckScreen
from services.check.finding import Finding, Severity
from services.check.service import CheckReport, run_check

SIZE = (140, 32)


class CheckApp(App):
    def __init__(self, run) -> None:
        super().__init__()
        self.run_report = run

    def on_mount(self) -> None:
        self.push_screen(CheckScreen("lab1", self.run_report))


def _seeded_run():
    lab, cluster = _lab()
    seed_wrong(lab, "OIP-NO-COLOCATION")
    seed_wrong(lab, "HADR-PEER-WINDOW-SHORT")

    async def run() -> CheckReport:
        return await run_check(cluster, LabRunner(lab))

    return run


def _text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_nothing_is_read_until_r_then_errors_come_first_with_why_and_fix() -> None:
    calls = []
    run = _seeded_run()

    async def counted() -> CheckReport:
        calls.append(1)
        return await run()

    app = CheckApp(counted)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CheckScreen) and calls == []
        assert "press r" in _text(screen, "#check-summary")
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert calls == [1]
        assert [f.code for f in screen.shown] == [
            "HADR-PEER-WINDOW-SHORT",
            "OIP-NO-COLOCATION",
            "HADR-PEER-WINDOW-BELOW-MINIMUM",
        ]
        assert screen.query_one("#check-table", DataTable).row_count == 3
        detail = _text(screen, "#check-detail")
        assert "HADR-PEER-WINDOW-SHORT" in detail and "Why it matters" in detail and "Fix" in detail
        await pilot.press("down")
        await pilot.pause()
        assert "OIP-NO-COLOCATION" in _text(screen, "#check-detail")
        assert "3 findings" in _text(screen, "#check-summary")


async def test_outside_text_is_drawn_literally() -> None:
    hostile = "[@click=app.quit]quit[/] rsc\x1b]0;pwned\x07"
    report = CheckReport(
        "lab1", [Finding("OIP-NO-COLOCATION", Severity.ERROR, "pacemaker", hostile, hostile, hostile)]
    )

    async def run() -> CheckReport:
        return report

    app = CheckApp(run)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await app.workers.wait_for_complete()
        await pilot.pause()
        detail = _text(app.screen, "#check-detail")
        assert "[@click=app.quit]quit[/] rsc" in detail and "\x1b" not in detail and "\x07" not in detail


async def _run_it(pilot) -> None:
    await pilot.press("r")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def test_snapshot_check_screen(snap_compare) -> None:
    assert snap_compare(CheckApp(_seeded_run()), terminal_size=SIZE, run_before=_run_it)
