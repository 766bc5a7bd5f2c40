"""The EC2 and IAM facts the audit judges, read with boto3 (standard retries; blocking: callers run
read_aws_facts in a thread). Read-only Describe/Get/List calls only."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from services.aws_clients import make_client
from services.inventory.model import Cluster


@dataclass(frozen=True)
class InstanceFacts:
    instance_id: str
    availability_zone: str
    vpc_id: str
    source_dest_check: bool | None  # None: EC2 did not say
    profile_arn: str | None
    private_ip: str = ""
    security_groups: tuple[str, ...] = ()  # empty: EC2 reported none (an emulator), nothing to judge


@dataclass
class AwsFacts:
    instances: dict[str, InstanceFacts] = field(default_factory=dict)  # host name -> facts
    vpc_cidrs: list[str] = field(default_factory=list)
    route_table_found: bool = False
    route_table_main: bool = False
    route_table_subnets: list[str] = field(default_factory=list)
    route_table_arn: str = ""
    # role name -> its policy documents (managed and inline) and its managed policy names
    role_documents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    role_managed_names: dict[str, set[str]] = field(default_factory=dict)
    group_rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # group id -> IpPermissions


def read_aws_facts(cluster: Cluster) -> AwsFacts:
    """Return the facts of `cluster`'s instances, VPC, route table and instance roles. Raises botocore's
    errors (the caller reports them as not checked)."""
    ec2 = make_client("ec2", cluster.aws)
    facts = AwsFacts()
    by_id = {h.instance_id: h.name for h in cluster.hosts if h.instance_id}
    reservations = ec2.describe_instances(InstanceIds=list(by_id))["Reservations"]
    for instance in (i for r in reservations for i in r["Instances"]):
        name = by_id.get(instance["InstanceId"])
        if name is None:
            continue
        facts.instances[name] = InstanceFacts(
            instance_id=instance["InstanceId"],
            availability_zone=instance.get("Placement", {}).get("AvailabilityZone", ""),
            vpc_id=instance.get("VpcId", ""),
            source_dest_check=instance.get("SourceDestCheck"),
            profile_arn=(instance.get("IamInstanceProfile") or {}).get("Arn"),
            private_ip=instance.get("PrivateIpAddress", ""),
            security_groups=tuple(g["GroupId"] for g in instance.get("SecurityGroups", [])),
        )
    vpc_ids = sorted({i.vpc_id for i in facts.instances.values() if i.vpc_id})
    if vpc_ids:
        for vpc in ec2.describe_vpcs(VpcIds=vpc_ids)["Vpcs"]:
            cidrs = [a["CidrBlock"] for a in vpc.get("CidrBlockAssociationSet", []) if "CidrBlock" in a]
            facts.vpc_cidrs += cidrs or [vpc["CidrBlock"]]
    groups = sorted({g for i in facts.instances.values() for g in i.security_groups})
    if groups:
        for group in ec2.describe_security_groups(GroupIds=groups)["SecurityGroups"]:
            facts.group_rules[group["GroupId"]] = group.get("IpPermissions", [])
    if cluster.aws.route_table_id:
        _read_route_table(ec2, cluster.aws.route_table_id, facts)
    _read_roles(make_client("iam", cluster.aws), cluster, facts)
    return facts


def _read_route_table(ec2: Any, route_table_id: str, facts: AwsFacts) -> None:
    tables = ec2.describe_route_tables(Filters=[{"Name": "route-table-id", "Values": [route_table_id]}])
    table = next(iter(tables["RouteTables"]), None)
    if table is None:
        return
    facts.route_table_found = True
    for association in table.get("Associations", []):
        if association.get("Main"):
            facts.route_table_main = True
        elif association.get("SubnetId"):
            facts.route_table_subnets.append(association["SubnetId"])
    owner = table.get("OwnerId", "")
    region = ec2.meta.region_name
    partition = ec2.meta.partition
    facts.route_table_arn = f"arn:{partition}:ec2:{region}:{owner}:route-table/{route_table_id}"


def _read_roles(iam: Any, cluster: Cluster, facts: AwsFacts) -> None:
    db_names = {h.name for h in cluster.db_hosts}
    profiles = {i.profile_arn for n, i in facts.instances.items() if n in db_names and i.profile_arn}
    for arn in sorted(profiles):
        profile = iam.get_instance_profile(InstanceProfileName=arn.rsplit("/", 1)[-1])["InstanceProfile"]
        for role in profile.get("Roles", []):
            name = role["RoleName"]
            if name in facts.role_documents:
                continue
            documents: list[dict[str, Any]] = []
            managed: set[str] = set()
            for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
                managed.add(attached["PolicyName"])
                policy = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]
                version = iam.get_policy_version(
                    PolicyArn=attached["PolicyArn"], VersionId=policy["DefaultVersionId"]
                )["PolicyVersion"]
                documents.append(_document(version["Document"]))
            for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
                inline = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
                documents.append(_document(inline))
            facts.role_documents[name] = documents
            facts.role_managed_names[name] = managed


def _document(value: Any) -> dict[str, Any]:
    """IAM returns documents decoded (boto3) or URL-encoded JSON text (some endpoints): accept both."""
    if isinstance(value, dict):
        return value
    document = json.loads(unquote(str(value)))
    if not isinstance(document, dict):
        raise ValueError("an IAM policy document that is not a JSON object")
    return document
