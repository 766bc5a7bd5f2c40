"""One lab session: the simulated clusters plus the parts that play AWS services moto lacks.

`db2ops lab` hands a LabSession to the console (started after the first frame); `db2ops lab --serve` runs
one headless. It owns the LabRuntime (SSH hosts + moto), one LogAgent per cluster (plays the CloudWatch
agent) and, when present, the lab's CloudWatch evaluator (metric filters -> datapoints -> alarms -> SNS).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

if TYPE_CHECKING:  # imported when first used: lab.runtime imports asyncssh (keep it off the first frame)
    from lab.cloudwatch_eval import LabCloudWatch
    from lab.log_agent import LogAgent
    from lab.runtime import LabRuntime
    from services.inventory.model import Inventory


class StartOptions(TypedDict):
    """The keyword arguments LabRuntime.start() gets from the session."""

    clusters: int
    base_dir: Path | None
    failover_delay_s: float
    latency_ms: int
    with_aws: bool
    fresh_ha: bool
    db2: str | None


class LabSession:
    def __init__(
        self,
        clusters: int = 1,
        *,
        base_dir: Path | None = None,
        failover_delay_s: float = 2.0,
        latency_ms: int = 0,
        with_aws: bool = True,
        log_agents: bool = True,
        fresh_ha: bool = False,
        db2: str | None = None,
    ) -> None:
        self._runtime: LabRuntime | None = None  # created on first use (see the imports above)
        self.options = StartOptions(
            clusters=clusters,
            base_dir=base_dir,
            failover_delay_s=failover_delay_s,
            latency_ms=latency_ms,
            with_aws=with_aws,
            fresh_ha=fresh_ha,  # not yet clustered: for the HA setup plan (lab/ha_state.start_fresh)
            db2=db2,  # the Db2 release + Pacemaker build the clusters model (lab/release.py)
        )
        self.log_agents_enabled = log_agents and with_aws
        self.log_agents: dict[str, LogAgent] = {}
        self.cloudwatch: LabCloudWatch | None = None
        self.inventory: Inventory | None = None  # once started
        self.inventory_path: Path | None = None
        # what `lab --serve` prints and the console toasts once at start: the release note, then parts
        # that did not start; those are also in `not_running` (the console keeps showing them)
        self.warnings: list[str] = []
        self.not_running: list[str] = []

    @property
    def runtime(self) -> LabRuntime:
        """The LabRuntime (SSH hosts + moto), created on first use."""
        if self._runtime is None:
            from lab.runtime import LabRuntime

            self._runtime = LabRuntime()
        return self._runtime

    async def start(self) -> None:
        """Start every part; raises what LabRuntime.start raises (bad count, moto missing)."""
        # moto's HTTP server logs every request to stderr: that would scribble over the console.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        await self.runtime.start(**self.options)
        from lab.release import release

        shape = release(self.options["db2"])
        if not shape.captured:  # a stand-in release warns; assumed properties alone live in the env label
            self.warnings.append(shape.shape_note)
        self.inventory = inventory = self.runtime.inventory()
        self.inventory_path = self.runtime.inventory_path
        endpoint_url = self.runtime.endpoint_url
        if endpoint_url is None:
            return
        if self.log_agents_enabled:
            await asyncio.to_thread(self._start_log_agents, inventory)
        await asyncio.to_thread(self._start_cloudwatch, endpoint_url)

    def _start_log_agents(self, inventory: Inventory) -> None:
        from lab.log_agent import LogAgent

        for cluster in inventory.clusters:
            agent = LogAgent(self.runtime.clusters[cluster.name], cluster.aws)
            try:
                agent.start()
            except Exception as exc:  # the console still works without lab logs
                self._not_running(f"lab log agent for {cluster.name} did not start: {exc}")
                continue
            self.log_agents[cluster.name] = agent

    def _start_cloudwatch(self, endpoint_url: str) -> None:
        try:
            from lab.cloudwatch_eval import LabCloudWatch
        except ImportError:
            return
        try:
            self.cloudwatch = LabCloudWatch(endpoint_url, "us-east-1")
            self.cloudwatch.start()
        except Exception as exc:
            self._not_running(f"lab CloudWatch evaluator did not start: {exc}")
            self.cloudwatch = None

    def _not_running(self, warning: str) -> None:
        self.warnings.append(warning)
        self.not_running.append(warning)

    def control(self, cluster: str, *args: str) -> tuple[int, str, str]:
        return self.runtime.control(cluster, *args)

    async def stop(self) -> None:
        def stop_threads() -> None:
            for agent in self.log_agents.values():
                with contextlib.suppress(Exception):
                    agent.stop()
            if self.cloudwatch is not None:
                with contextlib.suppress(Exception):
                    self.cloudwatch.stop()

        await asyncio.to_thread(stop_threads)
        self.log_agents.clear()
        self.cloudwatch = None
        if self._runtime is not None:  # never started: nothing to stop
            await self._runtime.stop()
