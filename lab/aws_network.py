"""The lab's security group, as the HA runbook asks for it: one group on every host of a cluster that lets
its members reach each other on the HADR port (TCP), corosync-qnetd (TCP 5403) and corosync (UDP 5404-5406).
moto gives an instance no group and its default group no rule, so without this the lab had none at all."""

from __future__ import annotations

from typing import Any

from lab.state import HADR_PORT, LabCluster

QNETD_PORT = 5403


def runbook_security_group(ec2: Any, cluster: LabCluster, vpc_id: str, instance_ids: dict[str, str]) -> str:
    """Create the cluster's group, put every instance in it (only it), and return its id. Blocking."""
    group = ec2.create_security_group(
        GroupName=f"{cluster.name}-db2-ha", Description="Db2 HADR + Pacemaker (lab)", VpcId=vpc_id
    )["GroupId"]
    assert isinstance(group, str)

    def members(protocol: str, low: int, high: int) -> dict[str, Any]:
        return {
            "IpProtocol": protocol,
            "FromPort": low,
            "ToPort": high,
            "UserIdGroupPairs": [{"GroupId": group}],
        }

    ec2.authorize_security_group_ingress(
        GroupId=group,
        IpPermissions=[
            members("tcp", HADR_PORT, HADR_PORT),
            members("tcp", QNETD_PORT, QNETD_PORT),
            members("udp", 5404, 5406),
        ],
    )
    for instance_id in instance_ids.values():
        ec2.modify_instance_attribute(InstanceId=instance_id, Groups=[group])
    return group


CLOUDWATCH_AGENT_STANDIN = "CloudWatchAgentServerPolicy-lab"


def cloudwatch_agent_permissions(iam: Any, role: str) -> None:
    """Give the db instances' role what the AWS managed policy CloudWatchAgentServerPolicy grants the agent
    (as an inline policy: moto does not load AWS managed policies)."""
    import json

    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": [
                    "cloudwatch:PutMetricData",
                    "ec2:DescribeVolumes",
                    "ec2:DescribeTags",
                    "logs:PutLogEvents",
                    "logs:DescribeLogStreams",
                    "logs:DescribeLogGroups",
                    "logs:CreateLogStream",
                    "logs:CreateLogGroup",
                ],
                "Resource": "*",
            }
        ],
    }
    iam.put_role_policy(
        RoleName=role, PolicyName=CLOUDWATCH_AGENT_STANDIN, PolicyDocument=json.dumps(document)
    )
