"""Start and stop the embedded lab: SSH servers per simulated host, moto for AWS, and the lab's inventory.

`LabRuntime.start()` brings up, for each simulated cluster, three real SSH servers on 127.0.0.1 (Db2 primary,
Db2 standby, qdevice host) plus one moto server, then writes under the lab directory: the client key (0600),
a known_hosts with every host key, and inventory.yaml pointing at all of it; journal/ is this run's own
operator journal (services.plans.journal.journal_for finds it next to that known_hosts). `serve_forever()` is
`db2ops lab --serve`: print the inventory path, run until SIGINT/SIGTERM, clean up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import asyncssh

from lab.commands import lab_control
from lab.sshd import LabSshHost
from lab.state import LabCluster

if TYPE_CHECKING:  # moto (behind lab.aws) is imported only when the lab runs with AWS
    from lab.aws import LabAws
    from services.inventory.model import Inventory

MAX_CLUSTERS = 200
LAB_USER = "db2inst1"
TICK_INTERVAL_S = 0.5


def default_lab_dir() -> Path:
    """services.paths.lab_dir() ($XDG_STATE_HOME/db2ops/lab)."""
    from services.paths import lab_dir

    return lab_dir()


class LabRuntime:
    """One running lab. After `start()`: `clusters`, `hosts`, `inventory_path`, `endpoint_url` (None without AWS)."""

    def __init__(self) -> None:
        self.clusters: dict[str, LabCluster] = {}
        self.hosts: dict[tuple[str, str], LabSshHost] = {}  # (cluster, host) -> SSH endpoint
        self.base_dir: Path | None = None
        self.inventory_path: Path | None = None
        self.known_hosts_path: Path | None = None
        self.client_key_path: Path | None = None
        self.journal_dir: Path | None = None  # this lab's operator journal (empty at each start)
        self.endpoint_url: str | None = None
        self.aws: LabAws | None = None  # when with_aws
        self._ticker: asyncio.Task[None] | None = None
        self._dir_lock: int | None = None  # the flock on base_dir, held while this lab runs
        self.started = False

    async def start(
        self,
        clusters: int = 1,
        *,
        base_dir: Path | None = None,
        failover_delay_s: float = 2.0,
        latency_ms: int = 0,
        with_aws: bool = True,
        fresh_ha: bool = False,
        db2: str | None = None,
    ) -> None:
        """Bring the lab up and write its inventory. Raises ValueError for a bad cluster count,
        lab.aws.LabAwsError when the AWS side cannot start (e.g. moto not installed).

        `fresh_ha`: the clusters are "not yet clustered" (HADR in PEER, no Pacemaker, qdevice, overlay
        route or IAM policy yet) for rehearsing the HA setup plan (lab/ha_state.start_fresh).
        `db2`: the Db2 release every cluster models (lab/release.py; None: the default release)."""
        if not 1 <= clusters <= MAX_CLUSTERS:
            raise ValueError(f"clusters must be between 1 and {MAX_CLUSTERS}, not {clusters}")
        from lab.lab_dir_lock import claim_lab_dir

        # a folder no other running lab uses (two labs side by side never share keys or a journal)
        self.base_dir, self._dir_lock = claim_lab_dir(
            Path(base_dir) if base_dir is not None else None, default_lab_dir()
        )
        self.journal_dir = _fresh_journal(self.base_dir)
        aws_start: asyncio.Task[str] | None = None
        if with_aws:
            from lab.aws import LabAws

            self.aws = LabAws()
            aws_start = asyncio.create_task(asyncio.to_thread(self.aws.start))  # moto boots while SSH starts
        try:
            client_key = asyncssh.generate_private_key("ssh-ed25519", comment="db2ops-lab-client")
            self.client_key_path = self.base_dir / "client_ed25519"
            _write_private(self.client_key_path, client_key.export_private_key().decode())
            (self.base_dir / "client_ed25519.pub").write_text(client_key.export_public_key().decode())
            authorized = asyncssh.import_authorized_keys(client_key.export_public_key().decode())
            for i in range(1, clusters + 1):
                cluster = LabCluster(
                    f"lab{i}",
                    index=i,
                    prefix_hosts=clusters > 1,
                    failover_delay_s=failover_delay_s,
                    latency_ms=latency_ms,
                    db2=db2,
                )
                if fresh_ha:
                    from lab.ha_state import start_fresh

                    start_fresh(cluster)
                self.clusters[cluster.name] = cluster
                for host in cluster.hosts.values():
                    key = asyncssh.generate_private_key("ssh-ed25519", comment=f"{host.name}@db2ops-lab")
                    self.hosts[(cluster.name, host.name)] = LabSshHost(cluster, host, key, authorized)
            await asyncio.gather(*(h.start() for h in self.hosts.values()))
            if aws_start is not None and self.aws is not None:
                self.endpoint_url = await aws_start
                for cluster in self.clusters.values():
                    await asyncio.to_thread(self.aws.seed, cluster, fresh=fresh_ha)
            self._write_known_hosts()
            self._write_inventory()
            self._ticker = asyncio.create_task(self._tick_forever())
            self.started = True
        except BaseException:
            if aws_start is not None and not aws_start.done():
                aws_start.cancel()
            await self.stop()
            raise

    async def _tick_forever(self) -> None:
        # Timed transitions (failover after the delay, end of catch-up) happen even when nobody polls, so
        # the overlay route moves on time.
        while True:
            await asyncio.sleep(TICK_INTERVAL_S)
            for cluster in self.clusters.values():
                cluster.tick()

    def _write_known_hosts(self) -> None:
        assert self.base_dir is not None
        self.known_hosts_path = self.base_dir / "known_hosts"
        lines = [h.public_host_key_line() for h in self.hosts.values()]
        self.known_hosts_path.write_text("\n".join(lines) + "\n")

    def inventory(self) -> Inventory:
        """The lab's `services.inventory.model.Inventory` (what inventory.yaml holds)."""
        from services.inventory.model import AwsSettings, Cluster, Host, Inventory

        clusters = []
        for cluster in self.clusters.values():
            hosts = []
            for host in cluster.hosts.values():
                endpoint = self.hosts[(cluster.name, host.name)]
                hosts.append(
                    Host(
                        name=host.name,
                        address="127.0.0.1",
                        role="db" if host.role == "db" else "qdevice",
                        user=LAB_USER,
                        port=endpoint.port,
                        identity=str(self.client_key_path),
                        instance_id=host.instance_id,
                        known_hosts=str(self.known_hosts_path),
                    )
                )
            facts = self.aws.clusters.get(cluster.name) if self.aws is not None else None
            aws = AwsSettings(
                region="us-east-1",
                endpoint_url=self.endpoint_url,
                route_table_id=facts.route_table_id if facts else None,
                overlay_ip=cluster.overlay_ip,
            )
            clusters.append(
                Cluster(
                    name=cluster.name,
                    # every screen that shows the environment says what the release plays without a capture
                    environment=f"lab ({note})" if (note := cluster.release.shape_note) else "lab",
                    read_only=False,  # the lab is for rehearsal: applies are allowed
                    instance=cluster.instance,
                    database=cluster.database,
                    hosts=tuple(hosts),
                    aws=aws,
                    lab=True,
                )
            )
        return Inventory(clusters=tuple(clusters), source=str(self.inventory_path or ""))

    def _write_inventory(self) -> None:
        assert self.base_dir is not None
        from services.inventory.loader import dump_inventory
        from services.paths import write_lab_marker

        self.inventory_path = self.base_dir / "inventory.yaml"
        inventory = self.inventory()
        self.inventory_path.write_text(dump_inventory(inventory))
        # journal_dir_for trusts this marker, not the inventory's `lab: true`, to use this lab's journal
        write_lab_marker(self.base_dir, [c.name for c in inventory.clusters])

    def host(self, cluster: str, host: str) -> LabSshHost:
        """The SSH endpoint of one host. Raises KeyError for unknown names."""
        return self.hosts[(cluster, host)]

    def control(self, cluster: str, *args: str) -> tuple[int, str, str]:
        """Run a drill verb (`kill-primary`, `restore`, `latency 50`...) directly, like `db2ops-lab` over SSH.

        Returns (exit_status, stdout, stderr). Raises KeyError for an unknown cluster.
        """
        return lab_control(self.clusters[cluster], list(args))

    async def settle(self) -> None:
        """Wait until SSH listeners and the AWS route follow every state change made so far."""
        for cluster in self.clusters.values():
            cluster.tick()
        await asyncio.gather(*(h.settle() for h in self.hosts.values()))
        if self.aws is not None:
            await asyncio.to_thread(self.aws.wait_idle)

    async def stop(self) -> None:
        """Close every SSH server and stop moto, then free the lab's folder. Safe to call twice."""
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        await asyncio.gather(*(h.close() for h in self.hosts.values()), return_exceptions=True)
        if self.aws is not None:
            aws, self.aws = self.aws, None
            await asyncio.to_thread(aws.stop)
        from lab.lab_dir_lock import release

        release(self._dir_lock)
        self._dir_lock = None
        self.started = False


def _fresh_journal(base_dir: Path) -> Path:
    """Return the lab's journal directory, emptied: the previous run's steps (its moto, alarms and
    keys are gone) are kept aside as previous-run.jsonl, never shown as this run's."""
    from services.paths import lab_journal_dir
    from services.plans.journal import JOURNAL_FILE

    directory = lab_journal_dir(base_dir)
    directory.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        (directory / JOURNAL_FILE).replace(directory / "previous-run.jsonl")
    return directory


def _write_private(path: Path, text: str) -> None:
    # Created 0600 from the start: never readable by others, even briefly.
    with contextlib.suppress(FileNotFoundError):
        path.unlink()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)


async def serve_forever(
    runtime: LabRuntime,
    out: TextIO | None = None,
    on_stop: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run a started lab until SIGINT/SIGTERM, then stop it.

    Prints the inventory path as the first line (scripts read it) and a hint. Raises RuntimeError if the
    runtime was not started.
    """
    if not runtime.started or runtime.inventory_path is None:
        raise RuntimeError("start the lab first: await runtime.start()")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    installed = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            installed.append(sig)
        except (NotImplementedError, RuntimeError):
            pass  # not the main thread: the caller cancels us instead
    out = out or sys.stdout
    print(runtime.inventory_path, file=out)
    print(f"lab running: try  db2ops --inventory {runtime.inventory_path} status --json", file=out)
    print("drills: ssh to any lab host and run  db2ops-lab status|kill-primary|restore|...", file=out)
    print(f"this lab's operator journal (empty at each start): {runtime.journal_dir}", file=out)
    print("press Ctrl-C to stop", file=out)
    out.flush()
    try:
        await stop.wait()
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        # `on_stop` lets a LabSession stop its log agents before moto goes away.
        await (on_stop() if on_stop is not None else runtime.stop())
