"""Pacemaker 2.1.5 outputs rendered from a `LabCluster`: `crm_mon --output-as=xml` and `crm_mon -1` text.

Layout, element and attribute order copy the real captures in corpus/pacemaker-lab (01-healthy,
04-node-down, 06-no-quorum). Pure functions: the caller holds no lock; we take the cluster's lock to read a
consistent picture. Times are rendered in UTC (the lab's hosts run in UTC like fresh EC2 instances).
"""

from __future__ import annotations

import time
from xml.sax.saxutils import escape

from lab.state import LabCluster

PCMK_VERSION = "2.1.5-a3f44794f94"
API_VERSION = "2.25"
FEATURE_SET = "3.16.1"
# Db2's own resource agents (what db2cm creates); the lab capture used Dummy/Stateful stand-ins.
AGENT_INSTANCE = "ocf:heartbeat:db2inst"
AGENT_HADR = "ocf:heartbeat:db2hadr"
AGENT_OIP = "ocf:heartbeat:aws-vpc-move-ip"
MIGRATION_THRESHOLD = {"instance": 0, "oip": 3, "hadr": 1}


def ctime(epoch: float) -> str:
    """'Thu Nov 26 14:59:06 2026' (day padded with a space, like C's ctime)."""
    t = time.gmtime(epoch)
    return time.strftime("%a %b ", t) + f"{t.tm_mday:2d}" + time.strftime(" %H:%M:%S %Y", t)


def iso_z(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(epoch)) + "Z"


def _attrs(pairs: list[tuple[str, object]]) -> str:
    out = []
    for key, value in pairs:
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        # escape() only when needed: crm_mon XML is rendered ~40 times a fleet refresh, and almost no
        # value holds a character to escape (this was most of the render's time).
        if "&" in text or "<" in text or ">" in text or '"' in text:
            text = escape(text, {'"': "&quot;"})
        out.append(f'{key}="{text}"')
    return " ".join(out)


def _el(indent: int, tag: str, pairs: list[tuple[str, object]], close: bool = True) -> str:
    return " " * indent + f"<{tag} {_attrs(pairs)}{'/' if close else ''}>"


def _agent(cluster: LabCluster, rsc: str) -> str:
    if rsc == cluster.oip_rsc:
        return AGENT_OIP
    if rsc == cluster.hadr_rsc:
        return AGENT_HADR
    return AGENT_INSTANCE


def _threshold(cluster: LabCluster, rsc: str) -> int:
    if rsc == cluster.oip_rsc:
        return MIGRATION_THRESHOLD["oip"]
    if rsc == cluster.hadr_rsc:
        return MIGRATION_THRESHOLD["hadr"]
    return MIGRATION_THRESHOLD["instance"]


def _resource_xml(indent: int, rsc: str, agent: str, role: str, node: tuple[str, int] | None) -> list[str]:
    pairs: list[tuple[str, object]] = [
        ("id", rsc),
        ("resource_agent", agent),
        ("role", role),
        ("active", node is not None),
        ("orphaned", False),
        ("blocked", False),
        ("managed", True),
        ("failed", False),
        ("failure_ignored", False),
        ("nodes_running_on", 1 if node else 0),
    ]
    if node is None:
        return [_el(indent, "resource", pairs)]
    return [
        _el(indent, "resource", pairs, close=False),
        _el(indent + 2, "node", [("name", node[0]), ("id", node[1]), ("cached", True)]),
        " " * indent + "</resource>",
    ]


def _node_id(cluster: LabCluster, node: str) -> int:
    return cluster.hosts[node].node_id


def render_crm_mon_xml(cluster: LabCluster, argv: list[str] | None = None, now: float | None = None) -> str:
    """Return `crm_mon -1 --output-as=xml` as Pacemaker 2.1.5 prints it (exit status 0)."""
    request = " ".join(argv) if argv else "crm_mon -1 --output-as=xml"
    with cluster.lock:
        now = cluster.clock() if now is None else now
        online = cluster.online_nodes()
        quorate = cluster.quorate()
        dc = cluster.dc if cluster.dc in online else (online[0] if online else None)
        lines = [f'<pacemaker-result api-version="{API_VERSION}" request="{escape(request)}">']
        lines.append(
            _el(
                2,
                "pacemakerd",
                [("sys_from", "pacemakerd"), ("state", "running"), ("last_updated", iso_z(now))],
            )
        )
        lines.append("  <summary>")
        lines.append('    <stack type="corosync"/>')
        dc_pairs: list[tuple[str, object]] = [("present", dc is not None), ("version", PCMK_VERSION)]
        if dc is not None:
            dc_pairs += [("name", dc), ("id", _node_id(cluster, dc))]
        dc_pairs += [("with_quorum", quorate), ("mixed_version", False)]
        lines.append(_el(4, "current_dc", dc_pairs))
        lines.append(_el(4, "last_update", [("time", ctime(now))]))
        at, user, client, origin = cluster.last_change
        lines.append(
            _el(
                4,
                "last_change",
                [("time", ctime(at)), ("user", user), ("client", client), ("origin", origin)],
            )
        )
        lines.append('    <nodes_configured number="2"/>')
        lines.append('    <resources_configured number="5" disabled="0" blocked="0"/>')
        lines.append(
            '    <cluster_options stonith-enabled="false" symmetric-cluster="true" no-quorum-policy="stop" '
            'maintenance-mode="false" stop-all-resources="false" stonith-timeout-ms="60000" '
            'priority-fencing-delay-ms="0"/>'
        )
        lines.append("  </summary>")
        lines.append("  <nodes>")
        for node in cluster.db_nodes:
            up = node in online
            pairs: list[tuple[str, object]] = [
                ("name", node),
                ("id", _node_id(cluster, node)),
                ("online", up),
                ("standby", False),
                ("standby_onfail", False),
                ("maintenance", False),
                ("pending", False),
                ("unclean", False),
                ("health", "green"),
            ]
            if up:
                pairs.append(("feature_set", FEATURE_SET))
            pairs += [
                ("shutdown", False),
                ("expected_up", True),
                ("is_dc", node == dc),
                ("resources_running", len(cluster.resources_running(node))),
                ("type", "member"),
            ]
            lines.append(_el(4, "node", pairs))
        lines.append("  </nodes>")
        lines += _resources_xml(cluster)
        lines += _node_attributes_xml(cluster)
        lines += _node_history_xml(cluster, online)
        lines += _failures_xml(cluster, online)
        lines.append("  <bans>")
        a, b = cluster.db_nodes
        for banned, node in ((b, a), (a, b)):
            rsc = cluster.instance_rsc(banned)
            lines.append(
                _el(
                    4,
                    "ban",
                    [
                        ("id", f"no_{rsc}_on_{node}"),
                        ("resource", rsc),
                        ("node", node),
                        ("weight", -1000000),
                        ("promoted-only", False),
                        ("master_only", False),
                    ],
                )
            )
        lines.append("  </bans>")
        lines.append('  <status code="0" message="OK"/>')
        lines.append("</pacemaker-result>")
    return "\n".join(lines) + "\n"


def _resources_xml(cluster: LabCluster) -> list[str]:
    lines = ["  <resources>"]
    for node in cluster.db_nodes:
        rsc = cluster.instance_rsc(node)
        running = rsc in cluster.resources_running(node)
        where = (node, _node_id(cluster, node)) if running else None
        lines += _resource_xml(4, rsc, AGENT_INSTANCE, "Started" if running else "Stopped", where)
    promoted = cluster.promoted if cluster.promoted in cluster.online_nodes() else None
    oip_on = promoted if promoted and cluster.oip_rsc in cluster.resources_running(promoted) else None
    where = (oip_on, _node_id(cluster, oip_on)) if oip_on else None
    lines += _resource_xml(4, cluster.oip_rsc, AGENT_OIP, "Started" if oip_on else "Stopped", where)
    lines.append(
        _el(
            4,
            "clone",
            [
                ("id", cluster.clone_rsc),
                ("multi_state", True),
                ("unique", False),
                ("managed", True),
                ("disabled", False),
                ("failed", False),
                ("failure_ignored", False),
            ],
            close=False,
        )
    )
    instances: list[tuple[str, tuple[str, int] | None]] = []
    for node in cluster.db_nodes:
        if cluster.hadr_rsc in cluster.resources_running(node):
            role = "Promoted" if node == promoted else "Unpromoted"
            instances.append((role, (node, _node_id(cluster, node))))
    instances.sort(key=lambda item: 0 if item[0] == "Promoted" else 1)
    instances += [("Stopped", None)] * (2 - len(instances))
    for role, where in instances:
        lines += _resource_xml(6, cluster.hadr_rsc, AGENT_HADR, role, where)
    lines.append("    </clone>")
    lines.append("  </resources>")
    return lines


def _node_attributes_xml(cluster: LabCluster) -> list[str]:
    entries = []
    for node in cluster.db_nodes:
        if cluster.hadr_rsc in cluster.resources_running(node):
            score = 10 if node == cluster.promoted else 5
            entries += [
                f'    <node name="{node}">',
                f'      <attribute name="master-{cluster.hadr_rsc}" value="{score}"/>',
                "    </node>",
            ]
    return ["  <node_attributes>", *entries, "  </node_attributes>"] if entries else []


def _node_history_xml(cluster: LabCluster, online: list[str]) -> list[str]:
    lines = []
    for node in online:
        history = cluster.history.get(node) or {}
        if not history:
            continue
        lines.append(f'    <node name="{node}">')
        for rsc, ops in history.items():
            pairs = [("id", rsc), ("orphan", False), ("migration-threshold", _threshold(cluster, rsc))]
            lines.append(_el(6, "resource_history", pairs, close=False))
            for op in ops:
                op_pairs: list[tuple[str, object]] = [
                    ("call", op.call),
                    ("task", op.task),
                    ("rc", op.rc),
                    ("rc_text", op.rc_text),
                ]
                if op.interval_ms is not None:
                    op_pairs.append(("interval", f"{op.interval_ms}ms"))
                op_pairs += [
                    ("last-rc-change", ctime(op.at)),
                    ("exec-time", f"{op.exec_ms}ms"),
                    ("queue-time", "0ms"),
                ]
                lines.append(_el(8, "operation_history", op_pairs))
            lines.append("      </resource_history>")
        lines.append("    </node>")
    return ["  <node_history>", *lines, "  </node_history>"] if lines else []


def _failures_xml(cluster: LabCluster, online: list[str]) -> list[str]:
    failures = [fa for fa in cluster.failed_actions if fa.node in online]
    if not failures:
        return []
    lines = ["  <failures>"]
    for fa in failures:
        pairs: list[tuple[str, object]] = [
            ("op_key", f"{fa.resource}_{fa.task}_{fa.interval_ms}"),
            ("node", fa.node),
            ("exitstatus", fa.rc_text),
            ("exitreason", fa.exit_reason),
            ("exitcode", fa.rc),
            ("call", fa.call),
            ("status", fa.status),
            ("last-rc-change", iso_z(fa.at)),
            ("queued", 0),
            ("exec", 0),
            ("interval", fa.interval_ms),
            ("task", fa.task),
        ]
        lines.append(_el(4, "failure", pairs))
    lines.append("  </failures>")
    return lines


def render_crm_mon_not_connected_xml(argv: list[str] | None = None) -> str:
    """`crm_mon --output-as=xml` on a node whose Pacemaker is down (exit status 102), as in 04-node-down."""
    request = " ".join(argv) if argv else "crm_mon -1 --output-as=xml"
    return (
        f'<pacemaker-result api-version="{API_VERSION}" request="{escape(request)}">\n'
        '  <status code="102" message="Not connected">\n'
        "    <errors>\n"
        "      <error>error: Could not connect to launcher: Connection refused</error>\n"
        "      <error>crm_mon: Connection to cluster failed: Connection refused</error>\n"
        "    </errors>\n"
        "  </status>\n"
        "</pacemaker-result>\n"
    )


def render_crm_mon_text(cluster: LabCluster, now: float | None = None) -> str:
    """Return `crm_mon -1` (and `crm status`) text as Pacemaker 2.1.5 prints it."""
    with cluster.lock:
        now = cluster.clock() if now is None else now
        online = cluster.online_nodes()
        offline = [n for n in cluster.db_nodes if n not in online]
        dc = cluster.dc if cluster.dc in online else (online[0] if online else None)
        quorum = "partition with quorum" if cluster.quorate() else "partition WITHOUT quorum"
        at, user, client, origin = cluster.last_change
        lines = [
            f"Status of pacemakerd: 'Pacemaker is running' (last updated {iso_z(now)})",
            "Cluster Summary:",
            "  * Stack: corosync",
            f"  * Current DC: {dc} (version {PCMK_VERSION}) - {quorum}" if dc else "  * Current DC: NONE",
            f"  * Last updated: {ctime(now)}",
            f"  * Last change:  {ctime(at)} by {user} via {client} on {origin}",
            "  * 2 nodes configured",
            "  * 5 resource instances configured",
            "",
            "Node List:",
        ]
        if online:
            lines.append(f"  * Online: [ {' '.join(online)} ]")
        if offline:
            lines.append(f"  * OFFLINE: [ {' '.join(offline)} ]")
        lines += ["", "Active Resources:"]
        active = []
        for node in cluster.db_nodes:
            if cluster.instance_rsc(node) in cluster.resources_running(node):
                active.append(f"  * {cluster.instance_rsc(node)}\t({AGENT_INSTANCE}):\t Started {node}")
        promoted = cluster.promoted if cluster.promoted in online else None
        if promoted and cluster.oip_rsc in cluster.resources_running(promoted):
            active.append(f"  * {cluster.oip_rsc}\t({AGENT_OIP}):\t Started {promoted}")
        hadr_nodes = [n for n in cluster.db_nodes if cluster.hadr_rsc in cluster.resources_running(n)]
        if hadr_nodes:
            active.append(f"  * Clone Set: {cluster.clone_rsc} [{cluster.hadr_rsc}] (promotable):")
            if promoted in hadr_nodes:
                active.append(f"    * Promoted: [ {promoted} ]")
            unpromoted = [n for n in hadr_nodes if n != promoted]
            if unpromoted:
                active.append(f"    * Unpromoted: [ {' '.join(unpromoted)} ]")
        lines += active or ["  * No active resources"]
        failures = [fa for fa in cluster.failed_actions if fa.node in online]
        if failures:
            lines += ["", "Failed Resource Actions:"]
            for fa in failures:
                reason = f", exitreason='{fa.exit_reason}'" if fa.exit_reason else ""
                lines.append(
                    f"  * {fa.resource}_{fa.task}_{fa.interval_ms} on {fa.node} '{fa.rc_text}' ({fa.rc}): "
                    f"call={fa.call}, status='{fa.status}'{reason}, last-rc-change='{ctime(fa.at)}', "
                    "queued=0ms, exec=0ms"
                )
    return "\n".join(lines) + "\n"
