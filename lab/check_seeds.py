"""Seed a lab cluster wrong in exactly one way, for `db2ops check` (tests, and a DBA trying the audit).

Kept apart from the renderers: a seed either changes the lab's own state (the HADR peer window, the HA
state's constraints) or registers a text edit of `crm configure show`, which the crm handler applies to
what lab/ha_render.py renders (one hook), so the renderers stay the single source of the layout.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from lab.ha_state import cluster_ha
from lab.state import LabCluster

_ATTR = "_check_seed_crm_edits"  # in the LabCluster's __dict__, as lab/ha_state.py keeps its state


def add_crm_edit(cluster: LabCluster, pattern: str, replacement: str) -> None:
    """Make `crm configure show` on `cluster` print re.sub(pattern, replacement, text) (MULTILINE)."""
    cluster.__dict__.setdefault(_ATTR, []).append((pattern, replacement))


def apply_crm_edits(cluster: LabCluster, text: str) -> str:
    """Return `crm configure show` text with the seeded edits applied (unchanged when none)."""
    for pattern, replacement in cluster.__dict__.get(_ATTR, ()):
        text = re.sub(pattern, replacement, text, flags=re.MULTILINE)
    return text


def _peer_window(seconds: int) -> Callable[[LabCluster], None]:
    def seed(cluster: LabCluster) -> None:
        cluster.peer_window_s = seconds

    return seed


def _drop_constraint(kind: str) -> Callable[[LabCluster], None]:
    def seed(cluster: LabCluster) -> None:
        state = cluster_ha(cluster)
        state.constraints = {k: v for k, v in state.constraints.items() if not v.startswith(kind + " ")}

    return seed


def _edit(pattern: str, replacement: str) -> Callable[[LabCluster], None]:
    def seed(cluster: LabCluster) -> None:
        add_crm_edit(cluster, pattern, replacement)

    return seed


def _oip_monitor(replacement: str) -> Callable[[LabCluster], None]:
    """Edit the monitor line of the aws-vpc-move-ip primitive only (the db2hadr/db2inst ones stay)."""

    def seed(cluster: LabCluster) -> None:
        add_crm_edit(
            cluster,
            r"(primitive \S+ (?:ocf:heartbeat:)?aws-vpc-move-ip(?:[^\n]*\\\n)*?[^\n]*?) \\\n\s*op monitor interval=\S+ timeout=\S+",
            r"\g<1>" + replacement,
        )

    return seed


# finding code -> the seed that makes a correct lab cluster show exactly that finding
SEEDS: dict[str, Callable[[LabCluster], None]] = {
    "HADR-PEER-WINDOW-ZERO": _peer_window(0),
    # 65 s: not longer than the primary monitor's 9 s + 60 s, and under IBM's 120 s (a warning as well)
    "HADR-PEER-WINDOW-SHORT": _peer_window(65),
    # 100 s: longer than the monitor's 69 s, only under IBM's recommended 120 s
    "HADR-PEER-WINDOW-BELOW-MINIMUM": _peer_window(100),
    "PCMK-DB2HADR-NO-PRIMARY-MONITOR": _edit(
        r"^\s*op monitor interval=\S+ role=(?:Master|Promoted) timeout=\S+ \\\n", ""
    ),
    "OIP-NO-COLOCATION": _drop_constraint("colocation"),
    "OIP-NO-LOCATION": _edit(r"symmetric-cluster=\w+", "symmetric-cluster=false"),
    "OIP-NO-MONITOR": _oip_monitor(""),
    "OIP-MONITOR-TOO-FREQUENT": _oip_monitor(" \\\\\n        op monitor interval=5s timeout=60s"),
    "OIP-MONITOR-TOO-RARE": _oip_monitor(" \\\\\n        op monitor interval=300s timeout=60s"),
}


def seed_wrong(cluster: LabCluster, code: str) -> None:
    """Seed `cluster` so that `db2ops check` finds `code` (a key of SEEDS)."""
    SEEDS[code](cluster)
