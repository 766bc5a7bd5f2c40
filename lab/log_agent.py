"""The lab's CloudWatch agent: writes db2diag and db2audit records of the simulated hosts into moto's log
groups, one stream per host named as the host's agent config says: the `log_stream_name` of the collect_list
entry for that group once `setup monitoring` ran fetch-config there (`{instance_id}`), else "Db2 - {instance_id}"
as the runbook's agent config names them (`stream_template`).

Normal life is a modest trickle (db2havend monitor calls, log archives, STMM changes, auth warnings, an
application error now and then; application statements on the audited table). Lab state changes
(`LabCluster.subscribe`) add the records a real failover writes: the standby losing its primary, the
TAKEOVER command, the HADR role and state changes, the resource re-enabled. `write_audit_test()` writes
the records of the test statements that really ran on the lab's Db2 (the proof's GRANT and REVOKE; the
proof's default GRANT when none ran) plus a SELECT by `APPUSR` in upper case, which the runbook's
`worker -appusr` pattern does not exclude (filter patterns are case-sensitive).

One event per record by default (an agent with `multi_line_start_pattern` set to the db2diag/audit
timestamp); `multi_line=False` sends one event per line, as the runbook's config (no multi_line_start_pattern)
really does. All boto3 calls run in the agent's own thread (or `asyncio.to_thread`). No Textual here.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import random
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from lab.diag_records import (
    CASE_TRAP_STATEMENT,
    GRANT_TEST_STATEMENT,
    ROUTINE_ADMIN_STATEMENTS,
    ROUTINE_APP_STATEMENTS,
    HostDiagLog,
    audit_execute,
)
from services.aws_clients import LazyClient
from services.inventory.model import AwsSettings
from services.logs.streams import RUNBOOK_STREAM_TEMPLATE, expand_template

log = logging.getLogger(__name__)
_US = timedelta(microseconds=1)
# Log lines waiting to be put, by (log group, log stream): (time, text) in arrival order.
Batches = dict[tuple[str, str], list[tuple[datetime, str]]]
_RUNNING: dict[int, LogAgent] = {}  # id(cluster state) -> its started agent (lab commands look it up)
_RUNNING_LOCK = threading.Lock()


def running_agent_for(cluster_state: Any) -> LogAgent | None:
    """Return the started LogAgent of `cluster_state` (a lab.state.LabCluster) in this process, or None."""
    with _RUNNING_LOCK:
        agent = _RUNNING.get(id(cluster_state))
    return agent if agent is not None and agent.cluster is cluster_state else None


class LogAgent:
    """Plays the CloudWatch agent on every db host of one lab cluster. `start()`/`stop()` run it in a
    daemon thread; `step()` does one tick synchronously (tests call it directly)."""

    def __init__(
        self,
        cluster_state: Any,
        aws_settings: AwsSettings,
        *,
        interval_s: float = 1.0,
        diag_per_host_per_s: float = 0.4,
        audit_per_s: float = 0.3,
        multi_line: bool = True,
        backfill_minutes: int = 30,
        utc_offset_minutes: int = 0,
        seed: int | None = None,
        client: Any = None,
        stream_template: str = RUNBOOK_STREAM_TEMPLATE,
    ) -> None:
        self.cluster = cluster_state
        self.stream_template = stream_template
        self.aws = aws_settings
        self.interval_s = interval_s
        self.diag_rate = diag_per_host_per_s
        self.audit_rate = audit_per_s
        self.multi_line = multi_line
        self.backfill_minutes = backfill_minutes
        self.rng = random.Random(seed)
        self._client = client
        self._lock = threading.RLock()
        self._events: queue.SimpleQueue[tuple[str, dict[str, Any]]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._unsubscribe = None
        self._created: set[tuple[str, str]] = set()
        self._last_us: dict[tuple[str, str], int] = {}
        self._conn_id = 1
        self._correlator = 100
        self._trail_shipped = 0  # how much of the catalog's audit trail `take_audit_test` has claimed
        self.events_written = 0
        self.last_error: str | None = None
        self.writers = {
            name: HostDiagLog(
                host=name,
                instance=cluster_state.instance,
                database=cluster_state.database,
                utc_offset_minutes=utc_offset_minutes,
                rng=random.Random(self.rng.random()),
            )
            for name in cluster_state.db_nodes
        }

    # ------------------------------------------------------------------ lifecycle
    client = LazyClient("logs")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Subscribe to the lab state and start writing in a daemon thread (no-op when running)."""
        if self.running:
            return
        self._stop.clear()
        self._unsubscribe = self.cluster.subscribe(self._on_lab_event)
        self._thread = threading.Thread(target=self._run, name=f"log-agent-{self.cluster.name}", daemon=True)
        self._thread.start()
        with _RUNNING_LOCK:
            _RUNNING[id(self.cluster)] = self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop writing and unsubscribe; waits up to `timeout` seconds for the thread."""
        self._stop.set()
        with _RUNNING_LOCK:
            if _RUNNING.get(id(self.cluster)) is self:
                del _RUNNING[id(self.cluster)]
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        try:
            if self.backfill_minutes:
                self.backfill(self.backfill_minutes)
        except Exception as exc:  # keep the lab alive: the console shows the error via last_error
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.exception("log agent backfill failed")
        while not self._stop.wait(self.interval_s):
            try:
                self.step()
            except Exception as exc:
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("log agent step failed")

    def _on_lab_event(self, kind: str, details: dict[str, Any]) -> None:
        self._events.put((kind, details))  # called from any thread: hand over, work in the agent thread

    # ------------------------------------------------------------------ writing
    def backfill(self, minutes: int, now: datetime | None = None) -> int:
        """Write `minutes` of routine history ending at `now` (so a fresh lab has something to show)."""
        now = now or datetime.now(UTC)
        start = now - timedelta(minutes=minutes)
        steps = minutes * 6
        batches: Batches = {}
        with self._lock:
            for i in range(steps):
                when = start + timedelta(seconds=10 * i + self.rng.random() * 9)
                self._routine(when, batches, scale=10.0)
            return self._put_all(batches)

    def step(self, now: datetime | None = None) -> int:
        """One tick: let the lab apply due transitions, write the records its events call for and the
        routine trickle; return the number of events put."""
        self.cluster.tick()
        now = now or datetime.now(UTC)
        batches: Batches = {}
        with self._lock:
            while True:
                try:
                    kind, details = self._events.get_nowait()
                except queue.Empty:
                    break
                now = self._lab_event(kind, details, now, batches)
            self._routine(now, batches, scale=self.interval_s)
            return self._put_all(batches)

    def _routine(self, when: datetime, batches: Batches, scale: float) -> None:
        primary = self.cluster.hadr_primary
        for name, writer in self.writers.items():
            if not self._host_up(name) or self.rng.random() >= self.diag_rate * scale:
                continue
            t = when + self.rng.random() * timedelta(milliseconds=900)
            self._add(batches, "diag", name, t, writer.routine(t, name == primary, self.cluster.hadr_rsc))
        if self._host_up(primary) and self.rng.random() < self.audit_rate * scale:
            self._correlator += 1
            if self.rng.random() < 0.8:
                user, auth, app = "appusr", "APPUSR", "db2jcc_application"
                stmt = self.rng.choice(ROUTINE_APP_STATEMENTS)
            else:
                user, auth, app = self.cluster.instance, self.cluster.instance.upper(), "db2bp"
                stmt = self.rng.choice(ROUTINE_ADMIN_STATEMENTS)
            text = self._audit(when, user, auth, stmt, primary, app)
            self._add(batches, "audit", primary, when, text)

    def _audit(self, when: datetime, user: str, auth: str, stmt: str, host: str, app: str) -> str:
        return audit_execute(
            when,
            userid=user,
            authid=auth,
            statement=stmt,
            database=self.cluster.database,
            instance=self.cluster.instance,
            hostname=host,
            application=app,
            correlator=self._correlator,
        )

    def _lab_event(self, kind: str, details: dict[str, Any], now: datetime, batches: Batches) -> datetime:
        """Add the records lab event `kind` calls for, a few ms apart from `now`; return the next time."""
        resource = self.cluster.hadr_rsc
        clock = [now]

        def add(host: str, make: Callable[[HostDiagLog, datetime], str]) -> None:
            if host in self.writers and self._host_up(host):
                clock[0] += timedelta(milliseconds=7)
                self._add(batches, "diag", host, clock[0], make(self.writers[host], clock[0]))

        if kind == "node_lost" and details.get("was_primary"):
            standby = self.cluster.other(details["node"])
            add(standby, lambda w, t: w.hadr_state(t, "HDR_S_DISCONN_PEER", "HDR_S_PEER", self._conn_id))
            add(standby, lambda w, t: w.connection_lost(t))
        elif kind == "takeover":
            new, old, forced = details["node"], details.get("old_primary", ""), details.get("forced", True)
            if not forced:
                add(old, lambda w, t: w.takeover_info(t, forced=False))
                add(old, lambda w, t: w.takeover_command(t))
                add(old, lambda w, t: w.hadr_state(t, "HDR_S_PEER", "HDR_P_PEER", self._conn_id))
                add(old, lambda w, t: w.hadr_role(t, "STANDBY", "PRIMARY"))
            add(new, lambda w, t: w.takeover_command(t))
            if forced:
                add(new, lambda w, t: w.takeover_info(t, forced=True))
            add(new, lambda w, t: w.hadr_role(t, "PRIMARY", "STANDBY"))
            state = (
                ("HDR_P_REM_CATCHUP_PENDING", "HDR_S_DISCONN_PEER")
                if forced
                else ("HDR_P_PEER", "HDR_S_PEER")
            )
            add(new, lambda w, t: w.hadr_state(t, state[0], state[1], self._conn_id))
            add(new, lambda w, t: w.resource_enabled(t, resource))
        elif kind == "host_up" and details.get("host") in self.writers:
            self.writers[details["host"]].restart_db2()
        elif kind == "resources_started":
            node = details.get("node", "")
            if node != self.cluster.hadr_primary:
                add(node, lambda w, t: w.hadr_role(t, "STANDBY", "PRIMARY"))
                add(
                    node,
                    lambda w, t: w.hadr_state(t, "HDR_S_REM_CATCHUP", "HDR_S_LOCAL_CATCHUP", self._conn_id),
                )
        elif kind == "hadr_peer":
            self._conn_id += 1
            primary = details.get("primary", self.cluster.hadr_primary)
            add(primary, lambda w, t: w.connected(t, self._conn_id))
            add(primary, lambda w, t: w.hadr_state(t, "HDR_P_PEER", "HDR_P_REM_CATCHUP", self._conn_id))
            standby = self.cluster.other(primary)
            add(standby, lambda w, t: w.hadr_state(t, "HDR_S_PEER", "HDR_S_REM_CATCHUP", self._conn_id))
        return clock[0]

    def take_audit_test(self, now: datetime | None = None) -> list[tuple[str, datetime, str]]:
        """Claim what `write_audit_test` ships: the records of the statements the lab's Db2 audited since the
        last test (the proof's GRANT and REVOKE, as they ran), or the proof's default GRANT by the instance
        owner when none ran; then a SELECT by `APPUSR` (the case trap). Returns (host, time, record)."""
        from lab.db2admin_state import catalog

        with self._lock:
            trail = catalog(self.cluster).audit_trail
            ran, self._trail_shipped = trail[self._trail_shipped :], len(trail)
            now = now or datetime.now(UTC)
            host = self.cluster.hadr_primary
            out: list[tuple[str, datetime, str]] = []
            for i, (ran_on, record) in enumerate(ran):
                out.append((ran_on, now + timedelta(milliseconds=i), record))
            if not out:
                self._correlator += 1
                owner = self.cluster.instance
                out.append(
                    (host, now, self._audit(now, owner, owner.upper(), GRANT_TEST_STATEMENT, host, "db2bp"))
                )
            self._correlator += 1
            later = now + timedelta(milliseconds=40)
            trap = self._audit(later, "APPUSR", "APPUSR", CASE_TRAP_STATEMENT, host, "db2jcc_application")
            out.append((host, later, trap))
            return out

    async def write_audit_test(
        self, cluster: Any = None, records: list[tuple[str, datetime, str]] | None = None
    ) -> list[str]:
        """Ship `records` (default: `take_audit_test()`) to the audit log group; return their texts.

        `cluster` is accepted for symmetry with the lab runtime and must be this agent's cluster if given.
        Raises botocore errors when the put fails."""
        if cluster is not None and cluster is not self.cluster:
            raise ValueError("write_audit_test: this agent writes for its own cluster only")

        def write() -> list[str]:
            with self._lock:
                chosen = records if records is not None else self.take_audit_test()
                batches: Batches = {}
                for host, when, text in chosen:
                    self._add(batches, "audit", host, when, text)
                self._put_all(batches)
                return [text for _, _, text in chosen]

        return await asyncio.to_thread(write)

    # ------------------------------------------------------------------ CloudWatch calls
    def _host_up(self, name: str) -> bool:
        host = self.cluster.hosts.get(name)
        return bool(host and host.up)

    def _add(self, batches: Batches, source: str, host: str, when: datetime, text: str) -> None:
        group = self.aws.diag_log_group if source == "diag" else self.aws.audit_log_group
        batches.setdefault((group, self.stream_name(group, host)), []).append((when, text))

    def stream_name(self, group: str, host: str) -> str:
        """Return the stream `host` ships `group` to: its agent config's log_stream_name for that group (as
        `setup monitoring` wrote it), else `stream_template`; placeholders filled as the agent does."""
        from lab.db2admin_state import agent_collect_list  # imports lab.state: late, like its callers

        lab_host = self.cluster.hosts[host]
        template = self.stream_template
        for item in agent_collect_list(self.cluster, lab_host):
            if item.get("log_group_name") == group and isinstance(item.get("log_stream_name"), str):
                template = item["log_stream_name"]
                break
        return expand_template(template, lab_host.instance_id, host) or template

    def _put_all(self, batches: Batches) -> int:
        total = 0
        for (group, stream), items in batches.items():
            items.sort(key=lambda item: item[0])
            events: list[dict[str, int | str]] = []  # PutLogEvents logEvents
            last_ms = self._last_us.get((group, stream), 0) // 1000
            for when, text in items:
                ms = max(int(when.timestamp() * 1000), last_ms)  # never older than what the stream has
                last_ms = ms
                lines = [text] if self.multi_line else text.splitlines()
                events.extend({"timestamp": ms, "message": line} for line in lines)
            self._ensure_stream(group, stream)
            for i in range(0, len(events), 1_000):  # well under the 1 MB batch limit
                self.client.put_log_events(
                    logGroupName=group, logStreamName=stream, logEvents=events[i : i + 1_000]
                )
            self._last_us[(group, stream)] = last_ms * 1000
            total += len(events)
        self.events_written += total
        return total

    def _ensure_stream(self, group: str, stream: str) -> None:
        if (group, stream) in self._created:
            return
        for call, kwargs in (
            (self.client.create_log_group, {"logGroupName": group}),
            (self.client.create_log_stream, {"logGroupName": group, "logStreamName": stream}),
        ):
            try:
                call(**kwargs)
            except self.client.exceptions.ResourceAlreadyExistsException:
                pass  # the real agent also creates what is missing and reuses what exists
        self._created.add((group, stream))
