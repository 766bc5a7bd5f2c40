"""Pacemaker outputs rendered from a `LabCluster` (versions and wording from its release, lab/release.py): `crm_mon --output-as=xml` and `crm_mon -1` text.

Layout, element and attribute order copy the real captures in corpus/pacemaker-lab (01-healthy,
04-node-down, 06-no-quorum). Pure functions: the caller holds no lock; we take the cluster's lock to read a
consistent picture. Times are rendered in UTC (the lab's hosts run in UTC like fresh EC2 instances).
"""

from __future__ import annotations

import time
from xml.sax.saxutils import escape

from lab.state import LabCluster

# Version strings, api-version and feature set come from the cluster's release (lab/release.py).
# Db2's own resource agents (what db2cm creates); the lab capture used Dummy/Stateful stand-ins.
AGENT_INSTANCE = "ocf:heartbeat:db2inst"
AGENT_HADR = "ocf:heartbeat:db2hadr"
AGENT_OIP = "ocf:heartbeat:aws-vpc-move-ip"
AGENT_ETHMON = "ocf:heartbeat:db2ethmon"
MIGRATION_THRESHOLD = {"instance": 0, "oip": 3, "hadr": 1, "ethmon": 1_000_000}
# db2cm's resources: an ethmon and an instance per node, the HADR clone's two instances, the overlay IP.
RESOURCE_INSTANCES = 7


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
    if rsc in (cluster.ethmon_rsc(n) for n in cluster.db_nodes):
        return AGENT_ETHMON
    return AGENT_INSTANCE


def _threshold(cluster: LabCluster, rsc: str) -> int:
    if rsc == cluster.oip_rsc:
        return MIGRATION_THRESHOLD["oip"]
    if rsc == cluster.hadr_rsc:
        return MIGRATION_THRESHOLD["hadr"]
    if rsc in (cluster.ethmon_rsc(n) for n in cluster.db_nodes):
        return MIGRATION_THRESHOLD["ethmon"]
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
    """Return `crm_mon -1 --output-as=xml` as the release's Pacemaker build prints it (exit status 0)."""
    request = " ".join(argv) if argv else "crm_mon -1 --output-as=xml"
    with cluster.lock:
        now = cluster.clock() if now is None else now
        online = cluster.online_nodes()
        quorate = cluster.quorate()
        dc = cluster.dc if cluster.dc in online else (online[0] if online else None)
        rel = cluster.release
        lines = [f'<pacemaker-result api-version="{rel.api_version}" request="{escape(request)}">']
        if rel.pacemakerd_status:
            lines.append(
                _el(
                    2,
                    "pacemakerd",
                    [("sys_from", "pacemakerd"), ("state", "running"), ("last_updated", iso_z(now))],
                )
            )
        lines.append("  <summary>")
        lines.append('    <stack type="corosync"/>')
        dc_pairs: list[tuple[str, object]] = [("present", dc is not None), ("version", rel.dc_version)]
        if dc is not None:
            dc_pairs += [("name", dc), ("id", _node_id(cluster, dc))]
        dc_pairs.append(("with_quorum", quorate))
        if rel.pacemakerd_status:  # crm_mon of Pacemaker 2.1.5 (the lab capture) adds it
            dc_pairs.append(("mixed_version", False))
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
        lines.append(f'    <resources_configured number="{RESOURCE_INSTANCES}" disabled="0" blocked="0"/>')
        # the properties this release's db2cm leaves (lab/release.py), as `crm configure show` prints them
        lines.append(
            f'    <cluster_options stonith-enabled="false" symmetric-cluster="{str(rel.symmetric_cluster).lower()}" '
            f'no-quorum-policy="{rel.no_quorum_policy}" '
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
            ]
            if rel.pacemakerd_status:  # the 2.1.2 regression output has neither (corpus/crm_mon-xml)
                pairs.append(("health", "green"))
                if up:
                    pairs.append(("feature_set", rel.feature_set))
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
        # db2cm's no-probe constraints (-INFINITY elsewhere) are what crm_mon lists as bans.
        owned = [
            (rsc(n), cluster.other(n))
            for n in cluster.db_nodes
            for rsc in (cluster.ethmon_rsc, cluster.instance_rsc)
        ]
        for rsc, node in owned:
            lines.append(
                _el(
                    4,
                    "ban",
                    [
                        ("id", f"no-probe-{rsc}"),
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
    # db2cm's creation order (what crm_mon lists): ethmon and instance per node, the clone, the overlay IP.
    lines = ["  <resources>"]
    for agent, name in ((AGENT_ETHMON, cluster.ethmon_rsc), (AGENT_INSTANCE, cluster.instance_rsc)):
        for node in cluster.db_nodes:
            rsc = name(node)
            running = rsc in cluster.resources_running(node)
            where = (node, _node_id(cluster, node)) if running else None
            lines += _resource_xml(4, rsc, agent, "Started" if running else "Stopped", where)
    promoted = cluster.promoted if cluster.promoted in cluster.online_nodes() else None
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
    role_promoted, role_unpromoted = cluster.release.xml_roles
    instances: list[tuple[str, tuple[str, int] | None]] = []
    for node in cluster.db_nodes:
        if cluster.hadr_rsc in cluster.resources_running(node):
            role = role_promoted if node == promoted else role_unpromoted
            instances.append((role, (node, _node_id(cluster, node))))
    instances.sort(key=lambda item: 0 if item[0] == role_promoted else 1)
    instances += [("Stopped", None)] * (2 - len(instances))
    for role, where in instances:
        lines += _resource_xml(6, cluster.hadr_rsc, AGENT_HADR, role, where)
    lines.append("    </clone>")
    oip_on = promoted if promoted and cluster.oip_rsc in cluster.resources_running(promoted) else None
    where = (oip_on, _node_id(cluster, oip_on)) if oip_on else None
    lines += _resource_xml(4, cluster.oip_rsc, AGENT_OIP, "Started" if oip_on else "Stopped", where)
    lines.append("  </resources>")
    return lines


def _node_attributes_xml(cluster: LabCluster) -> list[str]:
    # The transient attributes db2cm's agents set: db2ethmon-<nic> (link up), db2inst-<host>_<inst>_0
    # (instance up; the clone's location rules read both) and the promotion score.
    entries = []
    for node in cluster.db_nodes:
        running = cluster.resources_running(node)
        if not running:
            continue
        entries.append(f'    <node name="{node}">')
        entries.append(f'      <attribute name="db2ethmon-{cluster.nic}" value="1"/>')
        entries.append(f'      <attribute name="db2inst-{node}_{cluster.instance}_0" value="1"/>')
        if cluster.hadr_rsc in running:
            score = 10 if node == cluster.promoted else 5
            entries.append(f'      <attribute name="master-{cluster.hadr_rsc}" value="{score}"/>')
        entries.append("    </node>")
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


def render_crm_mon_not_connected_xml(cluster: LabCluster, argv: list[str] | None = None) -> str:
    """`crm_mon --output-as=xml` on a node whose Pacemaker is down (exit status 102), as in 04-node-down."""
    request = " ".join(argv) if argv else "crm_mon -1 --output-as=xml"
    return (
        f'<pacemaker-result api-version="{cluster.release.api_version}" request="{escape(request)}">\n'
        '  <status code="102" message="Not connected">\n'
        "    <errors>\n"
        "      <error>error: Could not connect to launcher: Connection refused</error>\n"
        "      <error>crm_mon: Connection to cluster failed: Connection refused</error>\n"
        "    </errors>\n"
        "  </status>\n"
        "</pacemaker-result>\n"
    )


def render_crm_mon_text(cluster: LabCluster, now: float | None = None) -> str:
    """Return `crm_mon -1` (and `crm status`) text as the release's Pacemaker build prints it.

    IBM's db2pcmk builds list every resource under "Full List of Resources:" (stopped ones too) in db2cm's
    creation order, with "Masters:"/"Slaves:" for the HADR clone (corpus/crm-status)."""
    with cluster.lock:
        rel = cluster.release
        now = cluster.clock() if now is None else now
        online = cluster.online_nodes()
        offline = [n for n in cluster.db_nodes if n not in online]
        dc = cluster.dc if cluster.dc in online else (online[0] if online else None)
        quorum = "partition with quorum" if cluster.quorate() else "partition WITHOUT quorum"
        at, user, client, origin = cluster.last_change
        lines = []
        if rel.pacemakerd_status:
            lines.append(f"Status of pacemakerd: 'Pacemaker is running' (last updated {iso_z(now)})")
        lines += [
            "Cluster Summary:",
            "  * Stack: corosync",
            f"  * Current DC: {dc} (version {rel.dc_version}) - {quorum}" if dc else "  * Current DC: NONE",
            f"  * Last updated: {ctime(now)}",
            f"  * Last change:  {ctime(at)} by {user} via {client} on {origin}",
            "  * 2 nodes configured",
            f"  * {RESOURCE_INSTANCES} resource instances configured",
            "",
            "Node List:",
        ]
        if online:
            lines.append(f"  * Online: [ {' '.join(online)} ]")
        if offline:
            lines.append(f"  * OFFLINE: [ {' '.join(offline)} ]")
        lines += ["", "Full List of Resources:"]

        def row(rsc: str, agent: str, node: str | None) -> str:
            where = f"Started {node}" if node else "Stopped"
            return f"  * {rsc}\t({rel.text_agent(agent)}):\t {where}"

        for agent, name in ((AGENT_ETHMON, cluster.ethmon_rsc), (AGENT_INSTANCE, cluster.instance_rsc)):
            for node in cluster.db_nodes:
                lines.append(
                    row(name(node), agent, node if name(node) in cluster.resources_running(node) else None)
                )
        promoted = cluster.promoted if cluster.promoted in online else None
        hadr_nodes = [n for n in cluster.db_nodes if cluster.hadr_rsc in cluster.resources_running(n)]
        masters, slaves = rel.text_roles
        lines.append(f"  * Clone Set: {cluster.clone_rsc} [{cluster.hadr_rsc}] (promotable):")
        if promoted in hadr_nodes:
            lines.append(f"    * {masters}: [ {promoted} ]")
        unpromoted = [n for n in hadr_nodes if n != promoted]
        if unpromoted:
            lines.append(f"    * {slaves}: [ {' '.join(unpromoted)} ]")
        stopped = [n for n in online if n not in hadr_nodes]  # an offline node is not listed
        if stopped:
            lines.append(f"    * Stopped: [ {' '.join(stopped)} ]")
        oip_on = promoted if promoted and cluster.oip_rsc in cluster.resources_running(promoted) else None
        lines.append(row(cluster.oip_rsc, AGENT_OIP, oip_on))
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
