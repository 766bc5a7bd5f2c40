"""The incident headline and its hints through every lab drill (tui/drills.py: K kill-primary,
D disconnect-hadr, N stop-qnetd, R restore, and a killed standby), at several moments each: just after,
during, after settling, after restore. One scenario table; every moment also goes through the checks
every headline must pass (incident_checks.py: no cleanup while Pacemaker acts, no "...", the same words on
the banner, the fleet row, `status` and `status --json`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from incident_checks import check_advice, check_same_everywhere, recommends_cleanup
from incident_harness import DrillWalk

from services.status.incident import clock_time

Action = Callable[[DrillWalk], None]


@dataclass(frozen=True)
class Moment:
    label: str
    wait_s: float  # fake seconds after the action (or the previous moment)
    code: str  # the headline's code
    title: tuple[str, ...] = ()  # fragments of the first line
    hint: tuple[str, ...] = ()  # fragments of the headline's hint
    consequences: tuple[str, ...] = ()  # fragments, each in some consequence line
    absent: tuple[str, ...] = ()  # in no title, consequence or hint
    action: Action | None = None  # run before waiting (a drill, restore...)


@dataclass(frozen=True)
class Scenario:
    name: str
    moments: tuple[Moment, ...]
    before: tuple[Action, ...] = field(default=())


def kill(walk: DrillWalk) -> None:
    walk.lab.kill_primary()


def restore(walk: DrillWalk) -> None:
    walk.lab.restore()


HEALTHY_B = ("Healthy: db2b is primary, HADR PEER, quorum with qdevice",)
HEALTHY_A = ("Healthy: db2a is primary, HADR PEER, quorum with qdevice",)
TAKEOVER_B = "Healthy: db2b is primary since the takeover at "  # HADR_LAST_TAKEOVER_TIME, for an hour
ADDRESS = "check the address"  # the SSH error's own advice: wrong when Pacemaker knows the host is down

SCENARIOS = (
    Scenario(
        "K kill-primary",
        (
            Moment(
                "just after",
                0.5,
                "failover_in_progress",
                (
                    "failover in progress: Pacemaker is promoting db2b after db2a stopped answering",
                    "just now",
                ),
                ("wait for the promotion of db2b",),
                ("db2a: host down or instance stopped (Pacemaker reports it offline)",),
                absent=(ADDRESS, "running without a standby"),
                action=kill,
            ),
            Moment(
                "during",
                1.5,
                "failover_in_progress",
                ("Pacemaker is promoting db2b", "started 2 s ago"),
                ("do not run `crm resource cleanup`",),
                absent=(ADDRESS,),
            ),
            Moment(
                "after settling",
                10,
                "failover_completed",
                (
                    "db2b took over as HADR primary at ",
                    "s after db2a stopped answering); overlay route follows db2b; running without a standby",
                ),
                ("one more failure stops the database: bring db2a back as standby (start EC2 instance i-0",),
                ("db2a: host down or instance stopped",),
                absent=(ADDRESS, "in progress"),
            ),
            Moment(
                "a minute later",
                60,
                "failover_completed",
                ("db2b took over as HADR primary at ", "running without a standby"),
                ("bring db2a back as standby",),
            ),
            Moment(
                "just after restore",
                1,
                "hadr_not_peer",
                ("db2a is back as standby and catching up (REMOTE_CATCHUP); db2b stays primary",),
                ("wait for catch-up",),
                action=restore,
            ),
            # the DBA coming back sees what happened: the takeover stays in the healthy line for an hour
            Moment(
                "after restore settled",
                30,
                "healthy",
                (TAKEOVER_B, "min ago), HADR PEER, quorum with qdevice"),
            ),
            Moment("55 min later", 55 * 60, "healthy", (TAKEOVER_B, "min ago), HADR PEER")),
            Moment("over an hour after the takeover", 6 * 60, "healthy", HEALTHY_B, absent=("takeover",)),
        ),
    ),
    Scenario(
        "D disconnect-hadr",
        (
            Moment(
                "just after",
                0.5,
                "hadr_disconnected",
                ("HADR link down between db2a (primary) and db2b (standby), both instances running",),
                ("both instances run: check the network between",),
                absent=("db2start", "start hadr", "cleanup"),
                action=lambda w: w.lab.disconnect_hadr(),
            ),
            Moment(
                "a minute later",
                60,
                "hadr_disconnected",
                ("a takeover now loses data",),
                ("HADR reconnects by itself",),
                absent=("db2start",),
            ),
            Moment(
                "just after reconnect",
                0.5,
                "hadr_not_peer",
                ("db2b is back as standby and catching up (REMOTE_CATCHUP); db2a stays primary",),
                action=lambda w: w.lab.reconnect_hadr(),
            ),
            Moment("settled", 30, "healthy", HEALTHY_A, absent=("takeover",)),
        ),
    ),
    Scenario(
        "N stop-qnetd",
        (
            Moment(
                "just after",
                0.5,
                "qnetd_down",
                ("corosync-qnetd on qdev is down: one more failure stops the database",),
                ("start it on qdev: `systemctl start corosync-qnetd`",),
                ("qdevice on db2a is not connected to qnetd",),
                action=lambda w: w.lab.stop_qnetd(),
            ),
            Moment("a minute later", 60, "qnetd_down", ("one more failure stops the database",)),
            Moment("after restore", 1, "healthy", HEALTHY_A, action=restore, absent=("takeover",)),
        ),
    ),
    Scenario(
        "standby killed",
        (
            Moment(
                "just after",
                0.5,
                "host_unreachable",
                ("db2b is down (host down / instance stopped): Pacemaker reports it offline",),
                ("start EC2 instance i-0",),
                ("node db2b is offline: the cluster runs without a standby",),
                absent=(ADDRESS, "took over", "in progress"),
                action=lambda w: w.lab.kill_node("db2b"),
            ),
            Moment("after settling", 30, "host_unreachable", ("db2b is down",), absent=("took over",)),
            Moment("after restore", 60, "healthy", HEALTHY_A, action=restore, absent=("takeover",)),
        ),
    ),
    Scenario(
        "quorum host killed",
        (
            Moment(
                "just after",
                0.5,
                "host_unreachable",
                (
                    "qdev is down (host down / instance stopped): no node's qdevice reaches it, so one more failure",
                ),
                ("start EC2 instance i-0", "one more failure stops the database"),
                absent=(ADDRESS,),
                action=lambda w: w.lab.kill_node("qdev"),
            ),
            Moment("after restore", 30, "healthy", HEALTHY_A, action=restore, absent=("takeover",)),
        ),
    ),
    Scenario(
        "K then R during the promotion",
        (
            Moment("just after", 1, "failover_in_progress", ("promoting db2b",), action=kill),
            # db2a boots before Pacemaker promoted db2b: it takes its primary role back, nothing moved
            Moment("after restore", 30, "healthy", HEALTHY_A, action=restore, absent=("takeover",)),
        ),
    ),
)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
async def test_headline_and_hints_at_every_moment_of_a_drill(scenario: Scenario, monkeypatch) -> None:
    walk = DrillWalk(failover_delay_s=8.0, monkeypatch=monkeypatch)
    first = await walk.snap()
    assert check_same_everywhere(first, walk.clock.now, walk.cluster, "before").code == "healthy"
    walk.advance(5)
    for m in scenario.moments:
        where = f"{scenario.name} / {m.label}"
        if m.action is not None:
            m.action(walk)
        walk.advance(m.wait_s)
        s = await walk.snap()
        head = check_same_everywhere(s, walk.clock.now, walk.cluster, where)
        check_advice(s, head, where)
        said = [head.title, *head.consequences, head.hint]
        assert head.code == m.code, f"{where}: {head.code}: {head.title}"
        for part in m.title:
            assert part in head.title, f"{where}: {part!r} not in {head.title!r}"
        for part in m.hint:
            assert part in head.hint, f"{where}: {part!r} not in {head.hint!r}"
        for part in m.consequences:
            assert any(part in line for line in head.consequences), (
                f"{where}: {part!r} in {head.consequences}"
            )
        for part in m.absent:
            assert not any(part in line for line in said), f"{where}: {part!r} said in {said}"


async def test_the_takeover_time_and_delay_are_pacemakers(monkeypatch) -> None:
    """The first line's time is the promote in crm_mon's history; the delay counts from db2a's last answer."""
    walk = DrillWalk(failover_delay_s=8.0, monkeypatch=monkeypatch)
    await walk.snap()
    last_answer = walk.clock.now
    walk.advance(2)
    walk.lab.kill_primary()
    walk.advance(8)
    s = await walk.snap()  # the lab promotes db2b on this poll's first command
    promote = walk.clock.now
    head = check_same_everywhere(s, walk.clock.now, walk.cluster, "after")
    assert head.title.startswith(
        f"db2b took over as HADR primary at {clock_time(promote)} (Pacemaker promoted it "
        f"{promote - last_answer:.0f} s after db2a stopped answering)"
    )
    assert head.since == pytest.approx(promote, abs=1)


async def test_no_snapshot_during_the_promotion_recommends_a_cleanup(monkeypatch) -> None:
    """Every poll, every 0.5 s from the kill until the promotion, on a lab that promotes after 8 s."""
    walk = DrillWalk(failover_delay_s=8.0, monkeypatch=monkeypatch)
    await walk.snap()
    walk.lab.kill_primary()
    seen = set()
    for _ in range(20):
        walk.advance(0.5)
        s = await walk.snap()
        head = check_same_everywhere(s, walk.clock.now, walk.cluster, "promotion")
        seen.add(head.code)
        assert not any(recommends_cleanup(v.hint) for v in s.verdicts), [v.hint for v in s.verdicts]
        assert not recommends_cleanup(head.hint)
    assert seen == {"failover_in_progress", "failover_completed"}


async def test_the_status_service_dates_the_takeover_from_the_lost_hosts_last_answer(monkeypatch) -> None:
    """StatusService (the console's and `status`'s source) derives the verdicts again with the last good
    parts, so the takeover verdict itself, not only the banner, says how long the promotion took."""
    from services.inventory.model import Inventory
    from services.status.service import StatusService

    walk = DrillWalk(failover_delay_s=8.0, monkeypatch=monkeypatch)
    service = StatusService(Inventory((walk.cluster,)), walk.runner, clock=walk.clock)
    await service.snapshot(walk.cluster)
    walk.advance(3)
    walk.lab.kill_primary()
    walk.advance(9)
    s = await service.snapshot(walk.cluster)
    first = s.verdicts[0]
    assert first.code == "failover_completed"
    assert "(Pacemaker promoted it 12 s after db2a stopped answering)" in first.message, first.message
    assert s.hadr["db2a"].stale  # the last answer it is dated from


async def test_a_headless_status_an_hour_after_the_takeover_still_names_it(monkeypatch) -> None:
    """No earlier snapshot and a promote an hour old: HADR has had no peer since that promote, so the new
    primary took over alone (a standby that died later would have a later disconnect time)."""
    walk = DrillWalk(failover_delay_s=8.0, monkeypatch=monkeypatch)
    walk.lab.kill_primary()
    walk.advance(10)
    walk.lab.tick()  # Pacemaker promotes db2b
    walk.advance(3600)
    s = await walk.snap()  # a fresh harness cache: nothing stale to lean on
    head = check_same_everywhere(s, walk.clock.now, walk.cluster, "an hour later")
    assert head.code == "failover_completed", head.title
    assert head.title.startswith(f"db2b took over as HADR primary at {clock_time(walk.clock.now - 3600)}")


async def test_a_standby_lost_after_an_old_promote_is_no_takeover(monkeypatch) -> None:
    walk = DrillWalk(failover_delay_s=8.0, monkeypatch=monkeypatch)
    walk.advance(3600)
    walk.lab.kill_node("db2b")
    walk.advance(5)
    s = await walk.snap()
    assert [v.code for v in s.verdicts][:2] == ["host_unreachable", "node_offline"], s.verdicts
    assert check_same_everywhere(s, walk.clock.now, walk.cluster, "standby lost").code == "host_unreachable"
