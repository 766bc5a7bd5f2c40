"""Make tests/tui importable (tui_fixtures) and keep every console test away from the user's files."""

import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(autouse=True)
def _isolated_console_env(tmp_path, monkeypatch):
    # settings/theme saves go to a temp XDG dir; timestamps render in UTC so snapshots are stable
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("DB2OPS_EXIT_AFTER_FIRST_FRAME", raising=False)
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
