"""ClusterStatus snapshots for the console tests, built from the real Pacemaker lab captures.

Scenarios (pacemaker-lab state in brackets): healthy [01-healthy], after_failover [02-after-move: db2b
promoted], host_unreachable [04-node-down: db2b crashed, seen from db2a], no_quorum [06-no-quorum],
alarm_in_alarm [01-healthy, one of the cluster's CloudWatch alarms in ALARM];
failover_stale and mid_failover [04-node-down mirrored: db2a, the primary, crashed, seen from db2b] — after
Pacemaker promoted db2b, and during the promotion (db2b not yet promoted, route still to db2a).
Times are fixed (T0) and the app gets a frozen clock, so ages in snapshots are deterministic; the
04-node-down crm_mon answer (captured at 15:00:11) is re-dated to the snapshot so its promote precedes it.
"""

from __future__ import annotations

import asyncio
import calendar
import re
import time
from dataclasses import dataclass, replace
from typing import Any

from corpus import CORPUS, LAB

from services.cluster_model import ClusterAlarm, HadrStatus, OverlayRoute
from services.inventory.model import AwsSettings, Cluster, Host, Inventory
from services.parsers.corosync import parse_qdevice_tool, parse_qnetd_tool, parse_quorumtool
from services.parsers.crm_mon_xml import parse_crm_mon_xml
from services.parsers.db2pd_hadr import parse_db2pd_hadr
from services.part_errors import ErrorKind, PartError
from services.settings import Settings
from services.status.model import ClusterStatus, Part
from services.status.verdicts import derive_verdicts

T0 = 1_795_705_146.0  # 2026-11-26 14:59:06 UTC, when the lab captures were taken
NOW = T0 + 1.5
IDS = {"db2a": "i-0aaa1111", "db2b": "i-0bbb2222", "qnetd": "i-0qqq3333"}
OVERLAY = "192.168.1.81"


def _read(rel: str) -> str:
    return (LAB / rel).read_text(encoding="utf-8")


def _hadr(role: str, state: str = "PEER", connect: str = "CONNECTED") -> HadrStatus:
    base = parse_db2pd_hadr((CORPUS / "db2pd-hadr" / "peer-primary-azure-rhel-v111.txt").read_text())
    gap = (
        0 if state == "PEER" else base.streams[0].log_gap_bytes
    )  # the sample's 126 MiB gap only when not in sync
    stream = replace(base.streams[0], role=role, state=state, connect_status=connect, log_gap_bytes=gap)
    return replace(base, database="HADRDB", streams=(stream,))


def _p(value: Any, source: str, t: float = T0, error: PartError | None = None) -> Part[Any]:
    return Part(source=source, fetched_at=t, value=value, error=error)


def _route(host: str, t: float = T0) -> Part[OverlayRoute]:
    return _p(OverlayRoute("rtb-0lab", f"{OVERLAY}/32", instance_id=IDS[host], state="active"), "aws:ec2", t)


def ssh_refused(address: str) -> str:
    """The error SshPool gives for a refused connect, as the status service stores it (host prefix off)."""
    return (
        f"cannot connect to {address}:22 ([Errno 111] Connect call failed ('{address}', 22)); "
        "check the address in the inventory and that sshd runs there"
    )


def refused(host: str, address: str) -> PartError:
    """The PartError the status service stores for that refused connect."""
    return PartError(ErrorKind.UNREACHABLE, ssh_refused(address), host=host)


def _finish(status: ClusterStatus) -> ClusterStatus:
    return replace(status, verdicts=derive_verdicts(status), instance_ids=dict(IDS))


def _capture(
    state: str, host: str, tool: str, parse: Any, t: float, error: PartError | None = None
) -> Part[Any]:
    """The part `host` answered with in capture `state` (e.g. "01-healthy") of the lab, parsed."""
    return _p(parse(_read(f"{state}/{host}__{tool}")), host, t, error)


def _mirrored(text: str) -> str:
    """The capture with db2a and db2b swapped: a crash of db2a seen from db2b (the lab crashed db2b)."""
    return text.replace("db2a", "\0").replace("db2b", "db2a").replace("\0", "db2b")


_CTIME = re.compile(r"[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}")


def _redated(xml: str, t: float) -> str:
    """crm_mon XML with every time shifted so that its `last_update` is `t` (UTC, as the lab's nodes):
    a capture taken at another moment than T0 then tells the same story as the frozen clock."""
    stamp = re.search(r'<last_update time="([^"]+)"', xml)
    if stamp is None:
        return xml
    delta = t - calendar.timegm(time.strptime(" ".join(stamp[1].split()), "%a %b %d %H:%M:%S %Y"))

    def shift(m: re.Match[str]) -> str:
        when = calendar.timegm(time.strptime(" ".join(m[0].split()), "%a %b %d %H:%M:%S %Y")) + delta
        return time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(when))

    return _CTIME.sub(shift, xml)


def _mirror(state: str, host: str, tool: str, parse: Any, t: float) -> Part[Any]:
    """What `host` would have answered in `state` with the roles of db2a and db2b swapped, parsed."""
    other = {"db2a": "db2b", "db2b": "db2a"}.get(host, host)
    return _p(parse(_mirrored(_read(f"{state}/{other}__{tool}"))), host, t)


def _crm(state: str, host: str, t: float) -> Part[Any]:
    return _capture(state, host, "crm_mon_-1_--output-as=xml.xml", parse_crm_mon_xml, t)


def _quorum(state: str, host: str, t: float, error: PartError | None = None) -> Part[Any]:
    return _capture(state, host, "corosync-quorumtool_-s.txt", parse_quorumtool, t, error)


def _qdevice(state: str, host: str, t: float, error: PartError | None = None) -> Part[Any]:
    return _capture(state, host, "corosync-qdevice-tool_-s.txt", parse_qdevice_tool, t, error)


def _qnetd(state: str, t: float, error: PartError | None = None) -> Part[Any]:
    return _capture(state, "qnetd", "corosync-qnetd-tool_-l.txt", parse_qnetd_tool, t, error)


def _both_up(cluster: str, t: float, state: str, primary: str) -> ClusterStatus:
    """Every host answered in capture `state`: `primary` promoted, HADR PRIMARY there, the route to it."""
    hosts = ("db2a", "db2b")
    return _finish(
        ClusterStatus(
            cluster=cluster,
            taken_at=t,
            crm=_crm(state, primary, t),
            quorum={h: _quorum(state, h, t) for h in hosts},
            qdevice={h: _qdevice(state, h, t) for h in hosts},
            qnetd=_qnetd(state, t),
            hadr={h: _p(_hadr("PRIMARY" if h == primary else "STANDBY"), h, t) for h in hosts},
            overlay_route=_route(primary, t),
        )
    )


def healthy(cluster: str = "lab-hadr", t: float = T0) -> ClusterStatus:
    """db2a promoted and HADR PRIMARY in PEER, quorum with qdevice, route to db2a."""
    return _both_up(cluster, t, "01-healthy", "db2a")


def after_failover(cluster: str = "lab-hadr", t: float = T0) -> ClusterStatus:
    """db2b promoted (crm resource move), HADR PRIMARY on db2b, route moved to db2b."""
    return _both_up(cluster, t, "02-after-move", "db2b")


def taken_over(cluster: str = "lab-hadr", t: float = T0) -> ClusterStatus:
    """after_failover, healthy again, db2b's HADR_LAST_TAKEOVER_TIME 10 minutes before `t`: the healthy
    headline says "since the takeover at ..."."""
    status = after_failover(cluster, t)
    part = status.hadr["db2b"]
    assert part.value is not None
    stream = replace(part.value.streams[0], last_takeover_time=t - 600)
    hadr = {**status.hadr, "db2b": replace(part, value=replace(part.value, streams=(stream,)))}
    return replace(status, hadr=hadr)


def host_unreachable(cluster: str = "lab-hadr", t: float = T0) -> ClusterStatus:
    """db2b crashed: its parts keep their last good values (30 s old) with the connection error."""
    err = refused("db2b", "10.99.0.12")
    old = t - 30
    down = "04-node-down"
    return _finish(
        ClusterStatus(
            cluster=cluster,
            taken_at=t,
            crm=_crm(down, "db2a", t),
            quorum={"db2a": _quorum(down, "db2a", t), "db2b": _quorum("01-healthy", "db2b", old, err)},
            qdevice={"db2a": _qdevice(down, "db2a", t), "db2b": _qdevice("01-healthy", "db2b", old, err)},
            qnetd=_qnetd(down, t),
            hadr={
                "db2a": _p(_hadr("PRIMARY", "DISCONNECTED", "DISCONNECTED"), "db2a", t),
                "db2b": _p(_hadr("STANDBY"), "db2b", old, err),
            },
            overlay_route=_route("db2a", t),
            host_errors={"db2b": err},
        )
    )


def no_quorum(cluster: str = "lab-hadr", t: float = T0) -> ClusterStatus:
    """qnetd down and db2a crashed: db2b alone, without quorum, every resource stopped."""
    err_a = refused("db2a", "10.99.0.11")
    down = "Can't connect to qnetd socket (is QNetd running?)"
    qnetd_err = PartError(
        ErrorKind.EXIT_CODE,
        f"corosync-qnetd-tool exited 3: {down}",
        host="qnetd",
        command="corosync-qnetd-tool -l",
        exit_status=3,
        output=down,
    )
    old = t - 40
    alone = "06-no-quorum"
    return _finish(
        ClusterStatus(
            cluster=cluster,
            taken_at=t,
            crm=_crm(alone, "db2b", t),
            quorum={"db2b": _quorum(alone, "db2b", t)},
            qdevice={"db2b": _qdevice(alone, "db2b", t)},
            qnetd=_qnetd("01-healthy", old, qnetd_err),
            hadr={
                "db2a": _p(_hadr("PRIMARY"), "db2a", old, err_a),
                "db2b": _p(_hadr("STANDBY", "DISCONNECTED", "DISCONNECTED"), "db2b", t),
            },
            overlay_route=_route("db2a", t),
            host_errors={"db2a": err_a},
        )
    )


def alarm_in_alarm(cluster: str = "lab-hadr", t: float = T0) -> ClusterStatus:
    """Healthy, but the cluster's audit alarm has been in ALARM for 2m05s (its diag alarm is OK)."""
    alarms = (
        ClusterAlarm(f"db2ops-{cluster}-db2diag-error-severe", "OK", t - 3600),
        ClusterAlarm(f"db2ops-{cluster}-sensitive-table-access", "ALARM", t - 125),
    )
    return _finish(replace(healthy(cluster, t), alarms=_p(alarms, "aws:cloudwatch us-east-1", t)))


def _primary_crashed(cluster: str, t: float, seen_for: float, promoted: bool) -> ClusterStatus:
    """db2a (the primary) crashed `seen_for` s before `t`: its parts keep their healthy values with the
    connection error; db2b answers as the lone node, promoted (or not yet) with the route following."""
    err = refused("db2a", "10.99.0.11")
    old = t - seen_for
    down = "04-node-down"
    # the capture was taken at 15:00:11 (db2b promoted at 15:00:07): re-dated to the snapshot's time
    xml = _redated(_mirrored(_read(f"{down}/db2a__crm_mon_-1_--output-as=xml.xml")), t)
    if not promoted:  # Pacemaker has not promoted db2b yet: its clone instance is still Unpromoted
        xml = xml.replace('role="Promoted"', 'role="Unpromoted"')
    crm = _p(parse_crm_mon_xml(xml), "db2b", t)
    hadr_b = (
        _hadr("PRIMARY", "DISCONNECTED", "DISCONNECTED")
        if promoted
        else _hadr("STANDBY", "DISCONNECTED", "DISCONNECTED")
    )
    return _finish(
        ClusterStatus(
            cluster=cluster,
            taken_at=t,
            crm=crm,
            quorum={
                "db2a": _quorum("01-healthy", "db2a", old, err),
                "db2b": _mirror(down, "db2b", "corosync-quorumtool_-s.txt", parse_quorumtool, t),
            },
            qdevice={
                "db2a": _qdevice("01-healthy", "db2a", old, err),
                "db2b": _mirror(down, "db2b", "corosync-qdevice-tool_-s.txt", parse_qdevice_tool, t),
            },
            qnetd=_qnetd(down, t),
            hadr={"db2a": _p(_hadr("PRIMARY"), "db2a", old, err), "db2b": _p(hadr_b, "db2b", t)},
            overlay_route=_route("db2b" if promoted else "db2a", t),
            host_errors={"db2a": err},
        )
    )


def failover_stale(cluster: str = "lab-hadr", t: float = T0, seen_for: float = 38.5) -> ClusterStatus:
    """db2a crashed 40 s before the frozen clock; db2b promoted, HADR PRIMARY (no standby), route to db2b. db2a's panels hold
    its last answer: PRIMARY in PEER, votes 3/3 — the values that must not read as a second primary."""
    return _primary_crashed(cluster, t, seen_for, promoted=True)


def mid_failover(cluster: str = "lab-hadr", t: float = T0, seen_for: float = 3.0) -> ClusterStatus:
    """db2a stopped answering 3 s ago; Pacemaker sees it OFFLINE but has not promoted db2b yet."""
    return _primary_crashed(cluster, t, seen_for, promoted=False)


SCENARIOS = {
    "healthy": healthy,
    "after_failover": after_failover,
    "taken_over": taken_over,
    "host_unreachable": host_unreachable,
    "no_quorum": no_quorum,
    "alarm_in_alarm": alarm_in_alarm,
    "failover_stale": failover_stale,
    "mid_failover": mid_failover,
}


def lab_cluster(name: str = "lab-hadr", *, lab: bool = True, environment: str = "lab") -> Cluster:
    hosts = (
        Host("db2a", "127.0.0.1", "db", port=22011, instance_id=IDS["db2a"]),
        Host("db2b", "127.0.0.1", "db", port=22012, instance_id=IDS["db2b"]),
        Host("qnetd", "127.0.0.1", "qdevice", port=22013, instance_id=IDS["qnetd"]),
    )
    aws = AwsSettings(route_table_id="rtb-0lab", overlay_ip=OVERLAY)
    return Cluster(name, environment, read_only=not lab, database="HADRDB", hosts=hosts, aws=aws, lab=lab)


def inventory(*names: str, lab: bool = True) -> Inventory:
    return Inventory(tuple(lab_cluster(n, lab=lab) for n in (names or ("lab-hadr",))), source="test")


class FakeStatusSource:
    """Returns the current scenario's snapshot per cluster; records concurrency; an optional gate
    (asyncio.Event) holds every snapshot until the test opens it."""

    def __init__(self, scenario: str | dict[str, str] = "healthy", clock: Any = None) -> None:
        self.scenario = scenario
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.gate: asyncio.Event | None = None
        self.fail_with: Exception | None = None
        self.pending_host_keys: list[Any] = []
        self.refused_host_keys: list[Any] = []
        self.clock = clock or (lambda: T0)

    def scenario_for(self, cluster: str) -> str:
        return self.scenario if isinstance(self.scenario, str) else self.scenario.get(cluster, "healthy")

    async def snapshot(self, cluster: Cluster) -> ClusterStatus:
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.gate is not None:
                await self.gate.wait()
            else:
                await asyncio.sleep(0)
            if self.fail_with is not None:
                raise self.fail_with
            return SCENARIOS[self.scenario_for(cluster.name)](cluster.name, self.clock())
        finally:
            self.in_flight -= 1


@dataclass
class FakeResult:
    exit_status: int = 0
    stdout: str = ""
    stderr: str = ""


class FakeLabRunner:
    """Plays the lab's `db2ops-lab <verb>`: kill-primary switches the fake source to after_failover."""

    EFFECTS = {"kill-primary": "after_failover", "restore": "healthy", "stop-qnetd": "no_quorum"}

    def __init__(self, source: FakeStatusSource) -> None:
        self.source = source
        self.commands: list[tuple[str, tuple[str, ...]]] = []
        self.backoff_resets: list[str | None] = []  # host names (None: every host), like SshPool's

    def reset_backoff(self, host: Host | None = None) -> int:
        self.backoff_resets.append(host.name if host is not None else None)
        return 0

    async def run(self, host: Host, argv: Any, *, timeout: float | None = None, **_: Any) -> FakeResult:
        self.commands.append((host.name, tuple(argv)))
        verb = argv[1] if len(argv) > 1 else ""
        if verb in self.EFFECTS:
            self.source.scenario = self.EFFECTS[verb]
        return FakeResult()


def settings(**changes: Any) -> Settings:
    return replace(Settings(), **changes)
