"""StatusPoller and ClusterFeed without Textual: polls never overlap, pause stops them, stale views."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
import tui_fixtures as fx

from services.part_errors import ErrorKind, PartError
from services.status.poll import MAX_EVENTS, ClusterFeed, StatusPoller
from services.status.service import LastGoodParts


def _poller(source, interval=0.001, statuses=None, errors=None):
    async def get_source():
        return source

    return StatusPoller(
        get_source,
        lambda c, s: (statuses if statuses is not None else []).append(s),
        lambda c, e: (errors if errors is not None else []).append(e),
        interval=interval,
    )


async def test_polls_of_a_slow_source_never_overlap_even_when_forced():
    source = fx.FakeStatusSource("healthy")
    source.gate = asyncio.Event()
    poller = _poller(source)
    cluster = fx.lab_cluster()
    task = asyncio.create_task(poller.run(cluster))
    for _ in range(20):  # hammer "refresh now" while the first poll hangs
        poller.refresh_now()
        await asyncio.sleep(0)
    assert source.in_flight == 1
    source.gate.set()
    await asyncio.wait_for(poller.wait_polls(cluster.name, 5), 10)
    task.cancel()
    assert source.max_in_flight == 1
    assert source.calls >= 5


async def test_pause_stops_scheduled_polls_and_refresh_now_still_polls_once():
    source = fx.FakeStatusSource("healthy")
    poller = _poller(source)
    cluster = fx.lab_cluster()
    poller.set_paused(True)
    task = asyncio.create_task(poller.run(cluster))
    await asyncio.wait_for(poller.wait_polls(cluster.name, 1), 10)  # the first poll always happens
    await asyncio.sleep(0.05)  # 50 intervals of 1 ms: none may poll while paused
    assert poller.polls[cluster.name] == 1
    poller.refresh_now(cluster.name)
    await asyncio.wait_for(poller.wait_polls(cluster.name, 2), 10)
    await asyncio.sleep(0.05)
    assert poller.polls[cluster.name] == 2
    poller.set_paused(False)
    await asyncio.wait_for(poller.wait_polls(cluster.name, 4), 10)
    task.cancel()


async def test_a_failing_poll_is_reported_and_the_loop_goes_on():
    source = fx.FakeStatusSource("healthy")
    source.fail_with = OSError("network is unreachable")
    errors: list[BaseException] = []
    poller = _poller(source, errors=errors)
    cluster = fx.lab_cluster()
    task = asyncio.create_task(poller.run(cluster))
    await asyncio.wait_for(poller.wait_polls(cluster.name, 3), 10)
    task.cancel()
    assert [str(e) for e in errors[:3]] == ["network is unreachable"] * 3


def test_interval_must_be_positive():
    poller = _poller(fx.FakeStatusSource())
    with pytest.raises(ValueError, match="greater than 0"):
        poller.set_interval(0)


def test_feed_view_is_fresh_then_stale_after_three_intervals():
    feed = ClusterFeed(fx.lab_cluster())
    feed.apply(fx.healthy(t=fx.T0))
    fresh = feed.view("hadr:db2a", now=fx.T0 + 5.9, interval=2.0)
    assert (fresh.stale, fresh.error, fresh.source) == (False, None, "db2a")
    assert fresh.value.role == "PRIMARY"
    old = feed.view("hadr:db2a", now=fx.T0 + 6.1, interval=2.0)
    assert old.stale and old.value.role == "PRIMARY"  # greyed, not blanked


def _db2b_hadr_refused(t: float):
    """fx.healthy at `t` with db2b's HADR part failed as a source without a cache returns it."""
    broken = fx.healthy(t=t)
    refused = PartError(ErrorKind.UNREACHABLE, "Connection refused", host="db2b")
    bad = replace(broken.hadr["db2b"], value=None, error=refused, fetched_at=t)
    return replace(broken, hadr={**broken.hadr, "db2b": bad}), refused


def test_feed_shows_the_services_last_good_value_when_a_part_errors():
    cache = LastGoodParts()  # the status service's one cache (StatusService.last_good)
    feed = ClusterFeed(fx.lab_cluster())
    feed.apply(cache.carry(fx.healthy(t=fx.T0)))
    broken, refused = _db2b_hadr_refused(fx.T0 + 2)
    feed.apply(cache.carry(broken))
    view = feed.view("hadr:db2b", now=fx.T0 + 2, interval=2.0)
    assert view.stale and view.error == refused and view.error.kind is ErrorKind.UNREACHABLE
    assert view.value.role == "STANDBY" and view.age == 2.0


def test_feed_keeps_no_last_good_values_of_its_own():
    feed = ClusterFeed(fx.lab_cluster())
    feed.apply(fx.healthy(t=fx.T0))
    broken, refused = _db2b_hadr_refused(fx.T0 + 2)
    feed.apply(broken)  # not through the service's cache: nothing fills the value back in
    view = feed.view("hadr:db2b", now=fx.T0 + 2, interval=2.0)
    assert view.stale and view.error == refused
    assert view.value is None and view.age is None


def test_feed_names_the_host_error_when_a_part_is_missing():
    feed = ClusterFeed(fx.lab_cluster())
    feed.apply(fx.healthy(t=fx.T0))
    gone = fx.no_quorum(t=fx.T0 + 2)  # no quorum part for db2a at all, db2a in host_errors
    feed.apply(gone)
    view = feed.view("quorum:db2a", now=fx.T0 + 2, interval=2.0)
    # the full text (panels shorten it; the detail view shows it whole)
    assert view.stale and view.error == fx.refused("db2a", "10.99.0.11")
    assert view.error.message == fx.ssh_refused("10.99.0.11")
    assert view.value is None  # a part the service never sent has no last good value


def test_feed_poll_failure_marks_every_view_stale():
    feed = ClusterFeed(fx.lab_cluster())
    feed.apply(fx.healthy(t=fx.T0))
    feed.fail("TimeoutError: status took too long", fx.T0 + 1)
    view = feed.view("crm", now=fx.T0 + 1, interval=2.0)
    assert view.stale and view.error.message == "last poll failed: TimeoutError: status took too long"
    assert view.error.kind is ErrorKind.POLL_FAILED


def test_feed_keeps_only_the_last_500_events():
    feed = ClusterFeed(fx.lab_cluster())
    feed.apply(fx.healthy(), lambda prev, cur: list(range(MAX_EVENTS + 20)))
    assert len(feed.events) == MAX_EVENTS and feed.events[0] == 20
    assert feed.events_total == MAX_EVENTS + 20
