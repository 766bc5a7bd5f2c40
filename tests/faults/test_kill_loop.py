"""A small run of bench/fault_report.py's kill loop: host kills and SSH drops during the live refresh loop
are marked down within the status deadline (plus one refresh), come back by themselves, and never crash
the loop or leave an untyped error."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from fault_report import KINDS, kill_loop  # noqa: E402


async def test_eight_kills_during_live_status(tmp_path: Path) -> None:
    # each kind twice; a deadline generous enough for a loaded 2-core CI machine (the bar scales with it)
    figures = await kill_loop(8, deadline_s=5.0, base_dir=tmp_path)
    assert figures.kills == 8
    assert figures.crashes == 0 and figures.untyped == 0
    assert figures.missed_down == 0 and figures.not_back == 0
    for kind in KINDS:
        assert len(figures.back_s[kind]) == 2, kind
        if kind != "ssh-drop":
            assert len(figures.down_s[kind]) == 2, kind
    assert figures.injected >= 6  # every kill but the SSH drops went through the proxy as a fault
