"""Benchmark: one full status refresh of N lab clusters x 3 hosts with added latency per command.

Baseline, measured in the same run: the way a DBA does it by hand, a sequential loop that opens a new SSH
connection per host per command (`ssh host crm_mon ...`) with OpenSSH's client. Prints both, the ratio
(target >= 30x faster) and the refresh time against one command's round trip (target <= 2x).

    python bench/status_refresh.py [--clusters 20] [--latency-ms 50] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.inventory import load_inventory  # noqa: E402
from services.ssh import SshPool  # noqa: E402
from services.status import CRM_MON, QDEVICE_TOOL, QNETD_TOOL, QUORUMTOOL, StatusService, db2pd_argv  # noqa: E402


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


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clusters", type=int, default=20)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    if shutil.which("ssh") is None:
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
            times, cpu = [], []
            for _ in range(args.repeat):
                t, c = time.perf_counter(), time.process_time()
                snaps = await service.snapshot_all()
                times.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
            assert all(s.promoted_node for s in snaps), "a lab cluster had no promoted node"
            host = inv.clusters[0].db_hosts[0]
            rtts = []
            for _ in range(args.repeat):
                t = time.perf_counter()
                await service.runner.run(host, list(CRM_MON))
                rtts.append(time.perf_counter() - t)
            ours, rtt = statistics.median(times), statistics.median(rtts)
            base = await asyncio.to_thread(baseline_sequential_ssh, inv)
            await service.close()
        finally:
            lab.terminate()
            await lab.wait()
    n_cmds = sum(4 * len(c.db_hosts) + 1 for c in inv.clusters)
    print(
        f"clusters={args.clusters} hosts={3 * args.clusters} commands/refresh={n_cmds} latency={args.latency_ms}ms"
    )
    print(f"baseline sequential ssh loop : {base:8.3f} s")
    print(f"db2ops refresh (median of {args.repeat}): {ours:8.3f} s")
    print(f"one command round trip       : {rtt:8.3f} s")
    print(
        f"db2ops CPU per refresh       : {statistics.median(cpu):8.3f} s  (client side; the 60 simulated hosts"
    )
    print("                               share this machine's cores with it, real hosts would not)")
    print(f"speed-up vs baseline         : {base / ours:8.1f}x  (target >= 30x)")
    print(f"refresh / one round trip     : {ours / rtt:8.2f}x  (target <= 2x)")


if __name__ == "__main__":
    asyncio.run(main())
