import sys
from pathlib import Path

import pytest

# the drill walk (tests/status/incident_harness.py) makes the recorded snapshots
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "status"))


@pytest.fixture
def own_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A home, config and state dir of the test's own (settings: a fast refresh), no SSH agent."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    (tmp_path / "cfg" / "db2ops").mkdir(parents=True)
    (tmp_path / "cfg" / "db2ops" / "settings.yaml").write_text("refresh_interval_s: 0.2\n")
