"""corosync / corosync-qdevice outputs rendered from a `LabCluster` (the qdevice as db2cm creates it).

Each function returns (exit_status, stdout, stderr) like the real tool: layouts, TABs, trailing spaces and
exit codes copy corpus/pacemaker-lab (01-healthy, 04-node-down, 05-qnetd-down, 06-no-quorum).
"""

from __future__ import annotations

import time

from lab.render_pacemaker import ctime
from lab.state import LabCluster

Result = tuple[int, str, str]

QNETD_PORT = 5403
# db2cm -create -qdevice configures the Last Man Standing algorithm (corpus/corosync-qdevice, db2cm-list);
# qnetd prints no "(KAP Tie-breaker)" suffix for it.
ALGORITHM = "LMS"
QDEVICE_DOWN = "corosync-qdevice-tool: Can't connect to QDevice socket (is QDevice running?): No such file or directory\n"
QNETD_DOWN = (
    "corosync-qnetd-tool: Can't connect to qnetd socket (is QNetd running?): No such file or directory\n"
)
CMAP_DOWN = "Cannot initialize CMAP service\n"


def _iso_t(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch))


def _members(cluster: LabCluster) -> list[int]:
    return [cluster.hosts[n].node_id for n in cluster.online_nodes()]


def render_quorumtool(cluster: LabCluster, node: str, now: float | None = None) -> Result:
    """`corosync-quorumtool -s` on `node`: exit 0 quorate, 2 not quorate, 1 when corosync is down."""
    with cluster.lock:
        now = cluster.clock() if now is None else now
        if node not in cluster.online_nodes():
            return 1, "", CMAP_DOWN
        online = cluster.online_nodes()
        qdev = cluster.qdevice_connected()
        quorate = cluster.quorate()
        local_id = cluster.hosts[node].node_id
        flags = "A,V,NMW" if qdev else "A,NV,NMW"
        lines = [
            "Quorum information",
            "------------------",
            f"Date:             {ctime(now)}",
            "Quorum provider:  corosync_votequorum",
            f"Nodes:            {len(online)}",
            f"Node ID:          {local_id}",
            f"Ring ID:          {cluster.ring_id()}",
            f"Quorate:          {'Yes' if quorate else 'No'}",
            "",
            "Votequorum information",
            "----------------------",
            "Expected votes:   3",
            "Highest expected: 3",
            f"Total votes:      {cluster.votes()}",
            "Quorum:           2  " if quorate else "Quorum:           2 Activity blocked",
            "Flags:            Quorate Qdevice " if quorate else "Flags:            Qdevice ",
            "",
            "Membership information",
            "----------------------",
            "    Nodeid      Votes    Qdevice Name",
        ]
        for member in online:
            host = cluster.hosts[member]
            local = " (local)" if member == node else ""
            lines.append(f"{host.node_id:>10}{1:>11}{flags:>11} {member}{local}")
        if qdev:
            lines.append(f"{0:>10}{1:>11}{'':>11} Qdevice")
        else:
            lines.append(f"{0:>10}{0:>11}{'':>11} Qdevice (votes 1)")
    return (0 if quorate else 2), "\n".join(lines) + "\n", ""


def render_qdevice_tool(cluster: LabCluster, node: str, verbose: bool, now: float | None = None) -> Result:
    """`corosync-qdevice-tool -s` / `-sv` on `node`: exit 3 when the qdevice daemon is not running there."""
    with cluster.lock:
        now = cluster.clock() if now is None else now
        host = cluster.hosts[node]
        if host.role != "db" or node not in cluster.online_nodes():
            return 3, "", QDEVICE_DOWN
        connected = cluster.qdevice_connected()
        members = ", ".join(str(i) for i in _members(cluster))
        qnetd = f"{cluster.qdevice_name}:{QNETD_PORT}"  # db2cm -create -qdevice names the host
        lines = [
            "Qdevice information",
            "-------------------",
            "Model:\t\t\tNet",
            f"Node ID:\t\t{host.node_id}",
        ]
        if verbose:
            lines += ["HB interval:\t\t10000ms", "Sync HB interval:\t30000ms"]
        lines += ["Configured node list:", "    0\tNode ID = 1", "    1\tNode ID = 2"]
        if verbose:
            lines += ["Heuristics:\t\tDisabled", f"Ring ID:\t\t{cluster.ring_id()}"]
        lines.append(f"Membership node list:\t{members}")
        if verbose:
            other = cluster.other(node)
            other_state = "member" if other in cluster.online_nodes() else "dead"
            cast = " (cast vote)" if connected else ""
            lines += [
                f"Quorate:\t\t{'Yes' if cluster.quorate() else 'No'}",
                "Quorum node list:",
                f"    0\tNode ID = {cluster.hosts[other].node_id}, State = {other_state}",
                f"    1\tNode ID = {host.node_id}, State = member",
                f"Expected votes:\t\t{3 if connected else 2}",
                f"Last poll call:\t\t{_iso_t(now)}{cast}",
            ]
        lines += [
            "",
            "Qdevice-net information",
            "----------------------",
            f"Cluster name:\t\t{cluster.name}",
            f"QNetd host:\t\t{qnetd}",
        ]
        if verbose:
            lines += [
                "Connect timeout:\t8000ms",
                "HB interval:\t\t8000ms",
                "VQ vote timer interval:\t5000ms",
                "TLS:\t\t\tSupported",
            ]
        lines += [f"Algorithm:\t\t{ALGORITHM}", "Tie-breaker:\t\tNode with lowest node ID"]
        if verbose:
            lines += [
                f"Poll timer running:\tYes{' (cast vote)' if connected else ''}",
            ]
        lines.append(f"State:\t\t\t{'Connected' if connected else 'Connect failed'}")
        if verbose and connected:
            since = max(host.booted_at, cluster.qdevice_host.booted_at)
            lines += [
                "TLS active:\t\tYes (client certificate sent)",
                f"Connected since:\t{_iso_t(since)}",
                f"Echo reply received:\t{_iso_t(now - 2)}",
            ]
    return 0, "\n".join(lines) + "\n", ""


def render_qnetd_tool(cluster: LabCluster, args: list[str]) -> Result:
    """`corosync-qnetd-tool -l`, `-lv` or `-s` on the qdevice host: exit 3 when qnetd is stopped."""
    with cluster.lock:
        if not cluster.qnetd_up:
            return 3, "", QNETD_DOWN
        online = cluster.online_nodes()
        if "-s" in args:
            lines = [
                f"QNetd address:\t\t\t*:{QNETD_PORT}",
                "TLS:\t\t\t\tSupported (client certificate required)",
                f"Connected clients:\t\t{len(online)}",
                f"Connected clusters:\t\t{1 if online else 0}",
            ]
            return 0, "\n".join(lines) + "\n", ""
        verbose = any(a.startswith("-") and "v" in a for a in args)
        if not online:
            return 0, "", ""
        members = ", ".join(str(i) for i in _members(cluster))
        lines = [
            f'Cluster "{cluster.name}":',
            f"    Algorithm:\t\t{ALGORITHM}",
            "    Tie-breaker:\tNode with lowest node ID",
        ]
        for node in online:
            host = cluster.hosts[node]
            lines += [
                f"    Node ID {host.node_id}:",
                f"        Client address:\t\t::ffff:{host.address}:{host.qdevice_port}",
            ]
            if verbose:
                lines.append("        HB interval:\t\t8000ms")
            lines.append("        Configured node list:\t1, 2")
            if verbose:
                lines.append(f"        Ring ID:\t\t{cluster.ring_id()}")
            lines.append(f"        Membership node list:\t{members}")
            if verbose:
                lines += [
                    "        Heuristics:\t\tUndefined (membership: Undefined, regular: Undefined)",
                    "        TLS active:\t\tYes (client certificate verified)",
                ]
            lines.append("        Vote:\t\t\tNo change (ACK)")
    return 0, "\n".join(lines) + "\n", ""


def render_cfgtool(cluster: LabCluster, node: str) -> Result:
    """`corosync-cfgtool -s` on `node` (knet link status towards the other node)."""
    with cluster.lock:
        if node not in cluster.online_nodes():
            return 1, "", CMAP_DOWN
        host = cluster.hosts[node]
        lines = [
            f"Local node ID {host.node_id}, transport knet",
            "LINK ID 0 udp",
            f"\taddr\t= {host.address}",
            "\tstatus:",
        ]
        for other in cluster.db_nodes:
            node_id = cluster.hosts[other].node_id
            if other == node:
                status = "localhost"
            else:
                status = "connected" if other in cluster.online_nodes() else "disconnected"
            lines.append(f"\t\tnodeid:          {node_id}:\t{status}")
    return 0, "\n".join(lines) + "\n", ""
