"""Fixtures for the HA setup tests: one moto server per session (reset per test, from
tests/plan_fixtures.py), lab clusters whose host commands run in-process (fresh = not yet clustered,
seeded = already built) with their AWS side seeded into moto by lab/aws.py, and the journal / progress
directories under tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from plan_fixtures import aws_endpoint, moto_endpoint, state_home

from ha_setup.ha_lab import HaLab, make_lab

# pytest takes a conftest's fixtures from its names: importing them is what shares them here
__all__ = ["aws_endpoint", "moto_endpoint", "state_home"]


@pytest.fixture(autouse=True)
def _state_under_tmp_path(state_home: Path) -> Path:
    # every HA test writes its journal and plan progress under tmp_path, never the user's state dir
    return state_home


def _started_lab(endpoint: str, tmp_path: Path, *, fresh: bool, db2: str | None = None) -> Iterator[HaLab]:
    lab = make_lab(endpoint, tmp_path, fresh=fresh, db2=db2)
    try:
        yield lab
    finally:
        lab.aws.stop()


@pytest.fixture
def fresh_lab(aws_endpoint, tmp_path) -> Iterator[HaLab]:
    yield from _started_lab(aws_endpoint, tmp_path, fresh=True)


@pytest.fixture
def seeded_lab(aws_endpoint, tmp_path) -> Iterator[HaLab]:
    yield from _started_lab(aws_endpoint, tmp_path, fresh=False)


@pytest.fixture
def fresh_lab_1155(aws_endpoint, tmp_path) -> Iterator[HaLab]:
    """A fresh cluster on Db2 11.5.5: the runbook's release, whose Pacemaker is IBM's separate tarball."""
    yield from _started_lab(aws_endpoint, tmp_path, fresh=True, db2="11.5.5")
