"""Time to first frame of `db2ops lab` against a bare Textual hello-world app started the same way.

Both run as `python …` subprocesses on a pseudo-terminal (200x50) with DB2OPS_EXIT_AFTER_FIRST_FRAME=1: the
app exits right after painting its first screen and prints `DB2OPS_FIRST_FRAME <epoch>`. The time from
spawning the process to that epoch is its first-frame time. Runs alternate; the script prints the
medians and the ratio (target ≤ 1.5×).

    python bench/first_frame.py [--runs 7]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MARKER = re.compile(rb"DB2OPS_FIRST_FRAME (\d+\.\d+)")

HELLO = """
import os, time
from textual.app import App
from textual.widgets import Static

class Hello(App):
    def compose(self):
        yield Static("Hello, world")

    def on_mount(self):
        self.call_after_refresh(self._painted)

    def _painted(self):
        self.first_frame_at = time.time()
        self.exit()

app = Hello()
app.run()
print(f"DB2OPS_FIRST_FRAME {app.first_frame_at:.6f}", flush=True)
"""


def first_frame_seconds(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    """Run `argv` on a 200x50 pty; return seconds from spawn to the first frame it reports."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    started = time.time()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env, close_fds=True)
    os.close(slave)
    output = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        output += chunk
    proc.wait(timeout=60)
    os.close(master)
    found = MARKER.search(output)
    if found is None:
        tail = output[-800:].decode("utf-8", "replace")
        raise RuntimeError(
            f"{argv} printed no first-frame marker (exit {proc.returncode}); output ends:\n{tail}"
        )
    return float(found.group(1)) - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="db2ops-bench-") as tmp:
        hello = Path(tmp) / "hello_textual.py"
        hello.write_text(HELLO)
        env = dict(os.environ, DB2OPS_EXIT_AFTER_FIRST_FRAME="1", TERM="xterm-256color")
        env["XDG_CONFIG_HOME"] = str(Path(tmp) / "config")  # no user settings/theme influence
        env["XDG_STATE_HOME"] = str(Path(tmp) / "state")
        env.pop("NO_COLOR", None)
        lab_argv = [sys.executable, "-m", "tui.cli", "lab", "--dir", str(Path(tmp) / "lab")]
        hello_argv = [sys.executable, str(hello)]
        # one warm-up each so both read .pyc files from a warm page cache
        first_frame_seconds(hello_argv, REPO, env)
        first_frame_seconds(lab_argv, REPO, env)
        lab_times, hello_times = [], []
        for _ in range(args.runs):
            hello_times.append(first_frame_seconds(hello_argv, REPO, env))
            lab_times.append(first_frame_seconds(lab_argv, REPO, env))
    lab_median, hello_median = statistics.median(lab_times), statistics.median(hello_times)
    ratio = lab_median / hello_median
    print(f"runs: {args.runs} each (alternating), python {sys.version.split()[0]}")
    print(
        f"hello-world Textual app  median {hello_median * 1000:7.1f} ms  ({', '.join(f'{t * 1000:.0f}' for t in hello_times)})"
    )
    print(
        f"db2ops lab               median {lab_median * 1000:7.1f} ms  ({', '.join(f'{t * 1000:.0f}' for t in lab_times)})"
    )
    print(
        f"ratio db2ops lab / hello-world = {ratio:.2f}x  (target <= 1.5x: {'met' if ratio <= 1.5 else 'NOT met'})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
