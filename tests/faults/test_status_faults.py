"""Live status through the fault proxy: a dropped, stalled, reset or slow SSH host and a failing AWS
endpoint never crash a snapshot or the poll loop; each affected part carries a typed error
(services.part_errors.ErrorKind) while the others stay good; everything recovers when the proxy passes."""

from __future__ import annotations

import asyncio

import pytest
from fault_proxy import ProxiedLab

from services.context import ConsoleContext
from services.part_errors import ErrorKind
from services.settings import Settings
from services.status.model import ClusterStatus
from services.status.poll import ClusterFeed, StatusPoller, iter_parts

# short timeouts keep each test well under 20 s; generous next to the lab's answers (milliseconds)
# Deadlines generous enough for a loaded 2-core CI machine: a stall still shows as TIMEOUT, a busy host does not.
SETTINGS = Settings(status_deadline_s=5.0, ssh_connect_timeout_s=4.0, ssh_command_timeout_s=5.0)
FAULTY = "db2b"
# what a host behind each mode may be reported as: every one a typed kind the verdicts branch on
EXPECTED = {
    "drop": {ErrorKind.UNREACHABLE},
    "reset": {ErrorKind.UNREACHABLE},
    "stall": {ErrorKind.TIMEOUT},
}


def _host_parts(status: ClusterStatus, host: str):
    return {k: p for k, p in iter_parts(status) if k.endswith(f":{host}")}


def _context(proxied: ProxiedLab) -> ConsoleContext:
    return ConsoleContext(proxied.inventory, SETTINGS)  # type: ignore[arg-type]


async def _healthy(ctx: ConsoleContext, cluster, refreshes: int = 4) -> ClusterStatus:
    """The next snapshot with every part good, within `refreshes` refreshes (a connection the fault
    left half-open may cost one refresh to notice)."""
    for _ in range(refreshes):
        status = await asyncio.wait_for(ctx.snapshot(cluster), 30)
        bad = {k: str(p.error) for k, p in iter_parts(status) if not p.ok}
        if not bad and not status.host_errors:
            return status
        ctx.retry_hosts_now()
    raise AssertionError(f"not healthy after {refreshes} refreshes: {bad} {status.host_errors}")


@pytest.mark.parametrize("mode", ["drop", "reset", "stall"])
async def test_a_faulty_host_gets_typed_errors_and_recovers(proxied: ProxiedLab, mode: str) -> None:
    cluster = proxied.inventory.clusters[0]  # type: ignore[attr-defined]
    async with _context(proxied) as ctx:
        await _healthy(ctx, cluster)  # the pool now holds one connection per host, through the proxies
        proxied.host_proxy(cluster.name, FAULTY).set_mode(mode)
        status = await asyncio.wait_for(ctx.snapshot(cluster), 30)
        parts = _host_parts(status, FAULTY)
        assert parts and all(not p.ok for p in parts.values())
        for key, part in parts.items():
            assert part.error is not None and part.error.kind in EXPECTED[mode], (key, part.error)
            assert part.error.host == FAULTY and part.error.message, key
        assert status.host_errors[FAULTY].kind in EXPECTED[mode]
        # the other hosts are untouched by one host's fault
        for host in ("db2a", "qdev"):
            assert all(p.ok for p in _host_parts(status, host).values()), host
        assert status.crm is not None and status.crm.ok and status.crm.source == "db2a"
        assert "host_unreachable" in {v.code for v in status.verdicts} or mode == "stall"

        proxied.host_proxy(cluster.name, FAULTY).set_mode("pass")
        ctx.retry_hosts_now()  # a user's refresh ends the reconnect backoff
        await _healthy(ctx, cluster, refreshes=5)


async def test_a_slow_host_still_answers(proxied: ProxiedLab) -> None:
    cluster = proxied.inventory.clusters[0]  # type: ignore[attr-defined]
    async with _context(proxied) as ctx:
        await _healthy(ctx, cluster)
        proxied.host_proxy(cluster.name, FAULTY).set_mode("slow", delay_s=0.05)
        status = await _healthy(ctx, cluster)
        assert min(p.duration_s for p in _host_parts(status, FAULTY).values()) >= 0.05
        proxied.host_proxy(cluster.name, FAULTY).set_mode("pass")
        await _healthy(ctx, cluster, refreshes=5)


@pytest.mark.parametrize("fault", ["stall", "drop", "reset", "500", "throttle"])
async def test_a_failing_aws_endpoint_types_the_route_part_only(proxied: ProxiedLab, fault: str) -> None:
    cluster = proxied.inventory.clusters[0]  # type: ignore[attr-defined]
    aws = proxied.aws
    assert aws is not None
    async with _context(proxied) as ctx:
        await _healthy(ctx, cluster)
        if fault == "500":
            aws.http.server_error = 1.0  # type: ignore[union-attr]
        elif fault == "throttle":
            aws.http.throttle = 1.0  # type: ignore[union-attr]
        else:
            aws.set_mode(fault)
        status = await asyncio.wait_for(ctx.snapshot(cluster), 30)
        route = status.overlay_route
        assert route is not None and route.error is not None
        expected = ErrorKind.TIMEOUT if fault == "stall" else ErrorKind.AWS_ERROR
        assert route.error.kind == expected, route.error
        if fault == "throttle":
            assert "throttled" in route.error.message, route.error.message
        # the SSH side does not care
        assert all(p.ok for k, p in iter_parts(status) if k != "route")
        assert route.stale and route.value is not None  # the last good route stays, greyed out

        aws.http.server_error = aws.http.throttle = 0.0  # type: ignore[union-attr]
        aws.set_mode("pass")
        await _healthy(ctx, cluster, refreshes=5)


async def test_poll_loop_survives_every_mode_and_recovers(proxied: ProxiedLab) -> None:
    """The console's refresh loop (StatusPoller -> ClusterFeed) over the faults in turn: it never stops,
    the faulty host's panels carry typed errors, and they come back by themselves once the proxy passes."""
    cluster = proxied.inventory.clusters[0]  # type: ignore[attr-defined]
    proxy = proxied.host_proxy(cluster.name, FAULTY)
    feed = ClusterFeed(cluster)
    errors: list[BaseException] = []
    async with _context(proxied) as ctx:
        poller = StatusPoller(
            ctx.status,
            lambda c, s: feed.apply(s),
            lambda c, e: errors.append(e),
            interval=0.2,
            deadline=SETTINGS.status_deadline_s * 3,
        )
        task = asyncio.create_task(poller.run(cluster))
        try:
            await asyncio.wait_for(poller.wait_polls(cluster.name, 1), 30)
            for mode in ("drop", "stall", "reset"):
                proxy.set_mode(mode)
                kinds = EXPECTED[mode]
                await _until(
                    lambda kinds=kinds: _view_kind(feed, poller) in kinds, 30, f"{mode}: typed error"
                )
                proxy.set_mode("pass")
                # no retry_hosts_now here: the loop must find its way back through the pool's backoff
                await _until(lambda: _view_kind(feed, poller) is None, 40, f"{mode}: recovery")
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert errors == []  # no poll raised: every fault became a part error
    assert not task.done() or task.cancelled()


def _view_kind(feed: ClusterFeed, poller: StatusPoller) -> ErrorKind | None:
    view = feed.view(f"hadr:{FAULTY}", 0.0, poller.interval)
    return None if view.error is None else view.error.kind


async def _until(predicate, timeout: float, what: str) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)
