"""Seed a lab cluster wrong in exactly one way, for `db2ops check` (tests, and a DBA trying the audit).

Kept apart from the renderers: a seed either changes the lab's own state (the HADR peer window, the HA
state's constraints) or registers a text edit of `crm configure show`, which the crm handler applies to
what lab/ha_render.py renders (one hook), so the renderers stay the single source of the layout.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from lab.ha_state import cluster_ha
from lab.state import LabCluster

if TYPE_CHECKING:
    from lab.aws import ClusterAws

_ATTR = "_check_seed_crm_edits"  # in the LabCluster's __dict__, as lab/ha_state.py keeps its state


def add_crm_edit(cluster: LabCluster, pattern: str, replacement: str) -> None:
    """Make `crm configure show` on `cluster` print re.sub(pattern, replacement, text) (MULTILINE)."""
    cluster.__dict__.setdefault(_ATTR, []).append((pattern, replacement))


def apply_crm_edits(cluster: LabCluster, text: str) -> str:
    """Return `crm configure show` text with the seeded edits applied (unchanged when none)."""
    for pattern, replacement in cluster.__dict__.get(_ATTR, ()):
        text = re.sub(pattern, replacement, text, flags=re.MULTILINE)
    return text


def _peer_window(seconds: int) -> Callable[[LabCluster], None]:
    def seed(cluster: LabCluster) -> None:
        cluster.peer_window_s = seconds

    return seed


def _hadr_timeout(seconds: int) -> Callable[[LabCluster], None]:
    def seed(cluster: LabCluster) -> None:
        cluster.hadr_timeout_s = seconds

    return seed


def _syncmode(mode: str) -> Callable[[LabCluster], None]:
    def seed(cluster: LabCluster) -> None:
        cluster.syncmode = mode

    return seed


def _drop_constraint(kind: str) -> Callable[[LabCluster], None]:
    def seed(cluster: LabCluster) -> None:
        state = cluster_ha(cluster)
        state.constraints = {k: v for k, v in state.constraints.items() if not v.startswith(kind + " ")}

    return seed


def _drop_oip_locations(cluster: LabCluster) -> None:
    state = cluster_ha(cluster)
    state.constraints = {
        k: v
        for k, v in state.constraints.items()
        if not (k.startswith("prefer-node") and cluster.oip_rsc in k)
    }


def _edit(pattern: str, replacement: str) -> Callable[[LabCluster], None]:
    def seed(cluster: LabCluster) -> None:
        add_crm_edit(cluster, pattern, replacement)

    return seed


def _oip_monitor(replacement: str) -> Callable[[LabCluster], None]:
    """Edit the monitor line of the aws-vpc-move-ip primitive only (the db2hadr/db2inst ones stay)."""

    def seed(cluster: LabCluster) -> None:
        add_crm_edit(
            cluster,
            r"(primitive \S+ (?:ocf:heartbeat:)?aws-vpc-move-ip(?:[^\n]*\\\n)*?[^\n]*?) \\\n\s*op monitor interval=\S+ timeout=\S+",
            r"\g<1>" + replacement,
        )

    return seed


# finding code -> the seed that makes a correct lab cluster show exactly that finding
SEEDS: dict[str, Callable[[LabCluster], None]] = {
    "HADR-PEER-WINDOW-ZERO": _peer_window(0),
    # 65 s: not longer than the primary monitor's 9 s + 60 s, and under IBM's 120 s (a warning as well)
    "HADR-PEER-WINDOW-SHORT": _peer_window(65),
    # 100 s: longer than the monitor's 69 s, only under IBM's recommended 120 s
    "HADR-PEER-WINDOW-BELOW-MINIMUM": _peer_window(100),
    # 300 s: a silent failure is declared only after the 120 s peer window has ended
    "HADR-TIMEOUT-OUTLASTS-PEER-WINDOW": _hadr_timeout(300),
    "PCMK-DB2HADR-NO-PRIMARY-MONITOR": _edit(
        r"^\s*op monitor interval=\S+ role=(?:Master|Promoted) timeout=\S+ \\\n", ""
    ),
    "OIP-NO-COLOCATION": _drop_constraint("colocation"),
    "PCMK-NOT-IBM-BUILD": _edit(r"dc-version=\S+", "dc-version=2.1.5-a3f44794f94"),
    # found only on a release whose db2cm leaves symmetric-cluster=false (11.5.5, lab/release.py): there,
    # without the plan's prefer-node lines the overlay-IP resource may run nowhere
    "OIP-NO-LOCATION": _drop_oip_locations,
    "OIP-NO-MONITOR": _oip_monitor(""),
    "OIP-MONITOR-TOO-FREQUENT": _oip_monitor(" \\\\\n        op monitor interval=5s timeout=60s"),
    "OIP-MONITOR-TOO-RARE": _oip_monitor(" \\\\\n        op monitor interval=300s timeout=60s"),
}


def _overlay_ip(address: str) -> Callable[[LabCluster], None]:
    def seed(cluster: LabCluster) -> None:
        cluster.overlay_ip = address

    return seed


# Seeds whose finding needs the AWS side too (EC2 placement, the VPC): applied before LabAws.seed, since the
# route and the resource's ip= are made from the overlay address. 10.99.200.10 lies in the lab VPC's
# 10.99.0.0/16; 198.51.100.10 is TEST-NET-2 (not RFC 1918); the lab's db hosts are in two zones of a region.
PRE_AWS_SEEDS: dict[str, Callable[[LabCluster], None]] = {
    "OIP-INSIDE-VPC-CIDR": _overlay_ip("10.99.200.10"),
    "OIP-NOT-RFC1918": _overlay_ip("198.51.100.10"),
    "HADR-SYNCMODE-ASYNC-IN-REGION": _syncmode("ASYNC"),
}


def _ec2(endpoint_url: str) -> Any:
    from lab.aws import _client

    return _client("ec2", endpoint_url)


def _iam(endpoint_url: str) -> Any:
    from lab.aws import _client

    return _client("iam", endpoint_url)


def _source_dest_check_on(cluster: LabCluster, facts: ClusterAws, endpoint_url: str) -> None:
    node = cluster.db_nodes[1]
    _ec2(endpoint_url).modify_instance_attribute(
        InstanceId=facts.instance_ids[node], SourceDestCheck={"Value": True}
    )


def _route_table_unassociated(cluster: LabCluster, facts: ClusterAws, endpoint_url: str) -> None:
    ec2 = _ec2(endpoint_url)
    table = ec2.describe_route_tables(RouteTableIds=[facts.route_table_id])["RouteTables"][0]
    for association in table.get("Associations", []):
        if not association.get("Main"):
            ec2.disassociate_route_table(AssociationId=association["RouteTableAssociationId"])


def _route_policy_detached(cluster: LabCluster, facts: ClusterAws, endpoint_url: str) -> None:
    iam = _iam(endpoint_url)
    role = f"{cluster.name}-db2-ec2"  # lab/aws.py's instance role
    for attached in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]:
        iam.detach_role_policy(RoleName=role, PolicyArn=attached["PolicyArn"])


def _route_policy_wide(cluster: LabCluster, facts: ClusterAws, endpoint_url: str) -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ec2:ReplaceRoute", "Resource": "*"}],
    }
    _iam(endpoint_url).put_role_policy(
        RoleName=f"{cluster.name}-db2-ec2",
        PolicyName="wide-replace-route",
        PolicyDocument=json.dumps(document),
    )


def _qnetd_beside_a_db_host(cluster: LabCluster, facts: ClusterAws, endpoint_url: str) -> None:
    """Replace the quorum host's instance by one in the first db host's subnet (so its zone)."""
    _move_beside_first_db_host(
        cluster, facts, endpoint_url, next(n for n, h in cluster.hosts.items() if h.role != "db")
    )


def _standby_beside_the_primary(cluster: LabCluster, facts: ClusterAws, endpoint_url: str) -> None:
    _move_beside_first_db_host(cluster, facts, endpoint_url, cluster.db_nodes[1])


def _move_beside_first_db_host(cluster: LabCluster, facts: ClusterAws, endpoint_url: str, qnode: str) -> None:
    """Replace `qnode`'s instance by one in the first db host's subnet (so its zone), source/dest check as
    it was."""
    from lab.aws import LAB_AMI

    ec2 = _ec2(endpoint_url)
    ec2.terminate_instances(InstanceIds=[facts.instance_ids[qnode]])
    instance = ec2.run_instances(
        ImageId=LAB_AMI,
        MinCount=1,
        MaxCount=1,
        InstanceType="t3.small",
        SubnetId=facts.subnet_ids[cluster.db_nodes[0]],
        SecurityGroupIds=[facts.security_group_id],
    )["Instances"][0]["InstanceId"]
    facts.instance_ids[qnode] = cluster.hosts[qnode].instance_id = instance
    if cluster.hosts[qnode].role == "db":
        ec2.modify_instance_attribute(InstanceId=instance, SourceDestCheck={"Value": False})


def _revoke_port(port_of: Callable[[], int]) -> Callable[[LabCluster, ClusterAws, str], None]:
    """Take the TCP rule for one port out of the runbook's group (every host of the cluster has it)."""

    def seed(cluster: LabCluster, facts: ClusterAws, endpoint_url: str) -> None:
        ec2 = _ec2(endpoint_url)
        port = port_of()
        group = facts.security_group_id
        ec2.revoke_security_group_ingress(
            GroupId=group,
            IpPermissions=[
                {
                    "IpProtocol": "tcp",
                    "FromPort": port,
                    "ToPort": port,
                    "UserIdGroupPairs": [{"GroupId": group}],
                }
            ],
        )

    return seed


def _qnetd_port() -> int:
    from lab.aws_network import QNETD_PORT

    return QNETD_PORT


def _hadr_port() -> int:
    from lab.state import HADR_PORT

    return HADR_PORT


def _no_cloudwatch_agent_policy(cluster: LabCluster, facts: ClusterAws, endpoint_url: str) -> None:
    from lab.aws_network import CLOUDWATCH_AGENT_STANDIN

    _iam(endpoint_url).delete_role_policy(
        RoleName=f"{cluster.name}-db2-ec2", PolicyName=CLOUDWATCH_AGENT_STANDIN
    )


# finding code -> (cluster, what LabAws.seed created, moto endpoint): run after LabAws.seed
AWS_SEEDS: dict[str, Callable[[LabCluster, ClusterAws, str], None]] = {
    "EC2-SOURCE-DEST-CHECK-ON": _source_dest_check_on,
    "ROUTE-TABLE-NOT-ASSOCIATED": _route_table_unassociated,
    "IAM-NO-REPLACE-ROUTE": _route_policy_detached,
    "IAM-REPLACE-ROUTE-NOT-SCOPED": _route_policy_wide,
    "QNETD-SAME-AZ": _qnetd_beside_a_db_host,
    "DB-HOSTS-SAME-AZ": _standby_beside_the_primary,
    "IAM-NO-CLOUDWATCH-AGENT-POLICY": _no_cloudwatch_agent_policy,
    "SG-QNETD-PORT-BLOCKED": _revoke_port(_qnetd_port),
    "SG-HADR-PORT-BLOCKED": _revoke_port(_hadr_port),
}


def seed_wrong(cluster: LabCluster, code: str) -> None:
    """Seed `cluster` so that `db2ops check` finds `code` (a key of SEEDS, or of PRE_AWS_SEEDS: then
    before LabAws.seed)."""
    (PRE_AWS_SEEDS.get(code) or SEEDS[code])(cluster)


def seed_wrong_aws(cluster: LabCluster, code: str, facts: ClusterAws, endpoint_url: str) -> None:
    """Seed the cluster's moto side (after LabAws.seed) so that `db2ops check` finds `code`."""
    AWS_SEEDS[code](cluster, facts, endpoint_url)
