"""Each PartError kind comes from the real runner situation: SshPool against a real asyncssh server (and a
closed port), gathered by the status service. The verdicts then follow from the kind."""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from infra.conftest import FaultyMotoServer
from infra.sshd_fixture import TestSshd
from services.aws_clients import make_client
from services.inventory.model import AwsSettings, Cluster, Host, Inventory
from services.part_errors import ErrorKind
from services.ssh.pool import CommandResult, SshPool
from services.status.model import ClusterStatus
from services.status.service import StatusService, gather_cluster_status, overlay_route_part
from services.status.verdicts import derive_verdicts

# sshd and no_agent: tests/infra/conftest.py (the test server; only the test's identity is offered)
pytestmark = pytest.mark.usefixtures("no_agent")


def db_host(sshd: TestSshd, known_hosts: Path, *, trusted: bool = True, port: int | None = None) -> Host:
    if trusted:
        known_hosts.write_text(sshd.known_hosts_line())
    return Host(
        name="db2t",
        address="127.0.0.1",
        role="db",
        port=port or sshd.port,
        user="tester",
        identity=str(sshd.identity),
        known_hosts=str(known_hosts),
    )


def one_host(host: Host) -> Cluster:
    return Cluster(name="c1", database="HADRDB", hosts=(host,))


class Rewriting:
    """SshPool with some status commands swapped for the test server's own (`sleep`, `exit N`, `argv`):
    the pool, the server and the status service stay real; only what the command does is chosen."""

    def __init__(self, pool: SshPool, swaps: dict[str, list[str]]) -> None:
        self.pool, self.swaps = pool, swaps

    async def run(self, host: Host, argv: Sequence[str], **kw: Any) -> CommandResult:
        return await self.pool.run(host, self.swaps.get(argv[0], list(argv)), **kw)


async def test_a_command_the_host_does_not_have_is_not_installed(sshd: TestSshd, tmp_path: Path) -> None:
    # the test server answers every status tool with "<tool>: command not found", exit 127, like bash
    async with SshPool(config_paths=[]) as pool:
        status = await gather_cluster_status(one_host(db_host(sshd, tmp_path / "kh")), pool, aws_route=False)
    quorum = status.quorum["db2t"].error
    assert quorum is not None and quorum.kind is ErrorKind.NOT_INSTALLED
    assert (quorum.exit_status, quorum.host, quorum.command) == (127, "db2t", "corosync-quorumtool -s")
    assert quorum.message == "`corosync-quorumtool -s` exited 127: corosync-quorumtool: command not found"
    assert status.crm is not None and status.crm.error is not None
    assert status.crm.error.kind is ErrorKind.NOT_INSTALLED and status.crm.error.hosts == ("db2t",)
    assert status.host_errors == {}  # the host answered: nothing about its connection
    pacemaker = next(v for v in status.verdicts if v.code == "pacemaker_unavailable")
    assert pacemaker.message.startswith("Pacemaker is not installed on db2t")


async def test_exit_status_parse_and_timeout_each_have_their_kind(sshd: TestSshd, tmp_path: Path) -> None:
    swaps = {
        "corosync-quorumtool": ["exit", "1"],  # quorumtool's answers are exit 0 and 2 only
        "crm_mon": ["argv", "not", "xml"],  # exit 0, but not crm_mon's XML
        "db2pd": ["sleep", "30"],
    }
    async with SshPool(config_paths=[], command_timeout=0.3) as pool:
        cluster = one_host(db_host(sshd, tmp_path / "kh"))
        status = await gather_cluster_status(cluster, Rewriting(pool, swaps), aws_route=False)
    quorum, crm, hadr = status.quorum["db2t"].error, status.crm.error, status.hadr["db2t"].error
    assert quorum is not None and quorum.kind is ErrorKind.EXIT_CODE
    assert (quorum.exit_status, quorum.output) == (1, "failing with 1")
    assert crm is not None and crm.kind is ErrorKind.PARSE and crm.causes[0].command == "argv not xml"
    assert hadr is not None and hadr.kind is ErrorKind.TIMEOUT and hadr.command == "sleep 30"
    assert "did not finish within 0.3s" in hadr.message
    # no command gave a value, so nothing proved the host reachable: the timeout stands for it (as before)
    assert status.host_errors == {"db2t": hadr}


async def test_unknown_and_changed_host_keys(sshd: TestSshd, tmp_path: Path) -> None:
    unknown_host = db_host(sshd, tmp_path / "none", trusted=False)
    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode()
    (tmp_path / "other").write_text(f"[127.0.0.1]:{sshd.port} {other}")
    changed_host = db_host(sshd, tmp_path / "other", trusted=False)
    async with SshPool(config_paths=[]) as pool:
        service = StatusService(Inventory(clusters=()), pool, aws_route=False)
        unknown = await service.snapshot(one_host(unknown_host))
        changed = await service.snapshot(replace(one_host(changed_host), name="c2"))
    err = unknown.host_errors["db2t"]
    assert err.kind is ErrorKind.HOST_KEY_UNKNOWN
    assert err.fingerprint == sshd.host_key.get_fingerprint("sha256") and err.key_type == "ssh-ed25519"
    assert err.known_hosts == str(tmp_path / "none")
    assert unknown.quorum["db2t"].error == err  # every part of the host carries the same error
    assert unknown.quorum["db2t"].command == "corosync-quorumtool -s"  # the part says which command
    assert [v.code for v in unknown.verdicts if v.code.startswith("host_")] == ["host_key_unknown"]
    assert changed.host_errors["db2t"].kind is ErrorKind.HOST_KEY_CHANGED
    assert [v.code for v in changed.verdicts if v.code.startswith("host_")] == ["host_key_changed"]
    assert [e.fingerprint for e in service.pending_host_keys] == [err.fingerprint]
    assert [e.known_hosts for e in service.refused_host_keys] == [tmp_path / "other"]


async def test_refused_keys_are_auth(sshd: TestSshd, tmp_path: Path) -> None:
    stranger = tmp_path / "id_stranger"
    asyncssh.generate_private_key("ssh-ed25519").write_private_key(str(stranger))
    host = replace(db_host(sshd, tmp_path / "kh"), identity=str(stranger))
    async with SshPool(config_paths=[]) as pool:
        status = await gather_cluster_status(one_host(host), pool, aws_route=False)
    assert status.host_errors["db2t"].kind is ErrorKind.AUTH
    assert "refused the SSH keys offered for tester" in status.host_errors["db2t"].message
    assert [v.code for v in status.verdicts if v.code.startswith("host_")] == ["host_unreachable"]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_a_refused_connection_is_unreachable_then_in_backoff(sshd: TestSshd, tmp_path: Path) -> None:
    host = db_host(sshd, tmp_path / "kh", port=closed_port())
    async with SshPool(config_paths=[], reconnect_backoff=(60.0, 60.0)) as pool:
        first = await gather_cluster_status(one_host(host), pool, aws_route=False)
        again = await gather_cluster_status(one_host(host), pool, aws_route=False)
    err = first.host_errors["db2t"]
    assert err.kind is ErrorKind.UNREACHABLE and not err.in_backoff
    assert err.message.startswith("cannot connect to 127.0.0.1")  # host prefix off: the UI names it
    later = again.host_errors["db2t"]
    assert later.kind is ErrorKind.UNREACHABLE and later.in_backoff
    assert later.message.startswith("not retrying for")
    assert [v.code for v in again.verdicts if v.code.startswith("host_")] == ["host_unreachable"]


def _route_cluster(moto: FaultyMotoServer, route_table_id: str, **aws: Any) -> Cluster:
    settings = AwsSettings(endpoint_url=moto.url, route_table_id=route_table_id, overlay_ip="192.168.1.81")
    return Cluster(name="c1", aws=replace(settings, **aws))


async def test_overlay_route_errors_from_ec2_have_aws_kinds(
    moto: FaultyMotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ec2 = make_client("ec2", AwsSettings(endpoint_url=moto.url))
    table = ec2.describe_route_tables()["RouteTables"][0]["RouteTableId"]  # the default VPC's main table
    missing = await overlay_route_part(_route_cluster(moto, table))
    assert missing.error is not None and missing.error.kind is ErrorKind.NOT_FOUND
    assert (
        missing.error.message
        == f"no route for 192.168.1.81/32 in {table}: create it (HA setup, overlay IP step)"
    )
    unknown = await overlay_route_part(_route_cluster(moto, "rtb-0nosuch"))
    assert unknown.error is not None and unknown.error.kind is ErrorKind.AWS_ERROR
    assert "rtb-0nosuch" in unknown.error.message

    iam = make_client("iam", AwsSettings(endpoint_url=moto.url))
    iam.create_user(UserName="nothing")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sns:List*", "Resource": "*"}],
    }
    arn = iam.create_policy(PolicyName="no-ec2", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="nothing", PolicyArn=arn)
    key = iam.create_access_key(UserName="nothing")["AccessKey"]
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[nothing]\naws_access_key_id = {key['AccessKeyId']}\naws_secret_access_key = {key['SecretAccessKey']}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    moto.post("/moto-api/reset-auth", b"0", "text/plain")  # from now on moto enforces IAM
    try:
        denied = await overlay_route_part(_route_cluster(moto, table, profile="nothing"))
    finally:
        moto.post("/moto-api/reset-auth", b"inf", "text/plain")
    assert denied.error is not None and denied.error.kind is ErrorKind.AWS_DENIED
    assert denied.error.message.startswith("AWS denied ec2:DescribeRouteTables")
    status = ClusterStatus(cluster="c1", taken_at=0.0, overlay_route=denied)
    route = [v for v in derive_verdicts(status) if v.code.startswith("overlay")]
    assert [v.message for v in route] == [f"overlay IP route unknown: {denied.error.message}"]
