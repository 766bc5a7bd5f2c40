"""One apply at a time per cluster: a second apply (another task, another process) is refused before it
changes anything, with a message naming the holder; the lock is freed at the end, even when the holder is
killed."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from plans.fakes import FakeRunner, WriteFileStep, make_cluster
from services.inventory.model import Inventory
from services.plans import ClusterBusy, Journal, Plan, PlanContext, WriteRefused, run_plan
from services.plans.cluster_lock import lock_path
from services.plans.headless import EXIT_REFUSED, run_plan_headless

REPO = Path(__file__).resolve().parents[2]


def _plan(cluster) -> Plan:
    return Plan(
        name="demo", cluster=cluster, steps=[WriteFileStep(h, "/etc/a", "A\n") for h in cluster.db_hosts]
    )


async def test_a_second_apply_in_another_task_is_refused_naming_the_holder(tmp_path: Path) -> None:
    cluster = make_cluster()
    first_plan = _plan(cluster)
    started, release = asyncio.Event(), asyncio.Event()
    real_apply = first_plan.steps[0].apply

    async def slow(ctx) -> None:
        started.set()
        await release.wait()
        await real_apply(ctx)

    first_plan.steps[0].apply = slow  # type: ignore[method-assign]
    journal = Journal(tmp_path / "journal")
    runner = FakeRunner()
    first = asyncio.ensure_future(
        run_plan(first_plan, PlanContext(cluster=cluster, runner=runner, journal=journal, operator="alice"),
                 mode="apply", state_dir=tmp_path)
    )  # fmt: skip
    await started.wait()
    second_runner = FakeRunner()
    with pytest.raises(ClusterBusy) as refused:
        await run_plan(
            _plan(cluster),
            PlanContext(cluster=cluster, runner=second_runner, journal=journal, operator="bob"),
            mode="apply",
            state_dir=tmp_path,
        )
    message = str(refused.value)
    assert message.startswith(
        f"cluster {cluster.name} is being changed by another apply (demo apply by alice, "
    )
    assert (
        f"pid {os.getpid()} on {socket.gethostname()}, since " in message and "nothing was changed" in message
    )
    assert isinstance(refused.value, WriteRefused) and second_runner.ran == []  # not even a check
    release.set()
    assert (await first).ok
    # freed: the next apply runs (everything already done)
    again = await run_plan(_plan(cluster), PlanContext(cluster=cluster, runner=runner, journal=journal),
                           mode="apply", state_dir=tmp_path)  # fmt: skip
    assert again.ok and lock_path(cluster.name, tmp_path).read_text() == ""


HOLD = """
import sys, time
from pathlib import Path
from services.plans.cluster_lock import cluster_lock
with cluster_lock(sys.argv[1], "monitoring", operator="carol", directory=Path(sys.argv[2])):
    print("held", flush=True)
    time.sleep(60)
"""


async def test_an_apply_held_by_another_process_is_refused_headless_and_freed_when_it_is_killed(
    tmp_path: Path,
) -> None:
    cluster = make_cluster()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, cluster.name, str(tmp_path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        out = io.StringIO()
        runner = FakeRunner()
        code = await run_plan_headless(
            Inventory(clusters=(cluster,)), cluster.name, build_plan=_plan, mode="apply", out=out,
            runner=runner, journal=Journal(tmp_path / "j"), state_dir=tmp_path,
        )  # fmt: skip
        assert code == EXIT_REFUSED and runner.ran == []
        assert f"monitoring apply by carol, pid {holder.pid} on {socket.gethostname()}" in out.getvalue()
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    # the kernel freed the lock with the process: no stale lock
    time.sleep(0.05)
    result = await run_plan(_plan(cluster), PlanContext(cluster=cluster, runner=FakeRunner(), journal=Journal(tmp_path / "j")),
                            mode="apply", state_dir=tmp_path)  # fmt: skip
    assert result.ok
