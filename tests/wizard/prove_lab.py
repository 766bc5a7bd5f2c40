"""Fixtures for the prove-it-fires tests on the real embedded lab (SSH hosts, moto, the lab's log agent and
CloudWatch evaluator), and the monitoring plan applied to it.

A module imports the fixtures it uses (`from wizard.prove_lab import lab_session_fixture  # noqa: F401`) and
its tests take them by their short names (`lab_session`, `ssh_pool`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from services.monitoring.plan import MonitoringParams, build_monitoring_plan
from services.plans import Journal, PlanContext, run_plan
from tui.backends import extras_for


@pytest.fixture(name="lab_session")
async def lab_session_fixture(tmp_path: Path) -> AsyncIterator:
    """A started LabSession (one cluster, failovers settle at once) on an empty moto; stopped after."""
    from moto.moto_api._internal.models import moto_api_backend

    from lab.session import LabSession

    moto_api_backend.reset()  # moto's state is per process: every lab of these tests starts empty
    session = LabSession(clusters=1, failover_delay_s=0, base_dir=tmp_path / "lab")
    await session.start()
    try:
        yield session
    finally:
        await session.stop()


@pytest.fixture(name="ssh_pool")
async def ssh_pool_fixture() -> AsyncIterator:
    """An SshPool (5 s to connect, 20 s a command), closed after the test."""
    from services.ssh.pool import SshPool

    pool = SshPool(connect_timeout=5, command_timeout=20)
    try:
        yield pool
    finally:
        await pool.close()


async def applied(
    session, pool, tmp_path: Path, params: MonitoringParams
) -> tuple[PlanContext, MonitoringParams]:
    """Apply the monitoring plan of `params` to the session's first cluster over `pool`, as alice; return
    the plan's context (journal under tmp_path) and the resolved params. Fails the test when it fails."""
    cluster = session.inventory.clusters[0]
    ctx = PlanContext(cluster=cluster, runner=pool, journal=Journal(tmp_path / "journal"), operator="alice")
    ctx.extras = extras_for(cluster, session, pool)  # as the console's composition root picks it
    result = await run_plan(
        build_monitoring_plan(cluster, params), ctx, mode="apply", state_dir=tmp_path / "p"
    )
    assert result.ok, result.next_hint
    return ctx, params.resolve(cluster)
