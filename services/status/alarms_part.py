"""The `alarms` part of a status snapshot: the state of the cluster's own CloudWatch alarms.

A cluster's alarms are the ones `setup monitoring` creates for it, named "db2ops-<cluster>-..." (the
alarm screen lists them first by the same prefix: services/alarms/model.py). One DescribeAlarms of every
"db2ops-" alarm answers all the clusters of an account and region: clusters polled within
`ALARM_READ_REUSE_S` of each other share it (`AlarmReads`), so a fleet of 20 clusters refreshed every 2 s
stays far below CloudWatch's DescribeAlarms rate limit. On the lab the same call reaches moto, whose alarm
states the lab's evaluator keeps up to date.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from services.alarms.model import OURS_PREFIX, belongs_to_cluster
from services.cluster_model import ClusterAlarm
from services.inventory.model import AwsSettings, Cluster
from services.status.aws_part_errors import aws_part_error, aws_timed_out
from services.status.model import Part

# An answer younger than this is reused by the next cluster of the same account/region (and a cluster's
# next refresh): alarm states change per evaluation period (60 s for ours), not per refresh.
ALARM_READ_REUSE_S = 5.0
_MAX_PAGES = 20  # 2,000 "db2ops-" alarms; a runaway NextToken never loops forever
ALARMS_COMMAND = f"cloudwatch.describe_alarms(AlarmNamePrefix={OURS_PREFIX!r})"


def cluster_alarms(
    described: Iterable[dict[str, Any]], cluster_name: str, cluster_names: Iterable[str] = ()
) -> tuple[ClusterAlarm, ...]:
    """Return the alarms of `cluster_name` among DescribeAlarms' MetricAlarms, by name."""
    names = tuple(cluster_names)
    mine = []
    for a in described:
        name = str(a.get("AlarmName", ""))
        if belongs_to_cluster(name, cluster_name, names):
            since = a.get("StateUpdatedTimestamp")
            mine.append(
                ClusterAlarm(
                    name=name,
                    state=str(a.get("StateValue", "INSUFFICIENT_DATA")),
                    since=since.timestamp() if isinstance(since, datetime) else None,
                )
            )
    return tuple(sorted(mine, key=lambda a: a.name))


class AlarmReads:
    """The DescribeAlarms answers of each account/region (region, profile, endpoint), shared by the
    clusters polled together and reused for `reuse_s`. One per StatusService; a read belongs to the event
    loop that started it, so a new loop starts afresh."""

    def __init__(self, reuse_s: float = ALARM_READ_REUSE_S, clock: Callable[[], float] = time.monotonic):
        self.reuse_s = reuse_s
        self.clock = clock
        self.calls = 0  # DescribeAlarms reads started (the pages of one read count once)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._reads: dict[tuple[str, str | None, str | None], tuple[float, asyncio.Future[Any]]] = {}

    def read(self, aws: AwsSettings) -> asyncio.Future[tuple[list[dict[str, Any]], float]]:
        """Return the (possibly shared) read of every "db2ops-" alarm of `aws`'s account/region: a future
        of (MetricAlarms, when the answer arrived by time.time()), or of the AWS error."""
        loop = asyncio.get_running_loop()
        if self._loop is not loop:
            self._loop, self._reads = loop, {}
        key = (aws.region, aws.profile, aws.endpoint_url)
        now = self.clock()
        known = self._reads.get(key)
        if known is not None and (not known[1].done() or now - known[0] < self.reuse_s):
            return known[1]
        self.calls += 1
        future = asyncio.ensure_future(describe_db2ops_alarms(aws))
        future.add_done_callback(_retrieved)
        self._reads[key] = (now, future)
        return future


async def describe_db2ops_alarms(aws: AwsSettings) -> tuple[list[dict[str, Any]], float]:
    """Return every metric alarm named "db2ops-..." of `aws`'s account/region and when the answer came.

    A short-timeout client (make_read_client) built in a worker thread; each page in a daemon thread that
    is abandoned, not waited for, when the caller's deadline passes. Raises what boto3 raises."""
    from services.aws_clients import call_abandonable, make_read_client

    client = await asyncio.to_thread(make_read_client, "cloudwatch", aws)
    alarms: list[dict[str, Any]] = []
    token: str | None = None
    for _ in range(_MAX_PAGES):
        page = await call_abandonable(
            client,
            "describe_alarms",
            AlarmNamePrefix=OURS_PREFIX,
            AlarmTypes=["MetricAlarm"],
            **({"NextToken": token} if token else {}),
        )
        alarms += page.get("MetricAlarms", [])
        token = page.get("NextToken")
        if not token:
            break
    return alarms, time.time()


async def alarms_part(
    cluster: Cluster,
    reads: AlarmReads,
    *,
    clock: Callable[[], float] = time.time,
    deadline_s: float | None = None,
    cluster_names: Iterable[str] = (),
) -> Part[tuple[ClusterAlarm, ...]]:
    """Return the cluster's alarms part: every alarm of the cluster with its state, or the AWS error (a
    part error, never raised). `cluster_names` are the inventory's clusters, to tell "prod" from "prod-dr"."""
    aws = cluster.aws
    source = "lab:moto cloudwatch" if aws.is_lab else f"aws:cloudwatch {aws.region}"
    start = time.perf_counter()

    def finished(
        value: tuple[ClusterAlarm, ...] | None = None, error: Any = None, at: float | None = None
    ) -> Part[tuple[ClusterAlarm, ...]]:
        return Part(
            source=source,
            fetched_at=clock() if at is None else at,
            value=value,
            error=error,
            command=ALARMS_COMMAND,
            duration_s=time.perf_counter() - start,
        )

    try:
        async with asyncio.timeout(deadline_s) as budget:
            # shielded: one cluster's deadline must not cancel the read other clusters share
            described, answered_at = await asyncio.shield(reads.read(aws))
    except Exception as exc:
        if deadline_s is not None and budget.expired():
            return finished(error=aws_timed_out(aws, ALARMS_COMMAND, deadline_s, "CloudWatch"))
        return finished(error=aws_part_error(exc, ALARMS_COMMAND, "cloudwatch"))
    mine = cluster_alarms(described, cluster.name, cluster_names)
    # a shared answer is as old as it is: its age shows in the part (time.time() clock: the status clock
    # may be a test's frozen one, then the answer is "now")
    at = answered_at if clock is time.time else None
    return finished(value=mine, at=at)


def _retrieved(future: asyncio.Future[Any]) -> None:
    """Mark a read's exception as seen: every cluster waiting for it may have been cancelled."""
    if not future.cancelled():
        future.exception()
