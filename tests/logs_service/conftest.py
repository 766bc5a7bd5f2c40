"""Fixtures for the CloudWatch Logs service tests: one moto server on 127.0.0.1, reset before each test."""

from __future__ import annotations

import pytest
from moto_server import moto_url, reset_moto  # noqa: F401

from services import aws_clients
from services.inventory.model import AwsSettings


@pytest.fixture
def aws(moto_url: str) -> AwsSettings:  # noqa: F811
    """Lab-style settings pointing at a freshly reset moto (state from other tests is gone)."""
    reset_moto(moto_url)
    return AwsSettings(endpoint_url=moto_url)


@pytest.fixture
def logs(aws: AwsSettings):
    """A boto3 logs client for the moto server."""
    return aws_clients.make_client("logs", aws)
