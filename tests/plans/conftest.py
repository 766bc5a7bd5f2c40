"""Fixtures for plan tests: one moto server for the module (reset per test), a fresh lab cluster whose
host commands run in-process, and the journal/progress directories under tmp_path."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator

import pytest

from plans.fakes import LabDirectRunner, lab_inventory_cluster


def post(url: str, body: bytes = b"") -> None:
    """POST to moto's control API on loopback (reset, reset-auth)."""
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback moto only
        response.read()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    moto_server = pytest.importorskip("moto.server")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
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


@pytest.fixture
def state_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    return tmp_path / "state"


@pytest.fixture
def lab(aws_endpoint, state_home):
    """(inventory Cluster, LabDirectRunner, lab.state.LabCluster) for a fresh writable lab cluster."""
    from lab.state import LabCluster

    lab_cluster = LabCluster("lab1")
    return (
        lab_inventory_cluster(lab_cluster, endpoint_url=aws_endpoint),
        LabDirectRunner(lab_cluster),
        lab_cluster,
    )
