"""Preflight of a failover: read-only checks on one ClusterStatus, each a verdict with what to do.

A failed *blocking* check refuses the failover (the plan is not runnable); a failed non-blocking check is a
warning the DBA sees before typing the confirmation. Pure functions: no I/O, easy to test on built
snapshots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from services.failover.checks import (
    PreflightCheck,
    constraints_check,
    failed_actions_check,
    hadr_check,
    instance_owner_check,
    log_gap_check,
    pacemaker_check,
    qdevice_check,
    quorum_check,
    roles_check,
    route_check,
    simple_check,
    target_check,
)
from services.failover.constraints import LocationConstraint, cli_constraints_for
from services.inventory.model import Cluster
from services.status.model import ClusterStatus
from services.words import plural

FailoverKind = Literal["planned", "forced", "pacemaker"]
KINDS: tuple[str, ...] = ("planned", "forced", "pacemaker")


@dataclass(frozen=True)
class Preflight:
    """All checks for one (cluster, target, kind). `source` is the current HADR primary (None if unknown)."""

    cluster: str
    kind: str
    target: str | None
    source: str | None
    checks: tuple[PreflightCheck, ...] = ()
    already_done: bool = False  # the target already is the HADR primary and Pacemaker's promoted node
    clone: str = ""
    cli_constraints: tuple[LocationConstraint, ...] = field(default=())

    @property
    def failures(self) -> tuple[PreflightCheck, ...]:
        """The blocking checks that failed (empty when the failover may run)."""
        return tuple(c for c in self.checks if c.state == "fail")

    @property
    def warnings(self) -> tuple[PreflightCheck, ...]:
        return tuple(c for c in self.checks if c.state == "warn")

    @property
    def runnable(self) -> bool:
        return not self.failures

    @property
    def refusal(self) -> str:
        """Why the failover is refused, with what to do ("" when runnable)."""
        parts = [f"{c.message}" + (f" — {c.hint}" if c.hint else "") for c in self.failures]
        if not parts:
            return ""
        return f"failover of {self.cluster} to {self.target or '?'} refused: " + "; ".join(parts)

    def summary(self) -> str:
        """Return one line: "9 checks passed, 1 warning" (or the refusal)."""
        if self.already_done:
            return f"{self.target} already is the HADR primary and the promoted node: nothing to do"
        if not self.runnable:
            return self.refusal
        passed = sum(1 for c in self.checks if c.state == "pass")
        text = f"{plural(passed, 'check')} passed"
        if self.warnings:
            text += f", {plural(len(self.warnings), 'warning')}: " + "; ".join(
                c.message for c in self.warnings
            )
        return text


def clone_id(cluster: Cluster, status: ClusterStatus | None = None) -> str:
    """Return the id of the Db2 HADR promotable clone: from crm_mon when known, else Db2's naming rule."""
    if status is not None and status.crm is not None and status.crm.value is not None:
        clones = status.crm.value.promotable_clones
        if clones:
            return clones[0].id
    return f"db2_{cluster.instance}_{cluster.instance}_{cluster.database}-clone"


def default_target(cluster: Cluster, status: ClusterStatus) -> str | None:
    """Return the standby: the db host whose HADR role is STANDBY, else the db host not promoted."""
    for host in cluster.db_hosts:
        part = status.hadr.get(host.name)
        if part is not None and part.value is not None and part.value.role == "STANDBY":
            return host.name
    primary = status.hadr_primary_host or status.promoted_node
    others = [h.name for h in cluster.db_hosts if h.name != primary]
    return others[0] if others else None


def run_preflight(
    cluster: Cluster,
    status: ClusterStatus,
    target: str | None = None,
    *,
    kind: FailoverKind = "planned",
    constraints: Sequence[LocationConstraint] | None = None,
    constraints_error: str | None = None,
    acknowledge_failed_actions: bool = False,
    clear_constraints: bool = False,
) -> Preflight:
    """Judge whether `cluster` may fail over to `target` (default: the standby) now.

    `constraints` are the CIB's location constraints (None: not read yet, judged when the plan runs).
    Returns a Preflight; raises ValueError for an unknown `kind`.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown failover kind {kind!r}; use one of {', '.join(KINDS)}")
    target = target or default_target(cluster, status)
    source = status.hadr_primary_host or status.promoted_node
    clone = clone_id(cluster, status)
    crm = status.crm.value if status.crm is not None and status.crm.ok else None
    forced = kind == "forced"
    checks: list[PreflightCheck] = []
    add = checks.append

    db_names = [h.name for h in cluster.db_hosts]
    down = {h: e for h, e in status.host_errors.items() if h in db_names}
    if forced:
        down.pop(source or "", None)  # a forced takeover is for when the primary is gone
    add(
        simple_check(
            "hosts_reachable",
            "Db2 hosts answer over SSH",
            not down,
            "; ".join(f"{h} is unreachable: {e}" for h, e in sorted(down.items()))
            or "every Db2 host answered",
            "check the EC2 instance and sshd of that host, then refresh",
        )
    )
    add(pacemaker_check(status, crm))
    maintenance = bool(crm and crm.maintenance_mode)
    add(
        simple_check(
            "no_maintenance",
            "Cluster not in maintenance mode",
            not maintenance,
            "the cluster is in maintenance mode: Pacemaker would not follow the takeover"
            if maintenance
            else "maintenance-mode=false",
            "`crm configure property maintenance-mode=false` first",
        )
    )
    add(quorum_check(status, crm))
    add(qdevice_check(status, blocking=not forced))
    add(roles_check(status, blocking=not forced))
    on_target, already = target_check(cluster, status, crm, target, source)
    add(on_target)
    add(hadr_check(cluster, status, forced))
    add(log_gap_check(status))
    add(failed_actions_check(crm, acknowledge_failed_actions))
    cli = cli_constraints_for(
        (clone, clone.removesuffix("-clone")), constraints or (), crm.bans if crm else ()
    )
    add(constraints_check(clone, cli, constraints is None, constraints_error, clear_constraints))
    add(route_check(status, blocking=not forced))
    if kind != "pacemaker":
        add(instance_owner_check(cluster, target))
    if forced:
        add(
            PreflightCheck(
                "forced_takeover",
                "Forced takeover acknowledged",
                False,
                "FORCED takeover: the old primary is not asked to stop; if it still runs, clients can write "
                "to both databases (split brain). PEER WINDOW ONLY refuses outside the peer window.",
                "use only when the primary is really down; stop its Db2 instance or host first",
                blocking=False,
            )
        )
    return Preflight(
        cluster=cluster.name,
        kind=kind,
        target=target,
        source=source,
        checks=tuple(checks),
        already_done=already,
        clone=clone,
        cli_constraints=cli,
    )
