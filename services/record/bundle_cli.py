"""`db2ops bundle --cluster NAME (--incident N | --since T [--until T]) -o FILE.tar.gz [--store PATH]`.

Headless: reads the recording store (read-only) and writes one bundle. Exit codes as the CLI's: 0 written,
1 nothing to bundle (no recording, no such incident, an empty span), 2 bad input (a time that is not one,
no cluster, an output that cannot be written).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from services.record.bundle import BundleError, BundleResult, write_bundle
from services.record.incidents import find_incidents
from services.record.model import RecordingReader
from services.record.open_store import RecordingUnavailable, close_recording, open_recording
from services.record.when import parse_when


@dataclass(frozen=True)
class BundleRequest:
    cluster: str | None
    output: Path
    incident: int | None = None
    since: str | None = None
    until: str | None = None
    store: Path | None = None
    journal_dir: Path | None = None


class BundleCommandError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def run_bundle(
    request: BundleRequest,
    out: TextIO,
    *,
    open_reader: Callable[[Path | None], RecordingReader] | None = None,
    now: float | None = None,
) -> BundleResult:
    """Write the bundle `request` asks for; print what was written to `out`. Raise BundleCommandError."""
    now = time.time() if now is None else now
    try:
        reader = (open_reader or open_recording)(request.store)
    except RecordingUnavailable as exc:
        raise BundleCommandError(str(exc), 1) from None
    try:
        return _run(reader, request, out, now)
    finally:
        close_recording(reader)


def _run(reader: RecordingReader, request: BundleRequest, out: TextIO, now: float) -> BundleResult:
    clusters = reader.clusters()
    cluster = request.cluster or (clusters[0] if len(clusters) == 1 else None)
    if cluster is None:
        raise BundleCommandError(
            f"say which cluster: --cluster NAME (recorded: {', '.join(clusters) or 'none'})", 2
        )
    if cluster not in clusters:
        raise BundleCommandError(
            f"nothing recorded for cluster {cluster!r} (recorded: {', '.join(clusters) or 'none'})", 1
        )
    if request.incident is not None and (request.since or request.until):
        raise BundleCommandError("--incident N gives the span itself: drop --since/--until", 2)
    if request.incident is not None:
        incidents = find_incidents(reader, cluster)
        chosen = next((i for i in incidents if i.number == request.incident), None)
        if chosen is None:
            known = "; ".join(f"#{i.number} {i.summary}" for i in incidents) or "none recorded"
            raise BundleCommandError(f"no incident #{request.incident} for {cluster} (incidents: {known})", 1)
        since, until = chosen.span()
        print(f"Incident #{chosen.number}: {chosen.summary}", file=out)
    else:
        try:
            since = parse_when(request.since or "", now)
            until = parse_when(request.until, now) if request.until else None
        except ValueError as exc:
            raise BundleCommandError(str(exc), 2) from None
        if until is not None and until < since:
            raise BundleCommandError("--until is before --since: give the earlier time to --since", 2)
    try:
        result = write_bundle(
            reader,
            cluster,
            since=since,
            until=until,
            out=request.output,
            journal_dir=request.journal_dir,
            now=now,
        )
    except BundleError as exc:
        raise BundleCommandError(str(exc), 1) from None
    except OSError as exc:
        raise BundleCommandError(
            f"cannot write {request.output}: {exc.strerror or exc}; choose a writable path with -o", 2
        ) from None
    print(
        f"Bundle written to {result.path}: {result.frames} snapshots, {result.items} items, "
        f"{result.evidence} raw outputs, {result.redactions} secrets redacted",
        file=out,
    )
    return result
