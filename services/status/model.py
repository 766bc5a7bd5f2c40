"""The `ClusterStatus` snapshot: every part with its source host, age and error.

One dead host must never blank the rest, so each part is a `Part` that either holds a value or an error,
and always says where it came from and when.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from services.cluster_model import (
    ClusterAlarm,
    CrmStatus,
    HadrStatus,
    OverlayRoute,
    QdeviceStatus,
    QnetdStatus,
    QuorumStatus,
)
from services.part_errors import PartError

# Covariant: a Part is read-only (frozen), so a Part[HadrStatus] is a Part[object] to code that only reads
# its source, age or error.
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class Part(Generic[T_co]):
    """One gathered fact.

    `ok` only when there is a value and no error. A failed refresh keeps the last good `value` with its
    old `fetched_at` and sets `error`: screens grey it out as stale, verdicts ignore it.
    """

    source: str  # host name, or "aws:ec2" / "lab:..." for AWS-side facts
    fetched_at: float  # time.time() when the answer arrived (or the failure happened)
    value: T_co | None = None
    error: PartError | None = None  # typed (kind, message, ...); str(error) is the message
    command: str = ""  # the exact command line or API call, for the detail view
    duration_s: float = 0.0
    # the command's stdout the value was parsed from, kept for the recording's raw evidence (issue 13);
    # not part of equality, of the JSON output or of the recorded frame (services.record keeps it apart)
    raw: str = field(default="", compare=False, repr=False, metadata={"recorded": False})

    @property
    def ok(self) -> bool:
        return self.error is None and self.value is not None

    @property
    def stale(self) -> bool:
        return self.error is not None and self.value is not None

    def age(self, now: float | None = None) -> float:
        return max(0.0, (now if now is not None else time.time()) - self.fetched_at)


class Severity(StrEnum):
    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return ["ok", "info", "warning", "critical"].index(self.value)


@dataclass(frozen=True)
class Verdict:
    """A derived judgement, in words a DBA acts on. `code` is stable for tests and JSON consumers."""

    code: str  # e.g. "promoted_vs_hadr_mismatch", "hadr_not_peer", "no_quorum"
    severity: Severity
    message: str
    hint: str = ""  # what to do next


@dataclass(frozen=True)
class ClusterStatus:
    cluster: str
    taken_at: float
    crm: Part[CrmStatus] | None = None
    quorum: dict[str, Part[QuorumStatus]] = field(default_factory=dict)  # per db host
    qdevice: dict[str, Part[QdeviceStatus]] = field(default_factory=dict)  # per db host
    qnetd: Part[QnetdStatus] | None = None
    hadr: dict[str, Part[HadrStatus]] = field(default_factory=dict)  # per db host
    overlay_route: Part[OverlayRoute] | None = None
    # the cluster's CloudWatch alarms (services/status/alarms_part.py); None when AWS is not read
    alarms: Part[tuple[ClusterAlarm, ...]] | None = None
    # host -> why it ran no command at all (a connection-level PartError, also on each of its parts)
    host_errors: dict[str, PartError] = field(default_factory=dict)
    verdicts: tuple[Verdict, ...] = ()
    # host name -> EC2 instance id, copied from the inventory so verdicts/screens need nothing else
    instance_ids: dict[str, str] = field(default_factory=dict)
    # the inventory's Db2 instance and database, so hints can carry the real names (never "...")
    instance: str = ""
    database: str = ""

    @property
    def severity(self) -> Severity:
        if not self.verdicts:
            return Severity.OK
        return max((v.severity for v in self.verdicts), key=lambda s: s.rank)

    @property
    def promoted_node(self) -> str | None:
        crm = self.crm.value if self.crm is not None and self.crm.ok else None
        if crm is None:
            return None
        nodes = crm.promoted_nodes
        return nodes[0] if nodes else None

    @property
    def hadr_primary_host(self) -> str | None:
        for host, part in self.hadr.items():
            if part.ok and part.value is not None and part.value.role == "PRIMARY":
                return host
        return None
