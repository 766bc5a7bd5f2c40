"""The individual preflight checks of a failover: each judges one fact of a ClusterStatus.

Every function returns a PreflightCheck saying what was found and, when it failed, what to do. No I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeVar

from services.cluster_model import CrmStatus
from services.failover.constraints import LocationConstraint
from services.inventory.model import Cluster
from services.status.model import ClusterStatus, Part
from services.status.verdicts import LOG_GAP_WARN_BYTES

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


T = TypeVar("T")


def good(part: Part[T] | None) -> T | None:
    """The value of a fact read without error; None when it is missing, failed or only stale."""
    return part.value if part is not None and part.ok else None


def simple_check(
    code: str, title: str, ok: bool, message: str, hint: str, *, blocking: bool = True
) -> PreflightCheck:
    return PreflightCheck(code, title, ok, message, "" if ok else hint, blocking=blocking)


def pacemaker_check(status: ClusterStatus, crm: CrmStatus | None) -> PreflightCheck:
    if crm is None or status.crm is None:
        err = status.crm.error if status.crm is not None else "no Db2 host answered"
        return simple_check(
            "pacemaker",
            "Pacemaker status readable",
            False,
            f"Pacemaker status unavailable: {err}",
            "run `crm status` on a Db2 host; is pacemaker running there?",
        )
    if not crm.connected:
        return simple_check(
            "pacemaker",
            "Pacemaker status readable",
            False,
            f"Pacemaker is not running on {status.crm.source}: {crm.status_message}",
            "start the cluster stack (`crm cluster start`) first",
        )
    return simple_check(
        "pacemaker", "Pacemaker status readable", True, f"crm_mon answered on {status.crm.source}", ""
    )


def quorum_check(status: ClusterStatus, crm: CrmStatus | None) -> PreflightCheck:
    lost = sorted(h for h, p in status.quorum.items() if (q := good(p)) is not None and not q.quorate)
    ok = crm is not None and crm.with_quorum is not False and not lost
    where = f" (not quorate on {', '.join(lost)})" if lost else ""
    return simple_check(
        "quorum",
        "Cluster has quorum",
        ok,
        "partition with quorum" if ok else f"the cluster has no quorum{where}",
        "restore the peer node or corosync-qnetd first: without quorum Pacemaker stops Db2",
    )


def qdevice_check(status: ClusterStatus, *, blocking: bool) -> PreflightCheck:
    bad = sorted(
        f"{h} ({q.state or 'no state'})"
        for h, p in status.qdevice.items()
        if (q := good(p)) is not None and not q.connected
    )
    unknown = sorted(h for h, p in status.qdevice.items() if not p.ok)
    ok = not bad and not unknown and bool(status.qdevice)
    if ok:
        message = "qdevice connected to qnetd on every Db2 host"
    elif bad:
        message = "qdevice not connected on " + ", ".join(bad)
    else:
        message = "qdevice state unknown on " + (", ".join(unknown) or "every host")
    return simple_check(
        "qdevice",
        "qdevice connected to qnetd",
        ok,
        message,
        "start corosync-qnetd on the quorum host (port 5403): without its vote one more failure loses quorum",
        blocking=blocking,
    )


def roles_check(status: ClusterStatus, *, blocking: bool) -> PreflightCheck:
    primaries = sorted(
        h for h, p in status.hadr.items() if (v := good(p)) is not None and v.role == "PRIMARY"
    )
    promoted = status.promoted_node
    if len(primaries) > 1:
        return simple_check(
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
    return simple_check(
        "roles_agree",
        "Pacemaker and HADR agree on the primary",
        ok,
        message,
        "check `db2pd -hadr` and `crm status` on both nodes; do not move roles while they disagree",
        blocking=blocking,
    )


def target_check(
    cluster: Cluster, status: ClusterStatus, crm: CrmStatus | None, target: str | None, source: str | None
) -> tuple[PreflightCheck, bool]:
    title = "Target node online, not standby, HADR standby"
    names = [h.name for h in cluster.db_hosts]
    if target is None or target not in names:
        msg = f"unknown target {target!r}" if target else "no standby to fail over to"
        return simple_check(
            "target", title, False, msg, f"pick one of {', '.join(names) or 'the Db2 hosts'}"
        ), False
    hadr = status.hadr.get(target)
    role = hadr.value.role if hadr is not None and hadr.value is not None else None
    if role == "PRIMARY" and status.promoted_node == target:
        return simple_check("target", title, True, f"{target} already is the primary", ""), True
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
    return simple_check("target", title, ok, message, f"bring {target} back as the standby first"), False


def hadr_check(cluster: Cluster, status: ClusterStatus, forced: bool) -> PreflightCheck:
    seen, bad = [], []
    for host in cluster.db_hosts:
        part = status.hadr.get(host.name)
        hadr = good(part)
        if hadr is None:
            bad.append(f"{host.name}: {part.error if part is not None else 'no answer'}")
            continue
        if not hadr.activated or not hadr.streams:
            bad.append(f"{host.name}: database not active")
            continue
        for st in hadr.streams:
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
    return simple_check("hadr_peer", "HADR in PEER and CONNECTED", ok, message, hint, blocking=not forced)


def log_gap_check(status: ClusterStatus) -> PreflightCheck:
    gaps = [
        st.log_gap_bytes
        for p in status.hadr.values()
        if (v := good(p)) is not None
        for st in v.streams
        if st.log_gap_bytes is not None
    ]
    gap = max(gaps, default=0)
    ok = gap <= LOG_GAP_WARN_BYTES
    return simple_check(
        "log_gap",
        "HADR log gap small",
        ok,
        f"log gap {gap / 1048576:.1f} MiB",
        "a big gap makes the takeover slow and it may time out: wait for the standby to catch up",
        blocking=False,
    )


def failed_actions_check(crm: CrmStatus | None, acknowledged: bool) -> PreflightCheck:
    failed = list(crm.failed_actions) if crm is not None else []
    names = ", ".join(f"{f.resource} {f.operation} on {f.node}" for f in failed)
    if not failed:
        return simple_check("failed_actions", "No failed resource actions", True, "no failed actions", "")
    if acknowledged:
        return simple_check(
            "failed_actions", "No failed resource actions", True, f"acknowledged: {names}", ""
        )
    return PreflightCheck(
        "failed_actions",
        "No failed resource actions",
        False,
        f"failed actions: {names}",
        "fix their cause and `crm resource cleanup`, or acknowledge them to go on",
        fix="acknowledge_failed_actions",
    )


def constraints_check(
    clone: str,
    cli: tuple[LocationConstraint, ...],
    unread: bool,
    error: str | None,
    clear: bool,
) -> PreflightCheck:
    title = "No move/ban constraint on the clone"
    if cli and clear:
        text = ", ".join(c.id for c in cli)
        return simple_check(
            "constraints", title, True, f"{text} will be cleared first (`crm resource clear`)", ""
        )
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
    return simple_check("constraints", title, True, "no cli-prefer/cli-ban constraint", "")


def route_check(status: ClusterStatus, *, blocking: bool) -> PreflightCheck:
    title = "Overlay IP route follows the promoted node"
    part = status.overlay_route
    if part is None:
        return simple_check("route", title, True, "no overlay IP route configured for this cluster", "")
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
    return simple_check(
        "route",
        title,
        ok,
        message,
        "fix the aws-vpc-move-ip resource (`crm resource refresh`) before moving roles",
        blocking=blocking,
    )


def instance_owner_check(cluster: Cluster, target: str | None) -> PreflightCheck:
    """The takeover runs as the ssh user of the target: the CLP needs the instance owner's environment."""
    host = cluster.host(target) if target else None
    user = host.user if host is not None else None
    ok = user is None or user == cluster.instance
    message = (
        f"db2 runs as {user or 'the ssh user'} on {target}"
        if ok
        else f"ssh user on {target} is {user}, not {cluster.instance}"
    )
    return simple_check(
        "instance_owner",
        "Takeover runs as the instance owner",
        ok,
        message,
        f"set `user: {cluster.instance}` for {target} in the inventory: `db2 takeover` needs the instance "
        "owner's environment",
        blocking=False,
    )
