"""The lab's AWS side (moto over real HTTP): seeding, and the overlay route following a takeover."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("moto")

from services.aws_clients import make_client  # noqa: E402


def ec2_for(runtime, cluster: str):
    return make_client("ec2", runtime.inventory().cluster(cluster).aws)


def route_target(ec2, rtb: str) -> str | None:
    table = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]
    return next(
        (r.get("InstanceId") for r in table["Routes"] if r.get("DestinationCidrBlock") == "192.168.1.81/32"),
        None,
    )


async def test_seeded_like_the_runbook(lab_aws):
    inv = lab_aws.inventory()
    assert lab_aws.endpoint_url.startswith("http://127.0.0.1:")
    for cluster in inv.clusters:
        assert cluster.lab and cluster.read_only is False and cluster.aws.endpoint_url == lab_aws.endpoint_url
        ec2 = ec2_for(lab_aws, cluster.name)
        ids = [h.instance_id for h in cluster.hosts]
        reservations = (await asyncio.to_thread(ec2.describe_instances, InstanceIds=ids))["Reservations"]
        found = {i["InstanceId"]: i for r in reservations for i in r["Instances"]}
        assert set(found) == set(ids)
        for host in cluster.db_hosts:
            attr = await asyncio.to_thread(
                ec2.describe_instance_attribute, InstanceId=host.instance_id, Attribute="sourceDestCheck"
            )
            assert attr["SourceDestCheck"]["Value"] is False
        target = await asyncio.to_thread(route_target, ec2, cluster.aws.route_table_id)
        assert target == cluster.db_hosts[0].instance_id
    logs = make_client("logs", inv.clusters[0].aws)
    groups = {g["logGroupName"] for g in (await asyncio.to_thread(logs.describe_log_groups))["logGroups"]}
    assert {"db2-db-worker-audit-log", "db2-diagnostics-logs"} <= groups


async def test_kill_primary_moves_the_overlay_route(lab_aws, sh_aws):
    inv = lab_aws.inventory()
    lab1, lab2 = inv.cluster("lab1"), inv.cluster("lab2")
    res = await sh_aws.run("lab1-qdev", "db2ops-lab kill-primary")
    assert res.exit_status == 0
    await lab_aws.settle()
    ec2 = ec2_for(lab_aws, "lab1")
    assert (
        await asyncio.to_thread(route_target, ec2, lab1.aws.route_table_id)
        == lab1.host("lab1-db2b").instance_id
    )
    # the other cluster's route did not move
    assert (
        await asyncio.to_thread(route_target, ec2, lab2.aws.route_table_id)
        == lab2.host("lab2-db2a").instance_id
    )
    # a planned move back moves it again
    lab_aws.control("lab1", "restore")
    await lab_aws.settle()
    assert lab_aws.control("lab1", "move-primary", "lab1-db2a")[0] == 0
    await lab_aws.settle()
    assert (
        await asyncio.to_thread(route_target, ec2, lab1.aws.route_table_id)
        == lab1.host("lab1-db2a").instance_id
    )
