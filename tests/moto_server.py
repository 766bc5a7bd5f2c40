"""One moto server on 127.0.0.1 per test session, and the reset every test starts with.

moto keeps its state per process (every server in it shares it), so a test that needs an empty AWS calls
`reset_moto` first. A conftest imports the fixture: `from moto_server import moto_url  # noqa: F401`.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import pytest
from moto.server import ThreadedMotoServer

from services import aws_clients


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """The URL of a moto server on 127.0.0.1 (a free port), stopped at the end of the session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def reset_moto(url: str) -> None:
    """Empty moto (every service, every server of this process) and drop the cached boto3 clients."""
    request = urllib.request.Request(
        url + "/moto-api/reset", data=b"{}", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # loopback moto only
        response.read()
    aws_clients.clear_client_cache()
