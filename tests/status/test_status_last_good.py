"""One last-good cache, the status service's: a failed part comes back with its last good value and the new
typed error, and the console's ClusterFeed shows exactly that (it keeps no cache of its own)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import CORPUS, LAB, corpus_files, read  # noqa: E402

from services.inventory.model import Cluster, Host, Inventory  # noqa: E402
from services.part_errors import ErrorKind  # noqa: E402
from services.ssh.pool import CommandResult, HostUnreachable  # noqa: E402
from services.status.poll import ClusterFeed  # noqa: E402
from services.status.service import StatusService  # noqa: E402

corpus_files("pacemaker-lab/01-healthy/*corosync-quorumtool_-s.txt")
HEALTHY = LAB / "01-healthy"
CAPTURES = {
    "crm_mon": "crm_mon_-1_--output-as=xml.xml",
    "corosync-quorumtool": "corosync-quorumtool_-s.txt",
    "corosync-qdevice-tool": "corosync-qdevice-tool_-s.txt",
}
CLUSTER = Cluster(name="c1", database="HADRDB", hosts=(Host("db2a", "10.0.0.1"), Host("db2b", "10.0.0.2")))


class _LabRunner:
    """Answers with the lab's real captures (db2pd: a real PEER primary); hosts in `down` are unreachable."""

    def __init__(self) -> None:
        self.down: set[str] = set()

    async def run(self, host, argv, **_):
        if host.name in self.down:
            raise HostUnreachable(f"{host.name}: cannot connect to {host.address}:22 (refused)", host.name)
        if argv[0] == "db2pd":
            out = read(CORPUS / "db2pd-hadr" / "peer-primary-azure-rhel-v111.txt")
        else:
            out = read(HEALTHY / f"{host.name}__{CAPTURES[argv[0]]}")
        return CommandResult(host.name, tuple(argv), " ".join(argv), 0, out, "", 0.0)


async def test_a_failed_part_keeps_its_last_good_value_once_for_service_and_console() -> None:
    now = [1000.0]
    runner = _LabRunner()
    service = StatusService(Inventory(clusters=(CLUSTER,)), runner, aws_route=False, clock=lambda: now[0])
    feed = ClusterFeed(CLUSTER)
    first = await service.snapshot(CLUSTER)
    assert first.hadr["db2b"].ok and first.crm.ok
    feed.apply(first)

    now[0] = 1010.0
    runner.down = {"db2b"}
    second = await service.snapshot(CLUSTER)
    hadr = second.hadr["db2b"]
    assert hadr.stale and hadr.value == first.hadr["db2b"].value and hadr.fetched_at == 1000.0
    assert hadr.error is not None and hadr.error.kind is ErrorKind.UNREACHABLE
    assert hadr.error == second.host_errors["db2b"]
    assert service.last_good.get("c1", "hadr", "db2b") == first.hadr["db2b"]
    assert second.quorum["db2a"].ok and second.quorum["db2a"].fetched_at == 1010.0  # db2a answered

    feed.apply(second)
    view = feed.view("hadr:db2b", now=1010.0, interval=2.0)
    assert view.stale and view.value == first.hadr["db2b"].value and view.age == 10.0
    assert view.error is hadr.error
    fresh = feed.view("quorum:db2a", now=1010.0, interval=2.0)
    assert not fresh.stale and fresh.error is None


async def test_a_part_that_never_answered_has_no_value_to_keep() -> None:
    runner = _LabRunner()
    runner.down = {"db2b"}
    service = StatusService(Inventory(clusters=(CLUSTER,)), runner, aws_route=False)
    status = await service.snapshot(CLUSTER)
    assert status.hadr["db2b"].value is None and not status.hadr["db2b"].stale
    assert status.hadr["db2b"].error is not None and service.last_good.get("c1", "hadr", "db2b") is None
