"""Pilot: the timeline screen of lab2, with lab1 and lab3 failing over too and writing into the same log
groups, shows lab2's takeover records only (the timeline's own CloudWatch reads: services/timeline/sources.py)."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

import pytest
from failover.screen_fixtures import ScreenApp
from shared_log_groups import shared_groups
from textual.widgets import DataTable

from lab.insights_local import LabInsights
from screens.timeline import TimelineScreen, collect_from_app
from services.logs.cloudwatch import CloudWatchLogs
from services.plans.journal import Journal
from services.timeline.model import Timeline
from services.timeline.sources import TimelineSources


class NoAlarms:
    async def list_alarms(self):
        return []


@pytest.fixture
def three(aws):
    shared = shared_groups(aws, backfill_minutes=10)
    yield shared
    shared.stop()


async def test_the_timeline_of_lab2_shows_no_other_clusters_record(three, tmp_path) -> None:
    await three.kill_primaries()  # every cluster writes HADR / takeover records: the timeline's records
    cluster = three.clusters["lab2"]
    tl = Timeline("lab2")
    logs = CloudWatchLogs.for_cluster(cluster, insights_engine=LabInsights())
    sources = TimelineSources(cluster, tl, logs=logs, alarms=NoAlarms())  # type: ignore[arg-type]
    app = SimpleNamespace(feed=lambda name: SimpleNamespace(events=deque()), screen_stack=[])
    journal = Journal(tmp_path / "journal")

    async def collect(with_logs: bool) -> None:
        await collect_from_app(app, cluster, tl, logs=with_logs, journal=journal, sources=sources)

    screen = TimelineScreen(cluster, tl, collect=collect, notes=lambda: sources.notes, poll_interval=0)
    async with ScreenApp(screen).run_test(size=(200, 40)) as pilot:
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        table = screen.query_one(DataTable)
        rows = [str(table.get_row_at(i)[3]) for i in range(table.row_count)]
    logged = [e for e in tl.entries() if e.source == "log"]
    assert logged and sources.notes == {}
    assert any("HADR database role set to PRIMARY" in e.detail and "on lab2-db2b" in e.title for e in logged)
    assert [e for e in logged if "lab1-" in e.title + e.detail or "lab3-" in e.title + e.detail] == []
    assert rows and not [r for r in rows if "lab1-" in r or "lab3-" in r]
    assert any("lab2-" in r for r in rows)
