"""Runbook "Setting up overlay IP as virtual IP", the AWS API part: source/destination check off on both
Db2 instances, the IAM policy (ec2:ReplaceRoute on the route table(s), DescribeRouteTables) attached to
the instances' role, and the overlay route to the HADR primary's instance.

Two different identities act here: db2ops (the operator's AWS credentials) makes these calls once; the
aws-vpc-move-ip agent (the instance role + this policy) moves the route on every failover.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import unquote

from services.ha_setup.common import find_primary
from services.ha_setup.params import HaParams, policy_document, policy_json
from services.inventory.model import Cluster, Host
from services.plans import AwsCall, AwsCallStep, PlanContext, StepFailed, StepState, VerifiedByCheck

_DENIED = ("AccessDenied", "UnauthorizedOperation")
# What AWS answers a create whose resource is there already (RouteAlreadyExists, EntityAlreadyExists...)
_ALREADY_EXISTS = re.compile(r"\b\w*AlreadyExists\w*\b")


def _instance_id(host: Host) -> str:
    if not host.instance_id:
        raise StepFailed(f"host {host.name} has no instance_id in the inventory: add its EC2 instance id")
    return host.instance_id


def explain_denied(exc: StepFailed, what: str) -> StepFailed:
    """Return `exc` with an HA-specific explanation appended when AWS refused the call."""
    text = str(exc)
    if not any(code in text for code in _DENIED):
        return exc
    return StepFailed(
        f"{text}. {what} This is db2ops's own AWS identity (the profile of the inventory); the IAM policy "
        "step gives the instances' role ec2:ReplaceRoute for the aws-vpc-move-ip agent, not for db2ops."
    )


class _HaAwsStep(VerifiedByCheck, AwsCallStep):
    """An HA step of AWS calls: apply first refreshes what `calls` reads (`_refresh`), and a refused call
    says which permission db2ops's own identity lacks (`denied_hint`)."""

    denied_hint = ""

    async def _refresh(self, ctx: PlanContext) -> None:
        return None

    async def apply(self, ctx: PlanContext) -> None:
        await self._refresh(ctx)
        try:
            await super().apply(ctx)
        except StepFailed as exc:
            if not _ALREADY_EXISTS.search(str(exc)):
                raise explain_denied(exc, self.denied_hint) from exc
            # The answer to a create was lost and botocore's retry met the resource it had made: read again
            # and send only what is still missing (nothing is created twice, and the step is not failed
            # for a change that is in place).
            await self._refresh(ctx)
            try:
                await super().apply(ctx)
            except StepFailed as again:
                raise explain_denied(again, self.denied_hint) from again


class SourceDestCheckStep(_HaAwsStep):
    """modify-instance-attribute --no-source-dest-check on one Db2 instance."""

    denied_hint = "Allow ec2:ModifyInstanceAttribute on the two Db2 instances."

    def __init__(self, host: Host) -> None:
        super().__init__(
            id=f"src-dst-check@{host.name}",
            title=f"Source/destination check off on {host.name}",
            explain="Runbook: the instance receives traffic for the overlay IP, which is not its own "
            "address; EC2 drops such packets unless the source/destination check is disabled.",
        )
        self.host = host

    async def check(self, ctx: PlanContext) -> StepState:
        answer = await ctx.aws_read(
            "ec2",
            "DescribeInstanceAttribute",
            InstanceId=_instance_id(self.host),
            Attribute="sourceDestCheck",
        )
        enabled = bool(answer.get("SourceDestCheck", {}).get("Value", True))
        return StepState(not enabled, f"{self.host.instance_id}: SourceDestCheck {enabled}")

    def calls(self, ctx: PlanContext) -> list[AwsCall]:
        params = {"InstanceId": _instance_id(self.host), "SourceDestCheck": {"Value": False}}
        return [AwsCall("ec2", "ModifyInstanceAttribute", params)]


async def _account(ctx: PlanContext) -> tuple[str, str]:
    """Return (partition, account id) of the credentials in use."""
    who = await ctx.aws_read("sts", "GetCallerIdentity")
    arn = str(who.get("Arn", "arn:aws:"))
    return arn.split(":")[1] or "aws", str(who["Account"])


async def instance_roles(ctx: PlanContext, cluster: Cluster) -> list[str]:
    """Return the IAM role names of the Db2 instances' instance profiles (sorted, without duplicates).

    Raises StepFailed when an instance has no instance profile (the agent would have no credentials).
    """
    ids = [_instance_id(h) for h in cluster.db_hosts]
    answer = await ctx.aws_read("ec2", "DescribeInstances", InstanceIds=ids)
    roles: set[str] = set()
    for reservation in answer.get("Reservations", []):
        for instance in reservation.get("Instances", []):
            profile = (instance.get("IamInstanceProfile") or {}).get("Arn", "")
            if not profile:
                raise StepFailed(
                    f"instance {instance.get('InstanceId')} has no IAM instance profile: attach one (the "
                    "aws-vpc-move-ip agent uses its role), or set iam_role"
                )
            got = await ctx.aws_read(
                "iam", "GetInstanceProfile", InstanceProfileName=profile.rsplit("/", 1)[-1]
            )
            roles.update(r["RoleName"] for r in got.get("InstanceProfile", {}).get("Roles", []))
    if not roles:
        raise StepFailed("the Db2 instances' instance profiles hold no role: add one, or set iam_role")
    return sorted(roles)


def _document(raw: object) -> object:
    """The policy document as JSON values, to compare with the one db2ops would write."""
    if isinstance(raw, dict):
        return raw
    parsed: object = json.loads(unquote(str(raw)))  # AWS returns the document URL-encoded
    return parsed


class IamPolicyStep(_HaAwsStep):
    """The runbook's IAM policy, created once and attached to the Db2 instances' role."""

    denied_hint = "Creating the policy needs iam:CreatePolicy and iam:AttachRolePolicy."

    def __init__(self, cluster: Cluster, params: HaParams) -> None:
        super().__init__(
            id="iam-policy",
            title=f"IAM policy {params.iam_policy_name} on the Db2 instances' role",
            explain="Runbook step 1: allow ec2:ReplaceRoute on arn:aws:ec2:<region>:<account>:route-table/"
            f"{','.join(params.route_table_ids or ())} and ec2:DescribeRouteTables on *, attached to the "
            "instance profile's role so the agent can move the route on failover.",
        )
        self.cluster = cluster
        self.params = params

    async def _state(self, ctx: PlanContext) -> dict[str, Any]:
        partition, account = await _account(ctx)
        document = policy_document(
            partition, self.cluster.aws.region, account, self.params.route_table_ids or ()
        )
        arn = f"arn:{partition}:iam::{account}:policy/{self.params.iam_policy_name}"
        roles = [self.params.iam_role] if self.params.iam_role else await instance_roles(ctx, self.cluster)
        existing = None
        marker: str | None = None
        while True:  # our policy by ARN among the account's own (customer managed) policies
            page = await ctx.aws_read(
                "iam", "ListPolicies", Scope="Local", **({"Marker": marker} if marker else {})
            )
            for policy in page.get("Policies", []):
                if policy.get("Arn") == arn:
                    version = await ctx.aws_read(
                        "iam", "GetPolicyVersion", PolicyArn=arn, VersionId=policy["DefaultVersionId"]
                    )
                    existing = _document(version["PolicyVersion"]["Document"])
            marker = page.get("Marker") if page.get("IsTruncated") else None
            if not marker:
                break
        unattached = []
        for role in roles:
            attached = await ctx.aws_read("iam", "ListAttachedRolePolicies", RoleName=role)
            if not any(p.get("PolicyArn") == arn for p in attached.get("AttachedPolicies", [])):
                unattached.append(role)
        facts = {
            "arn": arn,
            "document": document,
            "existing": existing,
            "roles": roles,
            "unattached": unattached,
        }
        ctx.facts[self.id] = facts
        return facts

    async def check(self, ctx: PlanContext) -> StepState:
        f = await self._state(ctx)
        problems = []
        if f["existing"] is None:
            problems.append(f"policy {f['arn']} does not exist")
        elif f["existing"] != f["document"]:
            problems.append("the policy's document differs from the runbook's (route tables changed?)")
        if f["unattached"]:
            problems.append(f"not attached to role(s) {', '.join(f['unattached'])}")
        if problems:
            return StepState(False, "; ".join(problems))
        return StepState(True, f"{f['arn']} attached to {', '.join(f['roles'])}")

    def calls(self, ctx: PlanContext) -> list[AwsCall]:
        f = ctx.facts.get(self.id)
        if f is None:
            raise StepFailed("the account and role are unknown: fix the check of this step first")
        text = policy_json(f["document"])
        out = []
        if f["existing"] is None:
            out.append(
                AwsCall(
                    "iam",
                    "CreatePolicy",
                    {
                        "PolicyName": self.params.iam_policy_name,
                        "PolicyDocument": text,
                        "Description": f"db2ops: aws-vpc-move-ip moves the overlay IP route of {self.cluster.name}",
                    },
                )
            )
        elif f["existing"] != f["document"]:
            out.append(
                AwsCall(
                    "iam",
                    "CreatePolicyVersion",
                    {"PolicyArn": f["arn"], "PolicyDocument": text, "SetAsDefault": True},
                    note="the document changed: a new default version",
                )
            )
        out += [
            AwsCall("iam", "AttachRolePolicy", {"RoleName": r, "PolicyArn": f["arn"]})
            for r in f["unattached"]
        ]
        return out

    async def _refresh(self, ctx: PlanContext) -> None:
        await self._state(ctx)


class OverlayRouteStep(_HaAwsStep):
    """overlay_ip/32 -> the HADR primary's instance in every route table (create, or replace when the
    route points elsewhere: only the primary db2pd reports decides where)."""

    denied_hint = "Allow ec2:CreateRoute and ec2:ReplaceRoute on the route table(s) for db2ops."

    def __init__(self, cluster: Cluster, params: HaParams) -> None:
        super().__init__(
            id="overlay-route",
            title=f"Route {params.overlay_cidr} to the HADR primary",
            explain="Runbook step 3: aws ec2 create-route --destination-cidr-block "
            f"{params.overlay_cidr} --instance-id <primary>; clients in the VPC then reach the primary "
            "at the overlay IP in any Availability Zone.",
        )
        self.cluster = cluster
        self.params = params

    async def _routes(self, ctx: PlanContext) -> dict[str, dict[str, Any] | None]:
        out: dict[str, dict[str, Any] | None] = {}
        answer = await ctx.aws_read(
            "ec2", "DescribeRouteTables", RouteTableIds=list(self.params.route_table_ids or ())
        )
        for table in answer.get("RouteTables", []):
            route = next(
                (
                    r
                    for r in table.get("Routes", [])
                    if r.get("DestinationCidrBlock") == self.params.overlay_cidr
                ),
                None,
            )
            out[table["RouteTableId"]] = route
        return out

    async def check(self, ctx: PlanContext) -> StepState:
        primary = await find_primary(ctx)
        target = _instance_id(primary)
        routes = await self._routes(ctx)
        ctx.facts[self.id] = {"primary": primary.name, "target": target, "routes": routes}
        wrong = []
        for rtb, route in routes.items():
            if route is None:
                wrong.append(f"{rtb}: no route")
            elif route.get("InstanceId") != target or route.get("State") == "blackhole":
                wrong.append(
                    f"{rtb}: to {route.get('InstanceId') or route.get('NetworkInterfaceId')} ({route.get('State')})"
                )
        if wrong:
            return StepState(False, f"wanted {target} ({primary.name}); " + "; ".join(wrong))
        return StepState(
            True, f"{', '.join(routes)}: {self.params.overlay_cidr} -> {target} ({primary.name})"
        )

    def calls(self, ctx: PlanContext) -> list[AwsCall]:
        f = ctx.facts.get(self.id)
        if f is None:
            raise StepFailed("the HADR primary is unknown: fix the check of this step first")
        out = []
        for rtb, route in f["routes"].items():
            params = {
                "RouteTableId": rtb,
                "DestinationCidrBlock": self.params.overlay_cidr,
                "InstanceId": f["target"],
            }
            if route is None:
                out.append(AwsCall("ec2", "CreateRoute", params))
            elif route.get("InstanceId") != f["target"] or route.get("State") == "blackhole":
                note = f"the route pointed to {route.get('InstanceId')}; {f['primary']} is the HADR primary"
                out.append(AwsCall("ec2", "ReplaceRoute", params, note=note))
        return out

    async def _refresh(self, ctx: PlanContext) -> None:
        await self.check(ctx)
