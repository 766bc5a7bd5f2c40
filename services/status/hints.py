"""What to do next, per verdict and state: the one hint table (state -> hint) the verdict rules read.

A hint is only as good as the state it is shown in: `crm resource cleanup` while Pacemaker is still
promoting restarts the promotion; "start the standby instance" when it runs sends the DBA the wrong way.
So each row is (verdict code, state, text): the first row of the code whose state holds and whose text can
be filled from known values wins. Texts carry real names ({database}, {instance}, {node}...); a row that
needs a value nobody knows is skipped, so no command is ever printed with "..." in it. Tests walk HINTS.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from services.status.model import ClusterStatus

Check = Callable[[ClusterStatus, Mapping[str, str]], bool]


@dataclass(frozen=True)
class Hint:
    code: str  # the verdict code it is for
    state: str  # a name in STATES: when this hint is right
    text: str  # str.format template over the verdict's values and the cluster's (database, instance...)


def _pending(s: ClusterStatus, v: Mapping[str, str]) -> bool:
    from services.status.incident import transition_pending

    return transition_pending(s)


def _host_down(s: ClusterStatus, host: str) -> bool:
    crm = s.crm.value if s.crm is not None and s.crm.ok else None
    node = crm.node(host) if crm is not None and crm.connected else None
    return host in s.host_errors or (node is not None and (not node.online or node.unclean))


def _instance_runs(s: ClusterStatus, host: str) -> bool | None:
    """True when Db2 answers on `host` with the database active, False when it answers inactive."""
    part = s.hadr.get(host)
    if part is None or not part.ok or part.value is None:
        return None
    return part.value.activated


def _qnetd_down(s: ClusterStatus, v: Mapping[str, str]) -> bool:
    if s.qnetd is not None and s.qnetd.error is not None:
        return True
    return any(p.ok and p.value is not None and not p.value.connected for p in s.qdevice.values())


STATES: dict[str, Check] = {
    "any": lambda s, v: True,
    "transition_pending": _pending,
    "peer_host_down": lambda s, v: bool(v.get("peer")) and _host_down(s, v["peer"]),
    "peer_instance_stopped": lambda s, v: bool(v.get("peer")) and _instance_runs(s, v["peer"]) is False,
    "peer_instance_running": lambda s, v: bool(v.get("peer")) and _instance_runs(s, v["peer"]) is True,
    "node_known_down": lambda s, v: bool(v.get("node")) and _node_offline(s, v["node"]),
    "node_online_per_pacemaker": lambda s, v: bool(v.get("node")) and _node_online(s, v["node"]),
    "qnetd_down": _qnetd_down,
    "no_quorum": lambda s, v: _no_quorum(s),
    "both_nodes_up": lambda s, v: _both_up(s),
    "quorum_host_down": lambda s, v: bool(v.get("node")) and _quorum_host_down(s, v["node"]),
    "peer_in_standby": lambda s, v: bool(v.get("peer")) and _node_standby(s, v["peer"]),
}


def _quorum_host_down(s: ClusterStatus, host: str) -> bool:
    """`host` runs qnetd and no node's qdevice reaches it: the host, not only SSH, is down."""
    qdevices = [p.value for p in s.qdevice.values() if p.ok and p.value is not None]
    return (
        s.qnetd is not None
        and s.qnetd.source == host
        and bool(qdevices)
        and not any(q.connected for q in qdevices)
    )


def _both_up(s: ClusterStatus) -> bool:
    crm = s.crm.value if s.crm is not None and s.crm.ok else None
    if crm is None or not crm.connected or not crm.nodes:
        return False
    return all(n.online and not n.unclean and n.name not in s.host_errors for n in crm.nodes)


def _no_quorum(s: ClusterStatus) -> bool:
    crm = s.crm.value if s.crm is not None and s.crm.ok else None
    return crm is not None and crm.connected and crm.with_quorum is False


def _node_standby(s: ClusterStatus, host: str) -> bool:
    crm = s.crm.value if s.crm is not None and s.crm.ok else None
    node = crm.node(host) if crm is not None and crm.connected else None
    return node is not None and node.online and node.standby


def _node_offline(s: ClusterStatus, host: str) -> bool:
    crm = s.crm.value if s.crm is not None and s.crm.ok else None
    node = crm.node(host) if crm is not None and crm.connected else None
    return node is not None and (not node.online or node.unclean)


def _node_online(s: ClusterStatus, host: str) -> bool:
    crm = s.crm.value if s.crm is not None and s.crm.ok else None
    node = crm.node(host) if crm is not None and crm.connected else None
    return node is not None and node.online


_WAIT = "wait: Pacemaker is acting (watch `crm_mon -1`); no `crm resource cleanup` until it settles"

HINTS: tuple[Hint, ...] = (
    # ---- the event itself
    Hint(
        "failover_in_progress",
        "both_nodes_up",
        "wait for Pacemaker to finish moving the primary role to {new} (watch `crm_mon -1`); no `crm "
        "resource cleanup` until {new} is Promoted",
    ),
    Hint(
        "failover_in_progress",
        "any",
        "wait for the promotion of {new} (watch `crm_mon -1`); do not run `crm resource cleanup` or start "
        "{old} until {new} is Promoted",
    ),
    Hint(
        "failover_completed",
        "any",
        "one more failure stops the database: bring {old} back as standby (start EC2 instance "
        "{old_instance_id}; Pacemaker starts Db2 there and HADR catches up)",
    ),
    Hint(
        "failover_completed",
        "any",
        "one more failure stops the database: bring {old} back as standby (start the host; Pacemaker starts "
        "Db2 there and HADR catches up)",
    ),
    # ---- Pacemaker
    Hint("no_promoted_node", "transition_pending", _WAIT),
    Hint(
        "no_promoted_node",
        "no_quorum",
        "restore quorum first (the peer node or corosync-qnetd); Pacemaker promotes a node once it has quorum",
    ),
    Hint(
        "no_promoted_node",
        "any",
        "look at the failed actions (`crm_mon -1 -f`); once their cause is fixed: `crm resource cleanup {clone}`",
    ),
    Hint("failed_action", "transition_pending", _WAIT),
    Hint("failed_action", "any", "fix the cause, then `crm resource cleanup {resource}`"),
    Hint(
        "node_offline",
        "transition_pending",
        "running without a standby: let Pacemaker finish first (watch `crm_mon -1`), then bring {node} back "
        "as standby",
    ),
    Hint(
        "node_offline",
        "any",
        "running without a standby: one more failure stops the database. Bring {node} back (start EC2 "
        "instance {node_instance_id}, then `crm cluster start` on it)",
    ),
    Hint(
        "node_offline",
        "any",
        "running without a standby: one more failure stops the database. Bring {node} back (start the "
        "host, then `crm cluster start` on it)",
    ),
    # ---- hosts
    Hint(
        "host_unreachable",
        "transition_pending",
        "let Pacemaker finish first (watch `crm_mon -1`); then check {node} (its EC2 instance and sshd)",
    ),
    Hint(
        "host_unreachable",
        "node_known_down",
        "start EC2 instance {node_instance_id} of {node}; Pacemaker rejoins it when it boots",
    ),
    Hint("host_unreachable", "node_known_down", "start {node}; Pacemaker rejoins it when it boots"),
    Hint(
        "host_unreachable",
        "quorum_host_down",
        "start EC2 instance {node_instance_id} of {node}, then check `systemctl status corosync-qnetd` there; "
        "until then one more failure stops the database",
    ),
    Hint(
        "host_unreachable",
        "quorum_host_down",
        "start {node}, then check `systemctl status corosync-qnetd` there; until then one more failure stops "
        "the database",
    ),
    Hint(
        "host_unreachable",
        "node_online_per_pacemaker",
        "Pacemaker sees {node} online, so only SSH fails: check sshd on {node} and its address in the inventory",
    ),
    Hint(
        "host_unreachable",
        "any",
        "check the EC2 instance of {node}, its address in the inventory and that sshd answers; other panels "
        "show the last data",
    ),
    # ---- quorum
    Hint(
        "qnetd_down",
        "any",
        "start it on {qnetd_host}: `systemctl start corosync-qnetd`; until then one more failure stops the database",
    ),
    Hint(
        "qdevice_disconnected",
        "qnetd_down",
        "qnetd on {qnetd_host} is down: start it there (`systemctl start corosync-qnetd`); one more failure "
        "stops the database",
    ),
    Hint("qdevice_disconnected", "any", "check corosync-qnetd on the quorum host and port 5403 between them"),
    # ---- HADR
    Hint(
        "hadr_disconnected",
        "transition_pending",
        "wait for Pacemaker to finish (watch `crm_mon -1`); HADR pairs again once {peer} runs as standby",
    ),
    Hint(
        "hadr_disconnected",
        "peer_in_standby",
        "{peer} is in Pacemaker standby, so Db2 is stopped there: `crm node online {peer}` when maintenance "
        "is done; Pacemaker starts it as HADR standby",
    ),
    Hint(
        "hadr_disconnected",
        "peer_host_down",
        "no standby: one more failure stops the database. Start {peer} (EC2 instance {peer_instance_id}); "
        "Pacemaker starts Db2 there and HADR catches up",
    ),
    Hint(
        "hadr_disconnected",
        "peer_host_down",
        "no standby: one more failure stops the database. Start {peer}; Pacemaker starts Db2 there and HADR "
        "catches up",
    ),
    Hint(
        "hadr_disconnected",
        "peer_instance_stopped",
        "on {peer} as {instance}: `db2start`, then `db2 start hadr on db {database} as standby`",
    ),
    Hint(
        "hadr_disconnected",
        "peer_instance_running",
        "both instances run: check the network between {host} and {peer} (HADR ports) - HADR reconnects by "
        "itself; a takeover before PEER loses data",
    ),
    Hint(
        "hadr_disconnected",
        "any",
        "check the standby {peer}: `db2pd -hadr -db {database}` there as {instance}",
    ),
    Hint("hadr_disconnected", "any", "check the standby host and `db2pd -hadr` there"),
)


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def _known_values(s: ClusterStatus, values: Mapping[str, str]) -> dict[str, str]:
    known = {"cluster": s.cluster, "database": s.database, "instance": s.instance}
    if s.qnetd is not None:
        known["qnetd_host"] = s.qnetd.source
    for key in ("node", "peer"):
        if values.get(key):
            known[f"{key}_instance_id"] = s.instance_ids.get(values[key], "")
    known.update(values)
    return {k: v for k, v in known.items() if v}


def hint_for(code: str, s: ClusterStatus, **values: str) -> str:
    """Return the hint for verdict `code` in state `s` ("" when the table has none that fits)."""
    known = _known_values(s, values)
    for hint in HINTS:
        if hint.code != code or not _fields(hint.text) <= known.keys():
            continue
        if STATES[hint.state](s, known):
            return hint.text.format(**known)
    return ""
