"""Gather one ClusterStatus snapshot per cluster, concurrently, from every host and from EC2.

Every command of every host is started at once over the hosts' persistent SSH connections (clusters one
event-loop pass apart, see StatusService), so a refresh costs about one round trip. A failing part keeps its last good value marked stale (`Part.error` set) and
never blanks the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar, cast

from services.cluster_model import (
    ClusterAlarm,
    CrmStatus,
    HadrStatus,
    OverlayRoute,
    QdeviceStatus,
    QnetdStatus,
    QuorumStatus,
)
from services.inventory.model import Cluster, Host, Inventory
from services.part_errors import ErrorKind, PartError, combined, exit_error, one_line, runner_error
from services.ssh.errors import HostKeyChanged, HostKeyUnknown, SshError
from services.ssh.runner import HostRunner
from services.status.alarms_part import AlarmReads, alarms_part
from services.status.aws_part_errors import aws_part_error, aws_timed_out
from services.status.model import ClusterStatus, Part
from services.status.verdicts import derive_verdicts

T = TypeVar("T")

CRM_MON = ("crm_mon", "-1", "--output-as=xml")
QUORUMTOOL = ("corosync-quorumtool", "-s")
QDEVICE_TOOL = ("corosync-qdevice-tool", "-s")
QNETD_TOOL = ("corosync-qnetd-tool", "-l")

# Exit codes that still come with a parseable answer (pacemaker-lab.md "Exit codes and output facts").
_ACCEPTED_EXIT = {
    "crm_mon": {0, 102},  # 102: pacemaker down on that node, XML still says "Not connected"
    "corosync-quorumtool": {0, 2},  # 2: not quorate
    "corosync-qdevice-tool": {0},  # 3: qdevice daemon down
    "corosync-qnetd-tool": {0},  # 3: qnetd down
    "db2pd": {0, 1, 4, 255},  # db2pd's exit code is not meaningful; the text is
}


def db2pd_argv(database: str) -> tuple[str, ...]:
    return ("db2pd", "-hadr", "-db", database)


class StatusService:
    """Snapshots for the clusters of an inventory, over one shared runner (services.ssh.pool.SshPool).

    `pending_host_keys` collects HostKeyUnknown errors so a UI can ask the user; `refused_host_keys`
    collects HostKeyChanged ones (never trusted from here). `last_good` is the one cache of last good
    parts: a failed part comes back with its last good value and the new error (the console's ClusterFeed
    shows those, it keeps none of its own).
    """

    def __init__(
        self,
        inventory: Inventory,
        runner: HostRunner,
        *,
        aws_route: bool = True,
        clock: Callable[[], float] = time.time,
        deadline_s: float | None = None,
    ):
        self.inventory = inventory
        self.runner = runner
        self.aws_route = aws_route  # read AWS: the overlay route and the cluster's alarms
        self.clock = clock
        self.deadline_s = deadline_s  # settings' status_deadline_s: each part's answer, else timed out
        self.pending_host_keys: list[HostKeyUnknown] = []
        self.refused_host_keys: list[HostKeyChanged] = []
        self.last_good = LastGoodParts()
        self.alarm_reads = AlarmReads()  # one DescribeAlarms per account/region, shared by the clusters
        # Clusters polled together start their commands one event-loop pass apart, not all in one pass:
        # the first cluster's channel-open answers are then handled (and its commands sent, and their
        # latency started) while later clusters are still opening channels. A 20-cluster refresh with 50 ms
        # latency went from 2.42x to 2.11x one round trip with it (bench/status_refresh.py, medians of 6).
        self._launch_turn: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    async def snapshot(self, cluster: Cluster) -> ClusterStatus:
        """Return a fresh ClusterStatus for `cluster`; never raises for host or AWS failures."""
        status, key_errors = await _gather(
            cluster,
            self.runner,
            aws_route=self.aws_route,
            clock=self.clock,
            launch_turn=self._turn(),
            deadline_s=self.deadline_s,
            alarm_reads=self.alarm_reads,
            cluster_names=tuple(c.name for c in self.inventory.clusters),
        )
        self._note_host_keys(key_errors)
        carried = self.last_good.carry(status)
        # again with the last good parts: a lost host's last answer dates the failover (incident.py);
        # the other rules read only fresh parts, so their verdicts do not change
        return replace(carried, verdicts=derive_verdicts(carried))

    def _turn(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()  # a lock belongs to one event loop; a service may outlive one
        if self._launch_turn is None or self._launch_turn[0] is not loop:
            self._launch_turn = (loop, asyncio.Lock())
        return self._launch_turn[1]

    async def snapshot_all(self) -> list[ClusterStatus]:
        return list(await asyncio.gather(*(self.snapshot(c) for c in self.inventory.clusters)))

    async def close(self) -> None:
        close = getattr(self.runner, "close", None)
        if close is not None:
            await close()

    def _note_host_keys(self, key_errors: list[HostKeyUnknown]) -> None:
        for err in key_errors:
            if isinstance(err, HostKeyChanged):
                if not any(e.host == err.host for e in self.refused_host_keys):
                    self.refused_host_keys.append(err)
            elif not any(e.host == err.host for e in self.pending_host_keys):
                self.pending_host_keys.append(err)


class LastGoodParts:
    """The last good value of every part of every cluster, to keep a failed part's value (greyed out).

    `carry(status)` records the good parts of `status` and returns it with each failed part replaced by
    its last good one (old value and `fetched_at`, so `Part.stale`) carrying the new error.
    """

    def __init__(self) -> None:
        self._parts: dict[tuple[str, str, str], Part[object]] = {}

    def get(self, cluster: str, kind: str, host: str = "") -> Part[object] | None:
        """The last good part of `kind` ("crm", "quorum", "qdevice", "qnetd", "hadr", "route", "alarms")."""
        return self._parts.get((cluster, kind, host))

    def carry(self, status: ClusterStatus) -> ClusterStatus:
        def keep_one(kind: str, host: str, part: Part[T]) -> Part[T]:
            key = (status.cluster, kind, host)
            if part.ok:
                self._parts[key] = part
                return part
            old = self._parts.get(key)
            if old is None:
                return part
            # The key names the kind of part, and only a part of that kind is stored under it.
            last_good = cast(Part[T], old)
            return replace(
                last_good, error=part.error or PartError(ErrorKind.NO_ANSWER, "no answer", host=host)
            )

        def keep(kind: str, host: str, part: Part[T] | None) -> Part[T] | None:
            return None if part is None else keep_one(kind, host, part)

        def keep_map(kind: str, parts: dict[str, Part[T]]) -> dict[str, Part[T]]:
            return {h: keep_one(kind, h, p) for h, p in parts.items()}

        return replace(
            status,
            crm=keep("crm", "", status.crm),
            quorum=keep_map("quorum", status.quorum),
            qdevice=keep_map("qdevice", status.qdevice),
            qnetd=keep("qnetd", "", status.qnetd),
            hadr=keep_map("hadr", status.hadr),
            overlay_route=keep("route", "", status.overlay_route),
            alarms=keep("alarms", "", status.alarms),
        )


async def gather_cluster_status(
    cluster: Cluster,
    runner: HostRunner,
    *,
    aws_route: bool = True,
    clock: Callable[[], float] = time.time,
    deadline_s: float | None = None,
) -> ClusterStatus:
    """Run every status command on every host of `cluster` at once and build the snapshot.

    Returns a ClusterStatus whose parts carry their source host, time and error; verdicts are derived.
    Never raises for host failures: those become `host_errors` and part errors. A part with no answer
    within `deadline_s` (None: no deadline) is abandoned and marked ErrorKind.TIMEOUT. `aws_route` False:
    no AWS read at all (neither the overlay route nor the alarms).
    """
    status, _ = await _gather(
        cluster, runner, aws_route=aws_route, clock=clock, deadline_s=deadline_s, alarm_reads=AlarmReads()
    )
    return status


async def _gather(
    cluster: Cluster,
    runner: HostRunner,
    *,
    aws_route: bool,
    clock: Callable[[], float],
    launch_turn: asyncio.Lock | None = None,
    deadline_s: float | None = None,
    alarm_reads: AlarmReads | None = None,
    cluster_names: tuple[str, ...] = (),
) -> tuple[ClusterStatus, list[HostKeyUnknown]]:
    from services.parsers.corosync import parse_qdevice_tool, parse_qnetd_tool, parse_quorumtool
    from services.parsers.crm_mon_xml import parse_crm_mon_xml
    from services.parsers.db2pd_hadr import parse_db2pd_hadr

    host_errors: dict[str, PartError] = {}
    key_errors: list[HostKeyUnknown] = []
    # Parsers are pure: an output seen twice in this gather is parsed once. crm_mon prints the same XML on
    # both nodes of a cluster that is not partitioned (the CIB is shared), so this halves crm_mon parsing.
    parsed: dict[tuple[Callable[[str], object], str], object] = {}

    def parse_once(parse: Callable[[str], T], text: str) -> T:
        key = (parse, text)
        if key not in parsed:
            parsed[key] = parse(text)
        return cast(T, parsed[key])  # the key holds `parse`: the value is what `parse` returned

    async def part(host: Host, argv: Sequence[str], parse: Callable[[str], T]) -> Part[T]:
        start = time.perf_counter()
        command = " ".join(argv)

        def failed(error: PartError, command: str, elapsed: float, raw: str = "") -> Part[T]:
            return Part(
                source=host.name,
                fetched_at=clock(),
                error=error,
                command=command,
                duration_s=elapsed,
                raw=raw,
            )

        try:
            res = await runner.run(host, list(argv))
        except Exception as exc:  # SshError and friends: keep the message, never the traceback
            if isinstance(exc, HostKeyUnknown):  # HostKeyChanged too: the service files them apart
                key_errors.append(exc)
            # one error for the host (no command: every command of the host fails alike), so its parts and
            # host_errors compare equal; a CommandTimeout names its own command
            error = exc.part_error(host.name) if isinstance(exc, SshError) else runner_error(exc, host.name)
            host_errors.setdefault(host.name, error)
            return failed(error, command, time.perf_counter() - start)
        elapsed = time.perf_counter() - start
        accepted = _ACCEPTED_EXIT.get(argv[0], {0})
        if res.exit_status not in accepted:
            error = exit_error(host.name, res.command, res.exit_status, res.stdout, res.stderr)
            return failed(error, res.command, elapsed)
        try:
            value = parse_once(parse, res.stdout)
        except ValueError as exc:  # ParseError is a ValueError
            error = PartError(ErrorKind.PARSE, one_line(exc), host=host.name, command=res.command)
            return failed(error, res.command, elapsed, raw=res.stdout)  # evidence of what did not parse
        # raw: the recording keeps the output itself as evidence (services/record), never the JSON output
        return Part(
            source=host.name,
            fetched_at=clock(),
            value=value,
            command=res.command,
            duration_s=elapsed,
            raw=res.stdout,
        )

    async def host_part(host: Host, argv: Sequence[str], parse: Callable[[str], T]) -> Part[T]:
        if deadline_s is None:
            return await part(host, argv, parse)
        try:
            async with asyncio.timeout(deadline_s):  # cancelling closes the command's SSH channel
                return await part(host, argv, parse)
        except TimeoutError:
            error = _timed_out(host.name, " ".join(argv), deadline_s)
            host_errors.setdefault(host.name, error)  # dropped below when another command answered
            return Part(
                source=host.name,
                fetched_at=clock(),
                error=error,
                command=error.command,
                duration_s=deadline_s,
            )

    async with launch_turn if launch_turn is not None else contextlib.nullcontext():
        db_hosts = cluster.db_hosts
        qhost = cluster.qdevice_host
        # One dict of tasks per kind of part, so each keeps its type; all start on the next event-loop pass.
        crm_tasks: dict[str, asyncio.Task[Part[CrmStatus]]] = {}
        quorum_tasks: dict[str, asyncio.Task[Part[QuorumStatus]]] = {}
        qdevice_tasks: dict[str, asyncio.Task[Part[QdeviceStatus]]] = {}
        hadr_tasks: dict[str, asyncio.Task[Part[HadrStatus]]] = {}
        qnetd_task: asyncio.Task[Part[QnetdStatus]] | None = None
        route_task: asyncio.Task[Part[OverlayRoute]] | None = None
        alarms_task: asyncio.Task[Part[tuple[ClusterAlarm, ...]]] | None = None
        for h in db_hosts:
            # crm_mon runs on both nodes: in a partition each side sees a different cluster (and only one may be
            # quorate), which one node's answer cannot show. When they agree, the output is parsed once (above).
            crm_tasks[h.name] = asyncio.ensure_future(host_part(h, CRM_MON, parse_crm_mon_xml))
            quorum_tasks[h.name] = asyncio.ensure_future(host_part(h, QUORUMTOOL, parse_quorumtool))
            qdevice_tasks[h.name] = asyncio.ensure_future(host_part(h, QDEVICE_TOOL, parse_qdevice_tool))
            hadr_tasks[h.name] = asyncio.ensure_future(
                host_part(h, db2pd_argv(cluster.database), parse_db2pd_hadr)
            )
        if qhost is not None:
            qnetd_task = asyncio.ensure_future(host_part(qhost, QNETD_TOOL, parse_qnetd_tool))
        if aws_route and cluster.aws.route_table_id and cluster.aws.overlay_ip:
            route_task = asyncio.ensure_future(overlay_route_part(cluster, clock, deadline_s=deadline_s))
        # a lab without moto (`db2ops lab --no-aws`) has no CloudWatch: never read a real account's instead
        no_cloudwatch = cluster.lab and not cluster.aws.is_lab
        if aws_route and alarm_reads is not None and not no_cloudwatch:
            alarms_task = asyncio.ensure_future(
                alarms_part(
                    cluster, alarm_reads, clock=clock, deadline_s=deadline_s, cluster_names=cluster_names
                )
            )
        every: list[asyncio.Task[Any]] = [
            *crm_tasks.values(),
            *quorum_tasks.values(),
            *qdevice_tasks.values(),
            *hadr_tasks.values(),
            *([qnetd_task] if qnetd_task is not None else []),
            *([route_task] if route_task is not None else []),
            *([alarms_task] if alarms_task is not None else []),
        ]
        pending = asyncio.gather(*every)  # cancelling it cancels every task
        # A poll cancelled mid-snapshot never awaits `pending`: read its outcome here so asyncio does not log
        # "_GatheringFuture exception was never retrieved" at shutdown.
        pending.add_done_callback(_retrieved)
        if launch_turn is not None:
            try:
                await asyncio.sleep(0)  # that pass sends this cluster's requests before the next cluster's
            except BaseException:
                pending.cancel()
                raise
    await pending

    def done(tasks: dict[str, asyncio.Task[Part[T]]]) -> dict[str, Part[T]]:
        return {h: t.result() for h, t in tasks.items()}

    quorum, qdevice, hadr = done(quorum_tasks), done(qdevice_tasks), done(hadr_tasks)
    crm_parts = done(crm_tasks)
    qnetd = qnetd_task.result() if qnetd_task is not None else None
    crm = _pick_crm(crm_parts)
    # A host that answered some command is reachable: drop errors that were per-command only.
    answered: list[Part[object]] = [*crm_parts.values(), *quorum.values(), *qdevice.values(), *hadr.values()]
    if qnetd is not None:
        answered.append(qnetd)
    for p in answered:
        if p.error is None:
            host_errors.pop(p.source, None)

    status = ClusterStatus(
        cluster=cluster.name,
        taken_at=clock(),
        crm=crm,
        quorum=quorum,
        qdevice=qdevice,
        qnetd=qnetd,
        hadr=hadr,
        overlay_route=route_task.result() if route_task is not None else None,
        alarms=alarms_task.result() if alarms_task is not None else None,
        host_errors=host_errors,
        instance_ids={h.name: h.instance_id for h in cluster.hosts if h.instance_id},
        instance=cluster.instance or "",
        database=cluster.database or "",
    )
    return replace(status, verdicts=derive_verdicts(status)), key_errors


def _retrieved(future: asyncio.Future[list[Any]]) -> None:
    """Mark a finished gather's exception as seen (its tasks' parts are read elsewhere, or were abandoned)."""
    if not future.cancelled():
        future.exception()


def _pick_crm(parts: dict[str, Part[CrmStatus]]) -> Part[CrmStatus] | None:
    """Prefer a node whose Pacemaker is connected and quorate: it speaks for the cluster."""
    if not parts:
        return None

    def rank(p: Part[CrmStatus]) -> int:
        v = p.value if p.ok else None
        if v is None:
            return 0
        return 1 + int(v.connected) + int(bool(v.connected and v.with_quorum))

    best = max(parts.values(), key=rank)
    if not best.ok:
        errors = [p.error or PartError(ErrorKind.NO_ANSWER, "no answer", host=h) for h, p in parts.items()]
        return replace(best, source=",".join(parts), error=combined(errors))
    return best


def _timed_out(host: str, command: str, deadline_s: float) -> PartError:
    """The TIMEOUT error of a host part with no answer within the status deadline."""
    return PartError(
        ErrorKind.TIMEOUT,
        f"{host} did not answer `{command}` within {deadline_s:g} s; check the host is up and not "
        f"overloaded (status_deadline_s in settings if it is slow but healthy)",
        host=host,
        command=command,
    )


async def overlay_route_part(
    cluster: Cluster, clock: Callable[[], float] = time.time, *, deadline_s: float | None = None
) -> Part[OverlayRoute]:
    """Read the overlay IP's route from EC2 (describe_route_tables); errors become the part's error.

    With a short-timeout client (make_read_client) in a thread that is abandoned, not waited for, when
    `deadline_s` passes (the part is then ErrorKind.TIMEOUT)."""
    aws = cluster.aws
    dest = f"{aws.overlay_ip}/32"
    start = time.perf_counter()
    source = "lab:moto ec2" if aws.is_lab else f"aws:ec2 {aws.region}"
    command = f"ec2.describe_route_tables(RouteTableIds=[{aws.route_table_id!r}])"

    def finished(value: OverlayRoute | None = None, error: PartError | None = None) -> Part[OverlayRoute]:
        duration_s = time.perf_counter() - start
        return Part(
            source=source,
            fetched_at=clock(),
            value=value,
            error=error,
            command=command,
            duration_s=duration_s,
        )

    from services.aws_clients import call_abandonable, make_read_client

    try:
        async with asyncio.timeout(deadline_s) as budget:
            client = await asyncio.to_thread(make_read_client, "ec2", aws)
            resp = await call_abandonable(client, "describe_route_tables", RouteTableIds=[aws.route_table_id])
    except Exception as exc:
        if deadline_s is not None and budget.expired():
            return finished(error=aws_timed_out(aws, command, deadline_s))
        return finished(error=aws_part_error(exc, command))
    for table in resp.get("RouteTables", []):
        for r in table.get("Routes", []):
            if r.get("DestinationCidrBlock") == dest:
                route = OverlayRoute(
                    route_table_id=aws.route_table_id or "",
                    destination=dest,
                    instance_id=r.get("InstanceId"),
                    network_interface_id=r.get("NetworkInterfaceId"),
                    state=r.get("State", ""),
                )
                return finished(value=route)
    missing = f"no route for {dest} in {aws.route_table_id}: create it (HA setup, overlay IP step)"
    return finished(error=PartError(ErrorKind.NOT_FOUND, missing, command=command))
