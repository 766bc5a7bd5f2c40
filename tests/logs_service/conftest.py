"""Fixtures for the CloudWatch Logs service tests: one moto server on 127.0.0.1, reset before each test."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from services import aws_clients
from services.inventory_model import AwsSettings


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def aws(moto_url: str) -> AwsSettings:
    """Lab-style settings pointing at a freshly reset moto (state from other tests is gone)."""
    request = urllib.request.Request(moto_url + "/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
    aws_clients.clear_client_cache()
    return AwsSettings(endpoint_url=moto_url)


@pytest.fixture
def logs(aws: AwsSettings):
    """A boto3 logs client for the moto server."""
    return aws_clients.make_client("logs", aws)
