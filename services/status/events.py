"""State-change events between two snapshots: the seed of the incident timeline."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from services.status.model import ClusterStatus, Part, Severity

T = TypeVar("T")


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


def _read_in_both(a: Mapping[str, Part[T]], b: Mapping[str, Part[T]]) -> Iterator[tuple[str, T, T]]:
    """Yield (host, value before, value now) for each host, sorted, whose part both snapshots read."""
    for host in sorted(set(a) & set(b)):
        before, now = a[host], b[host]
        if before.ok and now.ok:
            yield host, before.value, now.value  # type: ignore[misc]  # ok: neither value is None


def _changes(a: ClusterStatus, b: ClusterStatus) -> Iterator[tuple[str, str, Severity]]:
    for host in sorted(set(b.host_errors) - set(a.host_errors)):
        yield (
            "host_unreachable",
            f"{host} became unreachable: {b.host_errors[host].message}",
            Severity.CRITICAL,
        )
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

    for host, qa, qb in _read_in_both(a.quorum, b.quorum):
        if qa.quorate != qb.quorate:
            if qb.quorate:
                yield "quorum_regained", f"{host} is quorate again", Severity.INFO
            else:
                yield "quorum_lost", f"{host} lost quorum", Severity.CRITICAL

    for host, da, db in _read_in_both(a.qdevice, b.qdevice):
        if da.connected != db.connected:
            if db.connected:
                yield "qdevice_connected", f"qdevice on {host} reconnected to qnetd", Severity.INFO
            else:
                yield "qdevice_disconnected", f"qdevice on {host} lost qnetd ({db.state})", Severity.WARNING

    for host, ha, hb in _read_in_both(a.hadr, b.hadr):
        ra, rb = ha.role, hb.role
        sa, sb = ha.state, hb.state
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

    yield from _alarm_changes(a, b)


def _alarm_changes(a: ClusterStatus, b: ClusterStatus) -> Iterator[tuple[str, str, Severity]]:
    """An alarm of the cluster that entered ALARM, or left it, between two snapshots that both read them."""
    if not (a.alarms and a.alarms.ok and b.alarms and b.alarms.ok):
        return
    before = {x.name: x.state for x in a.alarms.value or ()}
    for alarm in b.alarms.value or ():
        was = before.get(alarm.name)
        if was is None or was == alarm.state:
            continue
        if alarm.state == "ALARM":
            yield "alarm_fired", f"alarm {alarm.name} went into ALARM (was {was})", Severity.WARNING
        elif was == "ALARM":
            yield "alarm_cleared", f"alarm {alarm.name} left ALARM ({alarm.state})", Severity.INFO
