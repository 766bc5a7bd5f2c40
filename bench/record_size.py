"""Bytes the recording takes per cluster-day, measured on lab-shaped frames.

One in-process lab cluster (tests/status/incident_harness.DrillWalk: the lab's real crm_mon XML, corosync
and db2pd outputs, parsed by the status service) is polled every `--interval` seconds (the console's
default refresh, 2 s) for an hour of fake time, steady, and again for an hour with a kill/restore drill;
the clock jitters each read by up to 50 ms as real hosts do. Every frame goes through RecordStore.add_frame
with its defaults (keyframes every 15 minutes, a steady frame kept every 15 s, raw outputs on change). A
day is 24 - N steady hours and N drill hours (`--drills`, default 2: more failovers than a real cluster
has). The script prints bytes per cluster-day and a week of 20 clusters against the target of well under
1 GB; and the ratio to the baseline, the same frames kept as one zlib-compressed JSON snapshot each.

    python bench/record_size.py [--drills 2] [--interval 2]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "status")]

from incident_harness import DrillWalk  # noqa: E402

from services.record.codec import status_to_json  # noqa: E402
from services.record.store import RecordStore  # noqa: E402


class _Patch:
    def setattr(self, obj: object, name: str, value: object) -> None:
        setattr(obj, name, value)


class JitterClock:
    """The walk's fake time, each read a few ms later (answers arrive at different times)."""

    def __init__(self, walk: DrillWalk) -> None:
        self.walk = walk
        self.rng = random.Random(13)

    def __call__(self) -> float:
        return self.walk.clock.now + self.rng.uniform(0, 0.05)


async def record_hour(drill: bool, interval: float) -> tuple[int, int, int]:
    """Record one hour (a kill at 10 min and a restore at 11 min when `drill`); return (file bytes, frames,
    the baseline's bytes)."""
    from dataclasses import replace

    from services.status.service import gather_cluster_status
    from services.status.verdicts import derive_verdicts

    walk = DrillWalk(monkeypatch=_Patch())
    jitter = JitterClock(walk)

    async def snap():  # as DrillWalk.snap, with the jittered clock for the parts' read times
        status = await gather_cluster_status(walk.cluster, walk.runner, clock=jitter)
        carried = walk.last_good.carry(status)
        return replace(carried, verdicts=derive_verdicts(carried), taken_at=walk.clock.now)

    frames = int(3600 / interval)
    whole = 0
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "record.sqlite"
        store = RecordStore.open(path)
        for i in range(frames):
            if drill and i * interval == 600:
                walk.lab.kill_primary()
            if drill and i * interval == 660:
                walk.lab.restore()
            status = await snap()
            store.add_frame(status)
            whole += len(zlib.compress(status_to_json(status).encode(), 6))
            walk.advance(interval)
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        size = path.stat().st_size
        store.close()
    return size, frames, whole


async def measure(drills: int, interval: float) -> None:
    steady, frames, whole = await record_hour(False, interval)
    drilled, _, whole_drill = await record_hour(True, interval)
    day = steady * (24 - drills) + drilled * drills
    baseline = whole * (24 - drills) + whole_drill * drills
    per_frame = day / (frames * 24)
    print(
        f"an hour recorded at {interval:g} s ({frames} frames): steady {steady:,} bytes, "
        f"with a kill/restore {drilled:,} bytes"
    )
    print(f"per cluster-day ({drills} failovers): {day / 1e6:,.1f} MB ({per_frame:,.0f} bytes per poll)")
    print(f"baseline, every frame whole (zlib'd JSON): {baseline / 1e6:,.1f} MB per cluster-day")
    print(f"ratio recording / baseline: {day / baseline:.3f}")
    print(f"a week of 20 clusters: {day * 7 * 20 / 1e9:,.2f} GB (target: well under 1 GB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drills", type=int, default=2, help="kill/restore drills per day")
    parser.add_argument("--interval", type=float, default=2.0)
    args = parser.parse_args()
    asyncio.run(measure(args.drills, args.interval))


if __name__ == "__main__":
    main()
