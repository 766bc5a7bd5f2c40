"""Fixtures for the wizard, journal and prove-it-fires tests: files under tmp_path (XDG dirs), UTC, one
moto server per session (reset per test) and a fresh lab cluster whose host commands run in-process (the
last two from tests/plan_fixtures.py)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest
from plan_fixtures import aws_endpoint, lab, moto_endpoint, state_home

sys.path.insert(0, str(Path(__file__).parent))

# pytest takes a conftest's fixtures from its names: importing them is what shares them here
__all__ = ["aws_endpoint", "lab", "moto_endpoint", "state_home"]


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


@pytest.fixture(autouse=True)
def _no_wizard_drafts():
    # the wizard keeps the DBA's edits per cluster for the process; every test starts from the defaults
    from screens.setup_monitoring import SetupMonitoringScreen

    SetupMonitoringScreen.DRAFTS.clear()
    yield
    SetupMonitoringScreen.DRAFTS.clear()
