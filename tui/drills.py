"""Lab drills: `db2ops-lab <verb>` run over SSH on a lab host, so a DBA can rehearse a failover.

Only clusters marked `lab: true` accept drills. The command runs on the qdevice host (drills never kill it)
or, failing that, on the first host that answered the last poll.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from services.inventory.model import Cluster, Host
from services.ssh.runner import HostRunner

if TYPE_CHECKING:
    from textual.notifications import SeverityLevel

    from services.status.model import ClusterStatus

# verb -> (label, argv after "db2ops-lab")
LAB_DRILLS: dict[str, tuple[str, tuple[str, ...]]] = {
    "kill-primary": ("Kill the primary node", ("kill-primary",)),
    "stop-qnetd": ("Stop qnetd on the quorum host", ("stop-qnetd",)),
    "start-qnetd": ("Start qnetd again", ("start-qnetd",)),
    "disconnect-hadr": ("Disconnect HADR between the pair", ("disconnect-hadr",)),
    "reconnect-hadr": ("Reconnect HADR", ("reconnect-hadr",)),
    "latency-50": ("Add 50 ms latency to every lab command", ("latency", "50")),
    "latency-0": ("Remove the added latency", ("latency", "0")),
    "restore": ("Restore everything (nodes, qnetd, HADR, latency)", ("restore",)),
}


def drill_host(cluster: Cluster, unreachable: set[str]) -> Host | None:
    """Return the host to run a drill on: the qdevice host, else the first reachable one."""
    hosts = [h for h in (cluster.qdevice_host, *cluster.db_hosts) if h is not None]
    return next((h for h in hosts if h.name not in unreachable), hosts[0] if hosts else None)


class _Feed(Protocol):
    @property
    def status(self) -> ClusterStatus | None: ...


class DrillConsole(Protocol):
    """What a drill needs of the console (Db2OpsApp): the last snapshot, to skip dead hosts, and toasts."""

    def feed(self, name: str, /) -> _Feed: ...

    def notify(
        self, message: str, *, title: str = "", severity: SeverityLevel = "information", markup: bool = True
    ) -> None: ...


async def run_lab_drill(app: DrillConsole, runner: HostRunner, cluster: Cluster, verb: str) -> bool:
    """Run drill `verb` on `cluster` through `runner`; notify the outcome; return True when it ran (exit 0)."""
    label, argv_tail = LAB_DRILLS[verb]
    status = app.feed(cluster.name).status
    host = drill_host(cluster, set(status.host_errors) if status else set())
    if host is None:
        app.notify(f"{cluster.name} has no hosts to run the drill on", severity="error")
        return False
    app.notify(f"Drill: {label} (on {host.name})…", title=cluster.name)
    try:
        result = await runner.run(host, ["db2ops-lab", *argv_tail], timeout=60)
    except Exception as exc:  # tell the user; the console keeps running
        app.notify(
            f"Drill {verb} failed on {host.name}: {exc}", severity="error", title=cluster.name, markup=False
        )
        return False
    if result.exit_status != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        detail = lines[-1] if lines else "no output"
        app.notify(
            f"Drill {verb} exited {result.exit_status}: {detail}",
            severity="error",
            title=cluster.name,
            markup=False,
        )
        return False
    return True
