"""The HA plan's prerequisite steps on the real-Pacemaker lab's hosts (issue 10 part 4): real OpenSSH,
util-linux's runuser, nmap-ncat and nftables in the lab's network namespaces, reached as root.

First as the lab is (every step already done), then seeded wrong one way at a time, each undone after:
qnetd stopped (the port probe is refused: the packet got through, which is fine before qnetd runs), a
firewall in the quorum host's namespace that drops new TCP 5403 connections from db2b (a time-out: the
step fails and says what to open), and the instance owner's key no longer authorized on db2a.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.pacemaker import SCRIPT, host_address
from services.ha_setup.params import HaParams
from services.ha_setup.prereq_steps import (
    HostsFileStep,
    InstanceOwnerSshStep,
    InstanceUserStep,
    OsReleaseStep,
    QnetdPortStep,
    RootSshStep,
)
from services.plans import Plan, PlanContext, Step, StepResult, run_plan
from services.ssh.pool import SshPool

from .conftest import PcmkLab

pytestmark = pytest.mark.pacemaker

TABLE = "d2o_prereq_test"  # the seeded firewall's nft table (removed after the test)


def _params(lab: PcmkLab) -> HaParams:
    # the lab's hosts run Debian: the OS check is allowed through, as the plan's own parameter allows
    return HaParams(allow_unsupported_os=True).resolve(lab.cluster)


async def _run(lab: PcmkLab, steps: list[Step]) -> dict[str, StepResult]:
    pool = SshPool(config_paths=[], command_timeout=30.0)
    try:
        plan = Plan(name="ha-prereqs", cluster=lab.cluster, steps=steps)
        result = await run_plan(plan, PlanContext(cluster=lab.cluster, runner=pool), mode="dry-run")
        return {s.step_id: s for s in result.steps}
    finally:
        await pool.close()


def _one(lab: PcmkLab, step: Step) -> StepResult:
    return asyncio.run(_run(lab, [step]))[step.id]


def _script(lab: PcmkLab, *args: str) -> str:
    done = subprocess.run(
        ["bash", str(SCRIPT), *args], env=lab.env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"pcmk-lab.sh {' '.join(args)}: {done.stderr[-600:]}"
    return done.stdout


def _host(lab: PcmkLab, name: str):  # noqa: ANN202 - the inventory Host
    host = lab.cluster.host(name)
    assert host is not None
    return host


def test_every_prerequisite_step_is_done_on_the_real_hosts(pcmk_lab: PcmkLab) -> None:
    params = _params(pcmk_lab)
    assert params.use_sudo is False  # every lab host is reached as root: no `sudo -n` (there is no sudo)
    cluster, db = pcmk_lab.cluster, pcmk_lab.cluster.db_hosts
    steps: list[Step] = [OsReleaseStep(h, params) for h in cluster.hosts]
    steps += [HostsFileStep(h, cluster) for h in cluster.hosts]
    steps += [InstanceUserStep(h, cluster, params) for h in db]
    steps += [RootSshStep(h, cluster, params) for h in db]
    steps += [InstanceOwnerSshStep(h, cluster, params) for h in db]
    steps += [QnetdPortStep(h, params) for h in db]
    results = asyncio.run(_run(pcmk_lab, steps))
    failed = {k: r.message for k, r in results.items() if r.status != "already_done"}
    assert failed == {}
    assert results["prereq-owner-ssh@db2a"].message == "db2inst1 ssh to db2b works"
    assert results["prereq-owner-ssh@db2b"].message == "db2inst1 ssh to db2a works"
    assert results["prereq-ssh@db2a"].message == "root ssh to db2b, qnetd works"
    # qnetd runs: ncat connects (exit 0), the step says so rather than "refused"
    assert results["prereq-qnetd-port@db2a"].message == "qnetd:5403 accepts connections"
    assert "Debian GNU/Linux 12" in results["prereq-os@qnetd"].message


def test_qnetd_not_running_yet_is_reachable_not_a_failure(pcmk_lab: PcmkLab) -> None:
    params = _params(pcmk_lab)
    _script(pcmk_lab, "stop-qnetd")
    try:
        result = _one(pcmk_lab, QnetdPortStep(_host(pcmk_lab, "db2a"), params))
    finally:
        _script(pcmk_lab, "start-qnetd")
    assert result.status == "already_done", result.message
    assert result.message == "qnetd:5403 reachable (nothing listens yet: Ncat: Connection refused.)"


@pytest.fixture
def port_5403_dropped_from_db2b(pcmk_lab: PcmkLab) -> Iterator[None]:
    """nftables in the quorum host's namespace drops NEW TCP 5403 connections from db2b, as a security
    group without db2b would; the qdevices' established connections are left alone."""
    db2b = host_address("db2b", pcmk_lab.paths.root)
    nft = ("nsexec", "qnetd", "nft")
    _script(pcmk_lab, *nft, "add", "table", "inet", TABLE)
    try:
        _script(
            pcmk_lab, *nft, "add", "chain", "inet", TABLE, "input", "{ type filter hook input priority 0 ; }"
        )
        rule = f"ip saddr {db2b} tcp dport 5403 ct state new drop"
        _script(pcmk_lab, *nft, "add", "rule", "inet", TABLE, "input", *rule.split())
        yield
    finally:
        _script(pcmk_lab, *nft, "delete", "table", "inet", TABLE)


def test_a_dropped_port_5403_fails_with_what_to_open(pcmk_lab: PcmkLab, port_5403_dropped_from_db2b) -> None:
    params = _params(pcmk_lab)
    blocked = _one(pcmk_lab, QnetdPortStep(_host(pcmk_lab, "db2b"), params))
    assert blocked.status == "failed"
    assert "TCP 5403 to qnetd does not get through (Ncat: TIMEOUT.)" in blocked.message
    assert "allow TCP 5403 from both Db2 hosts to qnetd" in blocked.message
    fine = _one(pcmk_lab, QnetdPortStep(_host(pcmk_lab, "db2a"), params))
    assert fine.status == "already_done" and fine.message == "qnetd:5403 accepts connections"


@pytest.fixture
def owner_key_removed_on_db2a(pcmk_lab: PcmkLab) -> Iterator[Path]:
    keys = pcmk_lab.paths.root / "hosts" / "db2a" / "home" / "db2inst1" / ".ssh" / "authorized_keys"
    aside = keys.with_name("authorized_keys.off")
    keys.rename(aside)
    try:
        yield keys
    finally:
        aside.rename(keys)


def test_owner_ssh_without_the_key_fails_with_what_to_add(
    pcmk_lab: PcmkLab, owner_key_removed_on_db2a
) -> None:
    params = _params(pcmk_lab)
    refused = _one(pcmk_lab, InstanceOwnerSshStep(_host(pcmk_lab, "db2b"), pcmk_lab.cluster, params))
    assert refused.status == "failed"
    assert "`ssh db2a ls` as db2inst1 failed (db2inst1@db2a: Permission denied (publickey)" in refused.message
    assert "add db2inst1's public key of db2b to ~db2inst1/.ssh/authorized_keys on db2a" in refused.message
    other_way = _one(pcmk_lab, InstanceOwnerSshStep(_host(pcmk_lab, "db2a"), pcmk_lab.cluster, params))
    assert other_way.status == "already_done"  # db2b still authorizes db2a's key
