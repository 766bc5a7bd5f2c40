"""Bounds on a stalled endpoint during a plan (setup, failover): a host that stops answering mid-run fails
its command after ssh_command_timeout_s, the opening of the SSH session included (it used to wait forever:
a plan has no status deadline around it), and an AWS call of a step fails as timed out after
aws_call_deadline_s (it used to take botocore's 5 attempts x 30 s)."""

from __future__ import annotations

import asyncio
import time

import pytest
from fault_proxy import ProxiedLab

from services.plans import PlanContext
from services.plans.context import AwsCallTimedOut
from services.settings import SettingsError, load_settings
from services.ssh.errors import CommandTimeout
from services.ssh.pool import SshPool

BOUND_S = 60.0  # generous for a loaded machine; the stalls below end in a few seconds, not minutes


async def test_a_host_that_stalls_mid_run_fails_the_command_at_its_timeout(proxied: ProxiedLab) -> None:
    cluster = proxied.inventory.clusters[0]  # type: ignore[attr-defined]
    host = cluster.host("db2b")
    async with SshPool(config_paths=[], connect_timeout=5, command_timeout=2, keepalive_interval=0) as pool:
        assert (await asyncio.wait_for(pool.run(host, ["true"]), BOUND_S)).exit_status == 0
        proxied.host_proxy(cluster.name, "db2b").set_mode("stall")  # the open connection goes silent
        with pytest.raises(CommandTimeout) as caught:
            await asyncio.wait_for(pool.run(host, ["hostname"]), BOUND_S)
    assert "db2b" in str(caught.value) and "ssh_command_timeout_s" in str(caught.value)


async def test_a_stalled_aws_endpoint_times_the_call_out_at_the_plan_deadline(proxied: ProxiedLab) -> None:
    assert proxied.aws is not None and proxied.aws.http is not None
    cluster = proxied.inventory.clusters[0]  # type: ignore[attr-defined]
    ctx = PlanContext(cluster=cluster, runner=None, aws_deadline_s=2.0)  # type: ignore[arg-type]
    await ctx.aws_read("ec2", "DescribeRouteTables", RouteTableIds=[cluster.aws.route_table_id])
    proxied.aws.http.arm(b"Action=DescribeRouteTables", "stall")
    started = time.monotonic()
    with pytest.raises(AwsCallTimedOut) as caught:
        await asyncio.wait_for(
            ctx.aws_read("ec2", "DescribeRouteTables", RouteTableIds=[cluster.aws.route_table_id]), BOUND_S
        )
    assert time.monotonic() - started < BOUND_S
    message = str(caught.value)
    assert "ec2:DescribeRouteTables timed out" in message and "aws_call_deadline_s" in message
    assert "re-run" in message and proxied.aws.url in message


def test_the_aws_deadline_is_a_positive_setting(tmp_path) -> None:
    path = tmp_path / "settings.yaml"
    path.write_text("aws_call_deadline_s: 12\n")
    assert load_settings(path).aws_call_deadline_s == 12.0
    path.write_text("aws_call_deadline_s: 0\n")
    with pytest.raises(SettingsError, match="aws_call_deadline_s"):
        load_settings(path)
