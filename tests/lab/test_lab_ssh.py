"""The embedded lab over real SSH: every answer parses with the project's parsers and tells one story."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import asyncssh
import pytest

crm_mon_xml = pytest.importorskip("services.parsers.crm_mon_xml")
corosync = pytest.importorskip("services.parsers.corosync")
db2pd_hadr = pytest.importorskip("services.parsers.db2pd_hadr")
db2cm = pytest.importorskip("services.parsers.db2cm")
dbcfg = pytest.importorskip("services.parsers.dbcfg")

A, B, Q = "lab1-db2a", "lab1-db2b", "lab1-qdev"


async def crm(sh, host):
    res = await sh.run(host, "crm_mon -1 --output-as=xml")
    assert res.exit_status == 0, res.stderr
    return crm_mon_xml.parse_crm_mon_xml(res.stdout)


async def hadr(sh, host, db="HADRDB"):
    res = await sh.run(host, f"db2pd -hadr -db {db}")
    assert res.exit_status == 0, res.stderr
    return db2pd_hadr.parse_db2pd_hadr(res.stdout)


async def test_healthy_cluster_tells_one_story(sh):
    status = await crm(sh, A)
    assert status.promoted_nodes == (A,)
    assert status.with_quorum is True
    assert status.dc == B
    assert [n.name for n in status.nodes if n.online] == [A, B]
    assert status.clones[0].unpromoted_nodes == (B,)

    primary, standby = await hadr(sh, A), await hadr(sh, B)
    assert (primary.role, primary.state) == ("PRIMARY", "PEER")
    assert (standby.role, standby.state) == ("STANDBY", "PEER")
    assert primary.db_state == "Active" and standby.db_state == "Standby"
    assert primary.streams[0].syncmode == "NEARSYNC"
    assert primary.streams[0].connect_status == "CONNECTED"
    assert primary.streams[0].standby_host == B

    for node in (A, B):
        res = await sh.run(node, "corosync-qdevice-tool -s")
        assert res.exit_status == 0
        qdev = corosync.parse_qdevice_tool(res.stdout)
        assert qdev.state == "Connected" and qdev.cluster_name == "lab1"
        res = await sh.run(node, "corosync-quorumtool -s")
        quorum = corosync.parse_quorumtool(res.stdout)
        assert res.exit_status == 0 and quorum.quorate and quorum.total_votes == 3 and quorum.has_qdevice

    res = await sh.run(Q, "corosync-qnetd-tool -l")
    qnetd = corosync.parse_qnetd_tool(res.stdout).cluster("lab1")
    assert res.exit_status == 0
    assert [c.node_id for c in qnetd.clients] == [1, 2]
    assert all("ACK" in c.vote for c in qnetd.clients)

    cm = db2cm.parse_db2cm_list((await sh.run(A, "db2cm -list")).stdout)
    assert cm.nodes == {A: "Online", B: "Online"}
    assert cm.qdevice is not None and cm.qdevice.connected
    cfg_a = dbcfg.parse_dbcfg_hadr((await sh.run(A, "db2 get db cfg for hadrdb")).stdout)
    cfg_b = dbcfg.parse_dbcfg_hadr((await sh.run(B, "db2 get db cfg for HADRDB")).stdout)
    assert (cfg_a.role, cfg_b.role) == ("PRIMARY", "STANDBY")
    assert cfg_a.params["HADR_SYNCMODE"] == "NEARSYNC" and cfg_a.params["HADR_REMOTE_HOST"] == B


async def test_kill_primary_promotes_standby_and_takes_the_host_away(sh, lab):
    await sh.run(A, "true")  # an open connection that the crash must cut
    res = await sh.run(Q, "db2ops-lab kill-primary")
    assert res.exit_status == 0 and A in res.stdout
    await lab.settle()

    with pytest.raises((OSError, asyncssh.Error)):
        await sh.run(A, "crm_mon -1 --output-as=xml")
    with pytest.raises((OSError, asyncssh.Error)):
        await sh.connect(A)

    status = await crm(sh, B)
    assert status.promoted_nodes == (B,)
    assert status.node(A).online is False and status.node(B).online is True
    assert status.with_quorum is True and status.dc == B
    new_primary = await hadr(sh, B)
    assert new_primary.role == "PRIMARY"
    assert new_primary.state == "DISCONNECTED"
    assert new_primary.streams[0].last_takeover_time is not None
    quorum = corosync.parse_quorumtool((await sh.run(B, "corosync-quorumtool -s")).stdout)
    assert quorum.quorate and quorum.nodes == 1 and quorum.total_votes == 2

    # The other cluster of the fleet is untouched.
    assert (await crm(sh, "lab2-db2a")).promoted_nodes == ("lab2-db2a",)


async def test_log_gap_grows_after_takeover_while_peer_is_gone(sh, lab):
    lab.control("lab1", "kill-primary")
    await lab.settle()
    first = (await hadr(sh, B)).streams[0]
    second = (await hadr(sh, B)).streams[0]
    assert second.primary_log.pos > first.primary_log.pos
    assert second.standby_log.pos == first.standby_log.pos
    assert second.log_gap_bytes > first.log_gap_bytes >= 0


async def test_stop_qnetd_fails_the_qdevice_but_keeps_quorum(sh):
    assert (await sh.run(A, "db2ops-lab stop-qnetd")).exit_status == 0
    res = await sh.run(A, "corosync-qdevice-tool -sv")
    assert res.exit_status == 0
    assert corosync.parse_qdevice_tool(res.stdout).state == "Connect failed"
    res = await sh.run(Q, "corosync-qnetd-tool -lv")
    assert res.exit_status == 3 and res.stdout == ""
    assert res.stderr == (
        "corosync-qnetd-tool: Can't connect to qnetd socket (is QNetd running?): No such file or directory\n"
    )
    res = await sh.run(B, "corosync-quorumtool -s")
    quorum = corosync.parse_quorumtool(res.stdout)
    assert res.exit_status == 0 and quorum.quorate and quorum.total_votes == 2


async def test_kill_primary_with_qnetd_down_leaves_survivor_without_quorum(sh, lab):
    lab.control("lab1", "stop-qnetd")
    lab.control("lab1", "kill-primary")
    await lab.settle()
    res = await sh.run(B, "corosync-quorumtool -s")
    assert res.exit_status == 2
    quorum = corosync.parse_quorumtool(res.stdout)
    assert quorum.quorate is False and quorum.total_votes == 1
    status = await crm(sh, B)
    assert status.with_quorum is False and status.promoted_nodes == ()
    # no-quorum-policy=stop: Pacemaker stopped the instance, so the database is not active there.
    survivor = await hadr(sh, B)
    assert survivor.activated is False

    lab.control("lab1", "start-qnetd")  # quorum back: Pacemaker promotes the survivor
    await lab.settle()
    assert (await crm(sh, B)).promoted_nodes == (B,)
    assert (await hadr(sh, B)).role == "PRIMARY"


async def test_restore_brings_everything_back_healthy(sh, lab):
    lab.control("lab1", "kill-primary")
    lab.control("lab1", "stop-qnetd")
    lab.control("lab1", "disconnect-hadr")
    await lab.settle()
    res = await sh.run(B, "db2ops-lab restore")
    assert res.exit_status == 0
    await lab.settle()

    status = await crm(sh, A)  # the crashed host answers again, on the same port
    assert [n.name for n in status.nodes if n.online] == [A, B]
    assert status.promoted_nodes == (B,)  # the killed node rejoined as standby
    assert (await hadr(sh, B)).state == "PEER" and (await hadr(sh, A)).role == "STANDBY"
    assert (await hadr(sh, A)).state == "PEER"
    qdev = corosync.parse_qdevice_tool((await sh.run(A, "corosync-qdevice-tool -s")).stdout)
    assert qdev.connected
    assert (await sh.run(Q, "corosync-qnetd-tool -l")).exit_status == 0


async def test_disconnect_hadr_only_breaks_replication(sh, lab):
    lab.control("lab1", "disconnect-hadr")
    primary, standby = await hadr(sh, A), await hadr(sh, B)
    assert (primary.role, primary.state) == ("PRIMARY", "DISCONNECTED")
    assert standby.state == "REMOTE_CATCHUP_PENDING"
    assert primary.streams[0].connect_status == "DISCONNECTED"
    assert (await crm(sh, A)).promoted_nodes == (A,)  # Pacemaker does not move anything
    lab.control("lab1", "reconnect-hadr")
    assert (await hadr(sh, A)).state == "PEER"  # catch-up time is the failover delay: 0 here


async def test_latency_delays_every_answer(sh, lab):
    await sh.run(A, "true")  # connection set up before measuring
    assert (await sh.run(A, "db2ops-lab latency 200")).exit_status == 0
    start = time.monotonic()
    res = await sh.run(A, "crm_mon -1 --output-as=xml")
    assert res.exit_status == 0
    assert time.monotonic() - start >= 0.2
    assert lab.clusters["lab2"].latency_ms == 0


async def test_lab_status_verb_over_ssh(sh):
    res = await sh.run(Q, "db2ops-lab status")
    assert res.exit_status == 0
    summary = json.loads(res.stdout)
    assert summary["cluster"] == "lab1"
    assert summary["promoted"] == A and summary["hadr_state"] == "PEER" and summary["quorate"] is True
    bad = await sh.run(Q, "db2ops-lab explode")
    assert bad.exit_status == 2 and "usage: db2ops-lab" in bad.stderr


async def test_unknown_command_answers_like_bash(sh):
    res = await sh.run(A, "foo-not-a-tool --all")
    assert res.exit_status == 127
    assert res.stderr == "bash: line 1: foo-not-a-tool: command not found\n"
    # Tools a host does not have: qnetd on a Db2 node, Db2 on the qdevice host.
    assert (await sh.run(A, "corosync-qnetd-tool -l")).exit_status == 127
    assert (await sh.run(Q, "db2pd -hadr -db HADRDB")).exit_status == 127


async def test_hostile_argv_is_data(sh, tmp_path: Path):
    marker = tmp_path / f"pwned-{uuid.uuid4().hex}"
    res = await sh.run(A, f"db2pd -hadr -db 'X; touch {marker}'")
    assert res.exit_status == 0
    status = db2pd_hadr.parse_db2pd_hadr(res.stdout)
    assert status.activated is False
    assert f"Database X; TOUCH {str(marker).upper()} not activated" in res.stdout
    res = await sh.run(A, f"crm_mon $(touch {marker}) `touch {marker}`")
    assert res.exit_status == 0
    assert not marker.exists()


async def test_wrong_client_key_is_refused(lab):
    host = lab.inventory().clusters[0].hosts[0]
    stranger = asyncssh.generate_private_key("ssh-ed25519")
    with pytest.raises(asyncssh.PermissionDenied):
        await asyncssh.connect(
            host.address,
            host.port,
            username=host.user,
            client_keys=[stranger],
            known_hosts=host.known_hosts,
            agent_path=None,
            config=None,
        )


def _host(lab, name):
    return next(h for c in lab.inventory().clusters for h in c.hosts if h.name == name)


@pytest.mark.parametrize("latency_ms", [0, 50])
async def test_input_to_a_command_that_ignores_it_keeps_the_pooled_connection(lab, latency_ms):
    # `true` reads no stdin: with no latency the lab answers while handling the exec request, so the channel
    # is closed before the client writes its input (a real sshd does the same). Was: the pool's write raised
    # BrokenPipeError, `true` failed as HostUnreachable and the connection was dropped.
    from services.ssh.pool import SshPool

    assert lab.control("lab1", "latency", str(latency_ms))[0] == 0
    host, endpoint = _host(lab, A), lab.host("lab1", A)
    async with SshPool(config_paths=[]) as pool:
        ignored = await pool.run(host, ["true"], input="nobody reads this\n" * 100)
        conns = set(endpoint.connections)
        unknown = await pool.run(host, ["no-such-tool"], input="x")
        status = await pool.run(host, ["crm_mon", "-1", "--output-as=xml"])
        assert set(endpoint.connections) == conns and len(conns) == 1  # the same connection throughout
    assert (ignored.exit_status, ignored.stdout, ignored.stderr) == (0, "", "")
    assert (unknown.exit_status, unknown.stderr) == (127, "bash: line 1: no-such-tool: command not found\n")
    assert crm_mon_xml.parse_crm_mon_xml(status.stdout).promoted_nodes == (A,)


async def test_stdin_that_is_not_utf8_is_read_as_replacement_characters(sh, lab):
    # Was: one invalid byte was an asyncssh protocol error that cut the connection with every session on it.
    conn = await sh.connect(A)
    try:
        res = await conn.run("crontab -", input=b"0 * * * * /bin/true \xff\n", encoding=None, timeout=30)
        assert res.exit_status == 0, res.stderr
        listed = await conn.run("crontab -l", check=False, timeout=30)
    finally:
        conn.close()
    assert listed.stdout == "0 * * * * /bin/true \ufffd\n"


@pytest.mark.parametrize("where", ["reads_stdin", "run_pipeline"])
async def test_a_lab_bug_answers_the_command_and_keeps_the_connection(sh, monkeypatch, where):
    import lab.sshd

    def broken(*args, **kwargs):
        raise RuntimeError("simulated lab bug")

    assert (await sh.run(A, "true")).exit_status == 0  # connection open before the bug
    with monkeypatch.context() as patch:
        patch.setattr(lab.sshd, where, broken)
        res = await sh.run(A, "crm_mon -1")
    assert res.exit_status == 1 and res.stdout == ""
    assert res.stderr == (
        "db2ops lab: internal error answering this command: RuntimeError: simulated lab bug; "
        "please report this lab bug\n"
    )
    assert (await sh.run(A, "crm_mon -1")).exit_status == 0  # same connection (sh.run would raise otherwise)
