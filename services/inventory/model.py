"""Typed inventory: clusters, their hosts and their AWS settings (loaded by services/inventory/loader.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

HostRole = Literal["db", "qdevice"]


@dataclass(frozen=True)
class Host:
    name: str  # the node name Pacemaker uses (crm_mon node name)
    address: str  # what SSH connects to (IP or ssh_config alias)
    role: HostRole = "db"
    user: str | None = None  # None: ~/.ssh/config or the local user decides
    port: int | None = None
    identity: str | None = None  # path to a private key
    instance_id: str | None = None  # EC2 instance id
    known_hosts: str | None = None  # override (the lab writes its own known_hosts)


@dataclass(frozen=True)
class AwsSettings:
    region: str = "us-east-1"
    profile: str | None = None
    endpoint_url: str | None = None  # set only for the lab / tests (moto); None means real AWS
    route_table_id: str | None = None
    overlay_ip: str | None = None  # "192.168.1.81" (route destination is overlay_ip/32)
    audit_log_group: str = "db2-db-worker-audit-log"
    diag_log_group: str = "db2-diagnostics-logs"
    sns_topic_name: str = "db2-alerts"

    @property
    def is_lab(self) -> bool:
        return self.endpoint_url is not None


@dataclass(frozen=True)
class Cluster:
    name: str
    environment: str = "prod"
    read_only: bool = True
    instance: str = "db2inst1"  # Db2 instance owner
    database: str = "SAMPLE"
    hosts: tuple[Host, ...] = ()
    aws: AwsSettings = field(default_factory=AwsSettings)
    lab: bool = False  # True when the hosts are the embedded lab's simulated hosts

    @property
    def db_hosts(self) -> tuple[Host, ...]:
        return tuple(h for h in self.hosts if h.role == "db")

    @property
    def qdevice_host(self) -> Host | None:
        return next((h for h in self.hosts if h.role == "qdevice"), None)

    def host(self, name: str) -> Host | None:
        return next((h for h in self.hosts if h.name == name), None)


@dataclass(frozen=True)
class Inventory:
    clusters: tuple[Cluster, ...] = ()
    source: str = ""  # path it was loaded from
    warnings: tuple[str, ...] = field(default=(), compare=False)  # soft problems found by the loader

    def cluster(self, name: str) -> Cluster | None:
        return next((c for c in self.clusters if c.name == name), None)
