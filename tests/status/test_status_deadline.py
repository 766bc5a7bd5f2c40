"""A status refresh has a deadline: an AWS endpoint that accepts TCP and never answers (or a host that never
answers a command) is reported as timed out within `status_deadline_s`, the other parts keep their values,
and `db2ops status --json` returns promptly instead of after boto3's 5 x 30 s."""

from __future__ import annotations

import asyncio
import json
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import CORPUS, LAB, corpus_files, read  # noqa: E402
from installed_cli import run_db2ops  # noqa: E402

from services import aws_clients  # noqa: E402
from services.inventory.model import AwsSettings, Cluster, Host, Inventory  # noqa: E402
from services.part_errors import ErrorKind  # noqa: E402
from services.ssh.pool import CommandResult  # noqa: E402
from services.status.poll import StatusPoller  # noqa: E402
from services.status.service import StatusService  # noqa: E402

corpus_files("pacemaker-lab/01-healthy/*corosync-quorumtool_-s.txt")
HEALTHY = LAB / "01-healthy"
CAPTURES = {
    "crm_mon": "crm_mon_-1_--output-as=xml.xml",
    "corosync-quorumtool": "corosync-quorumtool_-s.txt",
    "corosync-qdevice-tool": "corosync-qdevice-tool_-s.txt",
}


class StalledEndpoint:
    """A TCP server on 127.0.0.1 that accepts every connection and never answers (nor closes it)."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:  # closed
                return
            self.accepted.append(conn)

    def close(self) -> None:
        self._listener.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def stalled() -> Iterator[StalledEndpoint]:
    endpoint = StalledEndpoint()
    aws_clients.clear_client_cache()
    yield endpoint
    endpoint.close()
    aws_clients.clear_client_cache()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stalled_inventory(tmp_path: Path, endpoint_url: str) -> Path:
    """An inventory whose SSH hosts refuse at once (a closed port) and whose AWS endpoint is `endpoint_url`:
    only the AWS part could hold a command."""
    port = closed_port()
    inventory = tmp_path / "inventory.yaml"
    inventory.write_text(
        f"""clusters:
  - name: stalled
    instance: db2inst1
    database: HADRDB
    hosts:
      - {{name: db2a, address: 127.0.0.1, port: {port}, role: db}}
      - {{name: db2b, address: 127.0.0.1, port: {port}, role: db}}
      - {{name: qdev, address: 127.0.0.1, port: {port}, role: qdevice}}
    aws:
      region: us-east-1
      endpoint_url: {endpoint_url}
      route_table_id: rtb-0123456789abcdef0
      overlay_ip: 192.168.1.81
"""
    )
    return inventory


def test_status_json_with_a_stalled_aws_endpoint_returns_well_under_20s(
    stalled: StalledEndpoint, tmp_path: Path
) -> None:
    inventory = _stalled_inventory(tmp_path, stalled.url)
    started = time.monotonic()
    # default settings (no settings.yaml): before the deadline this took 151 s (5 attempts x 30 s)
    proc = run_db2ops(tmp_path, "--inventory", str(inventory), "status", "--json", timeout=60)
    elapsed = time.monotonic() - started
    assert elapsed < 15, f"status --json took {elapsed:.1f}s"
    assert stalled.accepted, "the AWS endpoint was never asked"
    doc = json.loads(proc.stdout)
    assert proc.returncode == doc["exit_code"] == 2, proc.stderr
    route = doc["clusters"][0]["overlay_route"]
    assert route["error_kind"] == "timeout"
    assert route["error"].startswith(f"{stalled.url} did not answer ec2.describe_route_tables(")
    assert "within 10 s; check the network, proxy and VPC endpoints" in route["error"]
    assert "Traceback" not in proc.stderr


class _Runner:
    """Answers with the lab's real captures; commands in `hang` (host, tool) never answer."""

    def __init__(self, hang: set[tuple[str, str]]) -> None:
        self.hang = hang
        self.cancelled = 0

    async def run(self, host, argv, **_):
        if (host.name, argv[0]) in self.hang:
            try:
                await asyncio.Event().wait()
            except asyncio.CancelledError:
                self.cancelled += 1
                raise
        if argv[0] == "db2pd":
            out = read(CORPUS / "db2pd-hadr" / "peer-primary-azure-rhel-v111.txt")
        else:
            out = read(HEALTHY / f"{host.name}__{CAPTURES[argv[0]]}")
        return CommandResult(host.name, tuple(argv), " ".join(argv), 0, out, "", 0.0)


def _cluster(endpoint: str) -> Cluster:
    aws = AwsSettings(
        endpoint_url=endpoint, route_table_id="rtb-0123456789abcdef0", overlay_ip="192.168.1.81"
    )
    return Cluster(
        name="c1", database="HADRDB", hosts=(Host("db2a", "10.0.0.1"), Host("db2b", "10.0.0.2")), aws=aws
    )


async def test_console_refresh_marks_stalled_parts_timed_out_and_keeps_the_others(
    stalled: StalledEndpoint,
) -> None:
    cluster = _cluster(stalled.url)
    runner = _Runner(hang={("db2b", "db2pd")})
    service = StatusService(Inventory(clusters=(cluster,)), runner, deadline_s=0.5)
    seen: list = []
    errors: list = []
    poller = StatusPoller(
        _source(service),
        lambda c, s: seen.append(s),
        lambda c, e: errors.append(e),
        interval=60,
        deadline=5,
    )
    loop_task = asyncio.create_task(poller.run(cluster))
    started = time.monotonic()
    try:
        await asyncio.wait_for(poller.wait_polls("c1", 1), 10)
    finally:
        loop_task.cancel()
    elapsed = time.monotonic() - started
    assert elapsed < 3, f"the refresh took {elapsed:.1f}s"
    assert errors == []
    (status,) = seen
    route = status.overlay_route
    assert route.error is not None and route.error.kind is ErrorKind.TIMEOUT
    assert route.error.message.startswith(f"{stalled.url} did not answer ec2.describe_route_tables(")
    assert "within 0.5 s" in route.error.message
    alarms = status.alarms  # the alarms' read has its own deadline, with CloudWatch's words
    assert alarms.error is not None and alarms.error.kind is ErrorKind.TIMEOUT
    assert alarms.error.message.startswith(f"{stalled.url} did not answer cloudwatch.describe_alarms(")
    hung = status.hadr["db2b"]
    assert hung.error is not None and hung.error.kind is ErrorKind.TIMEOUT and hung.error.host == "db2b"
    assert hung.error.message.startswith("db2b did not answer `db2pd -hadr -db HADRDB` within 0.5 s;")
    assert runner.cancelled == 1  # the abandoned command was cancelled (its SSH channel closes)
    # the other parts are not held up: db2b answered its other commands, db2a everything
    assert status.hadr["db2a"].ok and status.crm is not None and status.crm.ok
    assert status.quorum["db2b"].ok and "db2b" not in status.host_errors


def _source(service: StatusService):
    async def get() -> StatusService:
        return service

    return get


async def test_a_host_with_no_answer_at_all_is_a_timed_out_host(stalled: StalledEndpoint) -> None:
    cluster = _cluster(stalled.url)
    tools = ("crm_mon", "corosync-quorumtool", "corosync-qdevice-tool", "db2pd")
    service = StatusService(
        Inventory(clusters=(cluster,)), _Runner(hang={("db2a", t) for t in tools}), deadline_s=0.3
    )
    status = await asyncio.wait_for(service.snapshot(cluster), 5)
    assert status.host_errors["db2a"].kind is ErrorKind.TIMEOUT
    assert status.hadr["db2b"].ok


async def test_abandoned_aws_read_runs_in_a_daemon_thread(stalled: StalledEndpoint) -> None:
    """asyncio.run() and the interpreter join executor threads, not daemon ones: a stalled read must not
    hold the process after the deadline."""
    client = aws_clients.make_read_client("ec2", AwsSettings(endpoint_url=stalled.url))
    task = asyncio.create_task(aws_clients.call_abandonable(client, "describe_route_tables"))
    await asyncio.sleep(0.3)
    threads = [t for t in threading.enumerate() if t.name == "aws-describe_route_tables"]
    assert threads and all(t.daemon for t in threads)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


def test_status_stops_at_the_command_deadline_with_exit_2(stalled: StalledEndpoint, tmp_path: Path) -> None:
    """command_deadline_s bounds the whole headless command, even when a part's own deadline is longer."""
    inventory = _stalled_inventory(tmp_path, stalled.url)
    settings = tmp_path / "cfg" / "db2ops" / "settings.yaml"
    settings.parent.mkdir(parents=True)
    settings.write_text("status_deadline_s: 120\ncommand_deadline_s: 1.5\n")
    started = time.monotonic()
    proc = run_db2ops(tmp_path, "--inventory", str(inventory), "status", "--json", timeout=60)
    assert time.monotonic() - started < 10
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == (
        "db2ops: the status of stalled did not come back within 1.5 s; check that the hosts and AWS endpoints "
        "answer from this machine (command_deadline_s in settings)"
    )


async def test_poller_backstop_reports_a_snapshot_that_never_ends() -> None:
    class Endless:
        async def snapshot(self, cluster: Cluster):
            await asyncio.Event().wait()

    async def get() -> Endless:
        return Endless()

    errors: list[BaseException] = []
    poller = StatusPoller(get, lambda c, s: None, lambda c, e: errors.append(e), interval=60, deadline=0.2)
    task = asyncio.create_task(poller.run(_cluster("http://127.0.0.1:9")))
    try:
        await asyncio.wait_for(poller.wait_polls("c1", 1), 5)
    finally:
        task.cancel()
    (error,) = errors
    assert isinstance(error, TimeoutError)
    assert str(error) == "no status within 0.2 s (status_deadline_s in settings)"
