"""The embedded lab's state model: one `LabCluster` per simulated Db2 HADR + Pacemaker cluster.

Every answer the lab's SSH hosts give (crm_mon, corosync tools, db2pd, db2cm...) is rendered from this one
model, so the tools never contradict each other. Faults are plain method calls (thread-safe: the SSH server
runs on an asyncio loop, drills may come from other threads). Timed transitions (Pacemaker promoting the
standby `failover_delay_s` after the primary died, HADR catching up) are evaluated lazily by `tick(now)`,
which every command calls first: no background thread is needed.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from lab.drills import DrillsMixin
from lab.release import Db2Release, release

log = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]
# What a change of the lab's state announces, in order: (kind, details) for the listeners.
LabEvents = list[tuple[str, dict[str, Any]]]

LOG_FILE_BYTES = 1024 * 4096  # LOGFILSIZ 1024 pages of 4 KB
LOG_RATE_BYTES_PER_S = 48_000  # a steady trickle of log writes on the primary
FIRST_LOG_FILE = 12
HADR_PORT = 50010


def _made_up_instance_id(cluster: str, host: str) -> str:
    # Stable across runs; lab/aws.py replaces it with the id moto assigns.
    return "i-0" + hashlib.sha1(f"{cluster}/{host}".encode()).hexdigest()[:16]


@dataclass
class LabHost:
    """One simulated EC2 host. `up` False means crashed: its SSH server refuses connections."""

    name: str
    role: str  # "db" or "qdevice"
    instance_id: str
    address: str  # the simulated private address shown inside outputs (never contacted)
    node_id: int = 0  # corosync node id (0 for the qdevice host)
    files: dict[str, str] = field(default_factory=dict)  # tiny per-host filesystem for command handlers
    up: bool = True
    booted_at: float = 0.0
    qdevice_port: int = 0  # source port of its qdevice -> qnetd connection (changes on reconnect)


@dataclass
class LabOp:
    """One `operation_history` entry of crm_mon's node_history."""

    call: int
    task: str
    rc: int
    rc_text: str
    at: float
    interval_ms: int | None = None
    exec_ms: int = 20


@dataclass
class FailedAction:
    resource: str
    task: str
    node: str
    rc: int
    rc_text: str
    at: float
    call: int
    interval_ms: int = 0
    exit_reason: str = ""
    status: str = "complete"


class LabCluster(DrillsMixin):
    """State of one simulated cluster: two Db2 nodes (HADR pair under Pacemaker) and a qnetd host."""

    def __init__(
        self,
        name: str,
        *,
        index: int = 1,
        prefix_hosts: bool = False,
        instance: str = "db2inst1",
        database: str = "HADRDB",
        failover_delay_s: float = 2.0,
        catchup_s: float | None = None,
        latency_ms: int = 0,
        clock: Callable[[], float] = time.time,
        db2: str | None = None,
    ) -> None:
        self.name = name
        # The Db2 release and its Pacemaker build: every rendered version string and wording follows it.
        self.release: Db2Release = release(db2)
        self.instance = instance
        self.database = database
        self.failover_delay_s = failover_delay_s
        self.catchup_s = failover_delay_s if catchup_s is None else catchup_s
        self.latency_ms = latency_ms
        self.clock = clock
        self.lock = threading.RLock()
        self._listeners: list[Listener] = []
        now = clock()
        pre = f"{name}-" if prefix_hosts else ""
        net = f"10.99.{index}"
        self.db_nodes: tuple[str, str] = (f"{pre}db2a", f"{pre}db2b")
        self.qdevice_name = f"{pre}qdev"
        self.hosts: dict[str, LabHost] = {}
        for i, host_name in enumerate((*self.db_nodes, self.qdevice_name)):
            role = "qdevice" if host_name == self.qdevice_name else "db"
            self.hosts[host_name] = LabHost(
                name=host_name,
                role=role,
                instance_id=_made_up_instance_id(name, host_name),
                address=f"{net}.{11 + 16 * i}",  # inside the /28 subnet lab/aws.py makes per host
                node_id=i + 1 if role == "db" else 0,
                booted_at=now - 86_400 - 3_600 * i,
                qdevice_port=49_944 + 3_698 * i,
            )
        self.overlay_ip = "192.168.1.81"
        self.nic = "eth0"  # the hosts' only interface (EC2 Xen naming, as in the runbook)
        self.syncmode = "NEARSYNC"
        self.peer_window_s = 120
        self.hadr_timeout_s = 120  # Db2's default HADR_TIMEOUT
        # Pacemaker / Db2 facts
        self.promoted: str | None = self.db_nodes[0]  # Pacemaker's promoted node
        self.hadr_primary: str = self.db_nodes[0]  # Db2's HADR primary (changes on takeover)
        self.db_active: dict[str, bool] = {n: True for n in self.db_nodes}
        self.db_activated_at: dict[str, float] = {n: now - 7_200 for n in self.db_nodes}
        self.hadr_link_up = True
        self.qnetd_up = True
        self.dc: str = self.db_nodes[1]
        self.ring_seq = 9
        self.last_takeover: float | None = None
        self.connect_status_time = now - 7_000
        self.last_change = (now - 7_100, "root", "cibadmin", self.db_nodes[0])
        self.failed_actions: list[FailedAction] = []
        self._failover_due: float | None = None
        self._catchup_from: tuple[float, int] | None = None  # (start time, standby pos at start)
        self._standby_frozen_pos: int | None = None  # standby receive position while not receiving
        self._standby_frozen_time: float | None = None
        self._log_pos = FIRST_LOG_FILE * LOG_FILE_BYTES + 57_344
        self._log_time = now
        self._quorate_last = True
        self._call = 40
        self.history: dict[str, dict[str, list[LabOp]]] = {n: {} for n in self.db_nodes}
        self.started_at: dict[str, float] = {n: now - 7_000 for n in self.db_nodes}
        for node in self.db_nodes:
            self._op_start(node, self.ethmon_rsc(node), now - 7_000, interval_ms=4_000)
            self._op_start(node, self.instance_rsc(node), now - 7_000, interval_ms=10_000)
        self._op_start(self.db_nodes[1], self.hadr_rsc, now - 7_000, interval_ms=10_000)
        self._op_promote(self.db_nodes[0], now - 7_000)
        self._op_start(self.db_nodes[0], self.oip_rsc, now - 7_000, interval_ms=30_000)

    # ------------------------------------------------------------ names

    @property
    def hadr_rsc(self) -> str:
        return f"db2_{self.instance}_{self.instance}_{self.database}"

    @property
    def clone_rsc(self) -> str:
        return f"{self.hadr_rsc}-clone"

    @property
    def oip_rsc(self) -> str:
        return f"{self.hadr_rsc}_AWS_primary-OIP"  # the HA plan's name (services/ha_setup/params.py)

    def instance_rsc(self, node: str) -> str:
        return f"db2_{node}_{self.instance}_0"

    def ethmon_rsc(self, node: str) -> str:
        """db2cm's network-interface monitor of `node` (db2ethmon agent): db2_<host>_<nic>."""
        return f"db2_{node}_{self.nic}"

    def other(self, node: str) -> str:
        return self.db_nodes[1] if node == self.db_nodes[0] else self.db_nodes[0]

    @property
    def qdevice_host(self) -> LabHost:
        return self.hosts[self.qdevice_name]

    # ------------------------------------------------------------ listeners

    def subscribe(self, callback: Listener) -> Callable[[], None]:
        """Call `callback(kind, details)` after every state change; returns a function that unsubscribes."""
        with self.lock:
            self._listeners.append(callback)

        def unsubscribe() -> None:
            with self.lock:
                if callback in self._listeners:
                    self._listeners.remove(callback)

        return unsubscribe

    def _emit(self, events: list[tuple[str, dict[str, Any]]]) -> None:
        # Called outside the lock so listeners may read the state (or call back in) freely.
        for kind, details in events:
            for listener in list(self._listeners):
                try:
                    listener(kind, {"cluster": self.name, **details})
                except Exception:  # a broken listener must not break the lab
                    log.exception("lab listener failed on %s", kind)

    def _change(self, action: Callable[[float, LabEvents], None]) -> None:
        events: LabEvents = []
        with self.lock:
            now = self.clock()
            self._advance(now, events)
            action(now, events)
            self._advance(now, events)
        self._emit(events)

    # ------------------------------------------------------------ derived facts

    def online_nodes(self) -> list[str]:
        """Db nodes whose host is up (corosync + Pacemaker running), in node-id order."""
        return [n for n in self.db_nodes if self.hosts[n].up]

    def qdevice_connected(self) -> bool:
        return self.qnetd_up and self.qdevice_host.up

    def votes(self) -> int:
        online = self.online_nodes()
        return len(online) + (1 if online and self.qdevice_connected() else 0)

    def quorate(self) -> bool:
        """Expected votes 3 (two nodes + qdevice), quorum 2."""
        return self.votes() >= 2

    def ring_id(self) -> str:
        online = self.online_nodes()
        low = min((self.hosts[n].node_id for n in online), default=1)
        return f"{low}.{self.ring_seq:x}"

    def primary_log_pos(self, now: float) -> int:
        return self._log_pos + int(LOG_RATE_BYTES_PER_S * max(0.0, now - self._log_time))

    def hadr_connected(self) -> bool:
        a, b = self.db_nodes
        return (
            self.hadr_link_up
            and all(self.hosts[n].up and self.db_active[n] for n in (a, b))
            and self._standby_frozen_pos is None
        )

    def hadr_state(self, now: float) -> str:
        """The pair's state as the primary reports it: PEER, REMOTE_CATCHUP or DISCONNECTED."""
        if not self.hadr_connected():
            return "DISCONNECTED"
        if self._catchup_from is not None and now < self._catchup_from[0] + self.catchup_s:
            return "REMOTE_CATCHUP"
        return "PEER"

    def standby_log_pos(self, now: float) -> int:
        """Where the standby has received up to (== primary in PEER, frozen while disconnected)."""
        if self._standby_frozen_pos is not None:
            return self._standby_frozen_pos
        primary = self.primary_log_pos(now)
        if self._catchup_from is not None and self.catchup_s > 0:
            start, pos = self._catchup_from
            done = min(1.0, max(0.0, (now - start) / self.catchup_s))
            return pos + int((primary - pos) * done)
        return primary

    def standby_log_time(self, now: float) -> float:
        if self._standby_frozen_time is not None:
            return self._standby_frozen_time
        return now

    def role_of(self, node: str) -> str:
        return "PRIMARY" if node == self.hadr_primary else "STANDBY"

    def resources_running(self, node: str) -> list[str]:
        """Resource ids running on `node` (what crm_mon shows), in crm_mon's order."""
        if not self.hosts[node].up or not self.db_active[node]:
            return []
        running = [self.ethmon_rsc(node), self.instance_rsc(node)]
        if self.promoted == node:
            running.append(self.oip_rsc)
        running.append(self.hadr_rsc)
        return running

    # ------------------------------------------------------------ time evaluation

    def tick(self, now: float | None = None) -> None:
        """Apply the transitions due by `now` (failover, end of catch-up). Every command calls this first."""
        events: LabEvents = []
        with self.lock:
            self._advance(self.clock() if now is None else now, events)
        self._emit(events)

    def _advance(self, now: float, events: LabEvents) -> None:
        quorate = self.quorate()
        online = self.online_nodes()
        if quorate != self._quorate_last:
            self._quorate_last = quorate
            events.append(("quorum_regained" if quorate else "quorum_lost", {"nodes": online}))
        # no-quorum-policy as this release's db2cm sets it (lab/release.py): stop (11.5.7's capture) stops
        # every resource of the partition (db2stop included); ignore (11.5.5's) carries on as if quorate.
        if not quorate and self.release.no_quorum_policy != "ignore":
            for node in online:
                if self.db_active[node]:
                    self._stop_node_resources(node, now)
                    events.append(("resources_stopped", {"node": node}))
            if self.promoted is not None:
                self.promoted = None
            return
        for node in online:
            if not self.db_active[node]:
                self._start_node_resources(node, now)
                events.append(("resources_started", {"node": node, "role": self.role_of(node)}))
        if self.promoted in online:
            self._finish_catchup(now, events)
            return
        if not online:
            return
        if self.hadr_primary in online:
            self._promote(self.hadr_primary, now, events, takeover=False)
        elif self._failover_due is None or now >= self._failover_due:
            self._promote(online[0], now, events, takeover=True)
        self._finish_catchup(now, events)

    def _finish_catchup(self, now: float, events: LabEvents) -> None:
        if self._catchup_from is not None and now >= self._catchup_from[0] + self.catchup_s:
            self._catchup_from = None
            events.append(("hadr_peer", {"primary": self.hadr_primary}))

    def _promote(self, node: str, now: float, events: LabEvents, *, takeover: bool) -> None:
        old_primary = self.hadr_primary
        if takeover:
            # TAKEOVER HADR BY FORCE PEER WINDOW ONLY: the new primary continues from what it received.
            pos = self.standby_log_pos(now)
            self._log_pos, self._log_time = pos, now
            self.hadr_primary = node
            self.last_takeover = now
            self._standby_frozen_pos, self._standby_frozen_time = pos, now
            self._catchup_from = None
            self.connect_status_time = now
            events.append(("takeover", {"node": node, "old_primary": old_primary, "forced": True}))
        self.promoted = node
        self._failover_due = None
        self._op_promote(node, now)
        self._op_start(node, self.oip_rsc, now, interval_ms=30_000)
        for other in self.db_nodes:
            if other != node:
                self.history[other].pop(self.oip_rsc, None)
        events.append(
            ("promote", {"node": node, "instance_id": self.hosts[node].instance_id, "takeover": takeover})
        )

    def _start_node_resources(self, node: str, now: float) -> None:
        self.db_active[node] = True
        self.db_activated_at[node] = now
        self.started_at[node] = now
        self.history[node] = {}
        self._op_start(node, self.ethmon_rsc(node), now, interval_ms=4_000)
        self._op_start(node, self.instance_rsc(node), now, interval_ms=10_000)
        if node != self.hadr_primary:
            self._op_start(node, self.hadr_rsc, now, interval_ms=10_000)
            if (
                self._standby_frozen_pos is not None
                and self.hadr_link_up
                and self.db_active[self.other(node)]
            ):
                self._begin_catchup(now)

    def _stop_node_resources(self, node: str, now: float) -> None:
        self.db_active[node] = False
        for rsc in list(self.history[node]):
            self._record(node, rsc, "stop", 0, now)
        self._freeze_standby(now)

    # ------------------------------------------------------------ op history (crm_mon node_history)

    def _next_call(self) -> int:
        self._call += 1
        return self._call

    def _record(
        self, node: str, rsc: str, task: str, rc: int, now: float, interval_ms: int | None = None
    ) -> None:
        ops = self.history[node].setdefault(rsc, [])
        rc_text = {0: "ok", 7: "not running", 8: "promoted"}.get(rc, "error")
        if task == "stop":
            ops[:] = [op for op in ops if op.task == "monitor"][-1:]
        ops.append(LabOp(self._next_call(), task, rc, rc_text, now, interval_ms))

    def _op_start(self, node: str, rsc: str, now: float, *, interval_ms: int) -> None:
        self.history[node][rsc] = []
        self._record(node, rsc, "start", 0, now)
        self._record(node, rsc, "monitor", 0, now, interval_ms)

    def _op_promote(self, node: str, now: float) -> None:
        self.history[node][self.hadr_rsc] = []
        self._record(node, self.hadr_rsc, "promote", 0, now)
        self._record(node, self.hadr_rsc, "monitor", 8, now, 9_000)

    def _op_demote(self, node: str, now: float) -> None:
        self.history[node][self.hadr_rsc] = []
        self._record(node, self.hadr_rsc, "demote", 0, now)
        self._record(node, self.hadr_rsc, "monitor", 0, now, 10_000)
        self.history[node].pop(self.oip_rsc, None)

    # ------------------------------------------------------------ HADR link helpers

    def _freeze_standby(self, now: float) -> None:
        if self._standby_frozen_pos is None:
            self._standby_frozen_pos = self.standby_log_pos(now)
            self._standby_frozen_time = now
            self._catchup_from = None
            self.connect_status_time = now

    def _begin_catchup(self, now: float) -> None:
        frozen = (
            self._standby_frozen_pos if self._standby_frozen_pos is not None else self.primary_log_pos(now)
        )
        self._standby_frozen_pos = None
        self._standby_frozen_time = None
        self._catchup_from = (now, frozen)
        self.connect_status_time = now

    # ------------------------------------------------------------ summary for `db2ops-lab status`

    def summary(self) -> dict[str, Any]:
        """A JSON-able picture of the cluster (what `db2ops-lab status` prints)."""
        self.tick()
        with self.lock:
            now = self.clock()
            return {
                "cluster": self.name,
                "hosts": {
                    h.name: {"up": h.up, "role": h.role, "instance_id": h.instance_id}
                    for h in self.hosts.values()
                },
                "promoted": self.promoted,
                "hadr_primary": self.hadr_primary,
                "hadr_state": self.hadr_state(now),
                "log_gap_bytes": self.primary_log_pos(now) - self.standby_log_pos(now),
                "quorate": self.quorate(),
                "qnetd_up": self.qnetd_up,
                "hadr_link_up": self.hadr_link_up,
                "latency_ms": self.latency_ms,
                "failover_pending": self._failover_due is not None and self.promoted is None,
                "last_takeover": self.last_takeover,
            }
