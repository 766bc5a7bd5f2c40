"""Fixtures for tests against the embedded lab over real SSH on 127.0.0.1, with moto for the overlay route.

A module imports the fixtures it uses (`from lab_over_ssh import lab_fixture  # noqa: F401`) and its tests
take them by their short names (`lab`, `pool`, `service`); the module still skips itself when moto is
missing (`pytest.importorskip("moto")`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lab.runtime import LabRuntime
from services.ssh.pool import SshPool
from services.status.service import StatusService


def _ssh_pool() -> SshPool:
    return SshPool(connect_timeout=5, command_timeout=10)


@pytest.fixture(name="lab")
async def lab_fixture(tmp_path: Path) -> AsyncIterator[LabRuntime]:
    """One running lab cluster (lab1: db2a primary, db2b standby, qdev) whose failovers settle at once."""
    runtime = LabRuntime()
    await runtime.start(1, base_dir=tmp_path / "lab", failover_delay_s=0, with_aws=True)
    yield runtime  # pytest runs the rest after the test, passed or failed
    await runtime.stop()


@pytest.fixture(name="pool")
async def pool_fixture() -> AsyncIterator[SshPool]:
    """An SshPool (5 s to connect, 10 s a command), closed after the test."""
    async with _ssh_pool() as p:
        yield p


@pytest.fixture(name="service")
async def service_fixture(lab: LabRuntime) -> AsyncIterator[StatusService]:
    """The status service over its own SshPool, for the `lab` fixture's inventory."""
    svc = StatusService(lab.inventory(), _ssh_pool())
    yield svc
    await svc.close()
