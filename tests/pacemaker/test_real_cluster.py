"""db2ops' status service over real SSH against the real Pacemaker/corosync/qnetd lab, in every issue-4
state. The walk (conftest.py, cluster_walk.py) makes each change and waits up to 45 s for db2ops to show
it; these tests assert what db2ops reported. Run just this tier with `pytest -m pacemaker`."""

from __future__ import annotations

import asyncio

import pytest

from services.part_errors import ErrorKind
from services.ssh.pool import HostKeyUnknown, SshPool

from .cluster_walk import STATES

pytestmark = pytest.mark.pacemaker


def _report(obs) -> str:
    verdicts = [f"{v.code}: {v.message}" for v in obs.status.verdicts] if obs.status else []
    return f"{obs.state} after {obs.seconds:.1f}s: " + "; ".join(obs.mismatches) + f"\nverdicts: {verdicts}"


@pytest.mark.parametrize("state", STATES)
def test_db2ops_reports_state(cluster_walk, state: str) -> None:
    obs = cluster_walk[state]
    assert obs.mismatches == [], _report(obs)


def test_move_promotes_the_other_node_and_hadr_follows(cluster_walk) -> None:
    moved = cluster_walk["moved"]
    assert moved.status.promoted_node == moved.context["moved_to"] != moved.context["moved_from"]
    # the stand-in db2pd follows Pacemaker: HADR primary is where Pacemaker promoted
    assert moved.status.hadr_primary_host == moved.context["moved_to"]


def test_crashed_node_reports_pacemaker_and_corosync_down(cluster_walk) -> None:
    obs = cluster_walk["node-crash"]
    crashed = obs.context["crashed"]
    # corosync-quorumtool exits 1 and corosync-qdevice-tool 3 on the crashed node: parts carry errors
    quorum_error, qdevice_error = obs.status.quorum[crashed].error, obs.status.qdevice[crashed].error
    assert quorum_error is not None and quorum_error.kind is ErrorKind.EXIT_CODE
    assert quorum_error.exit_status == 1 and "exited 1" in quorum_error.message
    assert (
        qdevice_error is not None and qdevice_error.exit_status == 3 and "exited 3" in qdevice_error.message
    )
    # its sshd survived the crash, so db2ops does not call the host unreachable
    assert crashed not in obs.status.host_errors
    node = obs.status.crm.value.node(crashed)
    assert node is not None and not node.online


def test_no_quorum_is_seen_by_corosync_and_pacemaker(cluster_walk) -> None:
    obs = cluster_walk["no-quorum"]
    survivor = obs.status.crm.source
    assert survivor != obs.context["crashed"]
    quorum = obs.status.quorum[survivor].value
    assert quorum is not None and quorum.quorate is False
    assert quorum.total_votes == 1 and quorum.expected_votes == 3
    assert obs.status.qdevice[survivor].value.state == "Connect failed"


def test_qnetd_down_keeps_quorum_with_two_votes(cluster_walk) -> None:
    obs = cluster_walk["qnetd-down"]
    for node in ("db2a", "db2b"):
        quorum = obs.status.quorum[node].value
        assert quorum.quorate and quorum.total_votes == 2, node
    qnetd_error = obs.status.qnetd.error
    assert (
        qnetd_error is not None and qnetd_error.kind is ErrorKind.EXIT_CODE and qnetd_error.exit_status == 3
    )
    assert "exited 3" in qnetd_error.message


def test_unknown_host_key_is_refused_not_accepted(pcmk_lab, tmp_path) -> None:
    """Real sshd, empty known_hosts: db2ops must raise HostKeyUnknown with the real key's fingerprint."""
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    host = pcmk_lab.cluster.host("db2a")

    async def attempt():
        async with SshPool(config_paths=[], known_hosts=empty) as pool:
            from dataclasses import replace

            await pool.run(replace(host, known_hosts=None), ["true"])

    with pytest.raises(HostKeyUnknown) as info:
        asyncio.run(attempt())
    real_key = (pcmk_lab.paths.known_hosts.read_text().split("\n")[0]).split()[2]
    assert info.value.public_key_line.split()[1] == real_key
