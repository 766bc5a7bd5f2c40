"""Fixtures for tests/infra: a moto server on 127.0.0.1 with a fault-injecting WSGI middleware, and the
real asyncssh test server (`sshd`) with `no_agent` for the modules that connect to it."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

from infra.sshd_fixture import TestSshd
from services import aws_clients

EC2_THROTTLED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>RequestLimitExceeded</Code>'
    b"<Message>Request limit exceeded.</Message></Error></Errors><RequestID>lab-throttle</RequestID></Response>"
)


class FaultyMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer whose app answers the next `throttle_next` requests with EC2's 503 throttling
    error (protocol-correct), so botocore's standard retries can be observed."""

    def __init__(self) -> None:
        super().__init__(ip_address="127.0.0.1", port=0, verbose=False)
        self.throttle_next = 0
        self.throttled = 0

    def _middleware(self, app: Any) -> Any:
        def wrapped(environ: dict[str, Any], start_response: Any) -> Any:
            if self.throttle_next > 0 and not environ.get("PATH_INFO", "").startswith("/moto-api"):
                self.throttle_next -= 1
                self.throttled += 1
                start_response("503 Service Unavailable", [("Content-Type", "text/xml")])
                return [EC2_THROTTLED]
            return app(environ, start_response)

        return wrapped

    def _server_entry(self) -> None:  # as ThreadedMotoServer's, with the middleware around moto's app
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(self._ip_address, self._port, self._middleware(app), True)
        self._server_ready_event.set()
        self._server.serve_forever()

    @property
    def url(self) -> str:
        host, port = self.get_host_and_port()
        return f"http://{host}:{port}"

    def post(self, path: str, body: bytes = b"", content_type: str = "application/json") -> None:
        request = urllib.request.Request(self.url + path, data=body, headers={"Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def reset(self) -> None:
        self.throttle_next = 0
        self.throttled = 0
        self.post("/moto-api/reset", json.dumps({}).encode())


@pytest.fixture(scope="session")
def moto_server() -> Iterator[FaultyMotoServer]:
    server = FaultyMotoServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def moto(moto_server: FaultyMotoServer) -> Iterator[FaultyMotoServer]:
    """The session's moto server, reset before each test; clients are rebuilt for each test."""
    moto_server.reset()
    aws_clients.clear_client_cache()
    yield moto_server
    moto_server.throttle_next = 0
    aws_clients.clear_client_cache()


@pytest.fixture
def no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the test's identity is offered (an ssh-agent of the machine running the tests is not asked)."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


@pytest.fixture
async def sshd(tmp_path: Path) -> AsyncIterator[TestSshd]:
    server = TestSshd(tmp_path)
    await server.start()
    yield server
    await server.stop()
