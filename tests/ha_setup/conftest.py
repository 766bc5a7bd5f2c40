"""Fixtures for the HA setup tests: one moto server per session (reset per test), lab clusters whose host
commands run in-process (fresh = not yet clustered, seeded = already built) with their AWS side seeded
into moto by lab/aws.py, and the journal / progress directories under tmp_path."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from ha_setup.ha_lab import HaLab, make_lab, post


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    moto_server = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_endpoint(moto_endpoint: str) -> Iterator[str]:
    post(f"{moto_endpoint}/moto-api/reset")
    yield moto_endpoint
    post(f"{moto_endpoint}/moto-api/reset-auth", b"inf")  # IAM enforcement off again


@pytest.fixture(autouse=True)
def state_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture
def fresh_lab(aws_endpoint, tmp_path) -> Iterator[HaLab]:
    lab = make_lab(aws_endpoint, tmp_path, fresh=True)
    try:
        yield lab
    finally:
        lab.aws.stop()


@pytest.fixture
def seeded_lab(aws_endpoint, tmp_path) -> Iterator[HaLab]:
    lab = make_lab(aws_endpoint, tmp_path, fresh=False)
    try:
        yield lab
    finally:
        lab.aws.stop()
