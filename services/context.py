"""The one composition root: everything a console session (or one headless command) shares, in one object.

ConsoleContext is made once, from the inventory and the settings, by the console (tui/app.run_console) and
by each headless command (tui/cli), and handed to whoever needs a service: screens read it as
`app.context`, headless commands receive it as an argument. It owns
- the one SSH pool (built from settings.yaml's SSH timeouts, keepalive and concurrency on first use; the
  only place product code builds an SshPool),
- the status source (a StatusService over that pool, built on first use; tests inject fakes),
- the journal of each cluster, the lab handle (the LabSession of `db2ops lab`, else None),
- the per-cluster session state: timelines, their CloudWatch read positions, the failover runs, the
  end of the last "prove it fires" per cluster (ProofHistory),
- the choice of each cluster's backends, given by the composition root (tui/backends.py: AWS, or the lab
  that plays it): `extras_for` (CloudWatchExtras) and `insights_for` (who evaluates Logs Insights queries and,
  where the endpoint ignores them, filter patterns); services only see the protocols.

Nothing heavy at import: asyncssh and boto3 load when the pool or the status service is first built, so
the console still paints its first frame without them. `close()` closes what it built and stops the lab.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from services.cloudwatch_extras import CloudWatchExtras, ExtrasFor, aws_cloudwatch_extras
from services.inventory.model import Cluster, Host, Inventory
from services.monitoring.proof_history import ProofHistory
from services.plans.journal import Journal, journal_for
from services.settings import Settings, SettingsError, load_settings
from services.ssh.runner import HostRunner, ReconnectingRunner
from services.timeline.model import Timeline

if TYPE_CHECKING:
    from services.failover.run import FailoverRun
    from services.logs.cloudwatch import CloudWatchLogs
    from services.logs.insights import InsightsEngine
    from services.logs.model import LogEntry
    from services.record.recorder import Recorder
    from services.ssh.errors import HostKeyChanged, HostKeyUnknown
    from services.ssh.pool import SshPool
    from services.status.model import ClusterStatus
    from services.timeline.sources import TimelineSources

__all__ = ["ConsoleContext", "LabHandle", "SettingsError", "StatusSource", "build_ssh_pool"]


class StatusSource(Protocol):
    """What the poller and the screens read a cluster's status from (StatusService; fakes in tests)."""

    async def snapshot(self, cluster: Cluster) -> ClusterStatus: ...


@runtime_checkable
class HostKeyHolder(Protocol):
    """A status source that collects the host keys it could not verify (StatusService does)."""

    pending_host_keys: list[HostKeyUnknown]
    refused_host_keys: list[HostKeyChanged]


class LabHandle(Protocol):
    """The embedded lab of `db2ops lab` (lab.session.LabSession): started by the console after its first
    frame; `inventory` is its Inventory once started. Its `warnings` and `not_running` (lists of lines, when
    it has them) are read once started: the console shows them (tui/widgets/lab_notes.py)."""

    inventory: Any

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


def build_ssh_pool(settings: Settings) -> SshPool:
    """Return a new SshPool with the SSH settings of settings.yaml. The only SshPool construction in
    product code (tests/test_composition_root.py checks it): every command of a session shares it."""
    from services.ssh.pool import SshPool  # asyncssh only when a host is really reached

    return SshPool(
        connect_timeout=settings.ssh_connect_timeout_s,
        command_timeout=settings.ssh_command_timeout_s,
        keepalive_interval=settings.ssh_keepalive_s,
        max_concurrency=settings.ssh_max_concurrency,
        max_output_bytes=int(settings.ssh_max_output_mb * 1024 * 1024),
    )


class ConsoleContext:
    """The services and session state of one console or one headless command (see the module docstring).

    `runner` and `status_source` are for tests (fakes) and embedders: given, they are used as they are and
    never closed here; otherwise the context builds the SSH pool and the StatusService on first use.
    """

    def __init__(
        self,
        inventory: Inventory,
        settings: Settings | None = None,
        *,
        runner: HostRunner | None = None,
        status_source: StatusSource | None = None,
        lab: LabHandle | None = None,
        journals: Callable[[Cluster], Journal] = journal_for,
        extras_for: ExtrasFor | None = None,
        insights_for: Callable[[Cluster], InsightsEngine] | None = None,
    ) -> None:
        self.inventory = inventory
        self.settings = settings if settings is not None else Settings()
        self.lab = lab
        self._runner = runner
        self._pool: SshPool | None = None
        self._status_source = status_source
        self._built_status: StatusSource | None = None
        self._status_lock: asyncio.Lock | None = None
        self._journals = journals
        self.timelines: dict[str, Timeline] = {}
        # the console's recording (tui/app.py sets it while it records): the log records the timelines
        # keep go to it as LOG items
        self.recorder: Recorder | None = None
        self.timeline_sources: dict[str, TimelineSources] = {}
        self.failover_runs: dict[str, FailoverRun] = {}
        self.proof_history = ProofHistory()
        self.extras_for: ExtrasFor = extras_for if extras_for is not None else _aws_extras
        self.insights_for: Callable[[Cluster], InsightsEngine] = (
            insights_for if insights_for is not None else _aws_insights
        )
        self._closed = False

    @classmethod
    def from_settings_file(
        cls,
        inventory: Inventory,
        *,
        lab: LabHandle | None = None,
        extras_for: ExtrasFor | None = None,
        insights_for: Callable[[Cluster], InsightsEngine] | None = None,
    ) -> ConsoleContext:
        """Return a context over `inventory` with the user's settings.yaml (defaults when it is missing).

        Raises SettingsError (file, line, fix) when settings.yaml cannot be read; its `warnings` (unknown
        keys) are on `context.settings.warnings` for the caller to show.
        """
        return cls(inventory, load_settings(), lab=lab, extras_for=extras_for, insights_for=insights_for)

    async def __aenter__(self) -> ConsoleContext:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ hosts

    @property
    def runner(self) -> HostRunner:
        """The session's one HostRunner: the injected one, else the SSH pool (built now on first use)."""
        if self._runner is not None:
            return self._runner
        if self._pool is None:
            if self._closed:
                raise RuntimeError("the console context is closed; start a new one")
            self._pool = build_ssh_pool(self.settings)
        return self._pool

    @property
    def pool(self) -> SshPool | None:
        """The SSH pool this context built (None before first use, or when a runner was injected)."""
        return self._pool

    async def host_runner(self) -> HostRunner:
        """Return `runner`, importing asyncssh off the event loop first (it takes a moment)."""
        if self._runner is None and self._pool is None:
            await asyncio.to_thread(importlib.import_module, "services.ssh.pool")
        return self.runner

    def retry_hosts_now(self, hosts: Iterable[Host] | None = None) -> None:
        """End the reconnect backoff of `hosts` (all when None): a user's refresh sees a host that came back
        now. A runner without connections (a fake) has no backoff: nothing to do."""
        runner = self._runner if self._runner is not None else self._pool
        if not isinstance(runner, ReconnectingRunner):
            return
        if hosts is None:
            runner.reset_backoff()
        else:
            for host in hosts:
                runner.reset_backoff(host)

    # ------------------------------------------------------------------ status

    @property
    def status_source(self) -> StatusSource | None:
        """The injected or built status source; None until `status()` built it."""
        return self._status_source if self._status_source is not None else self._built_status

    async def status(self) -> StatusSource:
        """Return the status source, building the StatusService (SSH and AWS imports, off the event loop)
        over `runner` on first use."""
        if self._status_source is not None:
            return self._status_source
        if self._status_lock is None:
            self._status_lock = asyncio.Lock()
        async with self._status_lock:
            if self._built_status is None:
                self._built_status = await asyncio.to_thread(self._build_status)
            return self._built_status

    def _build_status(self) -> StatusSource:
        from services.status.service import StatusService

        return StatusService(self.inventory, self.runner, deadline_s=self.settings.status_deadline_s)

    async def snapshot(self, cluster: Cluster) -> ClusterStatus:
        """Return a fresh ClusterStatus of `cluster` from the status source."""
        return await (await self.status()).snapshot(cluster)

    def unknown_host_keys(self) -> list[HostKeyUnknown]:
        """Return the host keys the status source met and nobody trusted yet (the user may trust them)."""
        source = self.status_source
        return list(source.pending_host_keys) if isinstance(source, HostKeyHolder) else []

    def unverified_host_keys(self) -> list[HostKeyUnknown | HostKeyChanged]:
        """Return the host keys the status source could not verify: unknown ones, then changed ones (never
        trusted from here)."""
        source = self.status_source
        if not isinstance(source, HostKeyHolder):
            return []
        return [*source.pending_host_keys, *source.refused_host_keys]

    def forget_host_key(self, err: HostKeyUnknown) -> None:
        """Drop `err` from the unknown keys once its key was trusted (the next poll connects)."""
        source = self.status_source
        if isinstance(source, HostKeyHolder) and err in source.pending_host_keys:
            source.pending_host_keys.remove(err)

    def cloudwatch_extras(self, cluster: Cluster) -> CloudWatchExtras:
        """Return `cluster`'s CloudWatch backend (what moto lacks, on a lab; plain AWS reads otherwise)."""
        return self.extras_for(cluster, self.runner)

    def logs(self, cluster: Cluster) -> CloudWatchLogs:
        """Return a CloudWatchLogs of `cluster` whose Insights queries (and, where the endpoint ignores
        them, filter patterns) are evaluated by the backend the composition root chose."""
        from services.logs.cloudwatch import CloudWatchLogs  # boto3 behind it: not on the first frame

        return CloudWatchLogs.for_cluster(cluster, insights_engine=self.insights_for(cluster))

    # ------------------------------------------------------------------ journals and session state

    def journal(self, cluster: Cluster) -> Journal:
        """Return the journal `cluster`'s plan steps go to."""
        return self._journals(cluster)

    def timeline(self, cluster: str) -> Timeline:
        """Return the session's one timeline of `cluster` (created empty the first time)."""
        if cluster not in self.timelines:
            self.timelines[cluster] = Timeline(cluster, on_log=lambda entry: self._record_log(cluster, entry))
        return self.timelines[cluster]

    def _record_log(self, cluster: str, entry: LogEntry) -> None:
        """Hand a log record the timeline of `cluster` kept to the recorder, when one records (a queue
        put: the poll never waits for the disk)."""
        recorder = self.recorder
        if recorder is None:
            return
        known = next((c for c in self.inventory.clusters if c.name == cluster), None)
        group = ""
        if known is not None:
            group = known.aws.audit_log_group if entry.source == "audit" else known.aws.diag_log_group
        recorder.record_log_entry(cluster, entry, group=group)

    def timeline_sources_for(self, cluster: Cluster) -> TimelineSources:
        """Return the one TimelineSources of `cluster` (its CloudWatch read position survives closing the
        :timeline screen; a changed inventory entry for the cluster starts a new one)."""
        from services.alarms.service import AlarmService  # boto3 behind these: not on the first frame
        from services.timeline.sources import TimelineSources

        timeline = self.timeline(cluster.name)
        known = self.timeline_sources.get(cluster.name)
        if known is None or known.cluster != cluster or known.timeline is not timeline:
            # the alarm history comes from the cluster's CloudWatch backend: AWS, or the lab that plays it
            alarms = AlarmService(cluster, extras=self.cloudwatch_extras(cluster))
            known = self.timeline_sources[cluster.name] = TimelineSources(
                cluster, timeline, logs=self.logs(cluster), alarms=alarms
            )
        return known

    # ------------------------------------------------------------------ end

    async def close(self) -> None:
        """Close the SSH pool this context built and stop the lab; injected runners are the caller's."""
        self._closed = True
        pool, self._pool = self._pool, None
        lab, self.lab = self.lab, None
        try:
            if pool is not None:
                await pool.close()
        finally:
            if lab is not None:
                await lab.stop()


def _aws_extras(cluster: Cluster, runner: object) -> CloudWatchExtras:
    """The default backend choice: real AWS for every cluster (a composition root that runs a lab passes
    its own chooser)."""
    return aws_cloudwatch_extras()


def _aws_insights(cluster: Cluster) -> InsightsEngine:
    """The default Insights engine: AWS evaluates every cluster's queries."""
    from services.logs.insights import AwsInsights

    return AwsInsights()
