"""Fixtures for tests/lab: a running LabRuntime (real SSH servers on 127.0.0.1) and an SSH client helper.

The client verifies host keys against the lab's known_hosts and logs in with the lab's key, exactly as
db2ops does; nothing here disables host-key checking.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import asyncssh
import pytest

from lab.runtime import LabRuntime


class LabShell:
    """Run commands on lab hosts over real SSH (one connection per host, reused)."""

    def __init__(self, runtime: LabRuntime) -> None:
        self.runtime = runtime
        self._conns: dict[str, asyncssh.SSHClientConnection] = {}

    def _host(self, name: str):
        for cluster in self.runtime.inventory().clusters:
            host = cluster.host(name)
            if host is not None:
                return host
        raise KeyError(name)

    async def connect(self, name: str) -> asyncssh.SSHClientConnection:
        host = self._host(name)
        return await asyncssh.connect(
            host.address,
            host.port,
            username=host.user,
            client_keys=[host.identity],
            known_hosts=host.known_hosts,
            agent_path=None,
            config=None,
            connect_timeout=10,
        )

    async def run(self, name: str, command: str) -> asyncssh.SSHCompletedProcess:
        conn = self._conns.get(name)
        if conn is None:
            conn = self._conns[name] = await self.connect(name)
        try:
            return await conn.run(command, check=False, timeout=30)
        except (OSError, asyncssh.Error):
            self._conns.pop(name, None)
            raise

    async def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()


async def _runtime(tmp_path: Path, *, with_aws: bool) -> AsyncIterator[LabRuntime]:
    runtime = LabRuntime()
    await runtime.start(2, base_dir=tmp_path / "lab", failover_delay_s=0, with_aws=with_aws)
    try:
        yield runtime
    finally:
        await runtime.stop()


@pytest.fixture
async def lab(tmp_path: Path) -> AsyncIterator[LabRuntime]:
    """Two simulated clusters, no AWS (fast)."""
    async for runtime in _runtime(tmp_path, with_aws=False):
        yield runtime


@pytest.fixture
async def lab_aws(tmp_path: Path) -> AsyncIterator[LabRuntime]:
    """Two simulated clusters with moto (slower: about a second to start)."""
    pytest.importorskip("moto")
    async for runtime in _runtime(tmp_path, with_aws=True):
        yield runtime


@pytest.fixture
async def sh(lab: LabRuntime) -> AsyncIterator[LabShell]:
    shell = LabShell(lab)
    yield shell
    await shell.close()


@pytest.fixture
async def sh_aws(lab_aws: LabRuntime) -> AsyncIterator[LabShell]:
    shell = LabShell(lab_aws)
    yield shell
    await shell.close()
