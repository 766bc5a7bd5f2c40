"""Preflight of a failover: read-only checks on one ClusterStatus, each a verdict with what to do.

A failed *blocking* check refuses the failover (the plan is not runnable); a failed non-blocking check is a
warning the DBA sees before typing the confirmation. Pure functions: no I/O, easy to test on built
snapshots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from services.failover.constraints import LocationConstraint, cli_constraints_for
from services.inventory_model import Cluster
from services.status_model import ClusterStatus
from services.verdicts import LOG_GAP_WARN_BYTES

FailoverKind = Literal["planned", "forced", "pacemaker"]
KINDS: tuple[str, ...] = ("planned", "forced", "pacemaker")
CheckState = Literal["pass", "fail", "warn", "pending"]


@dataclass(frozen=True)
class PreflightCheck:
    """One preflight verdict. `fix` names an offered remedy the screen can run ("clear_constraints")."""

    code: str
    title: str
    ok: bool
    message: str
    hint: str = ""
    blocking: bool = True
    pending: bool = False  # not judged yet (e.g. constraints are read when the plan runs)
    fix: str = ""

    @property
    def state(self) -> CheckState:
        if self.pending:
            return "pending"
        if self.ok:
            return "pass"
        return "fail" if self.blocking else "warn"


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
        text = f"{passed} checks passed"
        if self.warnings:
            text += f", {len(self.warnings)} warning(s): " + "; ".join(c.message for c in self.warnings)
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
        _check(
            "hosts_reachable",
            "Db2 hosts answer over SSH",
            not down,
            "; ".join(f"{h} is unreachable: {e}" for h, e in sorted(down.items()))
            or "every Db2 host answered",
            "check the EC2 instance and sshd of that host, then refresh",
        )
    )
    add(_pacemaker_check(status, crm))
    maintenance = bool(crm and crm.maintenance_mode)
    add(
        _check(
            "no_maintenance",
            "Cluster not in maintenance mode",
            not maintenance,
            "the cluster is in maintenance mode: Pacemaker would not follow the takeover"
            if maintenance
            else "maintenance-mode=false",
            "`crm configure property maintenance-mode=false` first",
        )
    )
    add(_quorum_check(status, crm))
    add(_qdevice_check(status, blocking=not forced))
    add(_roles_check(status, blocking=not forced))
    target_check, already = _target_check(cluster, status, crm, target, source)
    add(target_check)
    add(_hadr_check(cluster, status, forced))
    add(_log_gap_check(status))
    add(_failed_actions_check(crm, acknowledge_failed_actions))
    cli = cli_constraints_for(
        (clone, clone.removesuffix("-clone")), constraints or (), crm.bans if crm else ()
    )
    add(_constraints_check(clone, cli, constraints is None, constraints_error, clear_constraints))
    add(_route_check(status, blocking=not forced))
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


def _check(
    code: str, title: str, ok: bool, message: str, hint: str, *, blocking: bool = True
) -> PreflightCheck:
    return PreflightCheck(code, title, ok, message, "" if ok else hint, blocking=blocking)


def _pacemaker_check(status: ClusterStatus, crm) -> PreflightCheck:
    if crm is None:
        err = status.crm.error if status.crm is not None else "no Db2 host answered"
        return _check(
            "pacemaker",
            "Pacemaker status readable",
            False,
            f"Pacemaker status unavailable: {err}",
            "run `crm status` on a Db2 host; is pacemaker running there?",
        )
    if not crm.connected:
        return _check(
            "pacemaker",
            "Pacemaker status readable",
            False,
            f"Pacemaker is not running on {status.crm.source}: {crm.status_message}",
            "start the cluster stack (`crm cluster start`) first",
        )
    return _check(
        "pacemaker", "Pacemaker status readable", True, f"crm_mon answered on {status.crm.source}", ""
    )


def _quorum_check(status: ClusterStatus, crm) -> PreflightCheck:
    lost = sorted(h for h, p in status.quorum.items() if p.ok and not p.value.quorate)  # type: ignore[union-attr]
    ok = crm is not None and crm.with_quorum is not False and not lost
    where = f" (not quorate on {', '.join(lost)})" if lost else ""
    return _check(
        "quorum",
        "Cluster has quorum",
        ok,
        "partition with quorum" if ok else f"the cluster has no quorum{where}",
        "restore the peer node or corosync-qnetd first: without quorum Pacemaker stops Db2",
    )


def _qdevice_check(status: ClusterStatus, *, blocking: bool) -> PreflightCheck:
    bad = sorted(
        f"{h} ({p.value.state or 'no state'})"
        for h, p in status.qdevice.items()
        if p.ok and not p.value.connected  # type: ignore[union-attr]
    )
    unknown = sorted(h for h, p in status.qdevice.items() if not p.ok)
    ok = not bad and not unknown and bool(status.qdevice)
    if ok:
        message = "qdevice connected to qnetd on every Db2 host"
    elif bad:
        message = "qdevice not connected on " + ", ".join(bad)
    else:
        message = "qdevice state unknown on " + (", ".join(unknown) or "every host")
    return _check(
        "qdevice",
        "qdevice connected to qnetd",
        ok,
        message,
        "start corosync-qnetd on the quorum host (port 5403): without its vote one more failure loses quorum",
        blocking=blocking,
    )


def _roles_check(status: ClusterStatus, *, blocking: bool) -> PreflightCheck:
    primaries = sorted(h for h, p in status.hadr.items() if p.ok and p.value.role == "PRIMARY")  # type: ignore[union-attr]
    promoted = status.promoted_node
    if len(primaries) > 1:
        return _check(
            "roles_agree",
            "Pacemaker and HADR agree on the primary",
            False,
            f"HADR reports PRIMARY on {', '.join(primaries)}",
            "resolve the dual primary before any takeover",
            blocking=True,
        )
    primary = primaries[0] if primaries else None
    ok = primary is not None and primary == promoted
    message = (
        f"{primary} is the HADR primary and Pacemaker's promoted node"
        if ok
        else f"Pacemaker promoted {promoted or 'nothing'} but the HADR primary is {primary or 'unknown'}"
    )
    return _check(
        "roles_agree",
        "Pacemaker and HADR agree on the primary",
        ok,
        message,
        "check `db2pd -hadr` and `crm status` on both nodes; do not move roles while they disagree",
        blocking=blocking,
    )


def _target_check(cluster: Cluster, status: ClusterStatus, crm, target: str | None, source: str | None):
    title = "Target node online, not standby, HADR standby"
    names = [h.name for h in cluster.db_hosts]
    if target is None or target not in names:
        msg = f"unknown target {target!r}" if target else "no standby to fail over to"
        return _check(
            "target", title, False, msg, f"pick one of {', '.join(names) or 'the Db2 hosts'}"
        ), False
    hadr = status.hadr.get(target)
    role = hadr.value.role if hadr is not None and hadr.value is not None else None
    if role == "PRIMARY" and status.promoted_node == target:
        return _check("target", title, True, f"{target} already is the primary", ""), True
    node = crm.node(target) if crm is not None else None
    problems = []
    if node is None:
        problems.append(f"{target} is not a Pacemaker node")
    else:
        if not node.online:
            problems.append(f"{target} is offline")
        if node.standby:
            problems.append(f"{target} is in standby (`crm node online {target}` first)")
        if node.maintenance:
            problems.append(f"{target} is in maintenance")
    if role != "STANDBY":
        problems.append(f"HADR role on {target} is {role or 'unknown'}, not STANDBY")
    ok = not problems
    message = f"{target} is online and the HADR standby" if ok else "; ".join(problems)
    return _check("target", title, ok, message, f"bring {target} back as the standby first"), False


def _hadr_check(cluster: Cluster, status: ClusterStatus, forced: bool) -> PreflightCheck:
    seen, bad = [], []
    for host in cluster.db_hosts:
        part = status.hadr.get(host.name)
        if part is None or not part.ok:
            bad.append(f"{host.name}: {part.error if part is not None else 'no answer'}")
            continue
        hadr = part.value
        if not hadr.activated or not hadr.streams:  # type: ignore[union-attr]
            bad.append(f"{host.name}: database not active")
            continue
        for st in hadr.streams:  # type: ignore[union-attr]
            seen.append(f"{host.name} {st.state}/{st.connect_status or '?'}")
            if st.state != "PEER" or (st.connect_status and st.connect_status != "CONNECTED"):
                bad.append(f"{host.name} is {st.state} ({st.connect_status or 'connect status unknown'})")
    ok = not bad
    hint = (
        "a forced takeover may lose committed transactions; PEER WINDOW ONLY refuses outside the window"
        if forced
        else "wait for PEER (check the HADR link and standby replay); a takeover outside PEER fails with SQL1770N"
    )
    message = "HADR in PEER and CONNECTED on both" if ok else "HADR not in PEER: " + "; ".join(bad)
    return _check("hadr_peer", "HADR in PEER and CONNECTED", ok, message, hint, blocking=not forced)


def _log_gap_check(status: ClusterStatus) -> PreflightCheck:
    gaps = [
        st.log_gap_bytes
        for p in status.hadr.values()
        if p.ok
        for st in p.value.streams  # type: ignore[union-attr]
        if st.log_gap_bytes is not None
    ]
    gap = max(gaps, default=0)
    ok = gap <= LOG_GAP_WARN_BYTES
    return _check(
        "log_gap",
        "HADR log gap small",
        ok,
        f"log gap {gap / 1048576:.1f} MiB",
        "a big gap makes the takeover slow and it may time out: wait for the standby to catch up",
        blocking=False,
    )


def _failed_actions_check(crm, acknowledged: bool) -> PreflightCheck:
    failed = list(crm.failed_actions) if crm is not None else []
    names = ", ".join(f"{f.resource} {f.operation} on {f.node}" for f in failed)
    if not failed:
        return _check("failed_actions", "No failed resource actions", True, "no failed actions", "")
    if acknowledged:
        return _check("failed_actions", "No failed resource actions", True, f"acknowledged: {names}", "")
    return PreflightCheck(
        "failed_actions",
        "No failed resource actions",
        False,
        f"failed actions: {names}",
        "fix their cause and `crm resource cleanup`, or acknowledge them to go on",
        fix="acknowledge_failed_actions",
    )


def _constraints_check(
    clone: str,
    cli: tuple[LocationConstraint, ...],
    unread: bool,
    error: str | None,
    clear: bool,
) -> PreflightCheck:
    title = "No move/ban constraint on the clone"
    if cli and clear:
        text = ", ".join(c.id for c in cli)
        return _check("constraints", title, True, f"{text} will be cleared first (`crm resource clear`)", "")
    if cli:
        return PreflightCheck(
            "constraints",
            title,
            False,
            "left-over constraint(s): " + "; ".join(c.describe() for c in cli),
            f"`crm resource clear {clone}` first (or let db2ops clear it): it pins the clone and the next "
            "move fails with exit 108",
            fix="clear_constraints",
        )
    if error:
        return PreflightCheck(
            "constraints",
            title,
            False,
            f"could not read the CIB constraints: {error}",
            "check `crm configure show | grep cli-` yourself",
            blocking=False,
        )
    if unread:
        return PreflightCheck(
            "constraints", title, True, "checked in the CIB when the plan runs (cibadmin)", pending=True
        )
    return _check("constraints", title, True, "no cli-prefer/cli-ban constraint", "")


def _route_check(status: ClusterStatus, *, blocking: bool) -> PreflightCheck:
    title = "Overlay IP route follows the promoted node"
    part = status.overlay_route
    if part is None:
        return _check("route", title, True, "no overlay IP route configured for this cluster", "")
    if part.value is None or part.error:
        return PreflightCheck(
            "route",
            title,
            False,
            f"overlay IP route unknown: {part.error or 'no value'}",
            "check the AWS credentials (ec2:DescribeRouteTables)",
            blocking=False,
        )
    promoted = status.promoted_node
    want = status.instance_ids.get(promoted) if promoted else None
    owner = next((h for h, i in status.instance_ids.items() if i == part.value.instance_id), None)
    ok = want is None or part.value.instance_id == want
    message = (
        f"{part.value.destination} routes to {owner or part.value.instance_id}"
        if ok
        else f"{part.value.destination} routes to {owner or part.value.instance_id}, not to {promoted}"
    )
    return _check(
        "route",
        title,
        ok,
        message,
        "fix the aws-vpc-move-ip resource (`crm resource refresh`) before moving roles",
        blocking=blocking,
    )
