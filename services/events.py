"""State-change events between two snapshots: the seed of the incident timeline."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from services.status_model import ClusterStatus, Severity


@dataclass(frozen=True)
class StatusEvent:
    at: float  # epoch seconds of the snapshot that showed the change
    cluster: str
    kind: str  # stable code: node_left, node_joined, promoted_changed, hadr_state_changed, ...
    message: str
    severity: Severity = Severity.INFO


def diff_snapshots(prev: ClusterStatus | None, cur: ClusterStatus) -> list[StatusEvent]:
    """Return the changes from `prev` to `cur` (empty for the first snapshot).

    Only facts both snapshots actually observed are compared: a part that failed to refresh is not a change.
    """
    if prev is None:
        return []
    return [StatusEvent(cur.taken_at, cur.cluster, k, m, s) for k, m, s in _changes(prev, cur)]


def _changes(a: ClusterStatus, b: ClusterStatus) -> Iterator[tuple[str, str, Severity]]:
    for host in sorted(set(b.host_errors) - set(a.host_errors)):
        yield "host_unreachable", f"{host} became unreachable: {b.host_errors[host]}", Severity.CRITICAL
    for host in sorted(set(a.host_errors) - set(b.host_errors)):
        yield "host_reachable", f"{host} is reachable again", Severity.INFO

    crm_a = a.crm.value if a.crm and a.crm.ok else None
    crm_b = b.crm.value if b.crm and b.crm.ok else None
    if crm_a and crm_b and crm_a.connected and crm_b.connected:
        online_a = {n.name for n in crm_a.nodes if n.online}
        online_b = {n.name for n in crm_b.nodes if n.online}
        for n in sorted(online_a - online_b):
            yield "node_left", f"node {n} left the cluster", Severity.CRITICAL
        for n in sorted(online_b - online_a):
            yield "node_joined", f"node {n} joined the cluster", Severity.INFO
        pa, pb = crm_a.promoted_nodes, crm_b.promoted_nodes
        if pa != pb:
            was = ", ".join(pa) or "none"
            now = ", ".join(pb) or "none"
            sev = Severity.CRITICAL if not pb else Severity.WARNING
            yield "promoted_changed", f"promoted node changed: {was} -> {now}", sev
        if (
            crm_a.with_quorum is not None
            and crm_b.with_quorum is not None
            and crm_a.with_quorum != crm_b.with_quorum
        ):
            if crm_b.with_quorum:
                yield "quorum_regained", "the cluster has quorum again", Severity.INFO
            else:
                yield "quorum_lost", "the cluster lost quorum", Severity.CRITICAL
        fa = {(f.resource, f.operation, f.node) for f in crm_a.failed_actions}
        for f in crm_b.failed_actions:
            if (f.resource, f.operation, f.node) not in fa:
                yield (
                    "failed_action",
                    f"failed action {f.resource} {f.operation} on {f.node}",
                    Severity.WARNING,
                )

    for host in sorted(set(a.quorum) & set(b.quorum)):
        qa, qb = a.quorum[host], b.quorum[host]
        if qa.ok and qb.ok and qa.value.quorate != qb.value.quorate:  # type: ignore[union-attr]
            if qb.value.quorate:  # type: ignore[union-attr]
                yield "quorum_regained", f"{host} is quorate again", Severity.INFO
            else:
                yield "quorum_lost", f"{host} lost quorum", Severity.CRITICAL

    for host in sorted(set(a.qdevice) & set(b.qdevice)):
        qa, qb = a.qdevice[host], b.qdevice[host]
        if qa.ok and qb.ok and qa.value.connected != qb.value.connected:  # type: ignore[union-attr]
            if qb.value.connected:  # type: ignore[union-attr]
                yield "qdevice_connected", f"qdevice on {host} reconnected to qnetd", Severity.INFO
            else:
                yield (
                    "qdevice_disconnected",
                    f"qdevice on {host} lost qnetd ({qb.value.state})",  # type: ignore[union-attr]
                    Severity.WARNING,
                )

    for host in sorted(set(a.hadr) & set(b.hadr)):
        ha, hb = a.hadr[host], b.hadr[host]
        if not (ha.ok and hb.ok):
            continue
        ra, rb = ha.value.role, hb.value.role  # type: ignore[union-attr]
        sa, sb = ha.value.state, hb.value.state  # type: ignore[union-attr]
        if ra != rb:
            yield (
                "hadr_role_changed",
                f"HADR role on {host}: {ra or 'inactive'} -> {rb or 'inactive'}",
                Severity.WARNING,
            )
        if sa != sb:
            sev = Severity.INFO if sb == "PEER" else Severity.WARNING
            yield "hadr_state_changed", f"HADR state on {host}: {sa or 'inactive'} -> {sb or 'inactive'}", sev

    ra_ = a.overlay_route.value if a.overlay_route and a.overlay_route.ok else None
    rb_ = b.overlay_route.value if b.overlay_route and b.overlay_route.ok else None
    if ra_ and rb_ and ra_.instance_id != rb_.instance_id:

        def owner(iid: str | None) -> str:
            return next((h for h, i in b.instance_ids.items() if i == iid), iid or "nothing")

        yield (
            "route_moved",
            f"overlay IP {rb_.destination} moved: {owner(ra_.instance_id)} -> {owner(rb_.instance_id)}",
            Severity.WARNING,
        )
