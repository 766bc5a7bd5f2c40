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
from typing import Any

from services.host_runner import HostRunner
from services.inventory_model import Cluster, Host, Inventory
from services.part_errors import ErrorKind, PartError, combined, exit_error, one_line, runner_error
from services.ssh_errors import HostKeyChanged, HostKeyUnknown, SshError
from services.status_model import ClusterStatus, Part
from services.verdicts import derive_verdicts

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
    """Snapshots for the clusters of an inventory, over one shared runner (services.ssh.SshPool).

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
        self.aws_route = aws_route
        self.clock = clock
        self.deadline_s = deadline_s  # settings' status_deadline_s: each part's answer, else timed out
        self.pending_host_keys: list[HostKeyUnknown] = []
        self.refused_host_keys: list[HostKeyChanged] = []
        self.last_good = LastGoodParts()
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
        )
        self._note_host_keys(key_errors)
        return self.last_good.carry(status)

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
            bucket: list[Any] = (
                self.refused_host_keys if isinstance(err, HostKeyChanged) else self.pending_host_keys
            )
            if not any(getattr(e, "host", None) == err.host for e in bucket):
                bucket.append(err)


class LastGoodParts:
    """The last good value of every part of every cluster, to keep a failed part's value (greyed out).

    `carry(status)` records the good parts of `status` and returns it with each failed part replaced by
    its last good one (old value and `fetched_at`, so `Part.stale`) carrying the new error.
    """

    def __init__(self) -> None:
        self._parts: dict[tuple[str, str, str], Part] = {}

    def get(self, cluster: str, kind: str, host: str = "") -> Part | None:
        """The last good part of `kind` ("crm", "quorum", "qdevice", "qnetd", "hadr", "route")."""
        return self._parts.get((cluster, kind, host))

    def carry(self, status: ClusterStatus) -> ClusterStatus:
        def keep(kind: str, host: str, part: Part | None) -> Part | None:
            if part is None:
                return None
            key = (status.cluster, kind, host)
            if part.ok:
                self._parts[key] = part
                return part
            old = self._parts.get(key)
            if old is None:
                return part
            return replace(old, error=part.error or PartError(ErrorKind.NO_ANSWER, "no answer", host=host))

        def keep_map(kind: str, parts: dict[str, Part]) -> dict[str, Part]:
            return {h: keep(kind, h, p) for h, p in parts.items()}  # type: ignore[misc]

        return replace(
            status,
            crm=keep("crm", "", status.crm),
            quorum=keep_map("quorum", status.quorum),
            qdevice=keep_map("qdevice", status.qdevice),
            qnetd=keep("qnetd", "", status.qnetd),
            hadr=keep_map("hadr", status.hadr),
            overlay_route=keep("route", "", status.overlay_route),
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
    within `deadline_s` (None: no deadline) is abandoned and marked ErrorKind.TIMEOUT.
    """
    status, _ = await _gather(cluster, runner, aws_route=aws_route, clock=clock, deadline_s=deadline_s)
    return status


async def _gather(
    cluster: Cluster,
    runner: HostRunner,
    *,
    aws_route: bool,
    clock: Callable[[], float],
    launch_turn: asyncio.Lock | None = None,
    deadline_s: float | None = None,
) -> tuple[ClusterStatus, list[HostKeyUnknown]]:
    from services.parsers.corosync import parse_qdevice_tool, parse_qnetd_tool, parse_quorumtool
    from services.parsers.crm_mon_xml import parse_crm_mon_xml
    from services.parsers.db2pd_hadr import parse_db2pd_hadr

    host_errors: dict[str, PartError] = {}
    key_errors: list[HostKeyUnknown] = []
    # Parsers are pure: an output seen twice in this gather is parsed once. crm_mon prints the same XML on
    # both nodes of a cluster that is not partitioned (the CIB is shared), so this halves crm_mon parsing.
    parsed: dict[tuple[Callable[[str], Any], str], Any] = {}

    async def part(host: Host, argv: Sequence[str], parse: Callable[[str], Any]) -> Part:
        start = time.perf_counter()
        command = " ".join(argv)

        def failed(error: PartError, command: str, elapsed: float) -> Part:
            return Part(
                source=host.name, fetched_at=clock(), error=error, command=command, duration_s=elapsed
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
            key = (parse, res.stdout)
            value = parsed[key] if key in parsed else parsed.setdefault(key, parse(res.stdout))
        except ValueError as exc:  # ParseError is a ValueError
            error = PartError(ErrorKind.PARSE, one_line(exc), host=host.name, command=res.command)
            return failed(error, res.command, elapsed)
        return Part(
            source=host.name, fetched_at=clock(), value=value, command=res.command, duration_s=elapsed
        )

    async def host_part(host: Host, argv: Sequence[str], parse: Callable[[str], Any]) -> Part[Any]:
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
        tasks: dict[tuple[str, str], Any] = {}
        for h in db_hosts:
            # crm_mon runs on both nodes: in a partition each side sees a different cluster (and only one may be
            # quorate), which one node's answer cannot show. When they agree, the output is parsed once (above).
            tasks[("crm", h.name)] = host_part(h, CRM_MON, parse_crm_mon_xml)
            tasks[("quorum", h.name)] = host_part(h, QUORUMTOOL, parse_quorumtool)
            tasks[("qdevice", h.name)] = host_part(h, QDEVICE_TOOL, parse_qdevice_tool)
            tasks[("hadr", h.name)] = host_part(h, db2pd_argv(cluster.database), parse_db2pd_hadr)
        if qhost is not None:
            tasks[("qnetd", qhost.name)] = host_part(qhost, QNETD_TOOL, parse_qnetd_tool)
        if aws_route and cluster.aws.route_table_id and cluster.aws.overlay_ip:
            tasks[("route", "aws:ec2")] = overlay_route_part(cluster, clock, deadline_s=deadline_s)
        pending = asyncio.gather(*tasks.values())  # every command starts on the next event-loop pass
        if launch_turn is not None:
            try:
                await asyncio.sleep(0)  # that pass sends this cluster's requests before the next cluster's
            except BaseException:
                pending.cancel()
                raise
    results = dict(zip(tasks, await pending, strict=True))

    def by(kind: str) -> dict[str, Part]:
        return {h: p for (k, h), p in results.items() if k == kind}

    crm = _pick_crm(by("crm"))
    # A host that answered some command is reachable: drop errors that were per-command only.
    for (_, h), p in results.items():
        if p.error is None and h in host_errors:
            del host_errors[h]

    status = ClusterStatus(
        cluster=cluster.name,
        taken_at=clock(),
        crm=crm,
        quorum=by("quorum"),
        qdevice=by("qdevice"),
        qnetd=next(iter(by("qnetd").values()), None),
        hadr=by("hadr"),
        overlay_route=next(iter(by("route").values()), None),
        host_errors=host_errors,
        instance_ids={h.name: h.instance_id for h in cluster.hosts if h.instance_id},
    )
    return replace(status, verdicts=derive_verdicts(status)), key_errors


def _pick_crm(parts: dict[str, Part]) -> Part | None:
    """Prefer a node whose Pacemaker is connected and quorate: it speaks for the cluster."""
    if not parts:
        return None

    def rank(p: Part) -> int:
        if not p.ok:
            return 0
        v = p.value
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


def _aws_timed_out(cluster: Cluster, command: str, deadline_s: float) -> PartError:
    """The TIMEOUT error of an AWS part with no answer within the status deadline."""
    aws = cluster.aws
    endpoint = aws.endpoint_url or f"the EC2 endpoint of {aws.region}"
    lab_hint = " (for the lab: is `db2ops lab` still running?)" if aws.is_lab else ""
    return PartError(
        ErrorKind.TIMEOUT,
        f"{endpoint} did not answer {command} within {deadline_s:g} s; check the network, proxy and VPC "
        f"endpoints from this machine{lab_hint}",
        command=command,
    )


async def overlay_route_part(
    cluster: Cluster, clock: Callable[[], float] = time.time, *, deadline_s: float | None = None
) -> Part:
    """Read the overlay IP's route from EC2 (describe_route_tables); errors become the part's error.

    With a short-timeout client (make_read_client) in a thread that is abandoned, not waited for, when
    `deadline_s` passes (the part is then ErrorKind.TIMEOUT)."""
    from services.cluster_model import OverlayRoute

    aws = cluster.aws
    dest = f"{aws.overlay_ip}/32"
    start = time.perf_counter()
    source = "lab:moto ec2" if aws.is_lab else f"aws:ec2 {aws.region}"
    command = f"ec2.describe_route_tables(RouteTableIds=[{aws.route_table_id!r}])"

    def finished(**outcome: Any) -> Part:
        duration_s = time.perf_counter() - start
        return Part(source=source, fetched_at=clock(), command=command, duration_s=duration_s, **outcome)

    from services.aws_clients import call_abandonable, make_read_client

    try:
        async with asyncio.timeout(deadline_s) as budget:
            client = await asyncio.to_thread(make_read_client, "ec2", aws)
            resp = await call_abandonable(client, "describe_route_tables", RouteTableIds=[aws.route_table_id])
    except Exception as exc:
        if deadline_s is not None and budget.expired():
            return finished(error=_aws_timed_out(cluster, command, deadline_s))
        return finished(error=PartError(_aws_kind(exc), _describe_aws(exc), command=command))
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


def _describe_aws(exc: BaseException) -> str:
    try:
        from services.aws_clients import describe_aws_error

        return describe_aws_error(exc)
    except Exception:
        return one_line(exc)


def _aws_kind(exc: BaseException) -> ErrorKind:
    """AWS_DENIED when AWS refused the call for lack of a permission, else AWS_ERROR."""
    from services.aws_clients import _ACCESS_DENIED  # the codes describe_aws_error calls a denial

    response = getattr(exc, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return ErrorKind.AWS_DENIED if code in _ACCESS_DENIED else ErrorKind.AWS_ERROR
