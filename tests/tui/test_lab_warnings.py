"""The console started on the lab shows what the lab warned about at start (lab --serve prints it).

A part that did not start (a log agent, the CloudWatch evaluator) is toasted once and stays as a line under
the banner of the home screen, so state-change toasts cannot hide it.
"""

from __future__ import annotations

import asyncio

import pytest
import tui_fixtures as fx
from textual.widgets._toast import Toast

from screens.fleet import FleetScreen
from screens.status import StatusScreen
from services.inventory.model import Inventory
from tui.app import Db2OpsApp
from tui.widgets.lab_notes import LabNotes

NOTE = "Db2 12.1: stand-in versions and layout, not checked against a real capture"
AGENT = "lab log agent for lab-hadr did not start: port 4566 refused"


class FakeLab:
    def __init__(self, warnings=(), not_running=(), names=("lab-hadr",)):
        self.inventory = None
        self.names = names
        self.warnings = list(warnings)
        self.not_running = list(not_running)

    async def start(self):
        self.inventory = fx.inventory(*self.names)

    async def stop(self):
        pass


def lab_app(lab):
    source = fx.FakeStatusSource("healthy")
    return Db2OpsApp(
        Inventory(),
        fx.settings(),
        status_source=source,
        lab=lab,
        runner=fx.FakeLabRunner(source),
        clock=lambda: fx.NOW,
    )


async def started(pilot, app, name="lab-hadr"):
    await asyncio.wait_for(app.poller.wait_polls(name, 1), 10)
    await pilot.pause()


def toasts(app) -> list[str]:
    return [str(toast.render()) for toast in app.screen.query(Toast)]


def notes_line(app) -> str:
    notes = app.screen.query_one(LabNotes)
    return str(notes.render()) if notes.display else ""


async def test_a_part_not_started_is_toasted_and_stays_under_the_banner():
    app = lab_app(FakeLab(warnings=[NOTE, AGENT], not_running=[AGENT]))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await started(pilot, app)
        assert isinstance(app.screen, StatusScreen)
        shown = toasts(app)
        assert any(NOTE in t for t in shown) and any(AGENT in t for t in shown)
        assert AGENT in shown[-1]  # the one that matters is the newest toast, at the rack's bottom
        assert AGENT in notes_line(app) and NOTE not in notes_line(app)  # the note is in the header
        # a burst of other toasts pushes it up and out of the rack: the line under the banner still says it
        for i in range(12):
            app.notify(f"state change {i}")
        await pilot.pause()
        assert AGENT not in toasts(app)[-1] and AGENT in notes_line(app)


async def test_a_lab_of_many_clusters_says_it_on_the_fleet():
    names = ("lab1", "lab2")
    app = lab_app(FakeLab(warnings=[AGENT], not_running=[AGENT], names=names))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await started(pilot, app, "lab1")
        assert isinstance(app.screen, FleetScreen)
        assert AGENT in notes_line(app)


async def test_a_lab_that_started_whole_shows_only_its_note():
    app = lab_app(FakeLab(warnings=[NOTE]))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await started(pilot, app)
        assert any(NOTE in t for t in toasts(app))
        assert notes_line(app) == ""
        assert app.lab_warnings == (NOTE,) and app.lab_not_running == ()


def test_the_session_keeps_a_part_that_did_not_start(monkeypatch):
    """LabSession: a CloudWatch evaluator that fails to start is a warning (lab --serve) and not running."""
    import lab.cloudwatch_eval
    from lab.session import LabSession

    class Broken:
        def __init__(self, *args):
            raise RuntimeError("moto has no CloudWatch here")

    monkeypatch.setattr(lab.cloudwatch_eval, "LabCloudWatch", Broken)
    session = LabSession()
    session._start_cloudwatch("http://127.0.0.1:1")
    expected = "lab CloudWatch evaluator did not start: moto has no CloudWatch here"
    assert session.warnings == [expected] and session.not_running == [expected]
    assert session.cloudwatch is None


@pytest.mark.parametrize(
    ("db2", "warned"),
    [(None, False), ("11.5.5", False), ("11.5.7", False), ("11.5.9", True), ("12.1", True)],
)
async def test_only_a_stand_in_release_warns_at_start(db2, warned):
    """A release played without a capture of its versions and layout (11.5.9, 12.1) is a warning at start;
    the default release's assumed cluster properties are not (its environment label says so, and a served
    lab that warned at every start would train the DBA to skip stderr)."""
    from lab.release import release
    from lab.session import LabSession

    class Runtime:  # what start() reads of the runtime; the SSH hosts and moto are not needed here
        inventory_path = None
        endpoint_url = None

        async def start(self, **options) -> None:
            pass

        def inventory(self):
            return None

    session = LabSession(db2=db2)
    session._runtime = Runtime()  # type: ignore[assignment]
    await session.start()
    note = release(db2).shape_note
    assert session.warnings == ([note] if warned else [])
    if warned:
        assert "not checked against a real capture" in note
