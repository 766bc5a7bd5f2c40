"""`db2ops check`'s AWS findings against the lab's EC2/IAM emulation (moto over HTTP, as lab/aws.py seeds
it like the runbook): a correct cluster gives none; each cluster seeded wrong in one way gives that one."""

from __future__ import annotations

import dataclasses
import itertools

import pytest

pytest.importorskip("moto")

from in_process_lab import lab_inventory_cluster  # noqa: E402
from test_check_lab import LabRunner  # noqa: E402

from lab.aws import LabAws  # noqa: E402
from lab.check_seeds import AWS_SEEDS, PRE_AWS_SEEDS, seed_wrong, seed_wrong_aws  # noqa: E402
from lab.state import LabCluster  # noqa: E402
from services.check.service import run_check  # noqa: E402

_names = itertools.count(1)  # one moto for the module: each test seeds its own cluster (own VPC, role)


@pytest.fixture(scope="module")
def lab_aws():
    aws = LabAws()
    aws.start()
    yield aws
    aws.stop()


def _seeded(lab_aws, code: str | None = None):
    lab = LabCluster(f"chk{next(_names)}", failover_delay_s=0.0)
    if code in PRE_AWS_SEEDS:
        seed_wrong(lab, code)
    facts = lab_aws.seed(lab)
    if code in AWS_SEEDS:
        seed_wrong_aws(lab, code, facts, lab_aws.endpoint_url)
    cluster = lab_inventory_cluster(lab, endpoint_url=lab_aws.endpoint_url)
    aws = dataclasses.replace(cluster.aws, route_table_id=facts.route_table_id, overlay_ip=lab.overlay_ip)
    return lab, dataclasses.replace(cluster, aws=aws)


async def test_a_correct_lab_cluster_on_aws_has_no_finding(lab_aws):
    lab, cluster = _seeded(lab_aws)
    report = await run_check(cluster, LabRunner(lab))
    assert report.unreadable == []
    assert "aws" in report.checked
    assert report.findings == []
    assert report.exit_code == 0


@pytest.mark.parametrize("code", sorted([*AWS_SEEDS, *PRE_AWS_SEEDS]))
async def test_each_seeded_aws_misconfiguration_gives_exactly_its_finding(lab_aws, code):
    lab, cluster = _seeded(lab_aws, code)
    report = await run_check(cluster, LabRunner(lab))
    assert report.unreadable == []
    assert [f.code for f in report.findings] == [code]
    assert report.exit_code == 1


async def test_source_dest_check_names_the_host_and_the_command(lab_aws):
    lab, cluster = _seeded(lab_aws, "EC2-SOURCE-DEST-CHECK-ON")
    (finding,) = (await run_check(cluster, LabRunner(lab))).findings
    standby = cluster.host(lab.db_nodes[1])
    assert lab.db_nodes[1] in finding.summary and lab.db_nodes[0] not in finding.summary
    assert f"--instance-id {standby.instance_id} --no-source-dest-check" in finding.fix


async def test_an_unknown_route_table_is_a_finding(lab_aws):
    lab, cluster = _seeded(lab_aws)
    cluster = dataclasses.replace(
        cluster, aws=dataclasses.replace(cluster.aws, route_table_id="rtb-0000000000000000f")
    )
    report = await run_check(cluster, LabRunner(lab))
    assert [f.code for f in report.findings] == ["ROUTE-TABLE-NOT-FOUND"]


async def test_an_unreachable_endpoint_is_not_checked_and_exit_2(lab_aws):
    lab, cluster = _seeded(lab_aws)
    dead = dataclasses.replace(cluster.aws, endpoint_url="http://127.0.0.1:9")  # discard port: refused
    report = await run_check(dataclasses.replace(cluster, aws=dead), LabRunner(lab))
    assert "aws" not in report.checked
    assert any(u.startswith("(aws): ") for u in report.unreadable)
    assert report.exit_code == 2
