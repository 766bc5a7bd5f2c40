"""ProofHistory: when a console's (or a CLI run's) last "prove it fires" on each cluster ended.

The next proof looks back a little before its own start (clock skew between here and AWS), but never past
this, or it would take the previous proof's audit event and SNS message for its own. One per console,
made by its composition root and handed to every proof; kept apart so the console holds it cheaply.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class ProofHistory:
    """Cluster name -> when the last proof on it ended (its result event's time)."""

    ended: dict[str, datetime] = field(default_factory=dict)

    def look_back(self, cluster: str, start: datetime) -> datetime:
        """Return where a proof on `cluster` starting its search at `start` may look back to."""
        return max(start, self.ended.get(cluster, start))

    def record(self, cluster: str, at: datetime) -> None:
        """Remember that a proof on `cluster` ended at `at`."""
        self.ended[cluster] = at
