"""Benchmark on the REAL Pacemaker lab: how long after a state change db2ops' snapshot shows it, against
how long Pacemaker's own `crm_mon --output-as=xml` (polled back to back on the node itself) takes to show it.

Baseline, measured in the same run: crm_mon's view, a tight loop on a cluster node. db2ops: the status
service (services.status.service.gather_cluster_status over services.ssh.pool.SshPool, all commands on all hosts)
polled back to back from the root namespace. Both clocks are the same kernel clock. Prints every run, the
medians and the ratio db2ops / crm_mon (1.0 = db2ops sees it as soon as Pacemaker does; the excess is about
one snapshot round trip).

    sudo python bench/pacemaker_latency.py [--moves 3] [--crashes 1]

Starts the lab (lab/data/pcmk-lab.sh) when it is not up and stops it again at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lab.pacemaker import (  # noqa: E402
    CLONE,
    SCRIPT,
    lab_root,
    pacemaker_lab_available,
    start_pacemaker_lab,
    stop_pacemaker_lab,
)
from services.inventory.loader import load_inventory  # noqa: E402
from services.ssh.pool import SshPool  # noqa: E402
from services.status.service import gather_cluster_status  # noqa: E402

# Runs on the node: crm_mon back to back until NODE ($1) holds the promoted role; prints the epoch then.
# Only the HADR clone is promotable, so the line after role="Promoted" names its node.
WATCH = (
    'until crm_mon -1 --output-as=xml 2>/dev/null | grep -A1 \'role="Promoted"\' | grep -q "<node name=\\"$1\\""; '
    "do :; done; date +%s.%N"
)
TIMEOUT_S = 60.0


def lab(*args: str) -> str:
    done = subprocess.run(["bash", str(SCRIPT), *args], capture_output=True, text=True, timeout=180)
    if done.returncode != 0:
        raise SystemExit(f"pcmk-lab.sh {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return done.stdout.strip()


async def db2ops_sees(cluster, pool: SshPool, target: str, t0: float) -> tuple[float, int]:
    """Poll db2ops' snapshot until `target` is promoted; returns (seconds after t0, snapshots taken)."""
    polls = 0
    while time.time() - t0 < TIMEOUT_S:
        status = await gather_cluster_status(cluster, pool, aws_route=False)
        polls += 1
        if status.promoted_node == target:
            return time.time() - t0, polls
    raise SystemExit(f"db2ops did not show {target} promoted within {TIMEOUT_S:g}s")


async def one_run(cluster, pool: SshPool, kind: str) -> tuple[float, float, int]:
    """Make one change of `kind` (move|crash); returns (crm_mon seconds, db2ops seconds, db2ops polls)."""
    promoted = lab("wait-promoted", "any", "60")
    target = "db2b" if promoted == "db2a" else "db2a"
    watcher = asyncio.create_task(
        pool.run(
            cluster.host(target),
            ["timeout", str(int(TIMEOUT_S)), "bash", "-c", WATCH, "_", target],
            timeout=TIMEOUT_S + 5,
        )
    )
    await asyncio.sleep(1.0)  # the watch loop is running before the change is made
    t0 = time.time()
    seen = asyncio.create_task(db2ops_sees(cluster, pool, target, t0))
    if kind == "move":
        await pool.run(
            cluster.host(promoted), ["crm", "resource", "move", CLONE, target], check=True, timeout=60
        )
    else:
        await asyncio.to_thread(lab, "crash-node", promoted)
    db2ops_s, polls = await seen
    res = await watcher
    if res.exit_status != 0:
        raise SystemExit(f"crm_mon on {target} never showed it promoted: {res.stderr.strip()}")
    crm_s = float(res.stdout.strip()) - t0
    if kind == "move":
        await pool.run(cluster.host(target), ["crm", "resource", "clear", CLONE], check=True, timeout=60)
    else:
        await asyncio.to_thread(lab, "start-node", promoted)
        await wait_both_online(cluster, pool)
    return crm_s, db2ops_s, polls


async def wait_both_online(cluster, pool: SshPool) -> None:
    end = time.time() + TIMEOUT_S
    while time.time() < end:
        status = await gather_cluster_status(cluster, pool, aws_route=False)
        crm = status.crm.value if status.crm and status.crm.ok else None
        clone = crm.promotable_clones[0] if crm and crm.promotable_clones else None
        if clone and len(clone.promoted_nodes) == 1 and len(clone.unpromoted_nodes) == 1:
            return
        await asyncio.sleep(0.5)
    raise SystemExit("the crashed node did not rejoin as Unpromoted within 60 s")


async def bench(moves: int, crashes: int) -> None:
    cluster = load_inventory(lab_root() / "inventory.yaml").cluster("pcmk")
    rows: dict[str, list[tuple[float, float, int]]] = {"move": [], "crash": []}
    async with SshPool(config_paths=[], command_timeout=30.0) as pool:
        await gather_cluster_status(cluster, pool, aws_route=False)  # connections up, as in the console
        for kind, count in (("move", moves), ("crash", crashes)):
            for i in range(count):
                crm_s, db2ops_s, polls = await one_run(cluster, pool, kind)
                rows[kind].append((crm_s, db2ops_s, polls))
                print(
                    f"{kind} #{i + 1}: crm_mon {crm_s:6.2f}s  db2ops {db2ops_s:6.2f}s  "
                    f"(+{db2ops_s - crm_s:.2f}s, {polls} snapshots)",
                    flush=True,
                )
    print()
    print(f"{'change':<8}{'runs':>5}{'crm_mon median':>16}{'db2ops median':>15}{'ratio':>8}")
    for kind, data in rows.items():
        if not data:
            continue
        crm = statistics.median(r[0] for r in data)
        ops = statistics.median(r[1] for r in data)
        print(f"{kind:<8}{len(data):>5}{crm:>15.2f}s{ops:>14.2f}s{ops / crm:>8.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=3, help="crm resource move runs (default 3)")
    parser.add_argument("--crashes", type=int, default=1, help="SIGKILL-the-promoted-node runs (default 1)")
    args = parser.parse_args()
    missing = pacemaker_lab_available()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    was_up = (lab_root() / "up.done").exists()
    started = time.monotonic()
    asyncio.run(start_pacemaker_lab())
    if not was_up:
        print(f"lab up in {time.monotonic() - started:.1f}s")
    try:
        asyncio.run(bench(args.moves, args.crashes))
    finally:
        if not was_up:
            stop_pacemaker_lab()
    return 0


if __name__ == "__main__":
    sys.exit(main())
