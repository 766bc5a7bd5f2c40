"""Benchmark: the replay's log screen on a week of recorded log records, with the DBA's filter set.

(a) A playing replay's tick that passes no record (the common case: a record every few seconds, a tick
    every 100 ms). Baseline: what the screen did before: read every record up to the replay's time and
    compare the count (through MemoryRecording.items' bisect: before it, that read scanned the week).
(b) A step (`]`/`[`) past one record. Baseline: what the screen did before, plus putting the filter and
    hidden level back by hand: clear the view, re-add every record up to the time, re-apply the filter.

Both run in this process on the same in-memory recording (a bundle replay); the ratio is printed.

    python bench/replay_logs_bench.py [--records 50000] [--ticks 200] [--steps 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.record.model import LOG, Frame, MemoryRecording, RecordedItem  # noqa: E402
from services.record.replay_feed import ReplayStart, cluster_from_status, log_entries  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.status.model import ClusterStatus  # noqa: E402
from tui.replay import ReplayApp  # noqa: E402
from tui.replay_screens import ReplayLogsScreen  # noqa: E402

WEEK = 7 * 86400.0
START = 1_796_000_000.0  # 2026-11-30
LEVELS = ("Info", "Event", "Warning", "Error")


def record(at: float, n: int) -> str:
    clock = time.strftime("%Y-%m-%d-%H.%M.%S", time.gmtime(at))
    level = LEVELS[n % len(LEVELS)]
    what = "SQL1224N connection lost" if n % 7 == 0 else f"routine record {n}"
    return (
        f"{clock}.000000+000 I{n}E402           LEVEL: {level}\n"
        "PID     : 255662               TID : 139733690738432 PROC : db2sysc 0\n"
        "INSTANCE: db2inst1             NODE : 000            DB   : HADRDB\n"
        "HOSTNAME: db2b\n"
        "FUNCTION: DB2 UDB, High Availability Disaster Recovery, hdrSetHdrState, probe:10000\n"
        f"CHANGE  : {what}\n"
    )


def recording(records: int) -> MemoryRecording:
    frames = [Frame(START + t, ClusterStatus(cluster="b1", taken_at=START + t)) for t in (0.0, WEEK)]
    every = WEEK / records
    items = []
    for n in range(records):
        at = START + 1 + n * every
        message = {"group": "db2-diagnostics-logs", "stream": "Db2 - db2b", "message": record(at, n)}
        items.append(RecordedItem(at, "b1", LOG, message))
    return MemoryRecording(frames, items)


async def run(records: int, ticks: int, steps: int) -> None:
    rec = recording(records)
    status = rec.status_at("b1", START + WEEK)
    assert status is not None
    gap = WEEK / records
    at = START + 1 + int(records * 0.9) * gap + gap * 0.01  # just after a record: the next is a gap later
    app = ReplayApp(
        rec,
        ReplayStart(("b1",), at, "b1"),
        (cluster_from_status(status),),
        settings=Settings(),
        wall_clock=lambda: 0.0,
    )
    async with app.run_test(size=(160, 50)) as pilot:
        app.run_command("logs")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ReplayLogsScreen)
        view = screen.view
        view.set_filter_text("SQL1224N")
        view.action_toggle_level(3)  # hide Warning
        await pilot.pause()
        held = len(view.store)

        # (a) ticks passing no record
        start = time.perf_counter()
        for k in range(ticks):
            screen.show_at(app.reader, at + (k + 1) * gap * 0.9 / ticks)
        new_tick = (time.perf_counter() - start) / ticks
        assert len(view.store) == held
        start = time.perf_counter()
        for k in range(ticks):
            count = len(app.reader.items("b1", until=at + (k + 1) * gap * 0.9 / ticks, kinds=[LOG]))
            assert count == held
        old_tick = (time.perf_counter() - start) / ticks

        # (b) steps past one record, forward then back
        start = time.perf_counter()
        for k in range(steps):
            screen.show_at(app.reader, at + gap * (1 - k % 2))
            assert len(view.store) == held + 1 - k % 2
        new_step = (time.perf_counter() - start) / steps
        start = time.perf_counter()
        for k in range(steps):
            items = app.reader.items("b1", until=at + gap * (1 - k % 2), kinds=[LOG])
            view.clear()
            view.add_entries(log_entries(items))
            view.set_filter_text("SQL1224N")
            view.action_toggle_level(3)
        old_step = (time.perf_counter() - start) / steps

    print(
        f"{records:,} records in the recording, {held:,} up to the replay's time, filter + hidden level set"
    )
    print(f"(a) tick passing no record: {new_tick * 1e3:.3f} ms vs baseline {old_tick * 1e3:.3f} ms", end="")
    print(f"  ratio {old_tick / new_tick:.0f}x")
    print(f"(b) step past one record:   {new_step * 1e3:.3f} ms vs baseline {old_step * 1e3:.1f} ms", end="")
    print(f"  ratio {old_step / new_step:.0f}x")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--ticks", type=int, default=200)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(run(args.records, args.ticks, args.steps))


if __name__ == "__main__":
    main()
