"""Benchmark: db2diag parse throughput vs `grep -c` over the same file, and memory vs raw size.

(b) Baseline: `grep -cE '^<db2 timestamp>'` counts the records of a 100k-record db2diag.log (what a DBA
    does first). Ours, over the same file read in 256 KiB chunks: the incremental parser into DiagRecords;
    the LogEntry objects the log view holds (time + level now, host + summary when a row is first
    shown), built straight from the text by DiagEntryParser; for reference every field of every record.
    Target: within 5x of grep. Each is the best of --repeat runs, wall-clock and CPU time (grep's from
    the child's rusage): on a shared machine the CPU ratio is the steadier one. The load average is
    printed before and after.
(c) Memory: tracemalloc's retained size of a LogStore holding the 100k entries vs the file size.
    Target: <= 3x.

    python bench/parse_bench.py [--records 100000]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.diag_records import HostDiagLog  # noqa: E402
from services.logs.diag_entries import FEED_SIZE, DiagEntryParser  # noqa: E402
from services.logs.model import LogStore, gc_paused  # noqa: E402
from services.parsers.db2diag import Db2DiagParser  # noqa: E402

GREP_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}\.[0-9]{2}\.[0-9]{2}\.[0-9]{6}[+-][0-9]{3} "
RESOURCE = "db2_db2inst1_db2inst1_HADRDB"


def generate_db2diag(records: int, seed: int = 11, start: datetime | None = None) -> str:
    """Return `records` realistic db2diag records (two hosts, the lab agent's mix, 4 per second from
    `start`, default 2026-11-26 00:00 UTC), oldest first."""
    rng = random.Random(seed)
    hosts = [
        HostDiagLog(h, utc_offset_minutes=-300, rng=random.Random(rng.random())) for h in ("db2a", "db2b")
    ]
    start = start or datetime(2026, 11, 26, 0, 0, tzinfo=UTC)
    out = []
    for i in range(records):
        writer = hosts[i % 2]
        out.append(writer.routine(start + timedelta(milliseconds=250 * i), i % 2 == 0, RESOURCE))
    return "\n\n".join(out) + "\n"


def parse_file(path: Path, mode: str) -> tuple[int, list]:
    """mode "split": records only; "view": LogEntry per record (what the log view builds: time and level
    from the header, host and summary when first shown), straight from the text; "fields": every
    field of every record."""
    parser = DiagEntryParser() if mode == "view" else Db2DiagParser()
    out = []
    with path.open(encoding="utf-8", newline="") as f, gc_paused(100_000):
        while chunk := f.read(FEED_SIZE):
            out.extend(parser.feed(chunk))
        out.extend(parser.flush())
    if mode == "fields":
        for r in out:
            _ = r.timestamp, r.level, r.hostname, r.message
    return len(out), out


def best_of(fn, repeat: int, child: bool = False) -> tuple[float, float, object]:
    """Best wall-clock and best CPU seconds of `repeat` runs of fn (CPU of the child processes when
    `child`), and the last result. The previous result is freed before each run, outside the timing."""
    wall, cpu, result = float("inf"), float("inf"), None
    for _ in range(repeat):
        result = None
        gc.collect()
        c0 = _child_cpu() if child else time.process_time()
        t = time.perf_counter()
        result = fn()
        wall = min(wall, time.perf_counter() - t)
        cpu = min(cpu, (_child_cpu() if child else time.process_time()) - c0)
    return wall, cpu, result


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "db2diag.log"
        path.write_text(generate_db2diag(args.records), encoding="utf-8")
        size = path.stat().st_size
        print(f"file: {args.records:,} records, {size / 1e6:.1f} MB")

        print(f"load average before: {_load()}")
        grep_s, grep_cpu, out = best_of(
            lambda: (
                subprocess.run(
                    ["grep", "-cE", GREP_PATTERN, str(path)], capture_output=True, text=True, check=True
                ).stdout
            ),
            args.repeat,
            child=True,
        )
        assert int(out) == args.records, out
        split_s, split_cpu, (n1, _) = best_of(lambda: parse_file(path, "split"), args.repeat)
        view_s, view_cpu, (n2, entries) = best_of(lambda: parse_file(path, "view"), args.repeat)
        fields_s, fields_cpu, (n3, _) = best_of(lambda: parse_file(path, "fields"), 1)
        assert n1 == n2 == n3 == args.records
        print("(b) parse throughput (wall; CPU)")
        print(
            f"  baseline grep -c            {grep_s * 1000:8.1f} ms; {grep_cpu * 1000:6.1f} ms CPU"
            f"  ({args.records / grep_s:,.0f} records/s)"
        )
        for label, wall, cpu, note in (
            ("split into records   ", split_s, split_cpu, ""),
            ("into log-view entries", view_s, view_cpu, "  (target <= 5x)"),
            ("every field parsed   ", fields_s, fields_cpu, "  (not needed up front)"),
        ):
            print(
                f"  ours: {label} {wall * 1000:8.1f} ms; {cpu * 1000:6.1f} ms CPU"
                f"  ratio {wall / grep_s:5.2f}x; CPU {cpu / grep_cpu:5.2f}x{note}"
            )
        print(f"load average after: {_load()}")

        del entries
        gc.collect()
        text_size = len(path.read_text(encoding="utf-8"))
        tracemalloc.start()
        _, built = parse_file(path, "view")
        store = LogStore()
        store.extend(built)
        del built
        gc.collect()
        retained, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print("(c) memory (tracemalloc)")
        print(f"  baseline raw file           {size / 1e6:8.1f} MB ({text_size / 1e6:.1f} M chars)")
        print(
            f"  ours: LogStore retained   {retained / 1e6:8.1f} MB  ratio {retained / size:5.2f}x  (target <= 3x)"
        )
        print(f"  ours: peak while parsing    {peak / 1e6:8.1f} MB  ratio {peak / size:5.2f}x")
        assert len(store) == args.records


if __name__ == "__main__":
    main()
