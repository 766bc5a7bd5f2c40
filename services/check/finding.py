"""One finding of `db2ops check`: a stable code, a severity, what was seen, why it matters, and the fix."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"  # a failover or the overlay route will not work as the cluster is set up
    WARNING = "warning"  # works today, against IBM's or ClusterLabs' advice


@dataclass(frozen=True)
class Finding:
    code: str  # stable: scripts and tickets refer to it (e.g. HADR-PEER-WINDOW-SHORT)
    severity: Severity
    layer: str  # "db2+pacemaker", "pacemaker", "aws"
    summary: str  # what was seen, with the values
    why: str  # why it matters on a Db2 HADR + Pacemaker cluster
    fix: str  # what to run or change

    def to_dict(self) -> dict[str, str]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "layer": self.layer,
            "summary": self.summary,
            "why": self.why,
            "fix": self.fix,
        }
