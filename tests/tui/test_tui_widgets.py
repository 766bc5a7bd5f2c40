"""Pure rendering helpers: topology geometry, banner words, panel text, formats, the screen registry."""

from __future__ import annotations

import pytest
import tui_fixtures as fx

from services.status.model import Severity
from tui import screen_registry
from tui.widgets.banner import banner_text, healthy_sentence
from tui.widgets.format import format_age, format_bytes
from tui.widgets.header import header_content
from tui.widgets.panel_text import render_hadr, render_nodes, render_resources, render_route
from tui.widgets.topology import Topology, TopoNode, draw_topology


def _topo(route_target: str, promoted: str, hadr: str = "PEER") -> Topology:
    nodes = tuple(
        TopoNode(n, "online", "PRIMARY" if n == promoted else "STANDBY", promoted=n == promoted)
        for n in ("db2a", "db2b")
    )
    return Topology(nodes, "qnetd", "qnetd up", hadr, "192.168.1.81", route_target)


def test_topology_arrow_points_down_at_the_route_target_box():
    lines = draw_topology(_topo("db2b", "db2b")).plain.splitlines()
    arrow_col = lines[2].index("▼")
    db2b_box = lines[4].index("db2b")
    assert abs(arrow_col - db2b_box) < 10 and arrow_col > lines[4].index("db2a") + 10
    assert "╔" in lines[3][arrow_col - 10 : arrow_col + 10]  # the promoted box is double-lined
    assert "overlay IP 192.168.1.81" in lines[0]
    assert "qnetd up" in draw_topology(_topo("db2b", "db2b")).plain


def test_topology_says_when_the_route_misses_the_promoted_node():
    text = draw_topology(_topo("db2a", "db2b", hadr="DISCONNECTED")).plain
    assert "▼ NOT the promoted node" in text
    assert "DISCONNECTED" in text and "━" not in text  # a broken HADR link is dashed


def test_banner_says_healthy_in_words_only_with_the_data():
    text = banner_text(fx.healthy())
    assert text.severity is Severity.OK
    assert text.headline == "Healthy: db2a is primary, HADR PEER, quorum with qdevice"
    assert healthy_sentence(fx.after_failover()) == "Healthy: db2b is primary, HADR PEER, quorum with qdevice"


def test_banner_shows_the_worst_verdict_with_its_hint_first():
    text = banner_text(fx.no_quorum())
    assert text.severity is Severity.CRITICAL
    # the database is stopped (no quorum): that leads, db2a's state follows as a detail
    assert text.headline.startswith("partition WITHOUT quorum"), text.headline
    assert any("db2a is down (host down / instance stopped)" in d for d in text.details)
    assert text.details[0].startswith("→ ")
    assert any("quorum" in d for d in text.details)


def test_banner_before_the_first_snapshot_waits_and_reports_a_failed_poll():
    assert banner_text(None).headline == "Waiting for the first status…"
    failed = banner_text(None, "TimeoutError: no answer")
    assert failed.severity is Severity.CRITICAL and "TimeoutError" in failed.headline


def test_nodes_panel_uses_words_for_every_state():
    plain = render_nodes(fx.host_unreachable().crm.value).plain
    assert "db2b  OFFLINE" in plain and "DC" in plain
    assert "partition with quorum yes" in plain


def test_resources_put_the_promotable_clone_first_with_roles_per_node():
    lines = render_resources(fx.healthy().crm.value, ["db2a", "db2b"]).plain.splitlines()
    assert lines[1].startswith("db2_db2inst1_db2inst1_HADRDB-clone ★")
    assert lines[1].split()[-2:] == ["Promoted", "Unpromoted"]
    assert lines[0].split() == ["resource", "db2a", "db2b"]


def test_hadr_panel_lists_the_runbook_fields():
    plain = render_hadr(fx.healthy().hadr["db2a"].value, now=fx.NOW).plain
    for word in (
        "PRIMARY",
        "PEER",
        "NEARSYNC",
        "CONNECTED",
        "log gap  0 B",
        "(300 s window)",
        "last takeover",
    ):
        assert word in plain


def test_route_panel_flags_a_route_to_the_wrong_node():
    route = fx.healthy().overlay_route.value
    assert "✔ route follows the primary" in render_route(route, "db2a", "db2a", "192.168.1.81").plain
    wrong = render_route(route, "db2a", "db2b", "192.168.1.81").plain
    assert "ROUTE MISMATCH: traffic goes to db2a" in wrong


def test_header_badges_are_words_not_only_colours():
    plain = header_content("status", fx.lab_cluster(lab=False), paused=True, interval=2.0).plain
    assert "READ-ONLY" in plain and "PAUSED" in plain and "refresh 2s" in plain
    lab = header_content("status", fx.lab_cluster(), paused=False, interval=0.5).plain
    assert "READ-WRITE" in lab and "LAB" in lab and "PAUSED" not in lab


def test_header_says_whether_the_console_records():
    cluster = fx.lab_cluster()
    assert "REC" not in header_content("status", cluster, False, 2.0).plain  # not recording: nothing
    assert header_content("status", cluster, False, 2.0, recording="REC").plain.endswith("refresh 2s  REC ")
    paused = header_content("status", cluster, False, 2.0, recording="recording paused: disk full").plain
    assert paused.endswith("refresh 2s  [recording paused: disk full]")
    long = header_content("status", cluster, False, 2.0, recording="recording paused: " + "x" * 100).plain
    assert long.endswith("…]") and len(long) < 160


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(None, "—"), (0.44, "0.4s"), (12.7, "12s"), (184, "3m04s"), (7380, "2h03m"), (90000, "1d01h")],
)
def test_format_age(seconds, text):
    assert format_age(seconds) == text


def test_format_bytes():
    assert [format_bytes(n) for n in (0, 1536, 132242668)] == ["0 B", "1.5 KiB", "126.1 MiB"]


def test_screen_registry_resolves_aliases_and_rejects_bad_names():
    entry = screen_registry.register_screen("zzlogs", lambda app: None, "Logs", aliases=("zzlog", "ZZL"))
    try:
        assert screen_registry.resolve("ZZLOG") is entry
        assert screen_registry.resolve("zzl") is entry
        assert screen_registry.resolve("nope") is None
        with pytest.raises(ValueError, match="one word"):
            screen_registry.register_screen("two words", lambda app: None, "bad")
    finally:
        screen_registry.unregister_screen("zzlogs")
    assert screen_registry.resolve("zzlog") is None


def test_every_screen_module_imports_and_registers():
    loaded = screen_registry.load_screen_modules()
    assert {"screens.status", "screens.fleet", "screens.help"} <= set(loaded)
    assert {"status", "fleet", "help"} <= {e.alias for e in screen_registry.entries()}
