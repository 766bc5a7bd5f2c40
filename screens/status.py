"""The cluster status screen: verdict banner, topology, nodes, resources, quorum, HADR, overlay route, events.

Every panel names its source host and the age of its data and turns stale (class `-stale`) when that data
is old or its last fetch failed: it says when the host was last seen and keeps the last good values under
a "last known" heading, never a blank and never in the form of a live value. Per-host rows put live panels
first, so the first HADR panel a reader meets is a live one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events, getters
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static

from services.inventory.model import Cluster
from services.status.gap_history import gap_trend
from services.status.poll import ClusterFeed
from tui.screen_registry import ScreenUnavailable, register_screen
from tui.widgets.banner import VerdictBanner, banner_text
from tui.widgets.events_log import EventsLog
from tui.widgets.fitted_footer import FittedFooter
from tui.widgets.header import ConsoleHeader
from tui.widgets.lab_notes import LabNotes
from tui.widgets.panel_text import (
    render_failed_actions,
    render_hadr,
    render_nodes,
    render_qnetd,
    render_quorum,
    render_resources,
    render_route,
)
from tui.widgets.stale_text import hadr_role_note
from tui.widgets.status_panel import StatusPanel
from tui.widgets.topology import draw_topology
from tui.widgets.topology_facts import build_topology, route_target_host, summary_content

if TYPE_CHECKING:
    from tui.app import Db2OpsApp

# below these sizes the topology picture gives way to a one-line summary and panels stack (80x24 works)
NARROW_COLUMNS = 110
SHORT_ROWS = 32


def css_id(name: str) -> str:
    """Return `name` made safe for a widget id (host names may hold dots)."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)


class StatusScreen(Screen[None]):
    """Live status of one cluster. Keys: space refresh, p pause, K/R lab drills, - back."""

    HELP = (
        "Live status of one cluster: what is wrong first, then every fact with its source and age. "
        "Click a panel (or Tab to it and Enter) for its full errors and commands; click the banner for "
        "every verdict in full."
    )

    if TYPE_CHECKING:  # the console's app, for the type checker only (textual's own idiom)
        app = getters.app(Db2OpsApp)

    BINDINGS = [
        Binding("K", "drill('kill-primary')", "Kill primary", id="drill.kill_primary"),
        Binding("N", "drill('stop-qnetd')", "Stop qnetd", id="drill.stop_qnetd"),
        Binding("D", "drill('disconnect-hadr')", "Disconnect HADR", id="drill.disconnect_hadr"),
        Binding("R", "drill('restore')", "Restore lab", id="drill.restore"),
    ]

    def __init__(self, cluster: Cluster) -> None:
        super().__init__(name=f"status:{cluster.name}")
        self.cluster = cluster

    def compose(self) -> ComposeResult:
        c = self.cluster
        yield ConsoleHeader("status", c)
        yield VerdictBanner(id="banner")
        yield LabNotes(id="lab-notes")  # a lab part that did not start (hidden otherwise)
        yield Static(id="summary")
        with VerticalScroll(id="status-body"):
            with Horizontal(classes="row"):
                yield StatusPanel("Topology", id="topology")
                with Vertical(classes="column"):
                    yield StatusPanel("Pacemaker nodes", id="nodes")
                    yield StatusPanel("Overlay IP route", id="route")
                    yield StatusPanel("Failed actions", id="failed")
            with Horizontal(classes="row"):
                for host in c.db_hosts:
                    yield StatusPanel(f"HADR on {host.name}", id=f"hadr-{css_id(host.name)}", classes="hadr")
            yield StatusPanel("Resources (roles per node)", id="resources")
            with Horizontal(classes="row"):
                for host in c.db_hosts:
                    yield StatusPanel(
                        f"Quorum on {host.name}", id=f"quorum-{css_id(host.name)}", classes="quorum"
                    )
                q = c.qdevice_host
                yield StatusPanel(f"qnetd on {q.name if q else '?'}", id="qnetd", classes="quorum")
        # below the scrolling panels, not at their end: after a kill the stale panels grow and the events
        # were pushed to one row above the footer (160x48); here they keep their rows and scroll
        yield EventsLog(id="events")
        yield FittedFooter()

    def on_mount(self) -> None:
        self._fit(self.app.size.width, self.app.size.height)
        body = self.query_one("#status-body", VerticalScroll)
        self.watch(body, "show_vertical_scrollbar", self._line_up_events)
        self.app.status_signal.subscribe(self, self._on_status)
        self.set_interval(1.0, self.refresh_view)  # ages keep moving between polls
        self.refresh_view()

    def on_screen_resume(self) -> None:
        self.refresh_view()

    def on_resize(self, event: events.Resize) -> None:
        self._fit(event.size.width, event.size.height)
        self.refresh_view()

    def _line_up_events(self, scrolls: bool) -> None:
        """The events panel sits outside the scrolling panels: while they show a scrollbar it keeps that
        many columns free on its right, so it ends where they end instead of sticking out under it."""
        body = self.query_one("#status-body", VerticalScroll)
        gutter = body.styles.scrollbar_size_vertical if scrolls else 0
        self.query_one(EventsLog).styles.margin = (0, gutter, 0, 0)

    def _fit(self, width: int, height: int) -> None:
        """Narrow: panels stack, no picture. Short: no picture, fewer banner lines. Both show the summary."""
        self.set_class(width < NARROW_COLUMNS, "-narrow")
        self.set_class(height < SHORT_ROWS, "-short")

    @property
    def compact(self) -> bool:
        return self.has_class("-narrow") or self.has_class("-short")

    def on_status_panel_details_requested(self, message: StatusPanel.DetailsRequested) -> None:
        from screens.panel_detail import PanelDetailScreen

        panel = message.panel
        title = f"{panel.title_text} — {self.cluster.name}"
        self.app.push_screen(PanelDetailScreen(title, panel.views, self.app.now()))

    def on_verdict_banner_details_requested(self, message: VerdictBanner.DetailsRequested) -> None:
        from screens.panel_detail import VerdictDetailScreen

        self.app.push_screen(VerdictDetailScreen(self.cluster.name, message.text))

    def _on_status(self, cluster_name: str) -> None:
        if cluster_name == self.cluster.name:
            self.refresh_view()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "drill":
            return self.cluster.lab  # hidden from footer and help unless this is a lab cluster
        return True

    def action_drill(self, verb: str) -> None:
        self.app.run_drill(self.cluster, verb)

    def refresh_view(self) -> None:
        """Re-render every panel from the feed (cheap: a few Content objects)."""
        app = self.app
        feed: ClusterFeed = app.feed(self.cluster.name)
        now = app.now()
        interval = app.refresh_interval
        c = self.cluster
        keys = ["crm", "qnetd", "route"]
        for host in c.db_hosts:
            keys += [f"hadr:{host.name}", f"quorum:{host.name}", f"qdevice:{host.name}"]
        views = {k: feed.view(k, now, interval) for k in keys}
        max_details = 1 if self.has_class("-short") else 2 if self.compact else 4
        self.query_one(VerdictBanner).show(
            banner_text(feed.status, feed.poll_error, self.app.now()), max_details
        )
        crm_view = views["crm"]
        crm = crm_view.value
        node_names = [h.name for h in c.db_hosts] or ([n.name for n in crm.nodes] if crm else [])
        self._panel("nodes").show(render_nodes(crm) if crm else None, [crm_view], now=now)
        self._panel("resources").show(render_resources(crm, node_names) if crm else None, [crm_view], now=now)
        self._panel("failed").show(render_failed_actions(crm) if crm else None, [crm_view], now=now)
        # per-host HADR staleness shows on the node boxes and the HADR panels, not on the whole picture
        topo_views = [crm_view, views["route"], views["qnetd"]]
        topology = build_topology(c, feed, views)
        if self.compact:
            self.query_one("#summary", Static).update(summary_content(topology))
        else:
            self._panel("topology").show(draw_topology(topology), topo_views, grey_stale=False)
        route = views["route"]
        promoted = crm.promoted_nodes[0] if crm is not None and crm.promoted_nodes else None
        if route.value is not None:
            ids = feed.status.instance_ids if feed.status else {}
            target = route_target_host(c, ids, route.value.instance_id)
            body = render_route(route.value, target, promoted, c.aws.overlay_ip)
        else:
            body = None
        self._panel("route").show(body, [route], now=now)
        for host in c.db_hosts:
            hv = views[f"hadr:{host.name}"]
            self._panel(f"hadr-{css_id(host.name)}").show(
                render_hadr(hv.value, now, gap_trend(feed.gap_history, host.name)) if hv.value else None,
                [hv],
                now=now,
                note=hadr_role_note(host.name, views, promoted),
            )
            qv, dv = views[f"quorum:{host.name}"], views[f"qdevice:{host.name}"]
            body = render_quorum(qv.value, dv.value) if (qv.value or dv.value) else None
            self._panel(f"quorum-{css_id(host.name)}").show(body, [qv, dv], now=now)
        self._live_first("hadr")
        self._live_first("quorum")
        qn = views["qnetd"]
        cluster_name = next(
            (v.value.cluster_name for k, v in views.items() if k.startswith("qdevice:") and v.value), None
        )
        self._panel("qnetd").show(render_qnetd(qn.value, cluster_name) if qn.value else None, [qn], now=now)
        self.query_one(EventsLog).show(feed.events, feed.events_total, now)

    def _live_first(self, kind: str) -> None:
        """Order the per-host panels of class `kind` live first, stale after, inventory order within
        each (a dead old primary's panel must not be the first HADR panel read)."""
        panels = list(self.query(f"StatusPanel.{kind}").results(StatusPanel))
        row = panels[0].parent if panels else None
        if not isinstance(row, Widget):
            return
        ids = [f"{kind}-{css_id(h.name)}" for h in self.cluster.db_hosts]
        per_host = [p for p in panels if p.id in ids]
        wanted = sorted(per_host, key=lambda p: (p.has_class("-stale"), ids.index(p.id or "")))
        if [p for p in row.children if p in per_host] == wanted:
            return
        for panel in reversed(wanted):
            row.move_child(panel, before=0)

    def _panel(self, name: str) -> StatusPanel:
        return self.query_one(f"#{name}", StatusPanel)


def _open_status(app: Db2OpsApp) -> StatusScreen:
    cluster = app.current_cluster
    if cluster is None:
        raise ScreenUnavailable("no cluster selected: pick one on :fleet first")
    return StatusScreen(cluster)


register_screen(
    "status",
    _open_status,
    "Live status of the current cluster",
    aliases=("st", "cluster"),
    title="Cluster status",
)
