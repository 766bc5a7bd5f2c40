"""Benchmark: one full status refresh of N lab clusters x 3 hosts with added latency per command.

Baseline, measured in the same run: the way a DBA does it by hand, a sequential loop that opens a new SSH
connection per host per command (`ssh host crm_mon ...`) with OpenSSH's client. Prints both, the ratio
(target >= 30x faster) and the refresh time against one command's round trip (target <= 2x).

Also prints where the time goes: the console's CPU per refresh and the lab server's (the simulated hosts
run in one process on this machine and share its cores with the console; real hosts would not), and the
load average, since other work on the machine stretches every figure.

    python bench/status_refresh.py [--clusters 20] [--latency-ms 50] [--repeat 7] [--no-baseline]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.inventory.loader import load_inventory  # noqa: E402
from services.ssh.pool import SshPool  # noqa: E402
from services.status.service import CRM_MON, QDEVICE_TOOL, QNETD_TOOL, QUORUMTOOL, StatusService, db2pd_argv  # noqa: E402


def _ssh_argv(host, command: list[str]) -> list[str]:
    return [
        "ssh",
        "-q",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        f"UserKnownHostsFile={host.known_hosts}",
        "-i",
        str(host.identity),
        "-p",
        str(host.port),
        f"{host.user}@{host.address}",
        *command,
    ]


def baseline_sequential_ssh(inventory) -> float:
    start = time.perf_counter()
    for cluster in inventory.clusters:
        for host in cluster.hosts:
            cmds = (
                [QNETD_TOOL]
                if host.role == "qdevice"
                else [CRM_MON, QUORUMTOOL, QDEVICE_TOOL, db2pd_argv(cluster.database)]
            )
            for cmd in cmds:
                subprocess.run(_ssh_argv(host, list(cmd)), capture_output=True, check=False, timeout=60)
    return time.perf_counter() - start


def process_cpu_s(pid: int) -> float | None:
    """CPU seconds used so far by every thread of process `pid` (Linux /proc, ns precision); None elsewhere."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
        return sum(int(Path(f"/proc/{pid}/task/{t}/schedstat").read_text().split()[0]) for t in tasks) / 1e9
    except (OSError, ValueError, IndexError):
        return None


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clusters", type=int, default=20)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--no-baseline", action="store_true", help="skip the slow sequential ssh loop")
    args = ap.parse_args()
    if not args.no_baseline and shutil.which("ssh") is None:
        sys.exit("the baseline needs OpenSSH's client: apt-get install openssh-client")
    with tempfile.TemporaryDirectory() as tmp:
        # The simulated hosts run in their own process, as real hosts would: the client's CPU is what we time.
        lab = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tui.cli",
            "lab",
            "--serve",
            "--clusters",
            str(args.clusters),
            "--latency",
            str(args.latency_ms),
            "--failover-delay",
            "0",
            "--dir",
            tmp,
            "--no-aws",
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[1],
        )
        try:
            line = await asyncio.wait_for(lab.stdout.readline(), 120)
            inv = load_inventory(Path(line.decode().strip()))
            service = StatusService(inv, SshPool(), aws_route=False)
            await service.snapshot_all()  # connect once; the console keeps these connections
            load_before = os.getloadavg()[0]
            times, cpu, lab_cpu = [], [], []
            for _ in range(args.repeat):
                lab0 = process_cpu_s(lab.pid)
                t, c = time.perf_counter(), time.process_time()
                snaps = await service.snapshot_all()
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
                lab1 = process_cpu_s(lab.pid)
                if lab0 is not None and lab1 is not None:
                    lab_cpu.append(lab1 - lab0)
            load_after = os.getloadavg()[0]
            assert all(s.promoted_node for s in snaps), "a lab cluster had no promoted node"
            host = inv.clusters[0].db_hosts[0]
            rtts = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                await service.runner.run(host, list(CRM_MON))
                rtts.append(time.perf_counter() - t)
            base = None if args.no_baseline else await asyncio.to_thread(baseline_sequential_ssh, inv)
            await service.close()
        finally:
            lab.terminate()
            await lab.wait()
    ours, rtt, med = statistics.median(times), statistics.median(rtts), statistics.median
    n_cmds = sum(4 * len(c.db_hosts) + 1 for c in inv.clusters)
    print(
        f"clusters={args.clusters} hosts={3 * args.clusters} commands/refresh={n_cmds} "
        f"latency={args.latency_ms}ms cpus={os.cpu_count()} load(1 min) {load_before:.1f} -> {load_after:.1f}"
    )
    cores = os.cpu_count()
    _row("baseline sequential ssh loop", base, "skipped (--no-baseline)" if base is None else "")
    _row(f"db2ops refresh (median of {args.repeat})", ours, f"min {min(times):.3f} s")
    _row("one command round trip (median)", rtt, f"of which {args.latency_ms / 1000:.3f} s added latency")
    _row("refresh beyond one round trip", ours - rtt, f"CPU work of both sides, queued on {cores} cores")
    _row(
        "console CPU per refresh",
        med(cpu),
        f"{med(cpu) / n_cmds * 1000:.2f} ms a command: SSH, crypto, parsing",
    )
    if lab_cpu:
        _row(
            "lab hosts' CPU per refresh",
            med(lab_cpu),
            f"the {3 * args.clusters} simulated hosts are one process sharing these cores; real hosts would not",
        )
    if base is not None:
        print(f"{'speed-up vs baseline':34s}: {base / ours:8.1f}x  (target >= 30x)")
    print(f"{'refresh / one round trip':34s}: {ours / rtt:8.2f}x  (target <= 2x)")


def _row(label: str, seconds: float | None, note: str) -> None:
    value = "" if seconds is None else f"{seconds:8.3f} s"
    print(f"{label:34s}: {value}" + (f"   ({note})" if value and note else note))


if __name__ == "__main__":
    asyncio.run(main())
