"""The :timeline screen: merged entries, source filters, Markdown export, collection from the console."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

import pytest
from textual.widgets import DataTable, Static

from failover.screen_fixtures import ScreenApp
from screens.timeline import TimelineScreen, collect_from_app, export_file_name
from services.inventory.model import Cluster
from services.logs.model import LogStore, entries_from_text
from services.plans.journal import Journal
from services.status.events import StatusEvent
from services.status.model import Severity
from services.timeline.model import Timeline, TimelineEntry
from tui import screen_registry

T0 = 1_790_000_000.0
CLUSTER = Cluster(name="lab1", environment="lab", read_only=False, lab=True)
SIZE = (130, 30)


def sample() -> Timeline:
    tl = Timeline("lab1")
    rows = [
        (
            0.0,
            "journal",
            Severity.INFO,
            "Preflight: may lab1 fail over to db2b? [verified]",
            "12 checks passed",
        ),
        (
            0.4,
            "journal",
            Severity.INFO,
            "Takeover HADR on db2b [verified]",
            "$ db2 takeover hadr on db HADRDB",
        ),
        (0.9, "log", Severity.INFO, "db2diag Event on db2a: START Received TAKEOVER HADR command.", ""),
        (1.3, "status", Severity.WARNING, "promoted node changed: db2a -> db2b", ""),
        (1.3, "status", Severity.WARNING, "overlay IP 192.168.1.81/32 moved: db2a -> db2b", ""),
        (42.0, "alarm", Severity.CRITICAL, "alarm db2-diag-severe: OK → ALARM", "Threshold Crossed"),
    ]
    for i, (dt, source, sev, title, detail) in enumerate(rows):
        tl.add(TimelineEntry(T0 + dt, source, sev, title, detail, ref=f"r{i}"))
    return tl


def make(tmp_path, tl: Timeline | None = None, collect=None):
    screen = TimelineScreen(
        CLUSTER,
        tl or sample(),
        collect=collect,
        export_dir=tmp_path / "out",
        clock=lambda: T0 + 60,
        poll_interval=0,
    )
    return ScreenApp(screen), screen


def rows(screen) -> list[tuple[str, str]]:
    table = screen.query_one(DataTable)
    return [(str(table.get_row_at(i)[1]), str(table.get_row_at(i)[3])) for i in range(table.row_count)]


async def test_rows_in_time_order_with_detail_of_the_latest(tmp_path):
    app, screen = make(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert [source for source, _ in rows(screen)] == [
            "journal",
            "journal",
            "log",
            "status",
            "status",
            "alarm",
        ]
        table = screen.query_one(DataTable)
        assert str(table.get_row_at(0)[0]) == "2026-09-21 14:13:20Z"
        assert str(table.get_row_at(1)[0]) == "2026-09-21 14:13:20.400Z"
        detail = str(screen.query_one("#tl-detail", Static).render())
        assert "alarm db2-diag-severe: OK → ALARM" in detail and "Threshold Crossed" in detail


async def test_source_toggles_hide_and_show(tmp_path):
    app, screen = make(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("1", "3")  # hide status and alarm
        await pilot.pause()
        assert [s for s, _ in rows(screen)] == ["journal", "journal", "log"]
        line = str(screen.query_one("#tl-filters", Static).render())
        assert "[1] status off" in line and "[2] journal on" in line and "3 of 6 entries" in line
        await pilot.press("1")
        await pilot.pause()
        assert [s for s, _ in rows(screen)].count("status") == 2


async def test_export_writes_the_shown_sources_as_markdown(tmp_path):
    app, screen = make(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("4", "e")  # without logs
        await app.workers.wait_for_complete()
        path = tmp_path / "out" / export_file_name("lab1", T0 + 60)
        text = path.read_text()
        assert text.startswith("# Incident timeline: lab1\n\nGenerated 2026-09-21 14:14:20Z by db2ops.")
        assert "- Entries: 2 status, 2 journal, 1 alarm" in text
        assert "START Received TAKEOVER" not in text
        assert "- `2026-09-21 14:13:21.300Z` ⚠ **status** promoted node changed: db2a -> db2b" in text
        assert any(str(path) in n.message for n in app._notifications)


async def test_collects_status_events_journal_logs_and_alarms_from_the_console(tmp_path):
    journal = Journal(tmp_path / "journal")
    step = dict(who="dba", plan="failover", step_id="takeover", target="db2b", result="verified")
    journal.record(cluster="lab1", run_id="R1", step_title="Takeover HADR on db2b", **step)
    journal.record(cluster="other", run_id="R2", step_title="elsewhere", **step)  # not this cluster's
    store = LogStore()
    from corpus import CORPUS

    store.extend(
        entries_from_text(
            (CORPUS / "db2diag" / "pcmk-takeover-02-event-start-change.txt").read_text(), "diag"
        )
    )
    alarm = SimpleNamespace(
        name="db2-diag-severe", state="ALARM", state_since=None, reason="Threshold Crossed"
    )
    event = StatusEvent(
        T0, "lab1", "promoted_changed", "promoted node changed: db2a -> db2b", Severity.WARNING
    )
    app = SimpleNamespace(
        feed=lambda name: SimpleNamespace(events=deque([event])),
        screen_stack=[
            SimpleNamespace(cluster=CLUSTER, view=SimpleNamespace(store=store)),
            SimpleNamespace(cluster=CLUSTER, alarms=[alarm]),
            SimpleNamespace(cluster=Cluster(name="other"), alarms=[alarm]),
        ],
    )
    tl = Timeline("lab1")
    await collect_from_app(app, CLUSTER, tl, journal=journal)
    got = sorted((e.source, e.title.split(":")[0]) for e in tl.entries())
    assert got == [
        ("alarm", "alarm db2-diag-severe"),
        ("journal", "Takeover HADR on db2b [verified]"),
        ("log", "db2diag Event on pcmk1.fyre.ibm.com"),
        ("log", "db2diag Event on pcmk1.fyre.ibm.com"),
        ("status", "promoted node changed"),
    ]
    await collect_from_app(app, CLUSTER, tl, journal=journal)  # again: nothing doubles
    assert len(tl) == 5


def test_timeline_alias_is_registered():
    entry = screen_registry.resolve("incident")
    assert entry is not None and entry.alias == "timeline"


def test_snapshot_timeline(snap_compare, tmp_path):
    app, screen = make(tmp_path)
    assert snap_compare(app, terminal_size=SIZE)


@pytest.mark.parametrize("size", [(100, 30), (80, 24)], ids=["100x30", "80x24"])
def test_snapshot_timeline_narrow(snap_compare, tmp_path, size):
    """The detail under the table and times without the date: What gets the width (it had 9 columns)."""
    app, screen = make(tmp_path)
    assert snap_compare(app, terminal_size=size)


async def _crash_strip(monkeypatch):
    """The strip of a lab crash (db2a killed, db2b promoted, the route moved, PEER again). The route part is
    patched through pytest's monkeypatch, so it is undone after the test (a bare setattr leaked the drill's
    route into every later lab of the process)."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "status"))
    from incident_harness import DrillWalk

    from services.record.strip import failover_strip

    walk = DrillWalk(monkeypatch=monkeypatch)
    frames = [await walk.snap()]
    walk.lab.kill_primary()
    for step in (0.5, 9, 2):
        walk.advance(step)
        frames.append(await walk.snap())
    return failover_strip(frames)


async def test_the_failover_strip_shows_above_the_table_when_there_is_one(tmp_path, monkeypatch):
    strip = await _crash_strip(monkeypatch)
    assert strip is not None
    screen = TimelineScreen(CLUSTER, sample(), export_dir=tmp_path, poll_interval=0, strip=lambda: strip)
    async with ScreenApp(screen).run_test(size=SIZE) as pilot:
        await pilot.pause()
        line = screen.query_one("#tl-strip", Static)
        assert line.display and line.has_class("-shown")
        text = str(line.render())
        assert text.startswith("● db2a lost ") and "● db2b promoted" in text and "○ peer again" in text
    app, bare = make(tmp_path)  # no strip: no line
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert not bare.query_one("#tl-strip", Static).display


def test_snapshot_timeline_with_failover_strip(snap_compare, tmp_path, monkeypatch):
    import asyncio

    strip = asyncio.run(_crash_strip(monkeypatch))
    screen = TimelineScreen(
        CLUSTER, sample(), export_dir=tmp_path, clock=lambda: T0 + 60, poll_interval=0, strip=lambda: strip
    )
    assert snap_compare(ScreenApp(screen), terminal_size=SIZE)
