"""What the status screen derives from a cluster feed for the topology picture and the one-line summary.

The HADR link is taken from a host that answered the last poll (the primary's view first), never from a
dead host's last good value: after a failover the old primary's stale "PEER" must not draw a healthy link.
"""

from __future__ import annotations

from textual.content import Content

from services.inventory.model import Cluster
from services.status.poll import ClusterFeed, PartView
from tui.widgets.panel_text import node_state
from tui.widgets.topology import Topology, TopoNode


def route_target_host(cluster: Cluster, instance_ids: dict[str, str], instance_id: str | None) -> str | None:
    """Return the host whose EC2 instance id is `instance_id` (snapshot ids first, then the inventory)."""
    if instance_id is None:
        return None
    for host, iid in instance_ids.items():
        if iid == instance_id:
            return host
    return next((h.name for h in cluster.hosts if h.instance_id == instance_id), None)


def hadr_link(nodes: list[TopoNode], views: dict[str, PartView]) -> tuple[str, str]:
    """Return (state word, "ok" | "degraded" | "broken") for the HADR link between the db nodes.

    Only fresh HADR answers count (a primary's first). A node Pacemaker sees OFFLINE/UNCLEAN, or a connect
    status other than CONNECTED, breaks the link whatever the state word says; a node we cannot reach over
    SSH leaves it at best "degraded" (only one side of the pair could be asked).
    """
    fresh = [
        v.value
        for k, v in views.items()
        if k.startswith("hadr:") and v.value is not None and not v.stale and v.value.streams
    ]
    fresh.sort(key=lambda h: h.role != "PRIMARY")
    if not fresh:
        return "?", "broken"
    stream = fresh[0].streams[0]
    state = stream.state or "?"
    connected = stream.connect_status == "CONNECTED"
    if any(n.state in ("OFFLINE", "UNCLEAN", "not in cluster") for n in nodes):
        return (state if state != "PEER" else "DISCONNECTED"), "broken"
    if not connected:
        return (state if state != "PEER" else stream.connect_status or "DISCONNECTED"), "broken"
    one_sided = any(n.unreachable for n in nodes)
    return state, "ok" if state == "PEER" and not one_sided else "degraded"


def build_topology(cluster: Cluster, feed: ClusterFeed, views: dict[str, PartView]) -> Topology:
    """Return the topology model from the freshest good values of the feed."""
    crm = views["crm"].value
    promoted = set(crm.promoted_nodes) if crm is not None else set()
    status = feed.status
    unreachable = set(status.host_errors) if status is not None else set()
    nodes = []
    for host in cluster.db_hosts:
        state = node_state(crm.node(host.name))[0] if crm is not None and crm.connected else "?"
        hadr = views.get(f"hadr:{host.name}")
        role = hadr.value.role if hadr is not None and hadr.value is not None else None
        stale = views["crm"].stale or (hadr is not None and hadr.stale)
        nodes.append(
            TopoNode(
                host.name,
                state,
                role or "?",
                host.name in promoted,
                stale=stale,
                unreachable=host.name in unreachable,
                seen_age=hadr.age if hadr is not None and hadr.stale else None,
            )
        )
    hadr_state, link = hadr_link(nodes, views)
    qnetd = views["qnetd"]
    qdevices = [v.value for k, v in views.items() if k.startswith("qdevice:") and v.value is not None]
    if qnetd.value is not None and not qnetd.error:
        q_state = "qnetd up"
    elif qdevices and not any(q.connected for q in qdevices):
        q_state = "qnetd DOWN"
    elif qnetd.error:
        q_state = "qnetd ?"
    else:
        q_state = "qnetd up" if qdevices else "?"
    route = views["route"].value
    target = route_target_host(
        cluster, status.instance_ids if status else {}, route.instance_id if route else None
    )
    qhost = cluster.qdevice_host
    return Topology(
        nodes=tuple(nodes),
        qdevice_host=qhost.name if qhost else None,
        qdevice_state=q_state,
        hadr_state=hadr_state,
        # a replayed cluster has no inventory AWS section: the recorded route names the address
        overlay_ip=cluster.aws.overlay_ip or (route.destination.split("/", 1)[0] if route else None),
        route_target=target,
        extra_nodes=max(0, len(nodes) - 2),
        hadr_link=link,
    )


def summary_content(topo: Topology) -> Content:
    """Return the one-line summary shown when the picture does not fit: promoted node, HADR, nodes down,
    route, quorum device — words first, so it reads the same without colour."""
    promoted = [n.name for n in topo.nodes if n.promoted]
    parts: list[str | tuple[str, str]] = [("primary ", "$foreground-muted")]
    parts.append((", ".join(promoted), "bold $success") if promoted else ("NONE", "bold $error"))
    link_style = {"ok": "$success", "degraded": "$warning"}.get(topo.link, "bold $error")
    parts += [(" · HADR ", "$foreground-muted"), (topo.hadr_state, link_style)]
    if topo.link == "broken" and topo.hadr_state != "DISCONNECTED":
        parts.append((" (link down)", "$error"))
    for node in topo.nodes:
        if node.down:
            pacemaker_down = node.state in ("OFFLINE", "UNCLEAN")
            why = "unreachable" if node.unreachable and not pacemaker_down else node.state
            parts += [(" · ", "$foreground-muted"), (f"{node.name} {why}", "bold $error")]
    if topo.route_target is None:
        parts += [(" · route → ", "$foreground-muted"), ("?", "$warning")]
    elif topo.route_target in promoted:
        parts += [(" · route → ", "$foreground-muted"), (f"{topo.route_target} ✔", "$success")]
    else:
        parts += [
            (" · route → ", "$foreground-muted"),
            (f"{topo.route_target} ✘ not the primary", "bold $error"),
        ]
    q_style = "$success" if topo.qdevice_state == "qnetd up" else "bold $error"
    parts += [(" · ", "$foreground-muted"), (topo.qdevice_state, q_style)]
    return Content.assemble(*parts)
