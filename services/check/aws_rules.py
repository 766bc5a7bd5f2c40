"""Rules on the AWS facts: the overlay IP's address, source/dest check, the route table's associations,
the IAM policy aws-vpc-move-ip runs with, and where the quorum host is placed."""

from __future__ import annotations

import ipaddress
from fnmatch import fnmatchcase
from typing import Any

from services.check.aws_facts import AwsFacts
from services.check.finding import Finding, Severity
from services.inventory.model import Cluster

LAYER = "aws"
RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
REPLACE_ROUTE = "ec2:ReplaceRoute"


def aws_findings(cluster: Cluster, facts: AwsFacts) -> list[Finding]:
    return [
        *_overlay_address(cluster.aws.overlay_ip, facts),
        *_source_dest_check(cluster, facts),
        *_route_table(cluster, facts),
        *_route_policy(cluster, facts),
        *_qnetd_placement(cluster, facts),
        *_qnetd_port(cluster, facts),
        *_cloudwatch_agent_policy(facts),
    ]


def _overlay_address(overlay_ip: str | None, facts: AwsFacts) -> list[Finding]:
    if not overlay_ip:
        return []
    address = ipaddress.ip_address(overlay_ip)
    findings = []
    inside = [c for c in facts.vpc_cidrs if address in ipaddress.ip_network(c, strict=False)]
    if inside:
        findings.append(
            Finding(
                "OIP-INSIDE-VPC-CIDR",
                Severity.ERROR,
                LAYER,
                f"overlay IP {overlay_ip} is inside the VPC CIDR {inside[0]}",
                "A route table cannot send an address of the VPC's own range to an instance (the VPC's local "
                "route wins): the overlay route never takes effect and clients cannot follow a failover.",
                "choose an overlay IP outside every CIDR of the VPC (a private range the VPC does not use), "
                "then update the aws-vpc-move-ip resource's ip= and the clients",
            )
        )
    if not any(address in net for net in RFC1918):
        findings.append(
            Finding(
                "OIP-NOT-RFC1918",
                Severity.ERROR,
                LAYER,
                f"overlay IP {overlay_ip} is not a private (RFC 1918) address",
                "Routing a public address inside the VPC hides the real owner of that address from every "
                "host using the route table; the runbook's overlay IP is a private address outside the VPC.",
                "choose an address in 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 outside the VPC CIDR",
            )
        )
    return findings


def _source_dest_check(cluster: Cluster, facts: AwsFacts) -> list[Finding]:
    on = [
        h.name
        for h in cluster.db_hosts
        if h.name in facts.instances
        and facts.instances[h.name].source_dest_check is not False
        and facts.instances[h.name].source_dest_check is not None
    ]
    if not on:
        return []
    return [
        Finding(
            "EC2-SOURCE-DEST-CHECK-ON",
            Severity.ERROR,
            LAYER,
            "source/destination check is on for " + ", ".join(on),
            "EC2 drops packets to the overlay IP at an instance with the check on: after a failover to it, "
            "clients time out although the route points at it.",
            "; ".join(
                f"aws ec2 modify-instance-attribute --instance-id {facts.instances[n].instance_id} "
                "--no-source-dest-check"
                for n in on
            ),
        )
    ]


def _route_table(cluster: Cluster, facts: AwsFacts) -> list[Finding]:
    rtb = cluster.aws.route_table_id
    if not rtb:
        return []
    if not facts.route_table_found:
        return [
            Finding(
                "ROUTE-TABLE-NOT-FOUND",
                Severity.ERROR,
                LAYER,
                f"route table {rtb} (inventory route_table_id) does not exist in {cluster.aws.region}",
                "aws-vpc-move-ip replaces the overlay route in that table: a failover cannot move it.",
                "set route_table_id in the inventory to the table the clients' subnets use",
            )
        ]
    if facts.route_table_main or facts.route_table_subnets:
        return []
    return [
        Finding(
            "ROUTE-TABLE-NOT-ASSOCIATED",
            Severity.ERROR,
            LAYER,
            f"route table {rtb} is associated with no subnet and is not the VPC's main table",
            "No client uses this table, so the overlay route it holds reaches nobody.",
            f"aws ec2 associate-route-table --route-table-id {rtb} --subnet-id SUBNET (each client subnet), "
            "or name the clients' table in the inventory and the resource's routing_table=",
        )
    ]


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value or [])


def _route_policy(cluster: Cluster, facts: AwsFacts) -> list[Finding]:
    if not facts.route_table_found or not facts.role_documents:
        return []
    findings = []
    for role, documents in sorted(facts.role_documents.items()):
        grants = [
            resource
            for doc in documents
            for st in _as_list_of_dicts(doc.get("Statement"))
            if st.get("Effect") == "Allow"
            and any(fnmatchcase(REPLACE_ROUTE.lower(), a.lower()) for a in _as_list(st.get("Action")))
            for resource in _as_list(st.get("Resource"))
        ]
        matching = [r for r in grants if fnmatchcase(facts.route_table_arn, r)]
        if not matching:
            findings.append(
                Finding(
                    "IAM-NO-REPLACE-ROUTE",
                    Severity.ERROR,
                    LAYER,
                    f"role {role} is not allowed ec2:ReplaceRoute on {cluster.aws.route_table_id}",
                    "aws-vpc-move-ip runs with the instance role: on a failover its ReplaceRoute is refused "
                    "and the route keeps pointing at the old primary.",
                    f"attach the runbook's policy: ec2:ReplaceRoute on {facts.route_table_arn} "
                    "(`db2ops setup ha` creates it)",
                )
            )
        elif any("*" in r or "?" in r for r in grants):
            wide = next(r for r in grants if "*" in r or "?" in r)
            findings.append(
                Finding(
                    "IAM-REPLACE-ROUTE-NOT-SCOPED",
                    Severity.WARNING,
                    LAYER,
                    f"role {role} may call ec2:ReplaceRoute on {wide!r}, not only on {cluster.aws.route_table_id}",
                    "Anything on the db hosts can rewrite any matching route table of the account (least "
                    "privilege: the runbook scopes it to the overlay route's table).",
                    f"set the statement's Resource to {facts.route_table_arn}",
                )
            )
    return findings


def _as_list_of_dicts(value: Any) -> list[dict[str, Any]]:
    return [value] if isinstance(value, dict) else [v for v in value or [] if isinstance(v, dict)]


def _qnetd_placement(cluster: Cluster, facts: AwsFacts) -> list[Finding]:
    qhost = cluster.qdevice_host
    if qhost is None or qhost.name not in facts.instances:
        return []
    q_az = facts.instances[qhost.name].availability_zone
    shared = [
        h.name
        for h in cluster.db_hosts
        if h.name in facts.instances and facts.instances[h.name].availability_zone == q_az
    ]
    if not q_az or not shared:
        return []
    return [
        Finding(
            "QNETD-SAME-AZ",
            Severity.ERROR,
            LAYER,
            f"quorum host {qhost.name} is in {q_az}, the availability zone of " + ", ".join(shared),
            "When that zone fails, the surviving db host loses the quorum vote with it and stops its "
            "resources: the cluster does not fail over. The qnetd host belongs in a third zone.",
            "move the qnetd host to an availability zone with no db host, then `db2cm -create -qdevice` again",
        )
    ]


ASYNC_MODES = ("ASYNC", "SUPERASYNC")


def placement_findings(cluster: Cluster, facts: AwsFacts, syncmode: str | None) -> list[Finding]:
    """HADR_SYNCMODE against where the db hosts are (EC2 placement), and db hosts sharing a zone."""
    zones = {
        h.name: facts.instances[h.name].availability_zone
        for h in cluster.db_hosts
        if h.name in facts.instances
    }
    if len(zones) < 2 or not all(zones.values()):
        return []
    findings = []
    regions = {z[:-1] for z in zones.values()}  # us-east-1a -> us-east-1
    if len(set(zones.values())) == 1:
        zone = next(iter(zones.values()))
        findings.append(
            Finding(
                "DB-HOSTS-SAME-AZ",
                Severity.ERROR,
                LAYER,
                "both db hosts are in " + zone,
                "One zone failure stops the primary and the standby together: HADR protects nothing then.",
                "rebuild the standby in another availability zone of the region (its own subnet)",
            )
        )
    mode = (syncmode or "").upper()
    if len(regions) == 1 and mode in ASYNC_MODES:
        findings.append(
            Finding(
                "HADR-SYNCMODE-ASYNC-IN-REGION",
                Severity.WARNING,
                "db2+aws",
                f"HADR_SYNCMODE is {mode} with both db hosts in {next(iter(regions))}",
                "Zones of one region are a few milliseconds apart, so NEARSYNC costs little; with "
                f"{mode} the peer window does not apply and Pacemaker's forced takeover may lose "
                "transactions the primary had committed.",
                "db2 update db cfg for DBNAME using HADR_SYNCMODE NEARSYNC on both hosts (then deactivate "
                "and activate the database)",
            )
        )
    if len(regions) > 1 and mode == "SYNC":
        findings.append(
            Finding(
                "HADR-SYNCMODE-SYNC-ACROSS-REGIONS",
                Severity.WARNING,
                "db2+aws",
                "HADR_SYNCMODE is SYNC with the db hosts in " + ", ".join(sorted(regions)),
                "Every commit waits for the standby's disk write across regions: commit times grow by the "
                "round trip, and a slow link stalls the primary.",
                "use NEARSYNC (or ASYNC for a disaster-recovery standby) between regions",
            )
        )
    return findings


QNETD_PORT = 5403


def allows(facts: AwsFacts, source: str, target: str, port: int) -> bool | None:
    """Whether `target`'s security groups let `source` (host names) in on TCP `port`; None when EC2 reported
    no group for it (nothing to judge). A rule matches by the source's address (IpRanges) or by a group
    the source is in (UserIdGroupPairs); protocol "-1" is every protocol and port."""
    src, dst = facts.instances.get(source), facts.instances.get(target)
    if src is None or dst is None or not dst.security_groups:
        return None
    address = ipaddress.ip_address(src.private_ip) if src.private_ip else None
    for group in dst.security_groups:
        for rule in facts.group_rules.get(group, []):
            protocol = str(rule.get("IpProtocol", ""))
            if protocol not in ("-1", "tcp", "6"):
                continue
            if protocol != "-1" and not (rule.get("FromPort", 0) <= port <= rule.get("ToPort", -1)):
                continue
            if any(p.get("GroupId") in src.security_groups for p in rule.get("UserIdGroupPairs", [])):
                return True
            for cidr in rule.get("IpRanges", []):
                if address is not None and address in ipaddress.ip_network(cidr["CidrIp"], strict=False):
                    return True
    return False


def _qnetd_port(cluster: Cluster, facts: AwsFacts) -> list[Finding]:
    qhost = cluster.qdevice_host
    if qhost is None:
        return []
    blocked = [h.name for h in cluster.db_hosts if allows(facts, h.name, qhost.name, QNETD_PORT) is False]
    if not blocked:
        return []
    return [
        Finding(
            "SG-QNETD-PORT-BLOCKED",
            Severity.ERROR,
            LAYER,
            f"the security groups of {qhost.name} do not allow TCP {QNETD_PORT} from " + ", ".join(blocked),
            "corosync-qdevice on that db host cannot reach qnetd: the host loses the quorum vote, and when the "
            "other db host fails the cluster has no quorum and stops the database instead of failing over.",
            f"add an inbound rule TCP {QNETD_PORT} to {qhost.name}'s group from the db hosts' group (or their "
            "addresses), and open it in firewalld on the qnetd host",
        )
    ]


def hadr_port_findings(cluster: Cluster, facts: AwsFacts, ports: dict[str, int]) -> list[Finding]:
    """Each db host's HADR_LOCAL_SVC (`ports`, numeric ones only) must be open to the other db hosts."""
    blocked = [
        f"{a.name} -> {b.name}:{ports[b.name]}"
        for a in cluster.db_hosts
        for b in cluster.db_hosts
        if a.name != b.name and b.name in ports and allows(facts, a.name, b.name, ports[b.name]) is False
    ]
    if not blocked:
        return []
    return [
        Finding(
            "SG-HADR-PORT-BLOCKED",
            Severity.ERROR,
            LAYER,
            "the security groups do not allow the HADR port: " + ", ".join(blocked),
            "The standby cannot receive the primary's log (or, after a takeover, the old primary cannot "
            "reconnect): HADR leaves PEER and Pacemaker's automatic takeover is refused.",
            "add an inbound TCP rule for HADR_LOCAL_SVC of each db host from the other db host's group (or "
            "address), both ways",
        )
    ]


CLOUDWATCH_AGENT_POLICY = "CloudWatchAgentServerPolicy"
AGENT_ACTIONS = ("logs:PutLogEvents", "logs:CreateLogStream")  # what shipping db2diag and the audit log needs


def _cloudwatch_agent_policy(facts: AwsFacts) -> list[Finding]:
    """The db instances' role has the AWS managed policy, or statements granting what the agent needs."""
    findings = []
    for role, documents in sorted(facts.role_documents.items()):
        if CLOUDWATCH_AGENT_POLICY in facts.role_managed_names.get(role, set()):
            continue
        allowed = [
            a.lower()
            for doc in documents
            for st in _as_list_of_dicts(doc.get("Statement"))
            if st.get("Effect") == "Allow"
            for a in _as_list(st.get("Action"))
        ]
        if all(any(fnmatchcase(need.lower(), a) for a in allowed) for need in AGENT_ACTIONS):
            continue
        findings.append(
            Finding(
                "IAM-NO-CLOUDWATCH-AGENT-POLICY",
                Severity.WARNING,
                LAYER,
                f"role {role} has neither {CLOUDWATCH_AGENT_POLICY} nor logs:PutLogEvents and "
                "logs:CreateLogStream",
                "The CloudWatch agent on the db hosts cannot ship db2diag.log and the audit log: the "
                "monitoring alarms never see an event.",
                f"aws iam attach-role-policy --role-name {role} --policy-arn "
                f"arn:aws:iam::aws:policy/{CLOUDWATCH_AGENT_POLICY}",
            )
        )
    return findings
