"""End to end: the installed `db2ops lab` in a real terminal (tmux), read off the screen like a user would."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

pytestmark = pytest.mark.tmux

PROMOTED = re.compile(r"║ (db2[ab]) ★")  # the promoted node's box is double-lined


class Tmux:
    """One private tmux server (its own socket) running one 200x50 session."""

    def __init__(self, name: str, config: Path) -> None:
        # a fixed 200x50 window from the start: no client is attached to size it
        config.write_text("set -g default-size 200x50\n")
        self.base = ["tmux", "-L", name, "-f", str(config)]

    def start(self, command: str) -> None:
        subprocess.run(
            [*self.base, "new", "-d", "-s", "console", "-x", "200", "-y", "50", command], check=True
        )

    def screen(self) -> str:
        out = subprocess.run(
            [*self.base, "capture-pane", "-p", "-t", "console"], capture_output=True, text=True
        )
        return out.stdout

    def keys(self, *keys: str) -> None:
        subprocess.run([*self.base, "send-keys", "-t", "console", *keys], check=True)

    def wait_for(self, check: Callable[[str], bool], what: str, timeout_s: float = 60) -> str:
        """Poll the screen until `check(screen)` holds; fail with the last screen after `timeout_s`."""
        deadline = time.monotonic() + timeout_s
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen()
            if check(screen):
                return screen
            time.sleep(0.5)
        pytest.fail(f"the console never showed {what} within {timeout_s:.0f} s; last screen:\n{screen}")

    def stop(self) -> None:
        subprocess.run([*self.base, "kill-server"], capture_output=True)


@pytest.fixture
def tmux(tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (apt-get install tmux)")
    session = Tmux(f"db2ops-test-{os.getpid()}", tmp_path / "tmux.conf")
    yield session
    session.stop()


def test_db2ops_lab_shows_promoted_node_and_peer_then_a_failover(tmux, tmp_path):
    db2ops = shutil.which("db2ops")
    if db2ops is None:
        pytest.skip("the db2ops entry point is not installed (pip install -e .)")
    # COLUMNS/LINES: shutil.get_terminal_size (Textual's size probe) prefers them to the pty's size, and a
    # value inherited from the caller's terminal would squeeze the console into it
    env = (
        f"XDG_CONFIG_HOME={shlex.quote(str(tmp_path / 'config'))} "
        f"XDG_STATE_HOME={shlex.quote(str(tmp_path / 'state'))} COLUMNS=200 LINES=50"
    )
    argv = shlex.join([db2ops, "lab", "--dir", str(tmp_path / "lab")])
    tmux.start(f"env {env} {argv}; echo DB2OPS-EXITED-$?; sleep 30")

    screen = tmux.wait_for(
        lambda s: PROMOTED.search(s) is not None and "PEER" in s, "a promoted node and PEER"
    )
    first = PROMOTED.search(screen).group(1)
    assert f"Healthy: {first} is primary, HADR PEER, quorum with qdevice" in screen
    assert "READ-WRITE" in screen and "LAB" in screen

    tmux.keys("K")  # lab drill: kill the primary node; Pacemaker promotes the other one
    other = "db2b" if first == "db2a" else "db2a"
    screen = tmux.wait_for(
        lambda s: f"║ {other} ★" in s and "promoted node changed" in s,
        f"{other} promoted (and the event) after the kill-primary drill",
    )
    assert "Healthy:" not in screen.splitlines()[1]  # the banner tells the bad news first
    # the dead node's last good "PEER" must not draw a healthy link: it is broken and says why
    assert "HADR ✘" in screen and "━━HADR━━" not in screen
    assert "Errno" not in screen  # raw socket errors stay in the detail views, panels say it short

    tmux.keys("R")  # restore: the old primary comes back as standby and HADR reaches PEER again
    tmux.wait_for(
        lambda s: "━━HADR━━" in s and f"Healthy: {other} is primary since the takeover at " in s,
        "a healthy pair again after the restore drill",
    )

    tmux.keys(":", "q", "Enter")  # one burst, as a k9s user types it
    tmux.wait_for(lambda s: "DB2OPS-EXITED-0" in s, "a clean exit after :q", timeout_s=30)
