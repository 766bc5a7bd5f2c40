"""A dead host's panels at each moment of a failover: they say when the host was last seen, keep its old
values under "last known" (dimmed, struck), never show its old role as if live, and come after live ones.

Moments: just after db2a (the primary) stops answering, 40 s later, and after it answers again.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
import tui_fixtures as fx
from textual.content import Content

from screens.status import StatusScreen
from services.status.poll import ClusterFeed
from tui.app import Db2OpsApp
from tui.widgets.stale_text import format_ago, hadr_role_note, last_seen_line
from tui.widgets.status_panel import LAST_KNOWN, StatusPanel

SIZES = [(160, 50), (100, 30), (80, 24)]
KEYS = ["crm", "qnetd", "route"] + [
    f"{k}:{h}" for h in ("db2a", "db2b") for k in ("hadr", "quorum", "qdevice")
]


def primary_gone(cluster: str, t: float):
    """db2a last answered at T0 (the healthy poll); db2b promoted and answering at `t`."""
    return fx.failover_stale(cluster, t, seen_for=t - fx.T0)


def views_of(*snapshots, now: float):
    feed = ClusterFeed(fx.lab_cluster())
    for snapshot in snapshots:
        feed.apply(snapshot)
    return {k: feed.view(k, now, 2.0) for k in KEYS}


def struck_lines(content: Content) -> list[str]:
    """The lines of `content` drawn struck through (the old values)."""
    plain = content.plain
    struck = [plain[s.start : s.end] for s in content.spans if "strike" in str(s.style)]
    return [line for chunk in struck for line in chunk.splitlines() if line.strip()]


def test_ago_is_whole_units():
    assert [format_ago(s) for s in (0.4, 40.9, 184, 7400)] == [
        "0 s ago",
        "40 s ago",
        "3 min 04 s ago",
        "2h03m ago",
    ]


def test_last_seen_names_the_clock_time_and_the_age_of_the_oldest_stale_value():
    views = views_of(fx.healthy(), primary_gone("lab-hadr", fx.T0 + 40), now=fx.T0 + 40)
    assert last_seen_line([views["hadr:db2a"]], fx.T0 + 40) == "last seen 14:59:06 (40 s ago)"
    assert last_seen_line([views["hadr:db2b"]], fx.T0 + 40) == ""  # live: nothing to say


def test_a_dead_old_primarys_role_names_the_live_primary():
    views = views_of(fx.healthy(), primary_gone("lab-hadr", fx.T0 + 5), now=fx.T0 + 5)
    assert hadr_role_note("db2a", views, "db2b") == "last known PRIMARY — db2b is primary now"
    assert hadr_role_note("db2b", views, "db2b") == ""  # live panels need no note


def test_mid_promotion_the_dead_primary_is_contradicted_by_nothing_live_yet():
    # db2b still STANDBY and not promoted: no live primary to name, so no false "db2b is primary now"
    views = views_of(fx.mid_failover(), now=fx.NOW)
    assert hadr_role_note("db2a", views, None) == ""


def test_a_dead_standby_contradicts_nothing():
    views = views_of(fx.host_unreachable(), now=fx.NOW)
    assert hadr_role_note("db2b", views, "db2a") == ""


def make_app(now):
    source = fx.FakeStatusSource("healthy", clock=lambda: now[0])
    app = Db2OpsApp(
        fx.inventory(),
        fx.settings(),
        status_source=source,
        runner=fx.FakeLabRunner(source),
        clock=lambda: now[0],
    )
    return app, source


async def poll(pilot, app, source, scenario):
    source.scenario = scenario
    count = app.poller.polls.get("lab-hadr", 0)
    app.poller.refresh_now()
    await asyncio.wait_for(app.poller.wait_polls("lab-hadr", count + 1), 10)
    await pilot.pause()


def hadr_order(screen) -> list[str]:
    return [p.id for p in screen.query("StatusPanel.hadr").results(StatusPanel)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_stale_panels_at_each_moment_of_a_failover(monkeypatch, size):
    monkeypatch.setitem(fx.SCENARIOS, "primary_gone", primary_gone)
    now = [fx.T0]
    app, source = make_app(now)
    async with app.run_test(size=size) as pilot:
        await asyncio.wait_for(app.poller.wait_polls("lab-hadr", 1), 10)
        app.poller.set_paused(True)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, StatusScreen)
        assert hadr_order(screen) == ["hadr-db2a", "hadr-db2b"]

        # just after: db2a stopped answering 2 s ago, db2b already promoted
        now[0] = fx.T0 + 2
        await poll(pilot, app, source, "primary_gone")
        hadr_a = screen.query_one("#hadr-db2a", StatusPanel)
        content = hadr_a.render()
        lines = content.plain.splitlines()
        assert hadr_a.has_class("-stale")
        assert lines[:4] == [
            "⚠ db2a unreachable: connection refused",
            "last seen 14:59:06 (2 s ago)",
            "last known PRIMARY — db2b is primary now",
            LAST_KNOWN,
        ]
        # every old value is struck, and nothing above the heading is an old value
        old = lines[4:]
        assert old[0].startswith("role     PRIMARY   state PEER")
        assert struck_lines(content) == old
        assert hadr_order(screen) == ["hadr-db2b", "hadr-db2a"]  # the live primary's panel first
        assert [p.id for p in screen.query("StatusPanel.quorum").results(StatusPanel)][:2] == [
            "quorum-db2b",
            "quorum-db2a",
        ]
        quorum_a = screen.query_one("#quorum-db2a", StatusPanel).render()
        assert "last seen 14:59:06 (2 s ago)" in quorum_a.plain
        assert any("votes 3/3" in line for line in struck_lines(quorum_a))
        live = screen.query_one("#hadr-db2b", StatusPanel).render()
        assert live.plain.startswith("role     PRIMARY   state DISCONNECTED") and not struck_lines(live)

        # between polls the age moves on its own (the screen's 1 s tick)
        now[0] = fx.T0 + 5
        await pilot.pause(1.3)
        assert "last seen 14:59:06 (5 s ago)" in hadr_a.render().plain

        # 40 s later, db2a still silent
        now[0] = fx.T0 + 40
        await poll(pilot, app, source, "primary_gone")
        assert "last seen 14:59:06 (40 s ago)" in hadr_a.render().plain
        assert hadr_order(screen) == ["hadr-db2b", "hadr-db2a"]
        if not screen.compact:
            picture = screen.query_one("#topology", StatusPanel).render().plain
            assert "unreachable 40s" in picture and "HADR PRIMARY" in picture  # db2b's box only
            assert picture.count("PRIMARY") == 1

        # db2a answers again (as the standby): no stale mark, no "last seen", inventory order back
        now[0] = fx.T0 + 60
        await poll(pilot, app, source, "after_failover")
        panels = list(screen.query(StatusPanel))
        assert not [p.id for p in panels if p.has_class("-stale")]
        for panel in panels:
            text = panel.render().plain
            assert "last seen" not in text and LAST_KNOWN not in text and not struck_lines(panel.render())
            assert "STALE" not in str(panel.border_subtitle)
        assert hadr_order(screen) == ["hadr-db2a", "hadr-db2b"]


async def test_a_mid_promotion_snapshot_draws_no_second_primary():
    now = [fx.NOW]
    app, source = make_app(now)
    source.scenario = "mid_failover"
    async with app.run_test(size=(160, 50)) as pilot:
        await asyncio.wait_for(app.poller.wait_polls("lab-hadr", 1), 10)
        await pilot.pause()
        screen = app.screen
        picture = screen.query_one("#topology", StatusPanel).render().plain
        assert "PRIMARY" not in picture and "unreachable 3.0s" in picture
        hadr_a = screen.query_one("#hadr-db2a", StatusPanel).render()
        assert "last seen 14:59:04 (3 s ago)" in hadr_a.plain
        assert "primary now" not in hadr_a.plain  # db2b is not primary yet: no false claim
        assert struck_lines(hadr_a)[0].startswith("role     PRIMARY")
        assert hadr_order(screen)[0] == "hadr-db2b"


def test_panel_never_shows_a_stale_value_unstruck():
    """The panel alone: a stale view's body is struck whatever the screen passes."""
    views = views_of(fx.healthy(), primary_gone("lab-hadr", fx.T0 + 9), now=fx.T0 + 9)
    panel = StatusPanel("HADR on db2a")
    from tui.widgets.panel_text import render_hadr

    body = render_hadr(views["hadr:db2a"].value)
    panel.show(body, [views["hadr:db2a"]], now=fx.T0 + 9)
    content = panel.render()
    assert struck_lines(content) == body.plain.splitlines()
    fresh = replace(views["hadr:db2b"])
    panel.show(render_hadr(fresh.value), [fresh], now=fx.T0 + 9)
    assert not struck_lines(panel.render()) and "last seen" not in panel.render().plain


def _fill_of(svg: str, text: str) -> tuple[str, str]:
    """Return (fill colour, text-decoration) of the first SVG text run starting with `text`."""
    import html
    import re

    for cls, body in re.findall(r'<text class="([^"]+)"[^>]*>([^<]*)</text>', svg):
        if html.unescape(body).replace("\xa0", " ").startswith(text):
            rule = re.search(r"\." + re.escape(cls) + r" \{([^}]*)\}", svg)
            assert rule is not None
            fill = re.search(r"fill: (#[0-9a-f]{6})", rule.group(1))
            deco = re.search(r"text-decoration: ([\w-]+)", rule.group(1))
            return (fill.group(1) if fill else "", deco.group(1) if deco else "")
    raise AssertionError(f"no text run starts with {text!r}")


async def test_old_values_are_drawn_dimmer_than_live_ones_and_struck():
    """As drawn, not as styled: the struck old values are darker than the live panel's text."""
    now = [fx.NOW]
    app, source = make_app(now)
    source.scenario = "failover_stale"
    async with app.run_test(size=(160, 50)) as pilot:
        await asyncio.wait_for(app.poller.wait_polls("lab-hadr", 1), 10)
        await pilot.pause()
        svg = app.export_screenshot()
    old_fill, old_deco = _fill_of(svg, "role     PRIMARY   state PEER")
    live_fill, _ = _fill_of(svg, "NEARSYNC")  # a value of the live panel (its own text run)
    assert old_deco == "line-through"

    def brightness(colour: str) -> int:
        return sum(int(colour[i : i + 2], 16) for i in (1, 3, 5))

    assert brightness(old_fill) < brightness(live_fill)


def test_the_panel_detail_says_last_seen_and_not_live():
    from screens.panel_detail import detail_content

    views = views_of(fx.healthy(), primary_gone("lab-hadr", fx.T0 + 40), now=fx.T0 + 40)
    text = detail_content("HADR on db2a — lab-hadr", [views["hadr:db2a"]], fx.T0 + 40).plain
    assert "hadr:db2a  STALE: the values are the last known, not live" in text
    assert "last seen 14:59:06 (40s ago)" in text
    live = detail_content("HADR on db2b — lab-hadr", [views["hadr:db2b"]], fx.T0 + 40).plain
    assert "hadr:db2b  fresh" in live and "fetched   14:59:46 (0.0s ago)" in live
