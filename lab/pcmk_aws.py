"""The EC2 emulation of the REAL Pacemaker lab: a moto server on the lab's bridge address, seeded like the
cluster's AWS side, which Debian's real aws-vpc-move-ip agent on the lab nodes talks to (through the
`aws-lab` wrapper and the `curl` metadata shim of lab/data/pcmk_ec2_shims.py).

`python -m lab.pcmk_aws serve --host H --port P` is the server process pcmk-lab.sh `start-aws` runs (it
lives as long as the lab). `seed()` creates, once per lab, the VPC and subnet of the lab's own network, an
EC2 instance per lab host at its lab address, the route table and the overlay route to the promoted node's
interface, and writes the metadata the `curl` shim answers from. Blocking boto3 calls: run them in a thread
from async code. No Textual here.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REGION = "us-east-1"
CREDENTIALS = ("testing", "testing")
AMI = "ami-0db2ops0lab00001"  # made up: moto accepts any id, and describe_images is slow


@dataclass(frozen=True)
class LabEc2:
    """What the lab seeded: the inventory's aws settings and the metadata shim's data come from here."""

    endpoint_url: str
    route_table_id: str
    overlay_ip: str
    instance_ids: dict[str, str]
    interface_ids: dict[str, str]

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> LabEc2 | None:
        try:
            return cls(**json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError):
            return None


def patch_moto_eni_route_instance() -> None:
    """Make this process's moto report the owning instance of a route to an attached network interface,
    as AWS does (describe-route-tables shows InstanceId next to NetworkInterfaceId). moto 5.x leaves it out,
    and aws-vpc-move-ip's monitor (lookup_type=InstanceId, its default) compares exactly that field.
    Lab-only: it changes the in-process moto."""
    from moto.ec2.models.route_tables import RouteBackend

    if getattr(RouteBackend, "_db2ops_eni_instance", False):
        return
    create, replace = RouteBackend.create_route, RouteBackend.replace_route

    def owner(route: Any) -> Any:
        interface = getattr(route, "interface", None)
        if interface is not None and getattr(interface, "instance", None) is not None:
            route.instance = interface.instance
        return route

    def create_route(self: Any, *a: Any, **k: Any) -> Any:
        return owner(create(self, *a, **k))

    def replace_route(self: Any, *a: Any, **k: Any) -> Any:
        return owner(replace(self, *a, **k))

    RouteBackend.create_route = create_route  # type: ignore[method-assign]
    RouteBackend.replace_route = replace_route  # type: ignore[method-assign]
    RouteBackend._db2ops_eni_instance = True  # type: ignore[attr-defined]


def serve(host: str, port: int) -> None:
    """Run the patched moto server on host:port until SIGTERM or SIGINT."""
    from moto.server import ThreadedMotoServer

    from lab.moto_patches import apply_lab_patches

    apply_lab_patches()
    patch_moto_eni_route_instance()
    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    done.wait()
    server.stop()


def _ec2(endpoint_url: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "ec2",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=CREDENTIALS[0],
        aws_secret_access_key=CREDENTIALS[1],
        config=Config(retries={"mode": "standard"}, proxies={}),
    )


def seed(
    endpoint_url: str,
    net: str,
    hosts: dict[str, int],
    db_hosts: tuple[str, ...],
    overlay_ip: str,
    primary: str,
) -> LabEc2:
    """Create the lab's VPC (net.0/16 around the lab's /24), one instance per host at its lab address (source
    /dest check off on the db hosts), a route table associated with the subnet and the overlay route to the
    primary's interface (as the runbook's create-route and the agent's replace-route do). Blocking."""
    ec2 = _ec2(endpoint_url)
    first_two = ".".join(net.split(".")[:2])
    vpc = ec2.create_vpc(CidrBlock=f"{first_two}.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=f"{net}.0/24")["Subnet"]["SubnetId"]
    instance_ids: dict[str, str] = {}
    interface_ids: dict[str, str] = {}
    for name, suffix in hosts.items():
        made = ec2.run_instances(
            ImageId=AMI,
            MinCount=1,
            MaxCount=1,
            InstanceType="m5.large",
            SubnetId=subnet,
            PrivateIpAddress=f"{net}.{suffix}",
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}],
        )["Instances"][0]
        instance_ids[name] = made["InstanceId"]
        interface_ids[name] = made["NetworkInterfaces"][0]["NetworkInterfaceId"]
        if name in db_hosts:
            # the overlay IP is routed to the instance: it must accept traffic not addressed to it
            ec2.modify_instance_attribute(InstanceId=made["InstanceId"], SourceDestCheck={"Value": False})
    rtb = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)
    ec2.create_route(
        RouteTableId=rtb, DestinationCidrBlock=f"{overlay_ip}/32", NetworkInterfaceId=interface_ids[primary]
    )
    return LabEc2(endpoint_url, rtb, overlay_ip, instance_ids, interface_ids)


def route_target(endpoint_url: str, route_table_id: str, overlay_ip: str) -> tuple[str | None, str | None]:
    """(InstanceId, NetworkInterfaceId) the overlay route points at now, as describe-route-tables says."""
    tables = _ec2(endpoint_url).describe_route_tables(RouteTableIds=[route_table_id])["RouteTables"]
    for route in tables[0]["Routes"] if tables else []:
        if route.get("DestinationCidrBlock") == f"{overlay_ip}/32":
            return route.get("InstanceId"), route.get("NetworkInterfaceId")
    return None, None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lab.pcmk_aws", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("serve", help="run the lab's EC2 emulation until SIGTERM")
    run.add_argument("--host", required=True)
    run.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    serve(args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
