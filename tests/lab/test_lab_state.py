"""The lab's state model on a fake clock: timed failover, log positions, catch-up, events, dispatch."""

from __future__ import annotations

import pytest

from lab import commands
from lab.state import LOG_RATE_BYTES_PER_S, LabCluster


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def make(
    delay: float = 2.0, catchup: float | None = None, db2: str | None = None
) -> tuple[LabCluster, Clock, list]:
    clock = Clock()
    cluster = LabCluster("lab1", failover_delay_s=delay, catchup_s=catchup, clock=clock, db2=db2)
    events: list = []
    cluster.subscribe(lambda kind, details: events.append((kind, details)))
    return cluster, clock, events


def test_log_positions_advance_with_time_and_follow_in_peer() -> None:
    c, clock, _ = make()
    p0 = c.primary_log_pos(clock.now)
    clock.now += 10
    assert c.primary_log_pos(clock.now) == p0 + 10 * LOG_RATE_BYTES_PER_S
    assert c.standby_log_pos(clock.now) == c.primary_log_pos(clock.now)
    assert c.hadr_state(clock.now) == "PEER"


def test_disconnect_grows_the_gap_and_reconnect_catches_up() -> None:
    c, clock, events = make(catchup=5.0)
    c.disconnect_hadr()
    clock.now += 4
    assert c.hadr_state(clock.now) == "DISCONNECTED"
    assert c.primary_log_pos(clock.now) - c.standby_log_pos(clock.now) == 4 * LOG_RATE_BYTES_PER_S
    c.reconnect_hadr()
    clock.now += 1
    c.tick()
    assert c.hadr_state(clock.now) == "REMOTE_CATCHUP"
    gap = c.primary_log_pos(clock.now) - c.standby_log_pos(clock.now)
    assert 0 < gap < 5 * LOG_RATE_BYTES_PER_S
    clock.now += 5
    c.tick()
    assert c.hadr_state(clock.now) == "PEER"
    assert c.standby_log_pos(clock.now) == c.primary_log_pos(clock.now)
    kinds = [k for k, _ in events]
    assert kinds == ["hadr_disconnect", "hadr_reconnect", "hadr_peer"]


def test_failover_waits_for_the_delay_then_takes_over_once() -> None:
    c, clock, events = make(delay=2.0)
    assert c.kill_primary() == "db2a"
    clock.now += 1
    c.tick()
    assert c.promoted is None and c.summary()["failover_pending"] is True
    assert c.hadr_primary == "db2a"
    clock.now += 1.5
    c.tick()
    c.tick()
    assert (c.promoted, c.hadr_primary) == ("db2b", "db2b")
    assert c.last_takeover == clock.now
    assert c.hadr_state(clock.now) == "DISCONNECTED"
    kinds = [k for k, _ in events]
    assert kinds == ["host_down", "node_lost", "takeover", "promote"]
    promote = events[-1][1]
    assert promote["node"] == "db2b" and promote["instance_id"] == c.hosts["db2b"].instance_id
    assert promote["cluster"] == "lab1"


def test_no_failover_without_quorum_until_qnetd_returns() -> None:
    c, clock, events = make(delay=0)
    c.stop_qnetd()
    c.kill_primary()
    assert not c.quorate() and c.promoted is None and c.db_active["db2b"] is False
    c.start_qnetd()
    assert c.quorate() and c.promoted == "db2b" and c.hadr_primary == "db2b"
    assert ("quorum_lost", {"cluster": "lab1", "nodes": ["db2b"]}) in events


def test_no_quorum_policy_ignore_fails_over_without_quorum() -> None:
    """11.5.5's db2cm left no-quorum-policy=ignore (lab/release.py): Pacemaker carries on in a partition
    without quorum, so the survivor is promoted although the quorum device is down as well."""
    c, clock, events = make(delay=0, db2="11.5.5")
    assert c.release.no_quorum_policy == "ignore"
    c.stop_qnetd()
    c.kill_primary()
    assert not c.quorate() and c.promoted == "db2b" and c.hadr_primary == "db2b" and c.db_active["db2b"]
    assert ("quorum_lost", {"cluster": "lab1", "nodes": ["db2b"]}) in events


def test_move_primary_is_a_graceful_takeover() -> None:
    c, clock, events = make()
    c.move_primary("db2b")
    assert (c.promoted, c.hadr_primary, c.hadr_state(clock.now)) == ("db2b", "db2b", "PEER")
    assert all(h.up for h in c.hosts.values())
    assert ("takeover", {"cluster": "lab1", "node": "db2b", "old_primary": "db2a", "forced": False}) in events
    with pytest.raises(ValueError, match="unknown node"):
        c.move_primary("db2z")
    c.disconnect_hadr()
    with pytest.raises(ValueError, match="not in PEER"):
        c.move_primary("db2a")


def test_a_broken_listener_does_not_break_the_lab() -> None:
    c, clock, events = make()

    def boom(kind: str, details: dict) -> None:
        raise RuntimeError("listener bug")

    c.subscribe(boom)
    c.stop_qnetd()
    assert c.qnetd_up is False and events[-1][0] == "qnetd_stop"


def test_set_latency_rejects_negative() -> None:
    c, _, _ = make()
    with pytest.raises(ValueError):
        c.set_latency(-1)
    assert commands.lab_control(c, ["latency", "-5"])[0] == 2
    assert commands.lab_control(c, ["latency", "fast"])[0] == 2
    assert commands.lab_control(c, ["move-primary", "nowhere"])[0] == 1
    assert commands.lab_control(c, [])[0] == 2


def test_dispatch_handles_prefixes_paths_and_extensions() -> None:
    c, _, _ = make()
    host = c.hosts["db2a"]
    status, out, _ = commands.run_command(c, host, ["sudo", "-n", "/usr/sbin/crm_mon", "-1"])
    assert status == 0 and out.startswith("Cluster Summary:")  # the 2.1.2 db2pcmk build
    status, out, _ = commands.run_command(c, host, ["LANG=C", "hostname"])
    assert (status, out) == (0, "db2a\n")

    seen = {}

    def fake_crontab(ctx: commands.CommandContext) -> tuple[int, str, str]:
        seen["stdin"], seen["env"] = ctx.stdin, ctx.env
        return 0, "installed\n", ""

    commands.register_command(
        "lab-test-crontab",
        fake_crontab,
        roles=("db",),
        reads_stdin=True,
        match=lambda argv: argv[1:] == ["-"],
    )
    try:
        assert commands.reads_stdin(host, ["lab-test-crontab", "-"])
        assert not commands.reads_stdin(host, ["lab-test-crontab", "-l"])
        assert commands.run_command(c, host, ["X=1", "lab-test-crontab", "-"], stdin="* * * * * true\n") == (
            0,
            "installed\n",
            "",
        )
        assert seen == {"stdin": "* * * * * true\n", "env": {"X": "1"}}
        assert commands.run_command(c, host, ["lab-test-crontab", "-l"])[0] == 127
        assert commands.run_command(c, c.hosts["qdev"], ["lab-test-crontab", "-"])[0] == 127
    finally:
        commands._REGISTRY.pop("lab-test-crontab", None)


def test_handler_bug_answers_instead_of_raising() -> None:
    c, _, _ = make()

    def broken(ctx: commands.CommandContext) -> tuple[int, str, str]:
        raise KeyError("oops")

    commands.register_command("lab-test-broken", broken)
    try:
        status, _, err = commands.run_command(c, c.hosts["db2a"], ["lab-test-broken"])
        assert status == 1 and "lab handler error: KeyError" in err
    finally:
        commands._REGISTRY.pop("lab-test-broken", None)
