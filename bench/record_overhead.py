"""What recording costs the console: CPU of a refresh with and without the Recorder, and the time to open
a week's recording and show its first frame.

1. Overhead on the P1 refresh. `--clusters` lab clusters served over SSH by a lab in its own process (as
   bench/status_refresh.py does) are refreshed `--refreshes` times by the StatusService. Baseline: the
   refreshes alone. Recorded: the same, each snapshot handed to a Recorder and the recorder flushed inside
   the measurement (its thread's CPU counts: process_time covers every thread). Runs alternate; medians;
   prints the ratio (target: recording adds <= 5% CPU).

2. Open a week. A week of `--week-clusters` clusters is written (an hour of lab frames repeated with the
   store's defaults: a kept frame every 15 s, keyframes every 15 min); then, in a fresh RecordStore, the
   time from open to the first frame decoded (open, clusters, span, change_times, status_at), against the
   baseline of opening an empty recording the same way (target: <= 1 s).

    python bench/record_overhead.py [--clusters 20] [--refreshes 10] [--repeat 3] [--week-clusters 2]
                                    [--every-frame]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "status")]

from incident_harness import DrillWalk  # noqa: E402

from services.inventory.loader import load_inventory  # noqa: E402
from services.record.recorder import Recorder  # noqa: E402
from services.record.store import TICK_S, RecordStore  # noqa: E402
from services.ssh.pool import SshPool  # noqa: E402
from services.status.model import ClusterStatus  # noqa: E402
from services.status.service import StatusService  # noqa: E402


class _Patch:
    def setattr(self, obj: object, name: str, value: object) -> None:
        setattr(obj, name, value)


async def overhead(clusters: int, count: int, repeat: int, latency_ms: int, every_frame: bool) -> None:
    """The console's CPU for `count` refreshes of every cluster, alone and with every snapshot recorded."""
    with tempfile.TemporaryDirectory() as tmp:
        # the simulated hosts run in their own process, as real hosts would: the console's CPU is timed
        lab = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "tui.cli", "lab", "--serve", "--clusters", str(clusters),
            "--latency", str(latency_ms), "--failover-delay", "0", "--dir", tmp, "--no-aws",
            stdout=subprocess.PIPE, cwd=REPO,
        )  # fmt: skip
        try:
            assert lab.stdout is not None
            line = await asyncio.wait_for(lab.stdout.readline(), 120)
            inv = load_inventory(Path(line.decode().strip()))
            service = StatusService(inv, SshPool(), aws_route=False)
            await service.snapshot_all()  # connect once; the console keeps these connections
            # tick_s: the refreshes here follow each other at once, not every 2 s; a tick scaled to their
            # pace keeps the share of frames a 2-second refresh keeps (1 in 7.5); --every-frame keeps all
            t0 = time.perf_counter()
            await service.snapshot_all()
            pace = time.perf_counter() - t0
            tick = 0.0 if every_frame else TICK_S * pace / 2.0

            def opener(path: Path) -> RecordStore:
                return RecordStore.open(path, tick_s=tick)

            recorder = Recorder(Path(tmp) / "record.sqlite", queue_size=100_000, opener=opener).start()
            recorder.flush()
            base: list[float] = []
            recorded: list[float] = []
            for _ in range(repeat):
                for record in (False, True):
                    start = time.process_time()  # every thread of this process: the recorder's too
                    for _ in range(count):
                        for status in await service.snapshot_all():
                            if record:
                                recorder.record_status(status)
                    if record:
                        recorder.flush()
                    (recorded if record else base).append(time.process_time() - start)
            recorder.stop()
            assert recorder.paused_reason is None, recorder.paused_detail
            await service.close()
        finally:
            lab.terminate()
            await lab.wait()
    b, r = statistics.median(base), statistics.median(recorded)
    print(
        f"{count} refreshes of {clusters} clusters over SSH ({latency_ms} ms latency), median of {repeat}: "
        f"console CPU {b:.3f} s alone, {r:.3f} s recording ({recorder.frames} snapshots recorded)"
    )
    kept = (
        "every snapshot kept: the worst case"
        if every_frame
        else "a steady snapshot kept every 15 s of 2 s polls"
    )
    print(f"recording overhead: {(r - b) / b * 100:+.1f}% CPU (ratio {r / b:.3f}; target <= 5%), {kept}")


async def hour_of_frames() -> list[ClusterStatus]:
    walk = DrillWalk(monkeypatch=_Patch())
    frames = []
    for i in range(240):  # an hour at the store's tick: a kept frame every 15 s
        if i == 40:
            walk.lab.kill_primary()
        if i == 44:
            walk.lab.restore()
        frames.append(await walk.snap())
        walk.advance(15.0)
    return frames


def first_frame(path: Path) -> tuple[float, ClusterStatus | None]:
    start = time.perf_counter()
    with RecordStore.open(path, readonly=True) as store:
        names = store.clusters()
        status = None
        if names:
            span = store.span(names[0])
            assert span is not None
            store.change_times(names[0], since=span[0], until=span[0] + 3600)
            status = store.status_at(names[0], span[0])
    return time.perf_counter() - start, status


async def open_week(clusters: int) -> None:
    frames = await hour_of_frames()
    with tempfile.TemporaryDirectory() as tmp:
        path, empty = Path(tmp) / "week.sqlite", Path(tmp) / "empty.sqlite"
        RecordStore.open(empty).close()
        t0 = time.perf_counter()
        with RecordStore.open(path) as store:
            t = frames[0].taken_at
            for c in range(clusters):
                for hour in range(24 * 7):
                    for f in frames:
                        store.add_frame(
                            replace(f, cluster=f"lab{c + 1}", taken_at=f.taken_at + hour * 3600.0)
                        )
            store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        built = time.perf_counter() - t0
        size = path.stat().st_size
        week = statistics.median(first_frame(path)[0] for _ in range(5))
        base = statistics.median(first_frame(empty)[0] for _ in range(5))
        _, status = first_frame(path)
        assert status is not None and status.taken_at == t
    print(f"a week of {clusters} clusters: {size / 1e6:.1f} MB written in {built:.0f} s")
    print(
        f"open to first frame: {week * 1000:.1f} ms (empty recording {base * 1000:.1f} ms, "
        f"ratio {week / base:.1f}; target <= 1 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument("--refreshes", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency-ms", type=int, default=50)
    parser.add_argument("--every-frame", action="store_true", help="keep every snapshot (the worst case)")
    parser.add_argument("--week-clusters", type=int, default=2)
    args = parser.parse_args()
    asyncio.run(overhead(args.clusters, args.refreshes, args.repeat, args.latency_ms, args.every_frame))
    if args.week_clusters > 0:
        asyncio.run(open_week(args.week_clusters))


if __name__ == "__main__":
    main()
