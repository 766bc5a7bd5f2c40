"""`e` with nothing to write says so and writes no file (a 0-byte export is not an export): the log view,
the timeline and the journal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent.parent
sys.path[:0] = [str(HERE / "logs_screen"), str(HERE / "wizard"), str(HERE)]

from failover.screen_fixtures import ScreenApp  # noqa: E402
from logscreen_data import LogsApp, diag_entries  # noqa: E402
from wizard_app import ScreenApp as WizardScreenApp  # noqa: E402

from screens.journal import JournalScreen  # noqa: E402
from screens.timeline import TimelineScreen  # noqa: E402
from services.inventory.model import Cluster  # noqa: E402
from services.plans.journal import Journal  # noqa: E402
from services.timeline.model import Timeline  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def warned(app, text: str) -> bool:
    return any(text in n.message for n in app._notifications)


async def test_log_view_export_of_nothing_writes_no_file(tmp_path):
    async with LogsApp().run_test(size=(140, 30)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert files(tmp_path / "data") == [] and warned(pilot.app, "Nothing to export: no entries yet")
        pilot.app.screen.view.add_entries(diag_entries())
        pilot.app.screen.view.set_filter_text("nosuchwordanywhere")
        await pilot.press("e")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert files(tmp_path / "data") == [] and warned(pilot.app, "hide every entry")


async def test_timeline_export_of_nothing_writes_no_file(tmp_path):
    cluster = Cluster(name="lab1", environment="lab", read_only=False, lab=True)
    app = ScreenApp(
        TimelineScreen(
            cluster, Timeline("lab1"), export_dir=tmp_path / "out", clock=lambda: 0.0, poll_interval=0
        )
    )
    async with app.run_test(size=(130, 30)) as pilot:
        await pilot.pause()
        await pilot.press("e")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert files(tmp_path / "out") == [] and warned(app, "Nothing to export: no entries yet")


async def test_journal_export_of_nothing_writes_no_file(tmp_path):
    app = WizardScreenApp(
        lambda: JournalScreen(journal=Journal(tmp_path / "journal"), export_dir=tmp_path / "out")
    )
    async with app.run_test(size=(130, 30)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("e")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert files(tmp_path / "out") == [] and warned(app, "Nothing to export: the journal has no steps")
