"""What the timeline screen asks of the recording: the cluster's incidents, and a bundle of one of them.

Blocking (SQLite): the screen calls these in a thread. Each call opens the reader, uses it and closes it in
that one thread (an SQLite connection belongs to the thread that opened it). No recording, or one that
cannot be read, is a note to show, never an error on the screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from services.record.bundle import BundleResult, write_bundle
from services.record.incidents import Incident, find_incidents
from services.record.model import RecordingReader
from services.record.open_store import RecordingUnavailable, close_recording, open_recording


def default_bundle_dir() -> Path:
    """state_dir()/bundles: where the timeline's "export bundle" writes."""
    from services.paths import state_dir

    return state_dir() / "bundles"


def bundle_file_name(cluster: str, incident: Incident, now: float) -> str:
    """db2ops-bundle-<cluster>-incident<N>-<UTC stamp>.tar.gz (safe characters only)."""
    label = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in cluster).strip(".") or "cluster"
    return f"db2ops-bundle-{label}-incident{incident.number}-{datetime.fromtimestamp(now, UTC):%Y%m%dT%H%M%SZ}.tar.gz"


@dataclass(frozen=True)
class IncidentList:
    incidents: tuple[Incident, ...] = ()
    note: str = ""  # why there are none to show ("no recording yet"), "" when read


@dataclass
class IncidentSource:
    """The recorded incidents of one cluster, from `open_reader` (default: the recording store)."""

    cluster: str
    journal_dir: Path | None = None
    open_reader: Callable[[], RecordingReader] = field(default=lambda: open_recording(None))
    bundle_dir: Path | None = None

    def load(self) -> IncidentList:
        try:
            reader = self.open_reader()
        except RecordingUnavailable as exc:
            return IncidentList(note=str(exc))
        try:
            return IncidentList(tuple(find_incidents(reader, self.cluster)))
        except Exception as exc:  # a damaged store: the timeline still works, and says why
            return IncidentList(note=f"cannot read the recorded incidents: {exc}")
        finally:
            close_recording(reader)

    def export(self, incident: Incident, now: float | None = None) -> BundleResult:
        """Write the bundle of `incident` under bundle_dir (default_bundle_dir()); raise RecordingUnavailable,
        services.record.bundle.BundleError or OSError."""
        now = time.time() if now is None else now
        out = (self.bundle_dir or default_bundle_dir()) / bundle_file_name(self.cluster, incident, now)
        since, until = incident.span()
        reader = self.open_reader()
        try:
            return write_bundle(
                reader, self.cluster, since=since, until=until, out=out, journal_dir=self.journal_dir, now=now
            )
        finally:
            close_recording(reader)
