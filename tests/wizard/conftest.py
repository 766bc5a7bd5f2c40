"""Fixtures for the wizard, journal and prove-it-fires tests: files under tmp_path (XDG dirs), UTC, one
moto server per session (reset per test) and a fresh lab cluster whose host commands run in-process."""

from __future__ import annotations

import logging
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    for var, sub in (("XDG_CONFIG_HOME", "config"), ("XDG_STATE_HOME", "state"), ("XDG_DATA_HOME", "data")):
        monkeypatch.setenv(var, str(tmp_path / sub))
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def _post(url: str, body: bytes = b"") -> None:
    request = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "text/plain"})
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback moto only
        response.read()


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
    _post(f"{moto_endpoint}/moto-api/reset")
    yield moto_endpoint


@pytest.fixture
def lab(aws_endpoint):
    """(inventory Cluster, LabDirectRunner, lab.state.LabCluster) for a fresh writable lab cluster."""
    from plans.fakes import LabDirectRunner, lab_inventory_cluster

    from lab.state import LabCluster

    lab_cluster = LabCluster("lab1")
    return (
        lab_inventory_cluster(lab_cluster, endpoint_url=aws_endpoint),
        LabDirectRunner(lab_cluster),
        lab_cluster,
    )


@pytest.fixture(autouse=True)
def _no_wizard_drafts():
    # the wizard keeps the DBA's edits per cluster for the process; every test starts from the defaults
    from screens import setup_monitoring

    setup_monitoring._DRAFTS.clear()
    yield
    setup_monitoring._DRAFTS.clear()
