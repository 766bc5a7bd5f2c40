"""Fault drills of the lab's state model: kill the primary, stop qnetd, break HADR, add latency, restore.

A mixin of `lab.state.LabCluster` (kept apart so each module stays small). Every drill runs under the
cluster's lock through `_change`, which evaluates due transitions before and after the action and then
notifies listeners outside the lock.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from lab.state import FailedAction, LabEvents, LabHost, LabOp


class _Cluster(Protocol):
    """What the drills read and change of a LabCluster (the mixin's `self`)."""

    db_nodes: tuple[str, str]
    qdevice_name: str
    hosts: dict[str, LabHost]
    promoted: str | None
    hadr_primary: str
    db_active: dict[str, bool]
    hadr_link_up: bool
    qnetd_up: bool
    dc: str
    ring_seq: int
    last_takeover: float | None
    connect_status_time: float
    last_change: tuple[float, str, str, str]
    failed_actions: list[FailedAction]
    history: dict[str, dict[str, list[LabOp]]]
    failover_delay_s: float
    latency_ms: int
    _failover_due: float | None
    _standby_frozen_pos: int | None
    _log_pos: int
    _log_time: float

    def _change(self, action: Callable[[float, LabEvents], None]) -> None: ...
    def _advance(self, now: float, events: LabEvents) -> None: ...
    def _crash(self, node: str, now: float, events: LabEvents) -> None: ...
    def _promote(self, node: str, now: float, events: LabEvents, *, takeover: bool) -> None: ...
    def _op_demote(self, node: str, now: float) -> None: ...
    def _freeze_standby(self, now: float) -> None: ...
    def _begin_catchup(self, now: float) -> None: ...
    def _next_call(self) -> int: ...
    def other(self, node: str) -> str: ...
    def hadr_state(self, now: float) -> str: ...
    def primary_log_pos(self, now: float) -> int: ...


class DrillsMixin:
    """Drill methods for LabCluster; `self` is always a LabCluster (typed as the _Cluster it uses)."""

    # mypy takes the drills' assignments to these as declarations of the mixin: give them LabCluster's types.
    promoted: str | None
    last_takeover: float | None
    _failover_due: float | None

    def kill_primary(self: _Cluster) -> str:
        """Crash the host of the HADR primary; Pacemaker promotes the standby after `failover_delay_s`.

        Returns the name of the node that was killed.
        """
        killed: list[str] = []

        def action(now: float, events: LabEvents) -> None:
            node = self.promoted or self.hadr_primary
            killed.append(node)
            self._crash(node, now, events)

        self._change(action)
        return killed[0]

    def kill_node(self: _Cluster, node: str) -> None:
        """Crash one host (db node or the qdevice host). Raises KeyError for an unknown host."""
        self.hosts[node]  # noqa: B018 - validate the name before changing anything
        self._change(lambda now, events: self._crash(node, now, events))

    def _crash(self: _Cluster, node: str, now: float, events: LabEvents) -> None:
        host = self.hosts[node]
        if not host.up:
            return
        host.up = False
        events.append(("host_down", {"host": node, "instance_id": host.instance_id}))
        if host.role != "db":
            return
        self.ring_seq += 4
        self.db_active[node] = False
        self.history[node] = {}
        self._freeze_standby(now)
        if self.dc == node:
            self.dc = self.other(node)
        if self.promoted == node:
            self.promoted = None
            self._failover_due = now + self.failover_delay_s
        events.append(("node_lost", {"node": node, "was_primary": node == self.hadr_primary}))

    def restore(self: _Cluster) -> None:
        """Everything healthy again: crashed hosts boot, qnetd runs, HADR link up, killed node rejoins as standby."""

        def action(now: float, events: LabEvents) -> None:
            if not self.qnetd_up:
                self.qnetd_up = True
                events.append(("qnetd_start", {}))
            self.hadr_link_up = True
            self.latency_ms = 0
            for host in self.hosts.values():
                if not host.up:
                    host.up = True
                    host.booted_at = now
                    host.qdevice_port += 1
                    if host.role == "db":
                        self.ring_seq += 4
                        self.db_active[host.name] = False  # _advance starts it as standby
                    events.append(("host_up", {"host": host.name, "instance_id": host.instance_id}))
            self._advance(now, events)
            if self._standby_frozen_pos is not None and self.hadr_link_up:
                self._begin_catchup(now)
                events.append(("hadr_reconnect", {"primary": self.hadr_primary}))
            self.failed_actions.clear()
            events.append(("restore", {"primary": self.hadr_primary}))

        self._change(action)

    def stop_qnetd(self: _Cluster) -> None:
        def action(now: float, events: LabEvents) -> None:
            if self.qnetd_up:
                self.qnetd_up = False
                events.append(("qnetd_stop", {"host": self.qdevice_name}))

        self._change(action)

    def start_qnetd(self: _Cluster) -> None:
        def action(now: float, events: LabEvents) -> None:
            if not self.qnetd_up:
                self.qnetd_up = True
                for node in self.db_nodes:
                    self.hosts[node].qdevice_port += 1
                events.append(("qnetd_start", {"host": self.qdevice_name}))

        self._change(action)

    def disconnect_hadr(self: _Cluster) -> None:
        """Break the HADR network link only: both databases stay up, primary DISCONNECTED, log gap grows."""

        def action(now: float, events: LabEvents) -> None:
            if self.hadr_link_up:
                self.hadr_link_up = False
                self._freeze_standby(now)
                events.append(("hadr_disconnect", {"primary": self.hadr_primary}))

        self._change(action)

    def reconnect_hadr(self: _Cluster) -> None:
        """Mend the HADR link: REMOTE_CATCHUP for `catchup_s`, then PEER."""

        def action(now: float, events: LabEvents) -> None:
            if not self.hadr_link_up:
                self.hadr_link_up = True
                if all(self.hosts[n].up and self.db_active[n] for n in self.db_nodes):
                    self._begin_catchup(now)
                events.append(("hadr_reconnect", {"primary": self.hadr_primary}))

        self._change(action)

    def set_latency(self: _Cluster, ms: int) -> None:
        """Delay every command answer of this cluster's hosts by `ms` milliseconds. Raises ValueError if < 0."""
        if ms < 0:
            raise ValueError("latency must be >= 0 ms")

        def action(now: float, events: LabEvents) -> None:
            self.latency_ms = int(ms)
            events.append(("latency", {"ms": int(ms)}))

        self._change(action)

    def move_primary(self: _Cluster, node: str) -> None:
        """Planned graceful takeover to `node` (both stay online, PEER). Raises ValueError when impossible."""
        if node not in self.db_nodes:
            raise ValueError(f"unknown node {node!r}: use one of {', '.join(self.db_nodes)}")

        def action(now: float, events: LabEvents) -> None:
            if node == self.hadr_primary and self.promoted == node:
                return
            if not (self.hosts[node].up and self.db_active[node]) or self.hadr_state(now) != "PEER":
                raise ValueError(f"cannot move the primary to {node}: the HADR pair is not in PEER")
            old = self.hadr_primary
            pos = self.primary_log_pos(now)
            self._log_pos, self._log_time = pos, now
            self.hadr_primary = node
            self.last_takeover = now
            self.connect_status_time = now
            self._op_demote(old, now)
            self.last_change = (now, "root", "crm_resource", old)
            events.append(("takeover", {"node": node, "old_primary": old, "forced": False}))
            self.promoted = None
            self._promote(node, now, events, takeover=False)

        self._change(action)

    def add_failed_action(
        self: _Cluster, node: str, resource: str, task: str = "monitor", rc: int = 7
    ) -> None:
        """Record a failed resource action (shown in crm_mon's failures) until `restore()`."""

        def action(now: float, events: LabEvents) -> None:
            rc_text = {1: "error", 7: "not running"}.get(rc, "error")
            from lab.state import FailedAction

            interval = 10_000 if task == "monitor" else 0  # the recurring monitor of the lab's resources
            fa = FailedAction(resource, task, node, rc, rc_text, now, self._next_call(), interval_ms=interval)
            self.failed_actions.append(fa)
            events.append(("failed_action", {"node": node, "resource": resource, "task": task, "rc": rc}))

        self._change(action)
