"""End to end on the embedded lab started "not yet clustered" (LabRuntime.start(fresh_ha=True)): real SSH
servers on 127.0.0.1 (host keys verified) and moto; `db2ops setup ha` builds the cluster, a second run
finds it done."""

from __future__ import annotations

import io
import json

import boto3
import pytest

from services.ha_setup.cli import run_setup_ha
from services.plans import Journal
from services.ssh.pool import SshPool


@pytest.fixture
async def fresh_runtime(aws_endpoint, tmp_path):
    from lab.runtime import LabRuntime

    runtime = LabRuntime()
    await runtime.start(1, base_dir=tmp_path / "lab", failover_delay_s=0, fresh_ha=True)
    try:
        yield runtime
    finally:
        await runtime.stop()


async def test_fresh_lab_starts_without_route_and_with_the_check_on(fresh_runtime) -> None:
    cluster = fresh_runtime.inventory().cluster("lab1")
    ec2 = boto3.client(
        "ec2", endpoint_url=fresh_runtime.endpoint_url, region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    assert fresh_runtime.aws.route_target("lab1") is None
    attr = ec2.describe_instance_attribute(
        InstanceId=cluster.host("db2a").instance_id, Attribute="sourceDestCheck"
    )
    assert attr["SourceDestCheck"]["Value"] is True
    async with SshPool(config_paths=[]) as pool:
        result = await pool.run(cluster.host("db2a"), ["crm_mon", "-1", "--output-as=xml"])
    assert result.exit_status == 127


async def test_setup_ha_over_real_ssh_builds_the_cluster(fresh_runtime, tmp_path) -> None:
    inventory = fresh_runtime.inventory()
    journal = Journal(tmp_path / "journal")
    async with SshPool(config_paths=[]) as pool:
        out = io.StringIO()
        code = await run_setup_ha(
            inventory, "lab1", mode="apply", as_json=True, out=out, runner=pool, journal=journal
        )
        report = json.loads(out.getvalue())
        assert code == 0, report["next"]
        out = io.StringIO()
        assert await run_setup_ha(inventory, "lab1", mode="dry-run", as_json=True, out=out, runner=pool) == 0
        assert {s["status"] for s in json.loads(out.getvalue())["steps"]} == {"already_done"}
    cluster = inventory.cluster("lab1")
    assert fresh_runtime.aws.route_target("lab1") == cluster.host("db2a").instance_id
