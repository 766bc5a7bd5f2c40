"""Fault figures: host kills / SSH drops during live status, faults during the HA setup and the failover,
then a memory soak (issue 11's standing suite).

1. Kills: one lab cluster behind tests/fault_proxy.py, the console's refresh loop (StatusPoller over a
   ConsoleContext, as the console runs it) polling it. N times (default 100), one host is killed in turn:
   "drop" (connection closed, new ones refused), "reset" (RST), "stall" (black hole) or an SSH drop (the
   open connection cut, the host still up). Printed: the time until the host is marked down (a snapshot
   with it in host_errors; the bar: within the status deadline plus one refresh interval), the time until
   it is back (every part good again, with no "refresh now": the pool's own reconnect backoff), and the
   counts of faults injected, crashes (a poll that raised, a loop that died) and untyped errors (a failed
   part without an error, or one only "no_answer"/"poll_failed").
2. Plans: every case of tests/plan_faults.py: `setup ha --apply` and `failover --apply` on the lab behind
   the proxy, a host dropped / reset / stalled / slowed or AWS throttled / failing / stalled / dropped /
   reset / losing a reply mid-run. Printed per plan and side (host, AWS): the cases tried, how many ended
   in a clear failed step and how many completed, the failures (a crash, an unclear error, a journal
   intent without its outcome, a re-run that did not complete, a duplicate resource or cluster object, a
   failover not on its target after the re-run; each one listed), the faults injected and the time of a
   faulted run (a stall ends at ssh_command_timeout_s / aws_call_deadline_s, not 150 s).
3. Soak: `db2ops lab --serve --clusters 20` in a subprocess (its log agents on), a feeder subprocess
   writing put_log_events into the lab's moto at `--rate` records/s, and in this process the refresh loop
   over the 20 clusters plus a log tail of lab1 into a LogStore (the :logs view-model, capped at
   `--log-cap` entries), for `--minutes` standing for 30 (the tail's 10-minute dedup window of event ids
   is compressed alike). Printed: this process's RSS after warm-up (the "5 min" mark, at least the
   window), at the middle and at the end, and the growth after warm-up (the bar: <= 5%).

    python bench/fault_report.py [--kills 100] [--minutes 2] [--rate 5000] [--clusters 20] [--no-soak]
                                 [--no-plans] [--plan-cases NAME ...]

Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from fault_proxy import ProxiedLab  # noqa: E402

from services.context import ConsoleContext  # noqa: E402
from services.part_errors import ErrorKind  # noqa: E402
from services.quiet_warnings import quiet_dependency_warnings  # noqa: E402
from services.settings import Settings  # noqa: E402
from services.status.poll import ClusterFeed, StatusPoller, iter_parts  # noqa: E402

KINDS = ("drop", "reset", "stall", "ssh-drop")
HOSTS = ("db2a", "db2b", "qdev")
UNTYPED = {ErrorKind.NO_ANSWER, ErrorKind.POLL_FAILED}
SOAK_STANDS_FOR_MIN = 30  # the soak: 30 minutes, compressed into --minutes


@dataclass
class KillFigures:
    kills: int = 0
    injected: int = 0
    crashes: int = 0
    untyped: int = 0
    missed_down: int = 0  # a kill never marked down within the bar
    not_back: int = 0  # a host not back within the wait
    down_s: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    back_s: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})


class Watch:
    """The refresh loop's output: every snapshot, timed, checked for untyped errors."""

    def __init__(self, cluster) -> None:
        self.feed = ClusterFeed(cluster)
        self.changed = asyncio.Event()
        self.poll_errors: list[BaseException] = []
        self.untyped = 0

    def on_status(self, cluster, status) -> None:
        self.feed.apply(status)
        for _, part in iter_parts(status):
            if not part.ok and (part.error is None or part.error.kind in UNTYPED):
                self.untyped += 1
        self.changed.set()

    def on_error(self, cluster, exc: BaseException) -> None:
        self.poll_errors.append(exc)
        self.changed.set()

    def host_down(self, host: str) -> bool:
        status = self.feed.status
        return status is not None and host in status.host_errors

    def host_back(self, host: str) -> bool:
        status = self.feed.status
        if status is None or host in status.host_errors:
            return False
        parts = [p for k, p in iter_parts(status) if k.endswith(f":{host}") or p.source == host]
        return bool(parts) and all(p.ok for p in parts)

    async def until(self, predicate, timeout: float) -> float | None:
        """Seconds until `predicate()` holds after a snapshot, None past `timeout`."""
        start = time.perf_counter()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                while True:
                    self.changed.clear()
                    if predicate():
                        return time.perf_counter() - start
                    await self.changed.wait()
        return None


async def kill_loop(
    kills: int,
    *,
    deadline_s: float = 3.0,
    interval_s: float = 0.25,
    out=sys.stdout,
    base_dir: Path | None = None,
) -> KillFigures:
    """Run `kills` host kills / SSH drops against one lab cluster during live status; return the figures."""
    from lab.runtime import LabRuntime

    figures = KillFigures()
    settings = Settings(
        status_deadline_s=deadline_s, ssh_connect_timeout_s=2.0, ssh_command_timeout_s=deadline_s
    )
    bar = deadline_s + interval_s + 1.0  # marked down by the first refresh that starts after the kill
    with tempfile.TemporaryDirectory(prefix="db2ops-faults-") as tmp:
        directory = base_dir or Path(tmp)
        runtime = LabRuntime()
        await runtime.start(1, base_dir=directory / "lab", failover_delay_s=0, with_aws=False)
        front = await ProxiedLab(runtime, directory).start()
        cluster = front.inventory.clusters[0]  # type: ignore[attr-defined]
        watch = Watch(cluster)
        try:
            async with ConsoleContext(front.inventory, settings) as ctx:  # type: ignore[arg-type]
                poller = StatusPoller(
                    ctx.status, watch.on_status, watch.on_error, interval=interval_s, deadline=deadline_s * 3
                )
                task = asyncio.create_task(poller.run(cluster))
                await watch.until(lambda: all(watch.host_back(h) for h in HOSTS), 60)
                for i in range(kills):
                    kind, host = KINDS[i % len(KINDS)], HOSTS[(i // len(KINDS)) % len(HOSTS)]
                    proxy = front.host_proxy(cluster.name, host)
                    figures.kills += 1
                    seen = watch.feed.version  # "back" counts from a snapshot taken after the fault
                    if kind == "ssh-drop":
                        proxy.drop_all()  # the host stays up: the pool reconnects on its own
                    else:
                        proxy.set_mode(kind)
                        down = await watch.until(lambda h=host: watch.host_down(h), bar * 3)
                        if down is None or down > bar:
                            figures.missed_down += 1
                        if down is not None:
                            figures.down_s[kind].append(down)
                        proxy.set_mode("pass")
                    back = await watch.until(
                        lambda h=host, v=seen: watch.feed.version >= v + 2 and watch.host_back(h), 60
                    )
                    if back is None:
                        figures.not_back += 1
                    else:
                        figures.back_s[kind].append(back)
                    if task.done():
                        figures.crashes += 1
                        break
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        finally:
            figures.injected = front.counts().injected
            await front.close()
            await runtime.stop()
    figures.crashes += len(watch.poll_errors)
    figures.untyped = watch.untyped
    return figures


def _ms(values: list[float]) -> str:
    if not values:
        return "-"
    return f"{statistics.median(values) * 1000:.0f} / {max(values) * 1000:.0f}"


def print_kills(figures: KillFigures, deadline_s: float, out=sys.stdout) -> None:
    print(f"Kills during live status: {figures.kills} (status deadline {deadline_s:g} s)", file=out)
    print(
        f"  {'kind':<9} {'n':>4}  {'marked down ms (median / max)':>30}  {'back ms (median / max)':>24}",
        file=out,
    )
    for kind in KINDS:
        n = sum(1 for i in range(figures.kills) if KINDS[i % len(KINDS)] == kind)
        print(
            f"  {kind:<9} {n:>4}  {_ms(figures.down_s[kind]):>30}  {_ms(figures.back_s[kind]):>24}", file=out
        )
    print(
        f"  faults injected {figures.injected}, crashes {figures.crashes}, untyped errors {figures.untyped}, "
        f"not marked down in time {figures.missed_down}, not back {figures.not_back}",
        file=out,
    )


# --------------------------------------------------------------------------------------------- plans


async def plan_faults(names: list[str] | None = None, out=sys.stdout) -> list:
    """Run the cases of tests/plan_faults.py (those whose name holds one of `names`, default all), each
    in its own lab and state directory; print the figures and return the CaseResults."""
    import plan_faults

    cases = [
        c
        for c in plan_faults.HA_CASES + plan_faults.FAILOVER_CASES
        if not names or any(n in c.name for n in names)
    ]
    results = []
    for case in cases:
        with tempfile.TemporaryDirectory(prefix="db2ops-planfaults-") as tmp:
            old_state = os.environ.get("XDG_STATE_HOME")
            os.environ["XDG_STATE_HOME"] = str(Path(tmp) / "state")
            try:
                results.append(await plan_faults.run_case(case, Path(tmp)))
            finally:
                if old_state is None:
                    os.environ.pop("XDG_STATE_HOME", None)
                else:
                    os.environ["XDG_STATE_HOME"] = old_state
    print_plan_faults(results, out)
    return results


def print_plan_faults(results: list, out=sys.stdout) -> None:
    import plan_faults

    print(
        f"Faults during plans: host stalls end at ssh_command_timeout_s {plan_faults.STALL_S:g} s, AWS stalls "
        f"at aws_call_deadline_s {plan_faults.AWS_DEADLINE_S:g} s",
        file=out,
    )
    print(
        f"  {'plan':<9} {'side':<5} {'cases':>5} {'failed step':>11} {'completed':>9} {'failures':>8} "
        f"{'injected':>8}  {'faulted run s (median / max)':>28}",
        file=out,
    )
    groups: dict[tuple[str, str], list] = {}
    for r in results:
        groups.setdefault((r.case.plan, "aws" if r.case.where == "aws" else "host"), []).append(r)
    for (plan, side), rs in groups.items():
        times = [r.run_seconds for r in rs]
        print(
            f"  {plan:<9} {side:<5} {len(rs):>5} {sum(r.first_code == 1 for r in rs):>11} "
            f"{sum(r.first_code == 0 for r in rs):>9} {sum(not r.ok for r in rs):>8} "
            f"{sum(r.injected for r in rs):>8}  "
            f"{statistics.median(times):>17.1f} / {max(times):<8.1f}",
            file=out,
        )
    for side in ("host", "aws"):
        stalls = [
            r.run_seconds
            for r in results
            if r.case.mode == "stall" and (r.case.where == "aws") == (side == "aws")
        ]
        if stalls:
            print(f"  {side} stalls: the faulted run ended in {max(stalls):.1f} s at most", file=out)
    whole = [r.seconds for r in results]
    if whole:
        print(f"  whole cases (lab start, faulted run, re-run, checks): {sum(whole):.0f} s in all", file=out)
    for r in results:
        if not r.ok:
            print(f"  FAILED {r.case.name}: " + " | ".join(p[:300] for p in r.problems), file=out)


# ---------------------------------------------------------------------------------------------- soak


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def feeder(endpoint: str, group: str, rate: int, seconds: float) -> None:
    """`--feed`: put_log_events into `group` at `rate` records/s for `seconds` (a subprocess, so its memory
    is not the console's); prints the records written."""
    import boto3

    logs = boto3.client(
        "logs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="lab-access-key",
        aws_secret_access_key="lab-secret-key",
    )
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_group(logGroupName=group)
    with contextlib.suppress(logs.exceptions.ResourceAlreadyExistsException):
        logs.create_log_stream(logGroupName=group, logStreamName="fault-report-feed")
    batch, tick = max(1, rate // 10), 0.1
    written, start, n = 0, time.monotonic(), 0
    while time.monotonic() - start < seconds:
        now_ms = int(time.time() * 1000)
        events = [
            {
                "timestamp": now_ms,
                "message": f"2026-01-01-00.00.00.000000+000 I{n + i} LEVEL: Info PID: 1 feed",
            }
            for i in range(batch)
        ]
        n += batch
        logs.put_log_events(logGroupName=group, logStreamName="fault-report-feed", logEvents=events)
        written += batch
        lag = start + written / rate - time.monotonic()
        if lag > 0:
            time.sleep(min(lag, tick))
    print(written, flush=True)


async def soak(clusters: int, minutes: float, rate: int, log_cap: int, out=sys.stdout) -> dict[str, float]:
    from services.inventory.loader import load_inventory
    from services.logs import tail as tail_module
    from services.logs.model import LogStore
    from services.status.events import diff_snapshots

    seconds = minutes * 60
    # The run stands for 30 minutes: the tail's real-time dedup window (10 min of event ids, which grows
    # the tail's memory until it is full, by design) shrinks by the same factor; the warm-up covers it.
    real_window_ms = tail_module.DEDUP_WINDOW_MS
    window_s = real_window_ms / 1000 * minutes / SOAK_STANDS_FOR_MIN
    tail_module.DEDUP_WINDOW_MS = int(window_s * 1000)
    warm_s = max(seconds / 6, window_s + 15)  # the "5 min" reading of a 30 min run, at least the window
    with tempfile.TemporaryDirectory(prefix="db2ops-soak-") as tmp:
        env = {
            **os.environ,
            "XDG_STATE_HOME": str(Path(tmp) / "state"),
            "XDG_CONFIG_HOME": str(Path(tmp) / "cfg"),
        }
        lab = subprocess.Popen(
            [sys.executable, "-m", "tui.cli", "lab", "--serve", "--clusters", str(clusters)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            cwd=ROOT,
            env=env,
        )
        feed_proc = None
        try:
            assert lab.stdout is not None
            path = await asyncio.wait_for(asyncio.to_thread(lab.stdout.readline), 180)
            inventory = load_inventory(Path(path.strip()))
            first = inventory.clusters[0]
            feed_proc = subprocess.Popen(
                [
                    sys.executable,
                    __file__,
                    "--feed",
                    first.aws.endpoint_url or "",
                    first.aws.diag_log_group,
                    str(rate),
                    str(seconds),
                ],
                stdout=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            feeds = {c.name: ClusterFeed(c) for c in inventory.clusters}
            errors: list[BaseException] = []
            store = LogStore(max_entries=log_cap)
            samples: list[tuple[float, float]] = []
            async with ConsoleContext(inventory, Settings()) as ctx:
                poller = StatusPoller(
                    ctx.status,
                    lambda c, s: feeds[c.name].apply(s, diff_snapshots),
                    lambda c, e: errors.append(e),
                    interval=1.0,
                    deadline=30.0,
                )
                tasks = [asyncio.create_task(poller.run(c)) for c in inventory.clusters]
                tail = ctx.logs(first).tail(store.extend, sources=("diag",), history_minutes=1)
                tail.start()
                start = time.monotonic()
                while (elapsed := time.monotonic() - start) < seconds:
                    samples.append((elapsed, rss_mb()))
                    await asyncio.sleep(1.0)
                samples.append((time.monotonic() - start, rss_mb()))
                await tail.stop()
                for t in tasks:
                    t.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                polls = sum(poller.polls.values())
            written = int((feed_proc.communicate(timeout=60)[0] or "0").split()[-1] or 0)
        finally:
            tail_module.DEDUP_WINDOW_MS = real_window_ms
            for proc in (feed_proc, lab):
                if proc is not None and proc.poll() is None:
                    proc.terminate()
                    with contextlib.suppress(subprocess.TimeoutExpired):
                        proc.wait(30)
    warm = next(r for t, r in samples if t >= warm_s)
    middle = next(r for t, r in samples if t >= (warm_s + seconds) / 2)
    end = samples[-1][1]
    growth = (end - warm) / warm * 100
    print(
        f"Soak: {clusters} lab clusters, refresh 1 s, {minutes:g} min, log feed {written / seconds:.0f} records/s "
        f"({written} written; tail kept {len(store)} of cap {log_cap}), {polls} polls, {len(errors)} poll errors",
        file=out,
    )
    print(
        f"  standing for {SOAK_STANDS_FOR_MIN} min: tail dedup window {window_s:.0f} s, warm-up {warm_s:.0f} s",
        file=out,
    )
    print(
        f"  RSS MB: first sample {samples[0][1]:.1f}, after warm-up {warm:.1f}, middle {middle:.1f}, end {end:.1f}; "
        f"growth after warm-up {growth:+.1f}% (bar <= 5%)",
        file=out,
    )
    return {"warm": warm, "middle": middle, "end": end, "growth": growth}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--deadline", type=float, default=3.0, help="status_deadline_s for the kill loop")
    parser.add_argument("--minutes", type=float, default=2.0, help="soak duration (compressed)")
    parser.add_argument("--rate", type=int, default=5000, help="log feed, records/s")
    parser.add_argument("--clusters", type=int, default=20)
    parser.add_argument(
        "--log-cap", type=int, default=20_000, help="entries the log tail keeps (filled in warm-up)"
    )
    parser.add_argument("--no-soak", action="store_true")
    parser.add_argument("--no-plans", action="store_true", help="skip the HA setup and failover faults")
    parser.add_argument("--plan-cases", nargs="*", help="only the plan cases whose name holds one of these")
    parser.add_argument(
        "--feed", nargs=4, metavar=("ENDPOINT", "GROUP", "RATE", "SECONDS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    quiet_dependency_warnings()
    if args.feed:
        feeder(args.feed[0], args.feed[1], int(args.feed[2]), float(args.feed[3]))
        return 0
    print(
        f"db2ops fault report, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {os.getloadavg()[0]:.1f}"
    )
    if args.kills:
        figures = asyncio.run(kill_loop(args.kills, deadline_s=args.deadline))
        print_kills(figures, args.deadline)
    if not args.no_plans:
        asyncio.run(plan_faults(args.plan_cases))
    if not args.no_soak:
        asyncio.run(soak(args.clusters, args.minutes, args.rate, args.log_cap))
    return 0


if __name__ == "__main__":
    sys.exit(main())
