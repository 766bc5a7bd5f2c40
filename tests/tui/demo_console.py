"""Run the console on fake data (for looking at it in tmux): python tests/tui/demo_console.py [SCENARIO] [N]."""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parent.parent)]

import tui_fixtures as fx  # noqa: E402

from tui.app import Db2OpsApp  # noqa: E402


def main() -> None:
    scenario = sys.argv[1] if len(sys.argv) > 1 else "healthy"
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    names = ["lab-hadr"] if count == 1 else [f"hadr-{i}" for i in range(count)]
    source = fx.FakeStatusSource(scenario, clock=time.time)
    app = Db2OpsApp(
        fx.inventory(*names), fx.settings(), status_source=source, runner=fx.FakeLabRunner(source)
    )
    app.run()


if __name__ == "__main__":
    main()
