"""The overlay-IP resource (aws-vpc-move-ip) in `crm configure show`: its constraints and its monitor.

The route follows the primary only through the colocation with the promoted db2hadr clone; with
symmetric-cluster=false (an opt-in cluster, as db2cm of 11.5.5 left it; 11.5.7's left true) a resource with
no location constraint may run nowhere, so the rule asks for one per db host only then.
"""

from __future__ import annotations

from services.check.finding import Finding, Severity
from services.check.hadr_timing import PRIMARY_ROLES
from services.check.pacemaker_config import CrmConfig, Primitive

AGENT = "aws-vpc-move-ip"
LAYER = "pacemaker"
# The agent calls the EC2 API (describe-route-tables) on every monitor: far below 10 s, a fleet of clusters
# meets EC2's request throttling, and a throttled monitor fails and restarts the resource. Far above 60 s
# (the agent's metadata default), a route changed by hand points clients at the standby for that long.
MONITOR_MIN_S, MONITOR_MAX_S = 10.0, 60.0


def overlay_findings(
    config: CrmConfig, *, overlay_ip: str | None, db_nodes: tuple[str, ...]
) -> list[Finding]:
    """Return the findings of the overlay-IP resources (none expected when no overlay IP is configured)."""
    resources = config.primitives_of(AGENT)
    if not resources:
        if not overlay_ip:
            return []
        return [
            Finding(
                "OIP-RESOURCE-MISSING",
                Severity.ERROR,
                LAYER,
                f"the inventory names overlay IP {overlay_ip} but there is no {AGENT} resource",
                "Nothing moves the overlay route on a failover: clients keep reaching the old primary.",
                "create it with `db2ops setup ha --cluster NAME` (the overlay-IP steps) or the runbook's "
                "overlayip.txt and `crm configure load update`",
            )
        ]
    findings: list[Finding] = []
    hadr_clones = {c for p in config.primitives_of("db2hadr") if (c := config.clone_of(p.id)) is not None}
    for rsc in resources:
        findings += _constraints(config, rsc, hadr_clones, db_nodes)
        findings += _monitor(rsc)
    return findings


def _constraints(
    config: CrmConfig, rsc: Primitive, hadr_clones: set[str], db_nodes: tuple[str, ...]
) -> list[Finding]:
    findings = []
    colocated = any(
        any(t.split(":", 1)[0] in hadr_clones and t.split(":", 1)[-1] in PRIMARY_ROLES for t in tokens)
        and tokens
        and tokens[0].rstrip(":") in ("inf", "INFINITY", "+inf", "+INFINITY")
        for _, _, tokens in config.constraints_naming("colocation", rsc.id)
    )
    if not colocated:
        clone = next(iter(sorted(hadr_clones)), "DB2HADR-CLONE")
        findings.append(
            Finding(
                "OIP-NO-COLOCATION",
                Severity.ERROR,
                LAYER,
                f"{rsc.id} has no mandatory (inf) colocation with the primary role of {clone}",
                "The overlay route may stay on, or move to, the standby: clients reach a database that "
                "refuses connections after a failover.",
                f"crm configure colocation {rsc.id}-with-primary inf: {rsc.id}:Started {clone}:Master",
            )
        )
    if config.properties.get("symmetric-cluster", "true").lower() in ("false", "no", "0", "off"):
        located = {
            tokens[-1]
            for _, _, tokens in config.constraints_naming("location", rsc.id)
            if len(tokens) >= 3 and not tokens[-2].startswith("-")
        }
        missing = [n for n in db_nodes if n not in located]
        if missing:
            findings.append(
                Finding(
                    "OIP-NO-LOCATION",
                    Severity.ERROR,
                    LAYER,
                    f"symmetric-cluster is false and {rsc.id} has no location constraint for "
                    + ", ".join(missing),
                    "In an opt-in cluster a resource runs only where a location constraint allows it: the "
                    "overlay route cannot follow the primary to that host.",
                    "; ".join(
                        f"crm configure location prefer-{n}_{rsc.id} {rsc.id} 100: {n}" for n in missing
                    ),
                )
            )
    return findings


def _monitor(rsc: Primitive) -> list[Finding]:
    monitors = [op for op in rsc.monitors() if op.seconds("interval")]
    edit = f"crm configure edit {rsc.id} (the runbook uses `op monitor interval=30s timeout=60s`)"
    if not monitors:
        return [
            Finding(
                "OIP-NO-MONITOR",
                Severity.ERROR,
                LAYER,
                f"{rsc.id} has no recurring monitor operation",
                "Pacemaker never checks that the route table still points at the primary: a route changed "
                "by hand or by another tool stays wrong until the next failover.",
                edit,
            )
        ]
    interval = min(op.seconds("interval") or 0.0 for op in monitors)
    if interval < MONITOR_MIN_S:
        return [
            Finding(
                "OIP-MONITOR-TOO-FREQUENT",
                Severity.WARNING,
                LAYER,
                f"{rsc.id} is monitored every {interval:g} s (under {MONITOR_MIN_S:g} s)",
                "Each monitor calls the EC2 API; throttled calls fail the monitor and Pacemaker restarts "
                "the resource, moving the route for nothing.",
                edit,
            )
        ]
    if interval > MONITOR_MAX_S:
        return [
            Finding(
                "OIP-MONITOR-TOO-RARE",
                Severity.WARNING,
                LAYER,
                f"{rsc.id} is monitored every {interval:g} s (over {MONITOR_MAX_S:g} s)",
                "A route changed outside Pacemaker sends clients to the wrong host for up to that long "
                "before the agent puts it back.",
                edit,
            )
        ]
    return []
