"""What the verify phase watches: has the cluster settled with `target` as the primary everywhere?"""

from __future__ import annotations

from dataclasses import dataclass

from services.inventory.model import Cluster
from services.status.model import ClusterStatus

EXPECTED_SECONDS = (1.0, 10.0)  # a planned takeover under Pacemaker settles in about 1-10 s


@dataclass(frozen=True)
class FailoverObservation:
    """One look at the cluster while waiting. `complete` when every fact points at the target."""

    elapsed_s: float
    target: str
    promoted: str | None
    hadr_primary: str | None
    hadr_state: str | None
    route_host: str | None  # host the overlay route points to (None: unknown or not configured)
    route_configured: bool
    problems: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """Return one line: "promoted db2b · HADR primary db2b PEER · route → db2b · 2.1 s"."""
        route = f"route → {self.route_host or '?'}" if self.route_configured else "no overlay route"
        return (
            f"promoted {self.promoted or 'none'} · HADR primary {self.hadr_primary or '?'} "
            f"{self.hadr_state or '?'} · {route} · {self.elapsed_s:.1f} s"
        )


def observe(
    cluster: Cluster, status: ClusterStatus, target: str, elapsed_s: float, *, require_peer: bool = True
) -> FailoverObservation:
    """Return the observation of `status`: what still differs from "target is the primary everywhere".

    `require_peer` False (forced takeover: the old primary is gone or cut off) accepts any HADR state.
    """
    promoted = status.promoted_node
    primary = status.hadr_primary_host
    part = status.hadr.get(target)
    state = part.value.state if part is not None and part.value is not None else None
    problems = []
    if promoted != target:
        problems.append(f"Pacemaker promoted {promoted or 'nothing'}, waiting for {target}")
    if primary != target:
        problems.append(f"HADR primary is {primary or 'unknown'}, waiting for {target}")
    if require_peer and state != "PEER":
        problems.append(f"HADR on {target} is {state or 'unknown'}, waiting for PEER")
    configured = bool(cluster.aws.route_table_id and cluster.aws.overlay_ip)
    route_host = None
    if configured:
        route = status.overlay_route
        route_value = route.value if route is not None and route.ok else None
        iid = route_value.instance_id if route_value is not None else None
        ids = dict(status.instance_ids) or {h.name: h.instance_id for h in cluster.hosts if h.instance_id}
        route_host = next((h for h, i in ids.items() if i == iid), None) if iid else None
        if route is None or not route.ok:
            problems.append(f"overlay route unknown: {route.error if route is not None else 'not read'}")
        elif route_host != target:
            problems.append(f"overlay route → {route_host or iid}, waiting for {target}")
    return FailoverObservation(
        elapsed_s=elapsed_s,
        target=target,
        promoted=promoted,
        hadr_primary=primary,
        hadr_state=state,
        route_host=route_host,
        route_configured=configured,
        problems=tuple(problems),
    )
