"""boto3 client factory against moto on 127.0.0.1: retries, endpoint, caching, and error sentences."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    ProfileNotFound,
)
from botocore.retries.standard import ExponentialBackoff

from infra.conftest import FaultyMotoServer
from services.aws_clients import (
    call,
    clear_client_cache,
    describe_aws_error,
    make_client,
    make_read_client,
)
from services.inventory.model import AwsSettings


@pytest.fixture
def no_backoff_sleep(monkeypatch: pytest.MonkeyPatch) -> None:
    # keep the retry count real but skip botocore's 1-8 s jittered sleeps between attempts
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)


def lab(moto: FaultyMotoServer, **kwargs: object) -> AwsSettings:
    return AwsSettings(endpoint_url=moto.url, **kwargs)  # type: ignore[arg-type]


def test_importing_the_module_does_not_import_boto3() -> None:
    code = "import sys, services.aws_clients; print('boto3' in sys.modules, 'botocore' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"


def test_lab_client_uses_standard_retries_timeouts_and_no_host_prefix(moto: FaultyMotoServer) -> None:
    client = make_client("logs", lab(moto, region="eu-west-1"))
    config = client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 5}
    assert (config.connect_timeout, config.read_timeout) == (5, 30)
    assert config.inject_host_prefix is False
    assert client.meta.endpoint_url == moto.url
    assert client.meta.region_name == "eu-west-1"


def test_status_read_client_has_short_timeouts_and_two_attempts_writes_keep_standard(
    moto: FaultyMotoServer,
) -> None:
    aws = lab(moto)
    read = make_read_client("ec2", aws)
    assert read.meta.config.retries == {"mode": "standard", "total_max_attempts": 2}
    assert (read.meta.config.connect_timeout, read.meta.config.read_timeout) == (3, 5)
    assert read is make_read_client("ec2", aws) and read is not make_client("ec2", aws)
    assert make_client("ec2", aws).meta.config.retries["total_max_attempts"] == 5


def test_real_aws_client_keeps_host_prefix_and_default_endpoint() -> None:
    client = make_client("logs", AwsSettings(region="us-west-2"))  # no call is made
    assert client.meta.config.inject_host_prefix is True
    assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 5}
    assert client.meta.endpoint_url == "https://logs.us-west-2.amazonaws.com"


def test_clients_are_cached_per_service_and_settings(moto: FaultyMotoServer) -> None:
    aws = lab(moto)
    assert make_client("ec2", aws) is make_client("ec2", AwsSettings(endpoint_url=moto.url))
    assert make_client("ec2", aws) is not make_client("logs", aws)
    assert make_client("ec2", aws) is not make_client("ec2", lab(moto, region="eu-west-1"))
    # clusters that differ only in their resources (route table, log groups) share one client: each
    # client holds its own copy of the service model (the fault report's soak: 20 clusters, 700 MB)
    other = AwsSettings(
        endpoint_url=moto.url, route_table_id="rtb-2", audit_log_group="g2", overlay_ip="10.0.0.9"
    )
    assert make_read_client("ec2", aws) is make_read_client("ec2", other)
    assert make_read_client("ec2", aws) is not make_read_client(
        "ec2", AwsSettings(endpoint_url=moto.url + "/")
    )


async def test_call_runs_boto3_in_a_thread_against_moto(moto: FaultyMotoServer) -> None:
    sts = make_client("sts", lab(moto))
    identity = await call(sts, "get_caller_identity")
    assert identity["Account"] == "123456789012"
    ec2 = make_client("ec2", lab(moto))
    vpc = (await call(ec2, "create_vpc", CidrBlock="10.0.0.0/16"))["Vpc"]["VpcId"]
    tables = await call(ec2, "describe_route_tables", Filters=[{"Name": "vpc-id", "Values": [vpc]}])
    assert [t["VpcId"] for t in tables["RouteTables"]] == [vpc]


async def test_throttled_calls_are_retried_until_they_succeed(
    moto: FaultyMotoServer, no_backoff_sleep
) -> None:
    ec2 = make_client("ec2", lab(moto))
    moto.throttle_next = 3
    reply = await call(ec2, "describe_route_tables")
    assert moto.throttled == 3
    assert reply["ResponseMetadata"]["RetryAttempts"] == 3


async def test_throttling_beyond_max_attempts_is_described(moto: FaultyMotoServer, no_backoff_sleep) -> None:
    ec2 = make_client("ec2", lab(moto))
    moto.throttle_next = 50
    with pytest.raises(ClientError) as err:
        await call(ec2, "describe_route_tables")
    assert moto.throttled == 5  # 1 call + 4 retries, then botocore gives up
    assert describe_aws_error(err.value, "ec2") == (
        "AWS throttled the call ec2:DescribeRouteTables; retried 4 times (RequestLimitExceeded). "
        "Wait a minute and try again, or poll less often (refresh_interval_s in settings)"
    )


def test_access_denied_names_the_missing_permission(
    moto: FaultyMotoServer, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    iam = make_client("iam", lab(moto))
    iam.create_user(UserName="readonly")
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}],
    }
    arn = iam.create_policy(PolicyName="describe-only", PolicyDocument=json.dumps(policy))["Policy"]["Arn"]
    iam.attach_user_policy(UserName="readonly", PolicyArn=arn)
    key = iam.create_access_key(UserName="readonly")["AccessKey"]
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[readonly]\naws_access_key_id = {key['AccessKeyId']}\naws_secret_access_key = {key['SecretAccessKey']}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    moto.post("/moto-api/reset-auth", b"0", "text/plain")  # from now on moto enforces IAM
    try:
        ec2 = make_client("ec2", lab(moto, profile="readonly"))
        tables = ec2.describe_route_tables()["RouteTables"]  # allowed: the default VPC's main table
        assert [route["DestinationCidrBlock"] for route in tables[0]["Routes"]] == ["172.31.0.0/16"]
        with pytest.raises(ClientError) as err:
            ec2.replace_route(RouteTableId="rtb-1", DestinationCidrBlock="192.168.1.81/32", InstanceId="i-1")
    finally:
        moto.post("/moto-api/reset-auth", b"inf", "text/plain")
    assert describe_aws_error(err.value, "ec2") == (
        "AWS denied ec2:ReplaceRoute (AccessDenied): the IAM identity in use is missing the permission "
        "ec2:ReplaceRoute; add it to its policy (scoped to the resource) or use a profile that has it"
    )


def test_unknown_profile_and_missing_credentials_say_what_to_run(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    with pytest.raises(ProfileNotFound) as err:
        make_client("ec2", AwsSettings(profile="nosuch", region="eu-central-1"))
    assert describe_aws_error(err.value) == (
        "AWS profile 'nosuch' is not configured; fix aws.profile in the inventory or run "
        "`aws configure --profile nosuch`"
    )
    assert describe_aws_error(NoCredentialsError()) == (
        "no usable AWS credentials (Unable to locate credentials); set AWS_PROFILE (or aws.profile in the "
        "inventory) or run `aws configure` / `aws sso login`"
    )


async def test_unreachable_endpoint_is_described(no_backoff_sleep) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sts = make_client("sts", AwsSettings(endpoint_url=f"http://127.0.0.1:{port}"))
    with pytest.raises(EndpointConnectionError) as err:
        await call(sts, "get_caller_identity")
    assert describe_aws_error(err.value) == (
        f"cannot reach http://127.0.0.1:{port}/; check the network, proxy and VPC endpoints from this machine "
        "(for the lab: is `db2ops lab` still running?)"
    )


@pytest.mark.parametrize(
    ("code", "message", "expected"),
    [
        (
            "ExpiredTokenException",
            "The security token included in the request is expired",
            "the AWS credentials have expired (ExpiredTokenException); refresh them (`aws sso login`) and retry",
        ),
        (
            "InvalidRouteTableID.NotFound",
            "The routeTable ID 'rtb-0bad' does not exist",
            "ec2:ReplaceRoute failed: The routeTable ID 'rtb-0bad' does not exist; check the ids and names in "
            "the inventory's aws settings",
        ),
        ("InternalError", "boom", "ec2:ReplaceRoute failed (InternalError: boom)"),
    ],
)
def test_other_client_errors_become_sentences(code: str, message: str, expected: str) -> None:
    exc = ClientError({"Error": {"Code": code, "Message": message}}, "ReplaceRoute")
    assert describe_aws_error(exc, "ec2") == expected


def test_lab_client_ignores_a_proxy_meant_for_aws(moto: FaultyMotoServer, monkeypatch) -> None:
    # A jump host often has HTTPS_PROXY/HTTP_PROXY and no NO_PROXY; port 9 (discard) is no proxy at all.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    client = make_client("logs", lab(moto, region="eu-central-1"))
    assert client.describe_log_groups()["logGroups"] == []
    # real AWS keeps the environment's proxy (botocore reads it per request): nothing set here to bypass it
    assert make_client("logs", AwsSettings(region="eu-central-1")).meta.config.proxies is None


def test_lab_client_ignores_an_aws_profile_from_the_environment(moto: FaultyMotoServer, monkeypatch) -> None:
    # AWS_PROFILE names the DBA's real-AWS profile (missing on this jump host): the lab needs none.
    # (moto runs in this process and reads the environment too: its region backend is made first; the
    # lab itself drops the variable, see test_lab_starts_with_a_missing_aws_profile_in_the_environment.)
    make_client("logs", lab(moto, region="ap-south-1")).describe_log_groups()
    clear_client_cache()
    monkeypatch.setenv("AWS_PROFILE", "prod-admin-not-here")
    client = make_client("logs", lab(moto, region="ap-south-1"))
    assert client.describe_log_groups()["logGroups"] == []
    with pytest.raises(ProfileNotFound):
        make_client("logs", AwsSettings(region="ap-south-1"))  # real AWS honours it, and says it is missing
