"""Fixtures of the fault suite: one embedded lab (real SSH servers on 127.0.0.1 and moto) seen through
tests/fault_proxy.py, so each test can drop, stall, reset or slow a host's connections or throttle AWS."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fault_proxy import HttpFaults, ProxiedLab

pytest.importorskip("moto")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:  # every test here is a fault test: `-m faults` picks them out, the suite runs them
        if "tests/faults/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.faults)


@pytest.fixture
async def lab(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[object]:
    from lab.runtime import LabRuntime

    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    runtime = LabRuntime()
    await runtime.start(1, base_dir=tmp_path / "lab", failover_delay_s=0, with_aws=True)
    yield runtime
    await runtime.stop()


@pytest.fixture
async def proxied(lab, tmp_path: Path) -> AsyncIterator[ProxiedLab]:
    """The lab behind fault proxies (all in "pass" mode; AWS faults off until a test sets them)."""
    front = await ProxiedLab(lab, tmp_path, http=HttpFaults()).start()
    yield front
    await front.close()
