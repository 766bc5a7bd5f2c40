"""The failover strip read from snapshots of lab drills: a crash with its four phases and the times between,
one still under way, one never back to PEER, a cluster without an overlay route, a planned switchover; as a
line of text fitted to a width and as a standalone SVG that holds hostile names as text."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import replace

from incident_harness import START, DrillWalk

from services.record.model import Frame
from services.record.strip import (
    LOST,
    PEER,
    PROMOTED,
    ROUTE,
    Phase,
    Strip,
    failover_strip,
    format_span,
    strip_svg,
    strip_text,
)
from services.status.model import ClusterStatus

SVG = "{http://www.w3.org/2000/svg}"


async def _crash(monkeypatch, *, restore: bool = True) -> list[ClusterStatus]:
    """Healthy, the primary killed at START+2, polls every few seconds, then restored at +52 (with `restore`)."""
    walk = DrillWalk(monkeypatch=monkeypatch)
    frames = [await walk.snap()]
    walk.advance(2)
    frames.append(await walk.snap())
    walk.lab.kill_primary()
    for step in (0.5, 2, 2, 2, 2, 2, 10, 30):
        walk.advance(step)
        frames.append(await walk.snap())
    if restore:
        walk.lab.restore()
        for step in (2, 5, 20, 30):
            walk.advance(step)
            frames.append(await walk.snap())
    return frames


def _at(strip: Strip, key: str) -> float | None:
    phase = strip.phase(key)
    assert phase is not None, key
    return phase.at


async def test_a_crash_shows_lost_promoted_route_moved_peer_again_with_times(monkeypatch) -> None:
    frames = await _crash(monkeypatch)
    strip = failover_strip(Frame(s.taken_at, s) for s in frames)
    assert strip is not None
    assert (strip.old_primary, strip.new_primary, strip.planned) == ("db2a", "db2b", False)
    assert [p.key for p in strip.phases] == [LOST, PROMOTED, ROUTE, PEER]
    assert all(p.reached for p in strip.phases)
    # lost when db2a last answered (the poll just before the kill); Pacemaker promoted 8 s later (the lab's
    # failover delay, read from its promote operation); the route and PEER as the first poll showing them
    assert _at(strip, LOST) == START + 2
    promoted = _at(strip, PROMOTED)
    assert promoted is not None and 8 <= promoted - (START + 2) <= 9
    first_on_db2b = next(s.taken_at for s in frames if s.promoted_node == "db2b")
    assert _at(strip, ROUTE) == first_on_db2b
    peer = next(
        s.taken_at
        for s in frames
        if s.taken_at > first_on_db2b and s.hadr["db2b"].ok and s.hadr["db2b"].value.state == "PEER"
    )
    assert _at(strip, PEER) == peer
    assert strip.title == "db2b took over from db2a (crash)"
    text = strip_text(strip)
    assert text.startswith("● db2a lost ")
    assert "● db2b promoted" in text and "● route moved" in text and text.endswith("● peer again")
    assert f"──{format_span(peer - first_on_db2b)}──" in text
    assert "○" not in text and "?" not in text


async def test_the_order_of_frames_does_not_matter(monkeypatch) -> None:
    frames = await _crash(monkeypatch)
    assert failover_strip(reversed(frames)) == failover_strip(frames)


async def test_a_failover_under_way_has_pending_phases_with_the_wait_so_far(monkeypatch) -> None:
    frames = (await _crash(monkeypatch, restore=False))[:4]  # killed, not yet promoted
    assert frames[-1].promoted_node is None
    strip = failover_strip(frames)
    assert strip is not None
    assert strip.title == "db2b took over from db2a (crash), in progress"
    assert [(p.key, p.reached) for p in strip.phases] == [
        (LOST, True),
        (PROMOTED, False),
        (ROUTE, False),
        (PEER, False),
    ]
    waited = frames[-1].taken_at - (START + 2)
    text = strip_text(strip)
    assert f"──{format_span(waited)}+── ○ db2b promoted" in text
    assert "○ peer again" in text


async def test_never_back_to_peer_leaves_peer_pending(monkeypatch) -> None:
    frames = await _crash(monkeypatch, restore=False)
    strip = failover_strip(frames)
    assert strip is not None
    peer = strip.phase(PEER)
    assert peer is not None and not peer.reached and peer.at is None
    route = strip.phase(ROUTE)
    assert route is not None and route.reached
    assert strip.gaps()[-1] == (frames[-1].taken_at - route.at, True)  # type: ignore[operator]


async def test_without_an_overlay_route_there_is_no_route_phase(monkeypatch) -> None:
    frames = [replace(s, overlay_route=None) for s in await _crash(monkeypatch)]
    strip = failover_strip(frames)
    assert strip is not None
    assert [p.key for p in strip.phases] == [LOST, PROMOTED, PEER]
    assert "route" not in strip_text(strip)


async def test_a_route_that_never_followed_stays_pending(monkeypatch) -> None:
    frames = await _crash(monkeypatch)
    stuck = [replace(s, instance_ids={**s.instance_ids, "db2b": "i-elsewhere"}) for s in frames]
    strip = failover_strip(stuck)
    assert strip is not None
    route = strip.phase(ROUTE)
    assert route is not None and not route.reached
    assert "○ route moved" in strip_text(strip)


async def test_a_planned_switchover_is_not_a_crash(monkeypatch) -> None:
    walk = DrillWalk(monkeypatch=monkeypatch)
    frames = [await walk.snap()]
    walk.advance(5)
    moved_at = walk.clock.now
    walk.lab.move_primary("db2b")
    for _ in range(2):
        walk.advance(2)
        frames.append(await walk.snap())
    strip = failover_strip(frames)
    assert strip is not None
    assert strip.planned and strip.title == "switchover db2a → db2b"
    lost, promoted = _at(strip, LOST), _at(strip, PROMOTED)
    # dated by Pacemaker's demote and promote (1 s resolution), not by the poll that saw them
    assert lost is not None and abs(lost - moved_at) <= 1
    assert promoted is not None and abs(promoted - moved_at) <= 1
    assert strip_text(strip).startswith("● switchover ")


async def test_a_steady_cluster_has_no_strip(monkeypatch) -> None:
    walk = DrillWalk(monkeypatch=monkeypatch)
    frames = []
    for _ in range(3):
        frames.append(await walk.snap())
        walk.advance(2)
    assert failover_strip(frames) is None
    assert failover_strip([]) is None


async def test_the_latest_of_two_failovers_is_drawn(monkeypatch) -> None:
    walk = DrillWalk(monkeypatch=monkeypatch)
    frames = [await walk.snap()]
    for _ in range(2):  # db2a dies, db2b takes over, db2a returns; then db2b dies and db2a takes over
        walk.lab.kill_primary()
        for step in (0.5, 10, 5):
            walk.advance(step)
            frames.append(await walk.snap())
        walk.lab.restore()
        for step in (5, 30):
            walk.advance(step)
            frames.append(await walk.snap())
    second_kill = frames[5].taken_at  # the last poll before the second kill
    strip = failover_strip(frames)
    assert strip is not None
    assert (strip.old_primary, strip.new_primary) == ("db2b", "db2a")
    assert _at(strip, LOST) == second_kill
    assert all(p.reached for p in strip.phases)


def test_text_fits_a_width_shortening_labels_before_cutting() -> None:
    strip = Strip(
        "lab1",
        "db2a",
        "db2b",
        False,
        (Phase(LOST, START), Phase(PROMOTED, START + 6), Phase(ROUTE, START + 8), Phase(PEER, START + 48)),
        START + 60,
    )
    full = strip_text(strip)
    assert full == (
        "● db2a lost 00:53:20 UTC ──6s── ● db2b promoted ──2s── ● route moved ──40s── ● peer again"
    )
    assert strip_text(strip, 200) == full
    short = "● lost 00:53:20 ──6s── ● promoted ──2s── ● route ──40s── ● peer"
    assert strip_text(strip, len(short)) == short
    tighter = strip_text(strip, 50)
    assert len(tighter) <= 50 and "promoted" in tighter
    cut = strip_text(strip, 20)
    assert len(cut) == 20 and cut.endswith("…")


def test_undated_phases_say_so() -> None:
    strip = Strip(
        "c",
        None,
        "db2b",
        False,
        (Phase(LOST, None), Phase(PROMOTED, START), Phase(PEER, START + 95)),
        START + 99,
    )
    assert strip_text(strip) == "● primary lost ──?── ● db2b promoted ──1m35s── ● peer again"
    assert format_span(3725) == "1h02m"


HOSTILE = '<script>alert(1)</script>"\x1b[2J\x00\ud800&amp;\u202e'


def test_svg_is_standalone_and_holds_hostile_names_as_text() -> None:
    strip = Strip(
        HOSTILE,
        HOSTILE,
        "db2b" + HOSTILE,
        False,
        (
            Phase(LOST, START),
            Phase(PROMOTED, START + 6),
            Phase(ROUTE, None, reached=False),
            Phase(PEER, None, reached=False),
        ),
        START + 30,
    )
    svg = strip_svg(strip)
    root = ET.fromstring(svg.encode("utf-8"))  # well-formed XML: no control character, no lone surrogate
    assert root.tag == f"{SVG}svg"
    assert root.find(f"{SVG}script") is None and "<script" not in svg
    assert "\x1b" not in svg and "\x00" not in svg and "\u202e" not in svg
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any("<script>alert(1)</script>" in t for t in texts)  # shown, as text
    assert "not yet" in texts and "00:53:20" in texts and "24s+" in texts and "…" in texts
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched
    line = strip_text(strip)
    assert "\x1b" not in line and "\u202e" not in line and "<script>" in line  # text for a terminal
    circles = root.findall(f"{SVG}circle")
    assert [c.get("fill") for c in circles] == ["#cf222e", "#1f6feb", "#ffffff", "#ffffff"]


async def test_svg_of_a_lab_crash(monkeypatch) -> None:
    strip = failover_strip(await _crash(monkeypatch))
    assert strip is not None
    root = ET.fromstring(strip_svg(strip))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "db2a lost" in texts and "peer again" in texts
    assert (root.findtext(f"{SVG}title") or "").startswith("lab1: db2b took over from db2a")


async def test_the_feeds_moments_give_the_same_strip_as_every_snapshot(monkeypatch) -> None:
    from services.status.poll import ClusterFeed

    walk = DrillWalk(monkeypatch=monkeypatch)
    frames = await _crash(monkeypatch)
    feed = ClusterFeed(walk.cluster)
    for s in frames:
        feed.apply(s)
    assert len(feed.moments) < len(frames)  # only the snapshots where the strip's facts changed
    assert failover_strip([*feed.moments, frames[-1]]) == failover_strip(frames)
