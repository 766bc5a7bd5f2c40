"""Fixtures of the real-Pacemaker tier: one lab per session (lab/data/pcmk-lab.sh) and one walk through
the issue-4 states, recorded by the console's Recorder. Without root or the Debian packages the tier skips
with the reason; with CI=true it fails instead, so a CI run cannot pass by skipping it."""

from __future__ import annotations

import asyncio
import fcntl
import os
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from lab.pacemaker import (
    CLUSTER_NAME,
    SCRIPT,
    LabPaths,
    lab_root,
    pacemaker_lab_available,
    start_pacemaker_lab,
    stop_pacemaker_lab,
)
from services.inventory.loader import load_inventory
from services.inventory.model import Cluster
from services.record.recorder import Recorder

from .cluster_walk import Observation, Walk

_TIMINGS: dict[str, str] = {}  # filled by the fixtures, printed in the terminal summary


@dataclass(frozen=True)
class PcmkLab:
    paths: LabPaths
    inventory: Path
    cluster: Cluster
    up_seconds: float
    env: dict[str, str]


def require_pacemaker_lab() -> None:
    """Skip (or, on CI, fail) when this machine cannot run the real lab."""
    reason = pacemaker_lab_available()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI must run the pacemaker tier, but: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pcmk_lab() -> PcmkLab:
    """The running real lab (started by this session unless it was already up; then left running)."""
    require_pacemaker_lab()
    # One lab per machine: pytest-xdist workers (or two sessions) take turns. The lock is on the script
    # file itself so nothing is left behind; `-n` users should add `--dist loadgroup` (xdist_group below).
    lock = open(SCRIPT, "rb")  # held (locked) for the whole session
    fcntl.flock(lock, fcntl.LOCK_EX)
    root = lab_root()
    was_up = (root / "up.done").exists()
    started = time.monotonic()
    inventory = asyncio.run(start_pacemaker_lab(root=root))
    up_seconds = time.monotonic() - started
    _TIMINGS["lab up"] = f"{up_seconds:.1f}s" + (" (was already up)" if was_up else "")
    cluster = load_inventory(inventory).cluster(CLUSTER_NAME)
    assert cluster is not None
    lab = PcmkLab(
        LabPaths(root), inventory, cluster, up_seconds, {**os.environ, "DB2OPS_PCMK_ROOT": str(root)}
    )
    yield lab
    if not was_up:
        keep = os.environ.get("DB2OPS_PCMK_KEEP_LOGS")
        started = time.monotonic()
        stop_pacemaker_lab(root=root, keep_logs=Path(keep) if keep else None)
        _TIMINGS["lab down"] = f"{time.monotonic() - started:.1f}s"
    lock.close()


def pytest_collection_modifyitems(items) -> None:
    # keep every test that needs the real lab on one xdist worker (effective with --dist loadgroup)
    for item in items:
        if "pacemaker" in item.keywords:
            item.add_marker(pytest.mark.xdist_group("pacemaker"))


@pytest.fixture(scope="session")
def walk_recorder(tmp_path_factory: pytest.TempPathFactory) -> Recorder:
    """The Recorder the walk feeds every snapshot it gathers (started and stopped by `cluster_walk`; its
    recording is `walk_recorder.path`, complete once `cluster_walk` has run)."""
    path = tmp_path_factory.mktemp("walk") / "record.sqlite"
    return Recorder(path, retention_days=None, max_mb=None)


@pytest.fixture(scope="session")
def cluster_walk(pcmk_lab: PcmkLab, walk_recorder: Recorder) -> dict[str, Observation]:
    """Observations of db2ops' status service in every state (see cluster_walk.STATES)."""
    started = time.monotonic()
    walk_recorder.start()
    try:
        observations = asyncio.run(Walk(pcmk_lab.cluster, SCRIPT, pcmk_lab.env, walk_recorder).run())
    finally:
        walk_recorder.stop()  # writes what is queued and closes the file
    _TIMINGS["walk total"] = f"{time.monotonic() - started:.1f}s"
    _TIMINGS["walk recorded"] = f"{walk_recorder.frames} snapshots ({walk_recorder.dropped} dropped)"
    for name, obs in observations.items():
        _TIMINGS[f"  {name}"] = f"{obs.seconds:.1f}s" + ("" if not obs.mismatches else " (DID NOT CONVERGE)")
    return observations


def pytest_terminal_summary(terminalreporter) -> None:
    if _TIMINGS:
        terminalreporter.section("real Pacemaker lab: time until db2ops showed each state")
        for name, value in _TIMINGS.items():
            terminalreporter.write_line(f"{name:<22} {value}")
