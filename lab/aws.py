"""The lab's AWS side: moto in server mode on 127.0.0.1, seeded per cluster, following failovers.

Per cluster: a VPC, three subnets, a route table, three EC2 instances (made-up AMI id; describe_images is
slow in moto and never needed), source/dest check disabled on the Db2 instances, the overlay-IP route
(`192.168.1.81/32` -> the primary's instance) and the two log groups. After a takeover the route is moved
to the new primary's instance with `replace_route`, which is what the `aws-vpc-move-ip` agent does. All
calls are blocking boto3 calls: run `start()` / `seed()` in a thread (asyncio.to_thread); route moves run on
a private one-worker thread pool so they never block the SSH servers' loop and keep their order.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from lab.state import LabCluster
from services.inventory.model import AwsSettings

log = logging.getLogger(__name__)

REGION = "us-east-1"
LAB_AMI = "ami-0db2a1ab5e0000001"  # made up: moto's run_instances accepts any id
AUDIT_LOG_GROUP = "db2-db-worker-audit-log"
DIAG_LOG_GROUP = "db2-diagnostics-logs"
MOTO_MISSING = (
    "the embedded lab needs moto for its AWS side: install the lab extra: pip install 'db2ops[lab]'"
)


class LabAwsError(RuntimeError):
    """The lab's AWS emulation could not start or be seeded (message says what to do)."""


@dataclass
class ClusterAws:
    """What was created in moto for one cluster."""

    vpc_id: str
    route_table_id: str
    subnet_ids: dict[str, str] = field(default_factory=dict)  # host -> subnet
    instance_ids: dict[str, str] = field(default_factory=dict)  # host -> instance id
    overlay_ip: str = "192.168.1.81"
    security_group_id: str = ""  # lab/aws_network.py: the runbook's group, on every host


def _client(service: str, endpoint_url: str) -> Any:
    from services.aws_clients import make_client

    return make_client(service, AwsSettings(region=REGION, endpoint_url=endpoint_url))


class LabAws:
    """moto server + per-cluster seeding + route following. `endpoint_url` is set after `start()`."""

    def __init__(self) -> None:
        self._server: Any = None
        self.endpoint_url: str | None = None
        self.clusters: dict[str, ClusterAws] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lab-aws-route")
        self._pending: set[Future[None]] = set()
        self._lock = threading.Lock()
        self._unsubscribers: list[Callable[[], None]] = []

    def start(self) -> str:
        """Start moto on 127.0.0.1 (free port). Blocking. Returns the endpoint URL; raises LabAwsError."""
        try:
            from moto.server import ThreadedMotoServer
        except ImportError as exc:
            raise LabAwsError(MOTO_MISSING) from exc
        # werkzeug logs every request to stderr at INFO: that would scribble over the console's screen.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # moto runs in this process and builds its own boto3 sessions from the environment: a DBA's
        # AWS_PROFILE naming a real-AWS profile (or one missing here) made every moto request fail with
        # HTTP 500 and the lab did not start. This process talks to no AWS but its own moto.
        for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
            os.environ.pop(name, None)
        from lab.moto_patches import apply_lab_patches

        apply_lab_patches()  # where moto answers unlike AWS (stream filters, alarm actions, ...)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        return self.endpoint_url

    def seed(self, cluster: LabCluster, *, fresh: bool = False) -> ClusterAws:
        """Create the cluster's VPC, route table, instances (with an IAM instance profile), overlay route,
        the HA runbook's IAM policy and the log groups. Blocking.

        `fresh` (the HA plan's "not yet clustered" lab, lab/ha_state.start_fresh): the source/dest check
        stays on and neither the overlay route nor the IAM policy exist. Writes moto's instance ids into
        the cluster's hosts and starts following its takeovers.
        """
        if self.endpoint_url is None:
            raise LabAwsError("LabAws.seed() called before start()")
        ec2 = _client("ec2", self.endpoint_url)
        profile = self._instance_profile(cluster.name)
        from lab.aws_network import cloudwatch_agent_permissions

        cloudwatch_agent_permissions(_client("iam", self.endpoint_url), profile)  # role named as its profile
        vpc_id = ec2.create_vpc(CidrBlock="10.99.0.0/16")["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[vpc_id], Tags=[{"Key": "Name", "Value": f"{cluster.name}-vpc"}])
        rtb_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
        ec2.create_tags(Resources=[rtb_id], Tags=[{"Key": "Name", "Value": f"{cluster.name}-private"}])
        facts = ClusterAws(vpc_id=vpc_id, route_table_id=rtb_id, overlay_ip=cluster.overlay_ip)
        for i, (name, host) in enumerate(cluster.hosts.items()):
            # One /28 per host, each in its own AZ; the host's simulated address lies inside it.
            net = host.address.rsplit(".", 1)[0]
            subnet = ec2.create_subnet(
                VpcId=vpc_id,
                CidrBlock=f"{net}.{16 * i}/28",
                AvailabilityZone=f"{REGION}{'abc'[i % 3]}",
            )["Subnet"]["SubnetId"]
            ec2.associate_route_table(RouteTableId=rtb_id, SubnetId=subnet)
            facts.subnet_ids[name] = subnet
            reservation = ec2.run_instances(
                ImageId=LAB_AMI,
                MinCount=1,
                MaxCount=1,
                InstanceType="m5.large" if host.role == "db" else "t3.small",
                SubnetId=subnet,
                **({"IamInstanceProfile": {"Name": profile}} if host.role == "db" else {}),
                PrivateIpAddress=host.address,
                TagSpecifications=[
                    {
                        "ResourceType": "instance",
                        "Tags": [
                            {"Key": "Name", "Value": name},
                            {"Key": "db2ops:cluster", "Value": cluster.name},
                            {"Key": "db2ops:role", "Value": host.role},
                        ],
                    }
                ],
            )
            instance_id = reservation["Instances"][0]["InstanceId"]
            facts.instance_ids[name] = instance_id
            if host.role == "db" and not fresh:
                # The overlay IP is routed to the instance: it must accept traffic not addressed to it.
                ec2.modify_instance_attribute(InstanceId=instance_id, SourceDestCheck={"Value": False})
        from lab.aws_network import runbook_security_group

        facts.security_group_id = runbook_security_group(ec2, cluster, vpc_id, facts.instance_ids)
        with cluster.lock:
            for name, instance_id in facts.instance_ids.items():
                cluster.hosts[name].instance_id = instance_id
            primary = cluster.promoted or cluster.hadr_primary
        from lab.ha_state import note_route_table

        note_route_table(cluster, rtb_id)
        if not fresh:
            ec2.create_route(
                RouteTableId=rtb_id,
                DestinationCidrBlock=f"{cluster.overlay_ip}/32",
                InstanceId=facts.instance_ids[primary],
            )
            self._attach_route_policy(cluster.name, profile, rtb_id)
        self._ensure_log_groups()
        self.clusters[cluster.name] = facts
        self._unsubscribers.append(cluster.subscribe(lambda kind, d: self._on_event(cluster, kind, d)))
        return facts

    def _instance_profile(self, cluster_name: str) -> str:
        """Create the Db2 instances' IAM role + instance profile (what aws-vpc-move-ip runs as)."""
        iam = _client("iam", self.endpoint_url or "")
        name = f"{cluster_name}-db2-ec2"
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
        try:
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
            iam.create_instance_profile(InstanceProfileName=name)
            iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        except iam.exceptions.EntityAlreadyExistsException:
            pass  # seeded before in this moto (same cluster name)
        return name

    def _attach_route_policy(self, cluster_name: str, role: str, route_table_id: str) -> None:
        """The HA runbook's policy (ReplaceRoute on the table), as the HA plan would create it."""
        from services.ha_setup.params import default_policy_name, policy_document, policy_json

        iam = _client("iam", self.endpoint_url or "")
        account = _client("sts", self.endpoint_url or "").get_caller_identity()["Account"]
        document = policy_document("aws", REGION, account, (route_table_id,))
        name = default_policy_name(cluster_name)
        try:
            iam.create_policy(PolicyName=name, PolicyDocument=policy_json(document))
        except iam.exceptions.EntityAlreadyExistsException:
            pass  # seeded before in this moto (moto's state is per process)
        iam.attach_role_policy(RoleName=role, PolicyArn=f"arn:aws:iam::{account}:policy/{name}")

    def _ensure_log_groups(self) -> None:
        logs = _client("logs", self.endpoint_url or "")
        existing = {g["logGroupName"] for g in logs.describe_log_groups().get("logGroups", [])}
        for group in (AUDIT_LOG_GROUP, DIAG_LOG_GROUP):
            if group not in existing:
                try:
                    logs.create_log_group(logGroupName=group)
                except logs.exceptions.ResourceAlreadyExistsException:
                    pass  # another cluster's seeding made it first

    def _on_event(self, cluster: LabCluster, kind: str, details: dict[str, Any]) -> None:
        if kind != "promote" or cluster.name not in self.clusters:
            return
        future = self._pool.submit(self._move_route, cluster.name, details["node"])
        with self._lock:
            self._pending.add(future)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        with self._lock:
            self._pending.discard(future)
        if future.exception() is not None:
            log.warning("lab: moving the overlay route failed: %s", future.exception())

    def _move_route(self, cluster_name: str, node: str) -> None:
        facts = self.clusters[cluster_name]
        target = facts.instance_ids[node]
        destination = f"{facts.overlay_ip}/32"
        ec2 = _client("ec2", self.endpoint_url or "")
        tables = ec2.describe_route_tables(RouteTableIds=[facts.route_table_id])["RouteTables"]
        current = next(
            (
                r.get("InstanceId")
                for r in tables[0]["Routes"]
                if r.get("DestinationCidrBlock") == destination
            ),
            None,
        )
        if current is None:
            return  # no overlay route yet (a fresh HA lab before the plan made it): nothing to move
        if current != target:
            ec2.replace_route(
                RouteTableId=facts.route_table_id, DestinationCidrBlock=destination, InstanceId=target
            )

    def route_target(self, cluster_name: str) -> str | None:
        """The instance id the overlay route points at now (blocking; for tests and `status`)."""
        facts = self.clusters[cluster_name]
        ec2 = _client("ec2", self.endpoint_url or "")
        tables = ec2.describe_route_tables(RouteTableIds=[facts.route_table_id])["RouteTables"]
        destination = f"{facts.overlay_ip}/32"
        return next(
            (
                r.get("InstanceId")
                for r in tables[0]["Routes"]
                if r.get("DestinationCidrBlock") == destination
            ),
            None,
        )

    def wait_idle(self, timeout: float = 30.0) -> None:
        """Block until every route move submitted so far has finished (or `timeout` passed)."""
        with self._lock:
            pending = list(self._pending)
        for future in pending:
            try:
                future.result(timeout=timeout)
            except Exception:  # already logged by _done
                pass

    def stop(self) -> None:
        """Unsubscribe, finish pending route moves and stop moto. Blocking."""
        for unsubscribe in self._unsubscribers:
            unsubscribe()
        self._unsubscribers.clear()
        self._pool.shutdown(wait=True, cancel_futures=False)
        if self._server is not None:
            self._server.stop()
            self._server = None
