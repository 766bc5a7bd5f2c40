"""The HADR log gap as a sparkline on the HADR panel: one block per poll, scaled to the largest gap shown,
a poll without a reading a gap (never a zero); the gap history kept bounded by the feed.

Update the snapshot after a deliberate change with:
pytest tests/tui/test_gap_sparkline.py --snapshot-update
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
import tui_fixtures as fx

from services.part_errors import ErrorKind, PartError
from services.status.gap_history import BLOCKS, GapHistory, gap_trend, sparkline
from services.status.model import ClusterStatus
from services.status.poll import ClusterFeed
from tui.widgets.panel_text import render_hadr

MIB = 1 << 20


def _link_down(gap: int | None, t: float) -> ClusterStatus:
    """db2a primary with HADR DISCONNECTED and `gap` bytes of log not shipped; None: db2a's db2pd failed
    this poll (the part keeps its last good value, stale)."""
    base = fx.healthy("lab-hadr", t)
    hadr = fx._hadr("PRIMARY", "DISCONNECTED", "DISCONNECTED")
    if gap is None:
        err = PartError(ErrorKind.TIMEOUT, "db2pd -hadr did not answer within 10 s", host="db2a")
        part = replace(base.hadr["db2a"], value=hadr, fetched_at=t - 2, error=err)
    else:
        stream = replace(hadr.streams[0], log_gap_bytes=gap)
        part = replace(base.hadr["db2a"], value=replace(hadr, streams=(stream,)))
    return fx._finish(replace(base, hadr={**base.hadr, "db2a": part}))


def test_sparkline_scales_to_the_largest_and_keeps_gaps() -> None:
    assert sparkline([0, 0, 0]) == "▁▁▁"
    assert sparkline([0, 1, 50, 100]) == "▁▂▅█"  # a small gap never looks like none
    assert sparkline([10, None, None, 10]) == "█  █"
    assert sparkline([None, None]) == "" and sparkline([]) == ""
    assert sparkline([1, 2, 3, 4], width=2) == "▆█"
    assert set(sparkline(list(range(100)))) <= set(BLOCKS)


def test_a_failed_poll_is_a_gap_not_a_zero() -> None:
    history = GapHistory(size=5)
    for i, gap in enumerate([0, 4 * MIB, None, 8 * MIB]):
        history.add(_link_down(gap, fx.T0 + 2 * i))
    assert history.samples("db2a") == [0, 4 * MIB, None, 8 * MIB]
    assert history.samples("db2b") == [0, 0, 0, 0]
    assert gap_trend(history, "db2a") == "▁▅ █"
    assert gap_trend(history, "db2b") == ""  # a flat zero says nothing the "0 B" does not
    # a host that gave no part at all this poll: a gap too
    history.add(replace(_link_down(MIB, fx.T0 + 10), hadr={}))
    assert history.samples("db2a")[-1] is None and history.samples("db2b")[-1] is None
    assert len(history.samples("db2a")) == 5  # bounded


def test_one_reading_draws_no_trend() -> None:
    history = GapHistory()
    history.add(_link_down(4 * MIB, fx.T0))
    assert gap_trend(history, "db2a") == ""


def test_bad_history_size_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        GapHistory(size=0)


def test_the_feed_keeps_the_history_and_the_panel_shows_it() -> None:
    feed = ClusterFeed(fx.lab_cluster())
    for i, gap in enumerate([0, 2 * MIB, 6 * MIB]):
        feed.apply(_link_down(gap, fx.T0 + 2 * i))
    trend = gap_trend(feed.gap_history, "db2a")
    assert trend == "▁▄█"
    hadr = feed.status.hadr["db2a"].value  # type: ignore[union-attr]
    line = next(x for x in render_hadr(hadr, fx.NOW, trend).plain.splitlines() if x.startswith("log gap"))
    assert line == "log gap  6.0 MiB  ▁▄█"
    assert "▁" not in render_hadr(hadr, fx.NOW).plain


SIZE = (160, 50)


def test_snapshot_hadr_panel_with_gap_sparkline(snap_compare, monkeypatch):

    import screens.fleet  # noqa: F401
    import screens.help  # noqa: F401
    import screens.status  # noqa: F401
    from tui import screen_registry
    from tui.app import Db2OpsApp

    mine = {k: v for k, v in screen_registry._ENTRIES.items() if k in ("status", "fleet", "help")}
    monkeypatch.setattr(screen_registry, "_ENTRIES", mine)
    monkeypatch.setattr(screen_registry, "load_screen_modules", lambda package="screens": [])
    gaps = iter([0, MIB, 3 * MIB, None, None, 7 * MIB, 12 * MIB])
    monkeypatch.setitem(fx.SCENARIOS, "gap_growing", lambda cluster, t: _link_down(next(gaps), t))
    source = fx.FakeStatusSource("gap_growing")
    app = Db2OpsApp(
        fx.inventory("lab-hadr"),
        fx.settings(),
        status_source=source,
        runner=fx.FakeLabRunner(source),
        clock=lambda: fx.NOW,
    )

    async def run_before(pilot):
        await asyncio.wait_for(app.poller.wait_polls("lab-hadr", 1), 10)
        app.poller.set_paused(True)
        for count in range(2, 8):
            app.poller.refresh_now()
            await asyncio.wait_for(app.poller.wait_polls("lab-hadr", count), 10)
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
