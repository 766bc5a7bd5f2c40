"""The timeline lists the recorded incidents of its cluster with their summaries; `i` selects the next, `b`
writes the selected one's bundle under the state dir and says where; no recording is a note, not an error."""

from __future__ import annotations

import pytest
from failover.screen_fixtures import ScreenApp
from incident_harness import START, DrillWalk
from recorded_walk import RecordedWalk, kill_primary_walk

from screens.timeline import TimelineScreen
from screens.timeline_incidents import IncidentPanel
from services.inventory.model import Cluster
from services.record.bundle import open_bundle
from services.record.incident_source import IncidentSource, bundle_file_name
from services.record.model import MemoryRecording
from services.record.open_store import RecordingUnavailable
from services.timeline.model import Timeline

CLUSTER = Cluster(name="lab1", environment="lab", read_only=False, lab=True)
SIZE = (130, 30)


def make(tmp_path, recording: MemoryRecording | None):
    def open_reader():
        if recording is None:
            raise RecordingUnavailable(
                "no recording at /state/recording.sqlite: the console records while it runs"
            )
        return recording

    source = IncidentSource("lab1", open_reader=open_reader, bundle_dir=tmp_path / "bundles")
    screen = TimelineScreen(
        CLUSTER,
        Timeline("lab1"),
        export_dir=tmp_path / "out",
        clock=lambda: START + 500,
        poll_interval=0,
        incidents=source,
    )
    return ScreenApp(screen), screen


async def two_incidents(monkeypatch) -> MemoryRecording:
    r = RecordedWalk(DrillWalk(monkeypatch=monkeypatch))
    await r.snap()
    r.walk.lab.disconnect_hadr()
    await r.step(0.5, 60)
    r.walk.lab.reconnect_hadr()
    await r.step(0.5, 30)
    r.walk.lab.kill_primary()
    await r.step(0.5, 12, 30)
    return r.recording


def panel_text(screen) -> str:
    return str(screen.query_one(IncidentPanel).describe())


async def test_the_incidents_are_listed_and_b_writes_the_selected_bundle(monkeypatch, tmp_path) -> None:
    recording = (await kill_primary_walk(monkeypatch)).recording
    app, screen = make(tmp_path, recording)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await screen.workers.wait_for_complete()
        text = panel_text(screen)
        assert (
            "1 recorded incident" in text and "▶ #1 " in text and "db2b took over from db2a (crash)" in text
        )
        await pilot.press("b")
        await pilot.pause()
        await screen.workers.wait_for_complete()
        await pilot.pause()
        incident = screen.query_one(IncidentPanel).incident
        path = tmp_path / "bundles" / bundle_file_name("lab1", incident, START + 500)
        assert path.exists()
        assert any(f"Bundle of incident #1 written to {path}" in n.message for n in app._notifications)
        assert open_bundle(path).frames("lab1")


async def test_i_selects_the_next_incident(monkeypatch, tmp_path) -> None:
    app, screen = make(tmp_path, await two_incidents(monkeypatch))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await screen.workers.wait_for_complete()
        panel = screen.query_one(IncidentPanel)
        assert [i.number for i in panel.listed.incidents] == [1, 2]
        assert panel.incident.number == 2  # the newest first
        assert "▶ #2 " in panel_text(screen) and "  #1 " in panel_text(screen)
        assert "HADR link down between db2a" in panel_text(screen)
        await pilot.press("i")
        assert panel.incident.number == 1 and "▶ #1 " in panel_text(screen)
        await pilot.press("i")
        assert panel.incident.number == 2


async def test_no_recording_is_a_note_and_b_says_there_is_nothing(tmp_path) -> None:
    app, screen = make(tmp_path, None)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await screen.workers.wait_for_complete()
        assert "no recording at /state/recording.sqlite" in panel_text(screen)
        await pilot.press("b")
        await pilot.pause()
        await screen.workers.wait_for_complete()
        assert any("No recorded incident to bundle" in n.message for n in app._notifications)
        assert not (tmp_path / "bundles").exists()


async def test_a_healthy_recording_says_none(monkeypatch, tmp_path) -> None:
    r = RecordedWalk(DrillWalk(monkeypatch=monkeypatch))
    await r.snap()
    await r.step(2)
    app, screen = make(tmp_path, r.recording)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await screen.workers.wait_for_complete()
        assert "none recorded: the cluster has not been degraded" in panel_text(screen)


@pytest.fixture
def recorded_two(monkeypatch):
    import asyncio
    import time

    monkeypatch.setenv("TZ", "UTC")  # the summaries use the console's clock: the picture must not vary
    time.tzset()
    yield asyncio.run(two_incidents(monkeypatch))
    monkeypatch.undo()
    time.tzset()


def test_snapshot_timeline_with_incidents(snap_compare, tmp_path, recorded_two) -> None:
    app, screen = make(tmp_path, recorded_two)

    async def settle(pilot) -> None:
        await pilot.pause()
        await screen.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=settle)
