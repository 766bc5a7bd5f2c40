"""Pilot: the log screen of lab2, with lab1 and lab3 writing into the same log groups (as a real account
whose clusters all follow the runbook does), shows lab2's records only: the history, what arrives after
every cluster failed over, and a Logs Insights query."""

from __future__ import annotations

import asyncio
import time

import pytest
from alarms.alarm_fixtures import aws  # noqa: F401
from moto_server import moto_url  # noqa: F401
from shared_log_groups import shared_groups
from textual.app import App

from lab.insights_local import LabInsights
from screens.logs import LogsScreen
from services.logs.cloudwatch import CloudWatchLogs

OTHERS = ("lab1-", "lab3-")  # host-name prefixes of the other clusters (their records name their hosts)


@pytest.fixture
def three(aws):  # noqa: F811
    shared = shared_groups(aws, backfill_minutes=10)
    yield shared
    shared.stop()


async def until(pilot, predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await pilot.pause(0.05)


def foreign(entries) -> list:
    return [e for e in entries if any(o in e.text or e.host.startswith(o) for o in OTHERS)]


async def test_the_log_screen_of_lab2_shows_no_other_clusters_record(three) -> None:
    cluster = three.clusters["lab2"]

    class LabApp(App):
        def on_mount(self):
            self.push_screen(
                LogsScreen(cluster, CloudWatchLogs.for_cluster(cluster, insights_engine=LabInsights()))
            )

    async with LabApp().run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        screen: LogsScreen = pilot.app.screen
        view = screen.view
        await until(pilot, lambda: len(view.store) > 0 and screen.tail_status.mode == "polling")
        await three.kill_primaries()  # all three clusters write their takeover into the shared groups
        await until(
            pilot, lambda: any("HADR database role set to PRIMARY" in e.text for e in view.store.entries)
        )
        await pilot.pause(1.5)  # another poll: anything else that arrived is in the store too
        entries = list(view.store.entries)
        assert {e.host for e in entries} == three.hosts_of("lab2")
        assert {e.stream for e in entries} == three.streams_of("lab2")  # both stream styles
        assert foreign(entries) == []
        takeovers = [e for e in entries if "HADR database role set to PRIMARY" in e.text]
        assert [e.host for e in takeovers] == ["lab2-db2b"]  # one takeover: lab2's, not three
        await pilot.press("i")
        screen.query_one("#insights-preset").value = "takeover"
        await pilot.pause()
        await pilot.click("#insights-run")
        await until(pilot, lambda: "rows" in str(screen.query_one("#insights-status").render()))
        results = list(screen.query_one("#insights-results").store.entries)
        assert results and foreign(results) == []
        assert {e.host for e in results} <= three.hosts_of("lab2")
    await asyncio.sleep(0)


def test_a_cluster_without_instance_ids_says_on_the_log_screen_that_every_stream_is_read() -> None:
    from screens.logs import mode_text
    from services.inventory.model import Cluster, Host

    bare = Cluster(name="old", hosts=(Host("db2a", "10.0.0.1"), Host("db2b", "10.0.0.2")))
    tail = CloudWatchLogs.for_cluster(bare).tail(lambda entries: None)
    assert tail.scope is None
    line = str(mode_text(tail.status, lab=False))
    assert "⚠ reading every stream of the log group: no host of old has an instance_id" in line
    scoped = CloudWatchLogs.for_cluster(
        Cluster(name="new", hosts=(Host("db2a", "10.0.0.1", instance_id="i-1"),))
    ).tail(lambda entries: None)
    assert scoped.status.scope_note == "" and "⚠" not in str(mode_text(scoped.status, lab=False))
