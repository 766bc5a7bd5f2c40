"""Fixtures shared by the plan, wizard and HA setup tests; their conftests import the ones they use
(`from plan_fixtures import aws_endpoint, ...`): one moto server per session on loopback, reset for each
test; the XDG state directory (journal, plan progress) under tmp_path; a fresh in-process lab cluster."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator

import pytest


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
    from plans.fakes import LabDirectRunner, lab_inventory_cluster

    from lab.state import LabCluster

    lab_cluster = LabCluster("lab1")
    return (
        lab_inventory_cluster(lab_cluster, endpoint_url=aws_endpoint),
        LabDirectRunner(lab_cluster),
        lab_cluster,
    )


def lab_extras(cluster, runner=None):
    """The CloudWatch backend of a cluster on the lab's moto, as the composition root picks it with no lab
    in this process (tui/backends.py): plan steps read only its labels and capabilities (no TestMetricFilter,
    the lab's e-mail confirmation), never the lab process itself."""
    from lab.backends import RemoteLabExtras

    return RemoteLabExtras(cluster, runner)


def lab_extras_for(cluster, runner):
    """`extras_for` for headless commands on a lab cluster (what tui/cli_support.py passes)."""
    return lab_extras(cluster, runner)
