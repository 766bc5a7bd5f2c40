"""Short forms and summaries: error texts, banner headlines, one toast per poll, the HADR link after a
failover, the fleet's HADR column, palette titles. Pure functions on corpus-built snapshots."""

from __future__ import annotations

from dataclasses import replace

import pytest
import tui_fixtures as fx
from textual.content import Content

from services.part_errors import ErrorKind, PartError
from services.status.events import StatusEvent, diff_snapshots
from services.status.model import Part, Severity
from services.status.poll import ClusterFeed
from services.status.verdicts import derive_verdicts
from tui import screen_registry
from tui.widgets.banner import banner_text, short_message
from tui.widgets.events_log import events_toast
from tui.widgets.format import fit_text, short_error
from tui.widgets.topology import draw_topology
from tui.widgets.topology_facts import build_topology, summary_content

# the texts SshPool really raises (services/ssh/pool.py), after the status service took the host prefix off
REFUSED = fx.ssh_refused("127.0.0.1")
IN_BACKOFF = f"not retrying for 2.0s after: {REFUSED}"


@pytest.mark.parametrize(
    ("error", "short"),
    [
        (REFUSED, "unreachable: connection refused"),
        (IN_BACKOFF, "unreachable: connection refused"),
        (
            "cannot connect to 10.0.0.9:22 ([Errno 113] No route to host); check the address",
            "unreachable: no route to host",
        ),
        (
            "no SSH answer from 10.0.1.11 within 5s; check the host is up and port 22 is open from here",
            "unreachable: no SSH answer in 5s",
        ),
        (
            "connection lost while running `crm_mon -1` (Connection reset by peer); the next call reconnects",
            "unreachable: connection lost",
        ),
        (
            "`corosync-qnetd-tool -l` exited 3: Can't connect to qnetd socket (is QNetd running?)",
            "corosync-qnetd-tool exited 3: Can't connect to qnetd socket…",
        ),
        (
            "last poll failed: TimeoutError: status took too long",
            "poll failed: TimeoutError: status took too long",
        ),
        (
            f"db2a: {REFUSED}; db2b: `crm_mon -1 --output-as=xml` exited 102: crm_mon: Error: not connected",
            "db2a: unreachable: connection refused; db2b: crm_mon exited 102: crm_mon: Error: not connected",
        ),
    ],
)
def test_short_error_keeps_the_cause_and_drops_addresses_and_advice(error, short):
    assert short_error(error) == short


def test_fit_text_cuts_at_a_word_and_says_so():
    assert fit_text("HADR PRIMARY (old value)", 17) == "HADR PRIMARY…"
    assert fit_text("REMOTE_CATCHUP_PENDING", 17) == "REMOTE_CATCHUP_P…"  # one long word: cut, but marked
    assert fit_text("PEER", 17) == "PEER"


def unreachable(host: str, scenario=fx.healthy, message: str = IN_BACKOFF):
    """`scenario` with `host` down (in SshPool's backoff): its parts keep their last good values (30 s old)
    with that error."""
    status = scenario()
    error = PartError(ErrorKind.UNREACHABLE, message, host=host, in_backoff=True)

    def dead(parts: dict[str, Part]) -> dict[str, Part]:
        return {
            h: (replace(p, error=error, fetched_at=fx.T0 - 30) if h == host else p) for h, p in parts.items()
        }

    status = replace(
        status,
        hadr=dead(status.hadr),
        quorum=dead(status.quorum),
        qdevice=dead(status.qdevice),
        host_errors={host: error},
    )
    return replace(status, verdicts=derive_verdicts(status))


def test_banner_headline_is_short_and_the_detail_has_the_full_error():
    text = banner_text(unreachable("db2b", fx.host_unreachable))
    assert text.severity is Severity.CRITICAL
    # Pacemaker (from db2a) reports db2b offline: the cause is said, not "check the address"
    assert text.headline.startswith(
        "db2b is down (host down / instance stopped): Pacemaker reports it offline"
    )
    assert len(text.headline) <= 96
    assert any("Errno 111" in item for item in text.full)
    assert text.details[0] == "→ start EC2 instance i-0bbb2222 of db2b; Pacemaker rejoins it when it boots"
    assert short_message("node db2b is offline: the cluster runs without a standby").endswith("standby")


def test_a_failovers_events_make_one_toast_worst_first():
    events = diff_snapshots(fx.healthy(), unreachable("db2a", fx.after_failover))
    assert len(events) >= 4  # the storm the lead saw: one toast each covered half the screen
    worst, text = events_toast(events)
    lines = text.splitlines()
    assert worst == "critical"
    assert lines[0] == "CRITICAL: db2a became unreachable: connection refused"
    assert len(lines) == 4 and lines[-1] == f"+{len(events) - 3} more in the events panel"


def test_one_event_toast_has_no_more_line():
    event = StatusEvent(fx.T0, "lab-hadr", "node_joined", "node db2b joined the cluster", Severity.INFO)
    assert events_toast([event]) == ("info", "INFO: node db2b joined the cluster")


def topology_of(*snapshots):
    cluster = fx.lab_cluster()
    feed = ClusterFeed(cluster)
    for snapshot in snapshots:
        feed.apply(snapshot)
    keys = ["crm", "qnetd", "route"] + [
        f"{k}:{h}" for h in ("db2a", "db2b") for k in ("hadr", "quorum", "qdevice")
    ]
    views = {k: feed.view(k, fx.NOW, 2.0) for k in keys}
    return build_topology(cluster, feed, views)


def test_dead_primarys_stale_peer_never_draws_a_healthy_link():
    # db2a (the old primary) dies; its last good HADR said PRIMARY/PEER. db2b answers: PRIMARY, DISCONNECTED
    after = replace(fx.after_failover(), hadr={**fx.after_failover().hadr})
    after.hadr["db2b"] = replace(
        after.hadr["db2b"], value=fx._hadr("PRIMARY", "DISCONNECTED", "DISCONNECTED")
    )
    topo = topology_of(fx.healthy(), unreachable("db2a", lambda: after))
    assert (topo.hadr_state, topo.link) == ("DISCONNECTED", "broken")
    picture = draw_topology(topo).plain
    assert "HADR ✘" in picture and "━" not in picture and "PEER" not in picture
    assert "unreachable" in picture and "(stale" not in picture and "(old" not in picture


def test_link_is_broken_when_pacemaker_sees_a_node_offline_even_if_hadr_still_says_peer():
    topo = topology_of(fx.host_unreachable())  # db2b OFFLINE per Pacemaker; its stale STANDBY said PEER
    assert topo.link == "broken" and topo.hadr_state == "DISCONNECTED"
    db2b = next(n for n in topo.nodes if n.name == "db2b")
    assert db2b.down and db2b.hadr_line == "unreachable 31s"  # and when it last answered


def test_link_is_only_degraded_while_one_side_cannot_be_asked():
    # db2b unreachable over SSH but still online for Pacemaker; db2a (primary) says PEER, CONNECTED
    status = unreachable("db2b", fx.healthy)
    topo = topology_of(fx.healthy(), status)
    assert (topo.hadr_state, topo.link) == ("PEER", "degraded")


def test_summary_line_says_primary_hadr_and_whats_down_in_words():
    plain = summary_content(topology_of(fx.host_unreachable())).plain
    assert plain == "primary db2a · HADR DISCONNECTED · db2b OFFLINE · route → db2a ✔ · qnetd up"


def test_fleet_hadr_column_ignores_a_dead_hosts_stale_peer():
    from screens.fleet import fleet_hadr

    assert fleet_hadr(fx.healthy()) == "PEER"
    assert fleet_hadr(fx.host_unreachable()) == "DISCONNECTED"  # db2a answers; db2b's PEER is stale
    everyone_dead = unreachable("db2b", lambda: unreachable("db2a", fx.healthy))
    assert fleet_hadr(everyone_dead) == "? (no answer)"


def test_palette_titles_name_screens_for_people():
    import screens.failover  # noqa: F401  (registers :failover)

    assert screen_registry.resolve("failover").display_title == "Guided failover"
    entry = screen_registry.register_screen("zzt", lambda app: None, "A long description without a colon")
    try:
        assert entry.display_title == "Zzt"
        titled = screen_registry.register_screen("zzt", lambda app: None, "x: y", title="Custom")
        assert titled.display_title == "Custom"
    finally:
        screen_registry.unregister_screen("zzt")


@pytest.mark.parametrize("text", ["Time between polls ([ and ])", "cluster [prod] \\ dr", "[b]not bold[/b]"])
def test_palette_help_with_brackets_stays_text(text):
    # the palette parses help as markup: "([ and ])" rendered as "()" before it was escaped
    from tui.commands import markup_safe

    assert Content.from_markup(markup_safe(text)).plain == text


class ToastRecorder:
    """Stands in for the app: records notify calls and the timers EventToasts asks for."""

    def __init__(self) -> None:
        self.now = 100.0
        self.toasts: list[tuple[str, str, str]] = []
        self.timers: list[tuple[float, object]] = []

    def notify(self, text, *, title, severity, timeout, markup):
        assert markup is False  # host texts may hold "[" and must not be read as markup
        self.toasts.append((title, severity, text))

    def set_timer(self, delay, callback):
        self.timers.append((delay, callback))


def test_changes_during_a_showing_toast_wait_and_come_out_as_one_summary():
    from tui.event_toasts import TOAST_SECONDS, EventToasts

    app = ToastRecorder()
    toasts = EventToasts(app, clock=lambda: app.now)
    first = diff_snapshots(fx.healthy(), unreachable("db2a", fx.healthy))
    toasts.add("lab-hadr", first)
    assert [t[0] for t in app.toasts] == ["lab-hadr"] and app.toasts[0][1] == "error"
    app.now += 2  # the next two polls bring more changes while the first toast still shows
    toasts.add("lab-hadr", diff_snapshots(fx.healthy(), fx.after_failover()))
    app.now += 2
    toasts.add(
        "lab-hadr", [StatusEvent(app.now, "lab-hadr", "node_joined", "node db2a joined", Severity.INFO)]
    )
    toasts.add("other", [StatusEvent(app.now, "other", "node_joined", "node x joined", Severity.INFO)])
    assert len(app.toasts) == 2 and app.toasts[1][0] == "other"  # another cluster is not held back
    assert len(app.timers) == 1 and app.timers[0][0] == TOAST_SECONDS - 2
    app.now += 1
    app.timers[0][1]()  # the first toast has gone: one summary of everything held back
    title, severity, text = app.toasts[2]
    assert title == "lab-hadr: 5 changes" and severity == "warning"
    assert text.splitlines()[-1] == "+2 more in the events panel"
    toasts.add("lab-hadr", [])  # a poll without changes shows nothing
    assert len(app.toasts) == 3


def test_panel_detail_has_the_whole_error_and_says_space_skips_the_backoff():
    from screens.panel_detail import detail_content

    feed = ClusterFeed(fx.lab_cluster())
    feed.apply(fx.healthy())
    feed.apply(unreachable("db2a", fx.healthy))
    view = feed.view("hadr:db2a", fx.NOW, 2.0)
    text = detail_content("HADR on db2a — lab-hadr", [view], fx.NOW).plain
    assert f"error     {IN_BACKOFF}" in text  # nothing shortened here
    assert "space retries now" in text and "hadr:db2a  STALE" in text
