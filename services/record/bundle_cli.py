"""`db2ops bundle --cluster NAME (--incident N | --since T [--until T]) -o FILE.tar.gz [--store PATH]
[--host-evidence [--dry-run]]`.

Headless: reads the recording store (read-only) and writes one bundle. Exit codes as the CLI's: 0 written,
1 nothing to bundle (no recording, no such incident, an empty span), 2 bad input (a time that is not one,
no cluster, an output that cannot be written).

Only `--host-evidence` reaches a host: it prints the reading commands of the span
(services/record/host_evidence.py) before it runs them through the `gather` the caller gives (SSH), and
puts the texts under host/ in the bundle; with `--dry-run` it prints them and stops (nothing is run,
nothing written). Without the flag the bundle is made from the recording alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from services.inventory.model import Cluster, Inventory
from services.record.bundle import BundleError, BundleResult, write_bundle
from services.record.host_evidence import EvidenceError, EvidenceText, describe
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
    host_evidence: bool = False  # also read the hosts through SSH for the span (read-only)
    dry_run: bool = False  # with host_evidence: print the commands, run nothing, write nothing


# (cluster, since, until) -> the texts read on its hosts; blocking (the CLI runs the SSH reads in it)
Gather = Callable[[Cluster, float, float], list[EvidenceText]]


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
    inventory: Inventory | None = None,
    gather: Gather | None = None,
) -> BundleResult | None:
    """Write the bundle `request` asks for; print what was written to `out` (None: a dry run, nothing
    written). `inventory` and `gather` serve --host-evidence. Raise BundleCommandError."""
    now = time.time() if now is None else now
    if request.dry_run and not request.host_evidence:
        raise BundleCommandError(
            "--dry-run shows the host commands of --host-evidence: add --host-evidence (or drop --dry-run)", 2
        )
    if request.host_evidence and (inventory is None or gather is None):
        raise BundleCommandError("--host-evidence needs the inventory and SSH: give --inventory FILE", 2)
    try:
        reader = (open_reader or open_recording)(request.store)
    except RecordingUnavailable as exc:
        raise BundleCommandError(str(exc), 1) from None
    try:
        return _run(reader, request, out, now, inventory, gather)
    finally:
        close_recording(reader)


def _run(
    reader: RecordingReader,
    request: BundleRequest,
    out: TextIO,
    now: float,
    inventory: Inventory | None,
    gather: Gather | None,
) -> BundleResult | None:
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
    host_evidence = None
    if request.host_evidence and inventory is not None and gather is not None:
        host_evidence = _host_evidence(inventory, gather, cluster, since, until or now, out)
        if request.dry_run:
            print("Dry run: no command was run and no bundle was written.", file=out)
            return None
    try:
        result = write_bundle(
            reader,
            cluster,
            since=since,
            until=until,
            out=request.output,
            journal_dir=request.journal_dir,
            now=now,
            host_evidence=host_evidence,
        )
    except BundleError as exc:
        raise BundleCommandError(str(exc), 1) from None
    except OSError as exc:
        raise BundleCommandError(
            f"cannot write {request.output}: {exc.strerror or exc}; choose a writable path with -o", 2
        ) from None
    print(
        f"Bundle written to {result.path}: {result.frames} snapshots, {result.items} items, "
        f"{result.evidence} raw outputs, {result.redactions} secrets redacted"
        + (f", {result.host_files} host texts" if request.host_evidence else ""),
        file=out,
    )
    if result.host_unanswered:
        print(
            f"No answer from {', '.join(result.host_unanswered)}: its host/ texts say why "
            "(the other hosts' evidence is in the bundle)",
            file=out,
        )
    return result


def _host_evidence(
    inventory: Inventory, gather: Gather, cluster: str, since: float, until: float, out: TextIO
) -> Callable[[], list[EvidenceText]]:
    """Check the host evidence can be planned and print its commands; return what reads them (called by
    write_bundle once the span is known to hold something)."""
    known = next((c for c in inventory.clusters if c.name == cluster), None)
    if known is None:
        raise BundleCommandError(
            f"cluster {cluster!r} is not in the inventory ({inventory.source or 'no file'}): --host-evidence "
            "reads its hosts from there; give the inventory that has it (--inventory FILE)",
            2,
        )
    try:
        actions = describe(known, since, until)
    except EvidenceError as exc:
        raise BundleCommandError(f"--host-evidence: {exc}", 2) from None
    print(
        "Host evidence: these read-only commands run (then bzcat of the last pe-input files listed):",
        file=out,
    )
    for action in actions:
        print(f"  {action.render()}", file=out)

    def read() -> list[EvidenceText]:
        print(f"Reading {len(known.db_hosts)} hosts through SSH...", file=out, flush=True)
        return gather(known, since, until)

    return read
