"""Judgements derived from a ClusterStatus: what is wrong, in words a DBA acts on.

Each rule looks only at facts in the snapshot, so a dead host lowers confidence but never invents a fault.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from services.part_errors import ErrorKind, PartError
from services.status.alarm_verdicts import alarm_verdicts
from services.status.hints import hint_for
from services.status.incident import incident_verdicts, rank_verdicts
from services.status.model import ClusterStatus, Part, Severity, Verdict

# A log gap above this while in PEER means the standby is falling behind (bytes).
LOG_GAP_WARN_BYTES = 64 * 1024 * 1024


def derive_verdicts(status: ClusterStatus) -> tuple[Verdict, ...]:
    """Return every verdict for `status` in headline order (services/status/incident.rank_verdicts: the
    event first, then worst first). An empty tuple means healthy."""
    return rank_verdicts(_all_rules(status))


def _all_rules(s: ClusterStatus) -> Iterator[Verdict]:
    yield from incident_verdicts(s)
    yield from _hosts(s)
    yield from _pacemaker(s)
    yield from _quorum(s)
    yield from _hadr(s)
    yield from _unreadable(s)
    yield from _overlay(s)
    yield from alarm_verdicts(s)


def _hosts(s: ClusterStatus) -> Iterator[Verdict]:
    for host, err in sorted(s.host_errors.items()):
        if err.kind is ErrorKind.HOST_KEY_UNKNOWN:
            yield Verdict(
                "host_key_unknown",
                Severity.CRITICAL,
                f"{host}'s SSH host key is not trusted yet ({err.key_type} {err.fingerprint}, not in "
                f"{err.known_hosts})",
                f"compare it with `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` run on {host}; if it matches, "
                f"accept it when db2ops asks or run `db2ops trust {host}`",
            )
            continue
        if err.kind is ErrorKind.HOST_KEY_CHANGED:
            yield Verdict(
                "host_key_changed",
                Severity.CRITICAL,
                err.message,
                "do not trust it blindly: a changed key can be a man-in-the-middle; ask the host's owner first",
            )
            continue
        yield Verdict(
            "host_unreachable",
            Severity.CRITICAL,
            _unreachable_message(s, host, err),
            hint_for("host_unreachable", s, node=host),
        )


def _unreachable_message(s: ClusterStatus, host: str, err: PartError) -> str:
    """ "db2a does not answer: host down or instance stopped (Pacemaker reports it offline)" when another
    source knows the host; the connection error (with its advice on the address) only when none does."""
    crm = s.crm.value if s.crm is not None and s.crm.ok else None
    node = crm.node(host) if crm is not None and crm.connected else None
    # the error's own advice ("check the address in the inventory...") is wrong when the host is known down
    why = err.message.removeprefix(f"{host}: ").split("; check ")[0]
    if node is not None and node.unclean:
        return f"{host} is down or cut off: Pacemaker reports the node UNCLEAN; SSH: {why}"
    if node is not None and not node.online:
        return f"{host} is down (host down / instance stopped): Pacemaker reports it offline; SSH: {why}"
    qdevices = [p.value for p in s.qdevice.values() if p.ok and p.value is not None]
    if s.qnetd is not None and s.qnetd.source == host and qdevices and not any(q.connected for q in qdevices):
        return (
            f"{host} is down (host down / instance stopped): no node's qdevice reaches it, so one more "
            f"failure stops the database; SSH: {why}"
        )
    if node is not None and node.online:
        return f"{host} is unreachable over SSH although Pacemaker sees it online: {err}"
    return f"{host} is unreachable: {err}"


def _not_installed_on(err: PartError | None) -> list[str]:
    """Return the hosts whose tool was not found, when that is the error of every host tried (else [])."""
    if err is None:
        return []
    causes = err.causes or (err,)
    hosts = [c.host for c in causes if c.kind is ErrorKind.NOT_INSTALLED]
    return hosts if len(hosts) == len(causes) else []


def _pacemaker(s: ClusterStatus) -> Iterator[Verdict]:
    if s.crm is None or not s.crm.ok:
        error = s.crm.error if s.crm else None
        err = str(error) if error is not None else "no Db2 host answered"
        if s.crm and all(h in s.host_errors for h in s.crm.source.split(",")):
            err = "no Db2 host answered"  # each host's verdict already says why
            error = None
        missing = _not_installed_on(error)
        if missing:
            # a host not yet clustered (before the HA runbook): say what is missing and what sets it up
            yield Verdict(
                "pacemaker_unavailable",
                Severity.CRITICAL,
                f"Pacemaker is not installed on {', '.join(missing)} (crm_mon: command not found): "
                "no automatic failover",
                f"set it up with `:setup ha`, or review the plan first: "
                f"`db2ops setup ha --cluster {s.cluster} --dry-run`",
            )
            return
        yield Verdict(
            "pacemaker_unavailable",
            Severity.CRITICAL,
            f"Pacemaker status unavailable: {err}",
            "run `crm status` on a Db2 host; is pacemaker running there?",
        )
        return
    crm = s.crm.value
    assert crm is not None
    if not crm.connected:
        yield Verdict(
            "pacemaker_unavailable",
            Severity.CRITICAL,
            f"Pacemaker is not running on {s.crm.source}: {crm.status_message}",
            "start the cluster stack on that node (`crm cluster start`) or check the other node",
        )
        return
    for node in crm.nodes:
        if node.unclean:
            yield Verdict(
                "node_unclean",
                Severity.CRITICAL,
                f"node {node.name} is UNCLEAN: Pacemaker cannot tell if it is really down",
                "check fencing; do not start Db2 on both nodes",
            )
        elif not node.online:
            yield Verdict(
                "node_offline",
                Severity.WARNING,
                f"node {node.name} is offline: the cluster runs without a standby",
                hint_for("node_offline", s, node=node.name),
            )
        elif node.standby:
            yield Verdict(
                "node_standby",
                Severity.WARNING,
                f"node {node.name} is in standby: it cannot take over",
                f"`crm node online {node.name}` when maintenance is done",
            )
        if node.maintenance:
            yield Verdict("node_maintenance", Severity.WARNING, f"node {node.name} is in maintenance mode")
    if crm.maintenance_mode:
        yield Verdict(
            "cluster_maintenance",
            Severity.WARNING,
            "the cluster is in maintenance mode: Pacemaker will not fail over",
            "`crm configure property maintenance-mode=false` when done",
        )
    clones = crm.promotable_clones
    if clones and not clones[0].promoted_nodes:
        yield Verdict(
            "no_promoted_node",
            Severity.CRITICAL,
            f"no node is Promoted for {clones[0].id}: no HADR primary per Pacemaker",
            hint_for("no_promoted_node", s, clone=clones[0].id),
        )
    elif clones and len(clones[0].promoted_nodes) > 1:
        yield Verdict(
            "multiple_promoted",
            Severity.CRITICAL,
            f"{clones[0].id} is Promoted on {', '.join(clones[0].promoted_nodes)}: split brain risk",
            "stop one side now; check HADR roles with db2pd",
        )
    for fa in crm.failed_actions:
        yield Verdict(
            "failed_action",
            Severity.WARNING,
            f"failed action: {fa.resource} {fa.operation} on {fa.node}"
            + (
                f" ({fa.rc_text or fa.rc}{': ' + fa.exit_reason if fa.exit_reason else ''})"
                if fa.rc is not None
                else ""
            ),
            hint_for("failed_action", s, resource=fa.resource, node=fa.node),
        )


def _quorum(s: ClusterStatus) -> Iterator[Verdict]:
    crm = s.crm.value if s.crm and s.crm.ok else None
    lost = [h for h, p in s.quorum.items() if p.ok and not p.value.quorate]  # type: ignore[union-attr]
    if (crm is not None and crm.connected and crm.with_quorum is False) or lost:
        where = f" (seen on {', '.join(sorted(lost))})" if lost else ""
        # what Pacemaker does follows the cluster's no-quorum-policy (db2cm of 11.5.5 set ignore, 11.5.7 stop)
        ignored = crm is not None and crm.no_quorum_policy == "ignore"
        effect = (
            "no-quorum-policy=ignore keeps its resources running (both sides may run the primary)"
            if ignored
            else "Pacemaker stops resources there"
        )
        yield Verdict(
            "no_quorum",
            Severity.CRITICAL,
            f"partition WITHOUT quorum{where}: {effect}",
            "restore the peer node or the quorum device (corosync-qnetd) first",
        )
    for host, part in sorted(s.qdevice.items()):
        if part.ok and not part.value.connected:  # type: ignore[union-attr]
            yield Verdict(
                "qdevice_disconnected",
                Severity.WARNING,
                f"qdevice on {host} is not connected to qnetd ({part.value.state})",  # type: ignore[union-attr]
                hint_for("qdevice_disconnected", s, node=host),
            )
    if s.qnetd is not None and s.qnetd.ok:
        qnetd = s.qnetd.value
        assert qnetd is not None
        names = {p.value.cluster_name for p in s.qdevice.values() if p.ok and p.value.cluster_name}  # type: ignore[union-attr]
        for name in sorted(names):
            if qnetd.cluster(name) is None:
                yield Verdict(
                    "qnetd_missing_cluster",
                    Severity.WARNING,
                    f"qnetd on {s.qnetd.source} has no client of cluster {name!r}: its vote is not available",
                    "check corosync-qdevice on the nodes and TLS/port 5403 to the quorum host",
                )
        clients = [c for cl in qnetd.clusters for c in cl.clients]
        for c in clients:
            if "NACK" in c.vote:
                yield Verdict(
                    "qnetd_nack", Severity.WARNING, f"qnetd refuses its vote to node {c.node_id} ({c.vote})"
                )
    elif s.qnetd is not None and s.qnetd.error and s.qnetd.source not in s.host_errors:
        if s.qnetd.error.kind is ErrorKind.NOT_INSTALLED:
            yield Verdict(
                "qnetd_down",
                Severity.WARNING,
                f"corosync-qnetd is not installed on {s.qnetd.source} (corosync-qnetd-tool: command not found)",
                "the HA setup's Quorum device page installs and starts it (`:setup ha`)",
            )
            return
        yield Verdict(
            "qnetd_down",
            Severity.WARNING,
            f"corosync-qnetd on {s.qnetd.source} is down: one more failure stops the database "
            f"({s.qnetd.error})",
            hint_for("qnetd_down", s),
        )


def _hadr(s: ClusterStatus) -> Iterator[Verdict]:
    promoted = s.promoted_node
    primary = s.hadr_primary_host
    primaries = [h for h, p in s.hadr.items() if p.ok and p.value.role == "PRIMARY"]  # type: ignore[union-attr]
    if len(primaries) > 1:
        yield Verdict(
            "hadr_dual_primary",
            Severity.CRITICAL,
            f"HADR reports PRIMARY on {', '.join(sorted(primaries))}: split brain",
            "stop applications on the one Pacemaker did not promote; reintegrate it as standby",
        )
    elif promoted and primary and promoted != primary:
        yield Verdict(
            "promoted_vs_hadr_mismatch",
            Severity.CRITICAL,
            f"Pacemaker promoted {promoted} but HADR primary is {primary}",
            "do not fail over now; check `db2pd -hadr` and `crm status` on both nodes",
        )
    for host, part in sorted(s.hadr.items()):
        if not part.ok:
            continue
        hadr = part.value
        assert hadr is not None
        if not hadr.activated:
            if host == promoted:
                yield Verdict(
                    "hadr_db_inactive",
                    Severity.CRITICAL,
                    f"database {hadr.database} is not active on {host}, the promoted node",
                    f"check db2diag.log on {host}",
                )
            continue
        for st in hadr.streams:
            if st.connect_status and st.connect_status != "CONNECTED":
                yield Verdict(
                    "hadr_disconnected",
                    Severity.CRITICAL,
                    f"HADR on {host} is {st.connect_status}: the {st.role.lower()} has no peer",
                    hint_for("hadr_disconnected", s, host=host, peer=_peer(s, host)),
                )
            elif st.state != "PEER":
                yield Verdict(
                    "hadr_not_peer",
                    Severity.WARNING,
                    f"HADR on {host} is {st.state}, not PEER: a takeover now could lose data",
                    "wait for catch-up; check network and standby replay",
                )
            if st.log_gap_bytes is not None and st.log_gap_bytes > LOG_GAP_WARN_BYTES:
                yield Verdict(
                    "hadr_log_gap",
                    Severity.WARNING,
                    f"HADR log gap on {host} is {st.log_gap_bytes / 1048576:.0f} MiB",
                    "the standby is falling behind: check its disk and network",
                )


def _peer(s: ClusterStatus, host: str) -> str:
    """The other Db2 host of the pair ("" when the snapshot does not name one)."""
    crm = s.crm.value if s.crm is not None and s.crm.ok else None
    names = [n.name for n in crm.nodes] if crm is not None and crm.nodes else list(s.hadr)
    return next((n for n in names if n != host), "")


def _overlay(s: ClusterStatus) -> Iterator[Verdict]:
    yield from _overlay_resource(s)
    part = s.overlay_route
    if part is None:
        return
    if part.error:
        yield Verdict("overlay_route_unknown", Severity.WARNING, f"overlay IP route unknown: {part.error}")
        return
    route = part.value
    if route is None:
        return
    if route.state == "blackhole":
        yield Verdict(
            "overlay_route_blackhole",
            Severity.CRITICAL,
            f"overlay IP route {route.destination} is a blackhole: clients cannot reach Db2",
            "check the aws-vpc-move-ip resource and the instance it points to",
        )
    promoted = s.promoted_node
    want = s.instance_ids.get(promoted) if promoted else None
    if want and route.instance_id and route.instance_id != want:
        owner = next((h for h, i in s.instance_ids.items() if i == route.instance_id), route.instance_id)
        yield Verdict(
            "overlay_route_mismatch",
            Severity.CRITICAL,
            f"overlay IP {route.destination} routes to {owner}, but {promoted} is promoted",
            "check the aws-vpc-move-ip resource (`crm resource refresh`) and its IAM permission ReplaceRoute",
        )


def _overlay_resource(s: ClusterStatus) -> Iterator[Verdict]:
    """The aws-vpc-move-ip resource Stopped while a node is promoted: the route will not follow a
    failover. In an opt-in cluster (symmetric-cluster=false, as db2cm of 11.5.5 left it) a missing
    location constraint does this; in a symmetric one (11.5.7's db2cm) a ban or a failure does."""
    crm = s.crm.value if s.crm and s.crm.ok else None
    promoted = s.promoted_node
    if crm is None or not crm.connected or not promoted:
        return
    for r in crm.resources:
        if r.agent.endswith(":aws-vpc-move-ip") and not r.active and r.managed:
            if crm.symmetric_cluster is False:
                hint = (
                    f"the cluster is not symmetric (symmetric-cluster=false): {r.id} runs only where a "
                    f"location constraint allows it; check `crm configure show {r.id}` has one for each db "
                    f"host, then `crm resource refresh {r.id}`"
                )
            else:
                hint = (
                    f"check `crm configure show {r.id}` for a -inf location (a ban: `crm resource clear "
                    f"{r.id}`) and `crm_mon -1 --failcounts` for its failures, then `crm resource refresh {r.id}`"
                )
            yield Verdict(
                "overlay_resource_stopped",
                Severity.CRITICAL,
                f"overlay-IP resource {r.id} is {r.role} while {promoted} is promoted: "
                "the overlay route will not follow a failover",
                hint,
            )


def _unreadable(s: ClusterStatus) -> Iterator[Verdict]:
    """A reachable, online node whose quorum/qdevice/HADR command failed: that fact is unknown, which is
    not healthy. Unreachable hosts and nodes Pacemaker reports offline are already explained."""
    crm = s.crm.value if s.crm and s.crm.ok else None
    offline = {n.name for n in crm.nodes if not n.online or n.unclean} if crm else set()
    # hosts the Pacemaker verdict already calls "not installed": their corosync tools are missing too
    bare = set(_not_installed_on(s.crm.error)) if s.crm and not s.crm.ok else set()
    checked: tuple[tuple[str, Mapping[str, Part[object]]], ...] = (
        ("quorum", s.quorum),
        ("qdevice", s.qdevice),
        ("hadr", s.hadr),
    )
    for kind, parts in checked:
        for host, part in sorted(parts.items()):
            if part.error is None or host in s.host_errors or host in offline:
                continue
            if kind != "hadr" and host in bare and part.error.kind is ErrorKind.NOT_INSTALLED:
                continue
            run = f"run `{part.command}` on {host} yourself" if part.command else f"check {host}"
            # the tool's own answer when its daemon is down (exit 3), not a wording of ours
            if kind == "qdevice" and "Can't connect to QDevice" in part.error.output:
                yield Verdict(
                    "qdevice_down",
                    Severity.WARNING,
                    f"corosync-qdevice is not running on {host}: its vote for this node is missing",
                    f"`systemctl start corosync-qdevice` on {host}, then `corosync-qdevice-tool -s` there",
                )
            elif kind == "hadr":
                yield Verdict(
                    "hadr_unknown",
                    Severity.WARNING,
                    f"HADR state on {host} is unknown: {part.error}",
                    f"{run}; check the inventory's instance and database and that the SSH user can run db2pd",
                )
            else:
                what = "corosync quorum" if kind == "quorum" else "qdevice status"
                yield Verdict(
                    f"{kind}_unknown",
                    Severity.WARNING,
                    f"{what} on {host} is unknown: {part.error}",
                    f"{run}; is corosync running there?",
                )
