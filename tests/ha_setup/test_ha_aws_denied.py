"""AWS refusals during the HA plan, with moto's real IAM enforcement: the message says which call was
refused, what to allow, and that the instance role policy is not db2ops's own permission."""

from __future__ import annotations

import json

import boto3
from botocore.config import Config

from ha_setup.ha_lab import post
from services.ha_setup.plan import build_ha_plan
from services.plans import run_plan

OPERATOR_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["ec2:Describe*", "ec2:ModifyInstanceAttribute", "iam:*", "sts:GetCallerIdentity"],
            "Resource": "*",
        }
    ],
}


def _client(endpoint: str, service: str, key_id: str = "testing", secret: str = "testing"):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(retries={"mode": "standard"}),
    )


async def test_access_denied_on_create_route_is_explained(fresh_lab, aws_endpoint) -> None:
    iam = _client(aws_endpoint, "iam")
    iam.create_user(UserName="db2ops-operator")
    iam.put_user_policy(
        UserName="db2ops-operator", PolicyName="no-routes", PolicyDocument=json.dumps(OPERATOR_POLICY)
    )
    key = iam.create_access_key(UserName="db2ops-operator")["AccessKey"]
    post(f"{aws_endpoint}/moto-api/reset-auth", b"0")  # from now on moto enforces IAM

    def factory(service: str):
        return _client(aws_endpoint, service, key["AccessKeyId"], key["SecretAccessKey"])

    plan = build_ha_plan(fresh_lab.cluster)
    result = await run_plan(plan, fresh_lab.context(aws_client_factory=factory), mode="apply")
    assert result.failed_step == "overlay-route"
    assert result.by_id("iam-policy").status == "applied"  # iam:* was allowed
    message = result.by_id("overlay-route").message
    assert "AWS refused ec2:CreateRoute (AccessDenied)" in message
    assert "Allow ec2:CreateRoute and ec2:ReplaceRoute on the route table(s) for db2ops" in message
    assert "not for db2ops" in message  # the instance role's ReplaceRoute is the agent's, not ours
    assert [a.operation for a in result.by_id("overlay-route").performed] == ["CreateRoute"]
    assert result.by_id("oip-resource").status == "skipped"
