"""Typed results of parsing the cluster tools' outputs.

These dataclasses are the contract between parsers (services/parsers), the status service, the lab and the
screens. They hold facts as the tools report them; judgements live in services/status/verdicts.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# ---------------------------------------------------------------- Pacemaker (crm_mon --output-as=xml)


@dataclass(frozen=True)
class CrmNode:
    name: str
    id: str = ""
    online: bool = False
    standby: bool = False
    standby_onfail: bool = False
    maintenance: bool = False
    pending: bool = False
    unclean: bool = False
    shutdown: bool = False
    is_dc: bool = False
    resources_running: int = 0
    type: str = "member"


@dataclass(frozen=True)
class CrmResource:
    """One primitive instance. Inside a clone there is one per node it runs on (or one Stopped)."""

    id: str
    agent: str = ""  # "ocf:pacemaker:Stateful" or "ocf::heartbeat:db2hadr" (both spellings occur)
    role: str = ""  # normalised: Started, Stopped, Promoted, Unpromoted, Starting, Promoting, ...
    active: bool = False
    managed: bool = True
    failed: bool = False
    blocked: bool = False
    nodes: tuple[str, ...] = ()
    pending: str = ""  # an action under way (record-pending), e.g. "Promoting"; "" when none


@dataclass(frozen=True)
class CrmOperation:
    """One `<operation_history>` entry of crm_mon's `<node_history>`: what Pacemaker last did to a resource
    on a node (start, promote, demote, monitor...) and when, as the node's local `last-rc-change` time."""

    node: str
    resource: str
    task: str
    rc: int | None = None
    rc_text: str = ""
    call: int | None = None
    interval_ms: int | None = None
    last_rc_change: str = ""  # "Thu Nov 26 15:00:07 2026" (the node's local time, like last_update)
    status: str = ""  # "pending" for an operation still running (record-pending), else "" / "complete"

    @property
    def pending(self) -> bool:
        # rc 193 is Pacemaker's "pending" execution status, shown while the action still runs
        return self.status == "pending" or self.rc == 193


@dataclass(frozen=True)
class CrmClone:
    id: str
    promotable: bool = False  # multi_state="true"
    managed: bool = True
    failed: bool = False
    disabled: bool = False
    instances: tuple[CrmResource, ...] = ()

    @property
    def promoted_nodes(self) -> tuple[str, ...]:
        return tuple(n for r in self.instances if r.role == "Promoted" for n in r.nodes)

    @property
    def unpromoted_nodes(self) -> tuple[str, ...]:
        return tuple(n for r in self.instances if r.role == "Unpromoted" for n in r.nodes)


@dataclass(frozen=True)
class CrmGroup:
    id: str
    members: tuple[CrmResource, ...] = ()


@dataclass(frozen=True)
class CrmFailedAction:
    resource: str
    operation: str  # task, e.g. "monitor"
    node: str
    rc: int | None = None
    rc_text: str = ""
    status: str = ""
    exit_reason: str = ""
    interval_ms: int | None = None
    last_rc_change: str = ""
    call: str = ""


@dataclass(frozen=True)
class CrmBan:
    id: str
    resource: str
    node: str
    weight: int = 0
    promoted_only: bool = False


@dataclass(frozen=True)
class CrmStatus:
    """What `crm_mon --output-as=xml` (or 1.1's `--as-xml`) says."""

    connected: bool = True  # False when <status code="102" message="Not connected">
    status_code: int = 0
    status_message: str = "OK"
    stack: str = ""
    dc: str | None = None  # name of the DC, None when there is none
    dc_version: str = ""
    with_quorum: bool | None = None
    last_update: str = ""
    last_change: str = ""
    last_change_by: str = ""  # "user via client on origin" when present
    nodes_configured: int = 0
    resources_configured: int = 0
    stonith_enabled: bool | None = None
    maintenance_mode: bool | None = None
    no_quorum_policy: str = ""
    # False in an opt-in cluster (db2cm of 11.5.5 set it so): a resource runs only where a location
    # constraint allows it. None when crm_mon does not say.
    symmetric_cluster: bool | None = None
    nodes: tuple[CrmNode, ...] = ()
    resources: tuple[CrmResource, ...] = ()  # top-level primitives
    clones: tuple[CrmClone, ...] = ()
    groups: tuple[CrmGroup, ...] = ()
    failed_actions: tuple[CrmFailedAction, ...] = ()
    operations: tuple[CrmOperation, ...] = ()  # <node_history>, in document order
    bans: tuple[CrmBan, ...] = ()
    node_attributes: dict[str, dict[str, str]] = field(default_factory=dict)
    status_errors: tuple[str, ...] = ()  # <status><errors><error> texts, e.g. why it is not connected
    pacemakerd_state: str = ""  # <pacemakerd state="running"> (2.1+), "" when absent

    def node(self, name: str) -> CrmNode | None:
        return next((n for n in self.nodes if n.name == name), None)

    @property
    def promotable_clones(self) -> tuple[CrmClone, ...]:
        return tuple(c for c in self.clones if c.promotable)

    @property
    def promoted_nodes(self) -> tuple[str, ...]:
        """Nodes where the (first) promotable clone is Promoted: the Db2 HADR primary per Pacemaker."""
        clones = self.promotable_clones
        return clones[0].promoted_nodes if clones else ()


# ---------------------------------------------------------------- corosync


@dataclass(frozen=True)
class QuorumMember:
    node_id: int
    votes: int
    qdevice: str  # flags like "A,V,NMW" or "" ; name "Qdevice" row has node_id 0
    name: str
    local: bool = False


@dataclass(frozen=True)
class QuorumStatus:
    """`corosync-quorumtool -s`."""

    quorate: bool
    node_id: int | None = None
    nodes: int = 0
    ring_id: str = ""
    expected_votes: int = 0
    total_votes: int = 0
    quorum: int = 0
    flags: tuple[str, ...] = ()
    members: tuple[QuorumMember, ...] = ()
    date: str = ""
    provider: str = ""  # "corosync_votequorum"
    activity_blocked: bool = False  # "Quorum: 2 Activity blocked"

    @property
    def has_qdevice(self) -> bool:
        return "Qdevice" in self.flags or any(m.name == "Qdevice" for m in self.members)


@dataclass(frozen=True)
class QdeviceStatus:
    """`corosync-qdevice-tool -s[v]` on a cluster node."""

    model: str = ""
    node_id: int | None = None
    configured_node_ids: tuple[int, ...] = ()
    membership_node_ids: tuple[int, ...] = ()
    cluster_name: str = ""
    qnetd_host: str = ""
    algorithm: str = ""
    tie_breaker: str = ""
    state: str = ""  # "Connected", "Connect failed", "Waiting for initial connect"...
    extra: dict[str, str] = field(default_factory=dict)  # -v fields

    @property
    def connected(self) -> bool:
        return self.state == "Connected"


@dataclass(frozen=True)
class QnetdClient:
    node_id: int
    client_address: str = ""
    configured_node_ids: tuple[int, ...] = ()
    membership_node_ids: tuple[int, ...] = ()
    vote: str = ""  # "ACK (ACK)", "No change (ACK)", "NACK (NACK)", ...
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class QnetdCluster:
    name: str
    algorithm: str = ""
    tie_breaker: str = ""
    clients: tuple[QnetdClient, ...] = ()


@dataclass(frozen=True)
class QnetdStatus:
    """`corosync-qnetd-tool -l[v]` on the quorum device host."""

    clusters: tuple[QnetdCluster, ...] = ()

    def cluster(self, name: str) -> QnetdCluster | None:
        return next((c for c in self.clusters if c.name == name), None)


# ---------------------------------------------------------------- Db2 HADR


@dataclass(frozen=True)
class LogPosition:
    file: str
    page: int | None = None
    pos: int | None = None


@dataclass(frozen=True)
class HadrStream:
    """One block of `db2pd -hadr` (one standby / log stream). Times are epoch seconds (UTC-safe)."""

    role: str  # PRIMARY / STANDBY (upper-cased even from 9.7's "Primary")
    state: str  # PEER, REMOTE_CATCHUP, DISCONNECTED, ... (upper-cased, 9.7 "Peer" -> PEER)
    syncmode: str = ""
    connect_status: str = ""  # CONNECTED, DISCONNECTED, CONGESTED
    connect_status_time: float | None = None
    standby_id: int | None = None
    log_stream_id: int | None = None
    primary_host: str = ""
    primary_instance: str = ""
    standby_host: str = ""
    standby_instance: str = ""
    heartbeat_missed: int | None = None
    log_gap_bytes: int | None = None
    primary_log: LogPosition | None = None
    standby_log: LogPosition | None = None
    standby_replay_log: LogPosition | None = None
    primary_log_time: float | None = None
    standby_log_time: float | None = None
    standby_replay_log_time: float | None = None
    peer_window_seconds: int | None = None
    peer_window_end: float | None = None
    last_takeover_time: float | None = None
    flags: tuple[str, ...] = ()
    fields: dict[str, str] = field(default_factory=dict)  # every raw NAME = value, for the detail view


@dataclass(frozen=True)
class HadrStatus:
    """`db2pd -hadr -db DB`. `activated` False carries the tool's message in `message`."""

    database: str
    activated: bool = True
    member: int | None = None
    db_state: str = ""  # "Active" / "Standby"
    uptime: str = ""
    date_text: str = ""
    streams: tuple[HadrStream, ...] = ()
    message: str = ""

    @property
    def role(self) -> str | None:
        return self.streams[0].role if self.streams else None

    @property
    def state(self) -> str | None:
        return self.streams[0].state if self.streams else None


@dataclass(frozen=True)
class DbCfgHadr:
    """HADR lines of `db2 get db cfg for DB`."""

    role: str = ""  # HADR database role = PRIMARY|STANDBY|STANDARD
    params: dict[str, str] = field(default_factory=dict)  # HADR_LOCAL_HOST -> value, ...


@dataclass(frozen=True)
class Db2cmResource:
    name: str
    type: str = ""
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Db2cmList:
    """`db2cm -list`."""

    ha_configuration: str = ""
    domain_name: str = ""
    pacemaker_version: str = ""
    corosync_version: str = ""
    domain_leader: str = ""
    nodes: dict[str, str] = field(default_factory=dict)  # node -> Online/Offline
    resources: tuple[Db2cmResource, ...] = ()
    fencing: str = ""
    quorum: str = ""
    qdevice: QdeviceStatus | None = None


# ---------------------------------------------------------------- AWS overlay IP


@dataclass(frozen=True)
class OverlayRoute:
    route_table_id: str
    destination: str  # "192.168.1.81/32"
    instance_id: str | None = None
    network_interface_id: str | None = None
    state: str = ""  # active / blackhole


@dataclass(frozen=True)
class ClusterAlarm:
    """One CloudWatch alarm of the cluster as status shows it (`status --json`: {"name", "state", "since"})."""

    name: str
    state: str  # "ALARM" | "OK" | "INSUFFICIENT_DATA"
    since: float | None = None  # when it entered `state` (epoch seconds); None when CloudWatch did not say

    def age(self, now: float) -> float | None:
        return None if self.since is None else max(0.0, now - self.since)


def utc_from_epoch(epoch: float | None) -> datetime | None:
    from datetime import UTC

    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)
