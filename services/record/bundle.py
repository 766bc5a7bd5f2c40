"""The post-incident bundle: one .tar.gz that answers "what happened, in what order, and why" (issue 13).

Layout (one top folder, so `tar xzf` makes one directory):
    report.md                   summary, the failover strip, what Pacemaker/HADR/route/alarms did with
                                times, the timeline, the journal entries and the commands the DBA ran,
                                the evidence index
    strip.svg                   the failover strip (lost → promoted → route moved → peer again) as a
                                picture; strip-2.svg... when the span holds more failovers; none without
    logs-per-minute.svg         the span's recorded Db2 log records per minute (a `stats count(*) by
                                bin(1m)` chart); none when no log record was recorded
    recording/frames.jsonl      every recorded snapshot of the span (the codec's JSON): replay opens these
    recording/items.jsonl       every recorded item (events, alarm changes, log records, journal, raw)
    evidence/<tool>/<time>-<host>.<ext>   each raw output captured (crm_mon XML, db2pd, db2cm, corosync...)
    evidence/index.jsonl        which command on which host at what time each evidence file holds
    host/<host>/<what>.txt      with --host-evidence: what was read on each host for the span through SSH
                                (services/record/host_evidence.py: the Pacemaker journal, pe-input files,
                                db2diag records, db2pd -hadr now); a host that did not answer gets a text
                                saying so; host/index.jsonl lists each file's command, exit status, error
    evidence/alarms.jsonl, evidence/logs.jsonl, journal.jsonl
    manifest.json               format, cluster, span, counts, sha256 and size of every other file

Secrets never leave: every text and every recorded value passes services/record/scrub.py on its way in
(the count is in the manifest and the report), and stdin data of journaled commands is left out whole
(file contents a DBA sent, e.g. a config with a password).

`open_bundle` reads a bundle in memory (nothing is extracted to disk): it refuses anything but regular
files under the one top folder (no absolute paths, no `..`, no links, no devices), caps the number and sizes
of members, and checks every file against the manifest (missing, unlisted, or changed: refused).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import posixpath
import re
import tarfile
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from services.logs.bin_chart import BinSeries, bar_chart_svg, bar_lines, bin_series
from services.record.codec import CodecError, decode_status, encode_status
from services.record.incidents import Incident, find_incidents, fired_alarms, incident_events
from services.record.model import (
    ALARM,
    JOURNAL,
    KINDS,
    LOG,
    MARK,
    RAW,
    Frame,
    MemoryRecording,
    RecordedItem,
    RecordingReader,
)
from services.record.scrub import Scrubber
from services.record.strip import Strip, failover_strip, strip_svg, strip_text
from services.status.incident import build_headline, clock_time
from services.text_safety import safe_text

if TYPE_CHECKING:
    from services.record.host_evidence import EvidenceText

FORMAT = "db2ops-bundle"
VERSION = 1
MANIFEST = "manifest.json"
# Caps for reading a bundle from elsewhere: a week of one cluster is far below them.
MAX_MEMBERS = 100_000
MAX_MEMBER_BYTES = 256 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
_EVIDENCE_TOOLS = (  # (word in the command, folder)
    ("crm_mon", "crm_mon"),
    ("db2pd", "db2pd"),
    ("db2cm", "db2cm"),
    ("corosync-quorumtool", "quorum"),
    ("corosync-qdevice-tool", "qdevice"),
    ("corosync-qnetd-tool", "qnetd"),
    ("db2diag", "db2diag"),
    ("crm", "crm"),
)
_PACEMAKER = (
    "node_left",
    "node_joined",
    "promoted_changed",
    "quorum_lost",
    "quorum_regained",
    "failed_action",
)
_HADR = ("hadr_role_changed", "hadr_state_changed")
_HOSTS = ("host_unreachable", "host_reachable", "qdevice_connected", "qdevice_disconnected")


class BundleError(ValueError):
    """A bundle that cannot be written (nothing in the span) or read (missing, corrupt, foreign, tampered)."""


@dataclass(frozen=True)
class BundleResult:
    path: Path
    cluster: str
    since: float
    until: float | None
    frames: int
    items: int
    evidence: int  # raw output files
    redactions: int  # secrets replaced
    files: tuple[str, ...] = field(default=())  # paths inside the top folder, manifest included
    incidents: tuple[Incident, ...] = field(default=())
    host_files: int = 0  # texts read on the hosts (--host-evidence), those saying "no answer" included
    host_unanswered: tuple[str, ...] = field(default=())  # hosts of which some command got no answer


# ---------------------------------------------------------------- writing


def write_bundle(
    reader: RecordingReader,
    cluster: str,
    *,
    since: float,
    until: float | None = None,
    out: Path,
    journal_dir: Path | None = None,
    now: float | None = None,
    host_evidence: Callable[[], Sequence[EvidenceText]] | None = None,
) -> BundleResult:
    """Write the bundle of `cluster` for [since, until] to `out` (a .tar.gz, mode 0600, replaced whole).

    The snapshot in force at `since` is included (the state the span starts from). `host_evidence`, when
    given, is called once the span is known to hold something (so no host is asked for an empty span) and
    its texts go under host/. Raises BundleError when the span holds nothing, OSError when `out` cannot be
    written.
    """
    now = time.time() if now is None else now
    frames = list(reader.frames(cluster, since, until))
    before = reader.status_at(cluster, since)
    if before is not None and (not frames or before.taken_at < frames[0].at):
        frames.insert(0, Frame(before.taken_at, before))
    items = list(reader.items(cluster, since, until))
    journal = _journal_entries(items, cluster, since, until, journal_dir)
    if not frames and not items and not journal:
        raise BundleError(
            f"nothing recorded for {cluster} between {_stamp(since)} and {_stamp(until) if until else 'now'}: "
            "choose a span the recording covers (`db2ops bundle --cluster NAME --since 1h`)"
        )
    host_texts = list(host_evidence()) if host_evidence is not None else []
    scrub = Scrubber()
    files: dict[str, bytes] = {}
    files["recording/frames.jsonl"] = _jsonl(
        {"at": f.at, "snapshot": scrub.data(encode_status(f.status))} for f in frames
    )
    files["recording/items.jsonl"] = _jsonl(
        {
            "at": i.at,
            "kind": i.kind,
            "payload": scrub.data(_without_stdin(i.payload) if i.kind == JOURNAL else i.payload),
        }
        for i in items
    )
    index = []
    for item in (i for i in items if i.kind == RAW):
        name = _evidence_name(item, files)
        files[name] = scrub.text(str(item.payload.get("text", ""))).encode("utf-8")
        index.append(
            {
                "file": name,
                "at": item.at,
                "utc": _stamp(item.at),
                "host": scrub.text(str(item.payload.get("host", ""))),
                "command": scrub.text(str(item.payload.get("command", ""))),
            }
        )
    files["evidence/index.jsonl"] = _jsonl(index)
    files["evidence/alarms.jsonl"] = _jsonl(
        {"at": i.at, "utc": _stamp(i.at), **scrub.data(i.payload)} for i in items if i.kind == ALARM
    )
    files["evidence/logs.jsonl"] = _jsonl(
        {"at": i.at, "utc": _stamp(i.at), **scrub.data(i.payload)} for i in items if i.kind == LOG
    )
    files["journal.jsonl"] = _jsonl(scrub.data(_without_stdin(e)) for e in journal)
    host_index = _host_files(host_texts, files, scrub) if host_evidence is not None else []
    incidents = tuple(find_incidents(reader, cluster, since, until))
    strips = failover_strips(frames, incidents)
    pictures = _strip_names(len(strips))
    for name, strip in zip(pictures, strips, strict=True):
        files[name] = scrub.text(strip_svg(strip)).encode("utf-8")
    log_series = _log_series(items)
    if log_series is not None:
        files[LOG_CHART] = scrub.text(bar_chart_svg(log_series, LOG_CHART_TITLE)).encode("utf-8")
    report = _report(
        reader,
        cluster,
        since,
        until,
        now,
        frames,
        items,
        journal,
        index,
        incidents,
        list(zip(pictures, strips, strict=True)),
        host_index if host_evidence is not None else None,
        log_series,
    )
    # read in terminals (`less report.md`): recorded text must not drive them (escape sequences removed)
    files["report.md"] = safe_text(scrub.text(report)).encode("utf-8")
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "cluster": cluster,
        "since": since,
        "until": until,
        "created_at": now,
        "db2ops": _version(),
        "frames": len(frames),
        "items": len(items),
        "redactions": scrub.total,
        "redacted": dict(sorted(scrub.found.items())),
        "host_evidence": len(host_index) if host_evidence is not None else None,
        "files": {
            name: {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
            for name, data in sorted(files.items())
        },
    }
    files[MANIFEST] = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
    _write_tar(out, _top_folder(cluster, since), files, now)
    return BundleResult(
        out,
        cluster,
        since,
        until,
        len(frames),
        len(items),
        len(index),
        scrub.total,
        tuple(sorted(files)),
        incidents,
        len(host_index),
        tuple(sorted({str(h["host"]) for h in host_index if h["exit_status"] is None})),
    )


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("db2ops")
    except Exception:  # an uninstalled checkout: the bundle is still whole
        return "unknown"


def _jsonl(rows: Iterable[Any]) -> bytes:
    return "".join(json.dumps(r, sort_keys=True, default=str) + "\n" for r in rows).encode("utf-8")


def _stamp(at: float | None) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at is not None else "now"


def _file_stamp(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y%m%dT%H%M%S") + f".{int(at * 1000) % 1000:03d}Z"


def _safe_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text).strip("._")[:60] or "unknown"


def _top_folder(cluster: str, since: float) -> str:
    return f"db2ops-bundle-{_safe_name(cluster)}-{_file_stamp(since)[:15]}Z"


def _evidence_name(item: RecordedItem, taken: dict[str, bytes]) -> str:
    command = str(item.payload.get("command", ""))
    text = str(item.payload.get("text", ""))
    folder = next((f for word, f in _EVIDENCE_TOOLS if word in command), "other")
    ext = "xml" if text.lstrip().startswith("<") else "txt"
    base = f"evidence/{folder}/{_file_stamp(item.at)}-{_safe_name(str(item.payload.get('host', '')))}"
    if folder == "other":
        base += "-" + _safe_name(command.split(" ")[0].rsplit("/", 1)[-1])
    name, n = f"{base}.{ext}", 2
    while name in taken:
        name, n = f"{base}-{n}.{ext}", n + 1
    return name


def _without_stdin(entry: Any) -> Any:
    """A journal entry with the stdin data of its commands left out (file contents: possibly secret)."""
    if not isinstance(entry, dict):
        return entry
    actions = entry.get("actions")
    if not isinstance(actions, list):
        return entry
    kept = []
    for a in actions:
        if isinstance(a, dict) and a.get("input") is not None:
            a = {k: v for k, v in a.items() if k not in ("input", "input_truncated")}
            a["input_left_out"] = "stdin data is not included in bundles"
        kept.append(a)
    return {**entry, "actions": kept}


def _entry_time(entry: dict[str, Any]) -> float | None:
    try:
        return datetime.fromisoformat(str(entry.get("when", "")).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _journal_entries(
    items: Sequence[RecordedItem], cluster: str, since: float, until: float | None, journal_dir: Path | None
) -> list[dict[str, Any]]:
    """The journal entries of the span: those recorded, and those of `journal_dir` (the journal stamps
    whole seconds: a second of slack either side), each once, in time order."""
    entries: list[tuple[float, dict[str, Any]]] = [
        (i.at, dict(i.payload)) for i in items if i.kind == JOURNAL
    ]
    if journal_dir is not None:
        from services.plans.journal import Journal

        read = Journal(journal_dir).read(cluster)
        for e in read.all_records():
            data = e.to_dict()
            at = _entry_time(data)
            if at is not None and at >= since - 1 and (until is None or at <= until + 1):
                entries.append((at, data))
    seen: set[str] = set()
    out: list[tuple[float, dict[str, Any]]] = []
    for at, data in entries:
        key = json.dumps(
            [data.get(k) for k in ("run_id", "step_id", "result", "intent_id", "when")], default=str
        )
        if key in seen:
            continue
        seen.add(key)
        out.append((at, data))
    out.sort(key=lambda p: p[0])
    return [d for _, d in out]


def _write_tar(out: Path, top: str, files: dict[str, bytes], mtime: float) -> None:
    """Write the archive next to `out` and move it in place (a failed write leaves no half bundle)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".db2ops-bundle-", suffix=".tmp", dir=out.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            folder = tarfile.TarInfo(top)
            folder.type, folder.mode, folder.mtime = tarfile.DIRTYPE, 0o700, int(mtime)
            tar.addfile(folder)
            for name in [
                MANIFEST,
                "report.md",
                *sorted(n for n in files if n not in (MANIFEST, "report.md")),
            ]:
                info = tarfile.TarInfo(f"{top}/{name}")
                info.size, info.mode, info.mtime = len(files[name]), 0o600, int(mtime)
                tar.addfile(info, io.BytesIO(files[name]))
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# ---------------------------------------------------------------- host evidence


def _host_files(
    texts: Sequence[EvidenceText], files: dict[str, bytes], scrub: Scrubber
) -> list[dict[str, Any]]:
    """Put each host text under host/ (scrubbed like every other text; one that did not run says why)
    and return host/index.jsonl's rows."""
    index: list[dict[str, Any]] = []
    for t in texts:
        parts = [_safe_name(p) for p in t.name.split("/") if p not in ("", ".", "..")]
        name = "host/" + "/".join(parts or ["unknown"])
        base, n = name, 2
        while name in files:
            stem, dot, ext = base.rpartition(".")
            name = f"{stem}-{n}.{ext}" if dot else f"{base}-{n}"
            n += 1
        if t.exit_status is None:
            text = (
                f"No answer from {t.host}: {t.error or 'the command did not run'}\n"
                f"The command was not run: {t.command}\n"
            )
        else:
            text = t.text
        files[name] = scrub.text(safe_text(text)).encode("utf-8")
        index.append(
            {
                "file": name,
                "host": scrub.text(t.host),
                "command": scrub.text(t.command),
                "exit_status": t.exit_status,
                "error": scrub.text(t.error),
            }
        )
    files["host/index.jsonl"] = _jsonl(index)
    return index


def _host_lines(index: Sequence[dict[str, Any]] | None) -> list[str]:
    if index is None:
        return ["- not gathered (`db2ops bundle ... --host-evidence` reads the hosts through SSH)"]
    if not index:
        return ["- nothing to read: the cluster has no Db2 host in the inventory"]
    out = []
    for row in index:
        if row["exit_status"] is None:
            how = f"no answer: {row['error'] or 'not run'}"
        elif row["exit_status"] == 0:
            how = "ok"
        else:
            how = f"exit status {row['exit_status']}"
        out.append(f"- `{row['file']}`: `{row['command']}` on {row['host']} ({how})")
    silent = sorted({str(r["host"]) for r in index if r["exit_status"] is None})
    if silent:
        out.append(f"- did not answer: {', '.join(silent)} (their files say why)")
    return out


# ---------------------------------------------------------------- the failover strip


def failover_strips(frames: Sequence[Frame], incidents: Sequence[Incident]) -> list[Strip]:
    """The strip of each failover of the span, oldest first: one per incident that had a takeover (its
    frames from the last one before it began to its end, so the strip is that incident's), or, with no
    such incident, the latest failover the frames show (a switchover need not degrade anything)."""
    strips: list[Strip] = []
    for incident in incidents:
        if incident.new_primary is None:
            continue
        before = [f for f in frames if f.at < incident.start][-1:]
        during = [
            f for f in frames if incident.start <= f.at and (incident.end is None or f.at <= incident.end)
        ]
        strip = failover_strip([*before, *during])
        if strip is not None:
            strips.append(strip)
    if not strips:
        strip = failover_strip(frames)
        if strip is not None:
            strips.append(strip)
    return strips


def _strip_names(count: int) -> list[str]:
    """strip.svg, then strip-2.svg, strip-3.svg... for a span with more than one failover."""
    return ["strip.svg" if n == 1 else f"strip-{n}.svg" for n in range(1, count + 1)]


# ---------------------------------------------------------------- the report


def _line(at: float, text: str) -> str:
    return f"- `{clock_time(at)}` ({_stamp(at)}) {text}"


def _report(
    reader: RecordingReader,
    cluster: str,
    since: float,
    until: float | None,
    now: float,
    frames: Sequence[Frame],
    items: Sequence[RecordedItem],
    journal: Sequence[dict[str, Any]],
    evidence: Sequence[dict[str, Any]],
    incidents: Sequence[Incident],
    strips: Sequence[tuple[str, Strip]] = (),
    host_index: Sequence[dict[str, Any]] | None = None,
    log_series: BinSeries | None = None,
) -> str:
    end = until if until is not None else (frames[-1].at if frames else now)
    events = incident_events(reader, cluster, since, until)
    alarms = fired_alarms(reader, cluster, since, until)
    tz = time.strftime("%Z", time.localtime(since)) or "local"
    out = [
        f"# Post-incident bundle: {cluster}",
        "",
        f"Generated {_stamp(now)} by db2ops {_version()}. Times are the console's clock ({tz}) with UTC beside.",
        "",
        "## Summary",
        "",
        f"- Cluster: `{cluster}`",
        f"- Span: {clock_time(since)}–{clock_time(end)} ({_stamp(since)} to {_stamp(end)})",
        f"- Recorded: {len(frames)} snapshots, {len(items)} items, {len(evidence)} raw outputs, "
        f"{len(journal)} journal entries",
    ]
    if incidents:
        out.append("- Incidents:")
        out += [f"  - #{i.number} ({i.severity.value}) {i.summary}" for i in incidents]
    else:
        out.append("- Incidents: none (the cluster was never degraded in this span)")
    if frames:
        first, last = frames[0].status, frames[-1].status
        out.append(f"- At the start: {build_headline(first, now=first.taken_at).title}")
        out.append(f"- At the end: {build_headline(last, now=last.taken_at).title}")
    out += ["", "## What happened", ""]
    out += _strip_lines(strips)
    for i in incidents:
        out += _incident_facts(i)
    groups = (
        ("Pacemaker", [e for e in events if e.kind in _PACEMAKER]),
        ("HADR", [e for e in events if e.kind in _HADR]),
        ("Overlay route", [e for e in events if e.kind == "route_moved"]),
        ("Hosts and quorum device", [e for e in events if e.kind in _HOSTS]),
    )
    for title, rows in groups:
        out += [f"### {title}", ""]
        out += [_line(e.at, e.message) for e in rows] or ["- no change recorded"]
        out.append("")
    out += ["### Alarms", ""]
    alarm_rows = [i for i in items if i.kind == ALARM]
    out += (
        [
            _line(
                i.at,
                f"alarm {i.payload.get('name', '?')}: {i.payload.get('previous') or '?'} → {i.payload.get('state', '?')}"
                + (f" ({i.payload['reason']})" if i.payload.get("reason") else ""),
            )
            for i in alarm_rows
        ]
        or [_line(e.at, e.message) for e in events if e.kind.startswith("alarm_")]
        or ["- no alarm changed state"]
    )
    if alarms:
        out.append(f"- went into ALARM: {', '.join(alarms)}")
    out += ["", "### Db2 log records per minute", ""]
    out += _log_chart_lines(log_series)
    out += ["", "## What the console said", ""]
    out += _headlines(frames) or ["- no snapshot recorded"]
    out += ["", "## Timeline", ""]
    out += _timeline(events, items, journal) or ["- nothing recorded"]
    out += ["", "## Journal entries", ""]
    out += [_journal_line(e) for e in journal] or ["- no change was made through db2ops in this span"]
    out += ["", "## Commands the DBA ran", ""]
    commands = [c for e in journal if e.get("result") != "intent" for c in _commands(e)]
    out += commands or ["- none journaled"]
    out += ["", "## Evidence", ""]
    out += _evidence_lines(evidence) or ["- no raw output recorded"]
    out += ["", "## Host evidence", ""]
    out += _host_lines(host_index)
    out += [
        "",
        "Also: `recording/` (every snapshot and item; `db2ops replay --bundle FILE` opens it), "
        "`evidence/alarms.jsonl`, `evidence/logs.jsonl`, `journal.jsonl`, `host/` (with --host-evidence); "
        "`manifest.json` has the sha256 "
        "of every file. Secrets (AWS keys and tokens, passwords, private keys) were replaced by `***`; "
        "stdin data of journaled commands is not included.",
    ]
    return "\n".join(out) + "\n"


LOG_CHART = "logs-per-minute.svg"
LOG_CHART_TITLE = "Db2 log records of interest per minute (UTC)"


def _log_series(items: Sequence[RecordedItem]) -> BinSeries | None:
    """The recorded log records of the span counted per minute, as Logs Insights' `stats count(*) by
    bin(1m)` over them would answer (minutes without a record stay empty); None without a record."""
    per_minute: dict[int, int] = {}
    for i in items:
        if i.kind == LOG:
            minute = int(i.at // 60) * 60
            per_minute[minute] = per_minute.get(minute, 0) + 1
    rows = [
        {"bin(1m)": datetime.fromtimestamp(m, UTC).strftime("%Y-%m-%d %H:%M:%S.000"), "count(*)": str(n)}
        for m, n in sorted(per_minute.items())
    ]
    return bin_series(("bin(1m)", "count(*)"), rows) if rows else None


def _log_chart_lines(series: BinSeries | None) -> list[str]:
    if series is None:
        return ["- no log record recorded in this span"]
    bars = [f"    {line}" for line in bar_lines(series, 72, max_rows=60)]
    return [*bars, "", f"![{LOG_CHART_TITLE}]({LOG_CHART})"]


def _strip_lines(strips: Sequence[tuple[str, Strip]]) -> list[str]:
    """The failover strip of each failover (text, and its picture beside the report), or why none."""
    if not strips:
        return ["- No failover in this span: no strip to draw.", ""]
    out = []
    for name, strip in strips:
        out += [
            f"### Failover: {strip.title}",
            "",
            f"    {strip_text(strip)}",
            "",
            f"![failover strip: {strip.title}]({name})",
            "",
        ]
    return out


def _evidence_lines(evidence: Sequence[dict[str, Any]]) -> list[str]:
    """Per tool folder: how many outputs, from when to when (evidence/index.jsonl lists each file)."""
    by_folder: dict[str, list[dict[str, Any]]] = {}
    for e in evidence:
        by_folder.setdefault(str(e["file"]).split("/")[1], []).append(e)
    out = []
    for folder, rows in sorted(by_folder.items()):
        hosts = ", ".join(sorted({str(r["host"]) for r in rows}))
        command = rows[0]["command"]
        out.append(
            f"- `evidence/{folder}/`: {len(rows)} outputs of `{command}` from {hosts}, "
            f"{clock_time(rows[0]['at'])}–{clock_time(rows[-1]['at'])}"
        )
    if out:
        out.append("- `evidence/index.jsonl`: the command, host and time of each file")
    return out


def _incident_facts(i: Incident) -> list[str]:
    out = [f"### Incident #{i.number}: {i.summary}", ""]
    out.append(_line(i.start, f"first degraded snapshot ({i.severity.value} at worst: {i.title})"))
    if i.old_primary and i.lost_at is not None:
        out.append(_line(i.lost_at, f"{i.old_primary} stopped answering (last seen)"))
    if i.new_primary and i.promoted_at is not None:
        lost = f", {i.promoted_at - i.lost_at:.0f} s after the loss" if i.lost_at is not None else ""
        out.append(_line(i.promoted_at, f"takeover: Pacemaker promoted {i.new_primary}{lost}"))
    if i.route_moved_at is not None:
        out.append(_line(i.route_moved_at, "the overlay route moved"))
    if i.end is not None:
        out.append(_line(i.end, f"healthy again, {i.end - i.start:.0f} s after the first degraded snapshot"))
    else:
        out.append("- still degraded at the end of the recording")
    return [*out, ""]


def _headlines(frames: Sequence[Frame]) -> list[str]:
    out, last = [], None
    for f in frames:
        h = build_headline(f.status, now=f.at)
        key = (h.code, re.sub(r"\d+ (s|min) ago|just now|\(\d+ s ago\)", "", h.title))
        if key != last:
            out.append(_line(f.at, f"[{h.severity.value}] {h.title}"))
            last = key
    return out


def _log_line(item: RecordedItem) -> str:
    """A recorded log record as the console's timeline words it (level, host, what it says), not the raw
    first line of the record (a timestamp and an id that say nothing)."""
    from services.record.replay_feed import log_entries  # lazy: replay_feed is the replay's, not the bundle's

    entries = log_entries([item])
    if entries and entries[0].level:  # a parsed record; anything else keeps its own first line
        e = entries[0]
        name = "db2diag" if e.source == "diag" else "db2audit"
        return f"{name} {e.level} on {e.host or item.payload.get('stream', '?')}: {e.summary}"[:200]
    message = str(item.payload.get("message", "")).strip().splitlines()
    return f"{item.payload.get('stream', '')}: {message[0][:160] if message else ''}"


def _timeline(
    events: Sequence[Any], items: Sequence[RecordedItem], journal: Sequence[dict[str, Any]]
) -> list[str]:
    rows: list[tuple[float, str]] = [(e.at, f"**status** {e.message}") for e in events]
    for i in items:
        if i.kind == ALARM:
            rows.append((i.at, f"**alarm** {i.payload.get('name', '?')} → {i.payload.get('state', '?')}"))
        elif i.kind == LOG:
            rows.append((i.at, f"**log** {_log_line(i)}"))
        elif i.kind == MARK:
            rows.append(
                (i.at, f"**recorder** {i.payload.get('what', '')} {i.payload.get('why', '')}".rstrip())
            )
    for e in journal:
        at = _entry_time(e)
        if at is not None:
            rows.append((at, f"**journal** {e.get('step_title', '')} [{e.get('result', '')}]"))
    rows.sort(key=lambda r: r[0])
    return [_line(at, text) for at, text in rows]


def _journal_line(e: dict[str, Any]) -> str:
    msg = f": {e['message']}" if e.get("message") else ""
    return (
        f"- `{e.get('when', '?')}` {e.get('who', '?')} {e.get('plan', '?')} run {e.get('run_id', '?')} "
        f"step {e.get('step_id', '?')} on {e.get('target') or '?'}: {e.get('step_title', '')} "
        f"[{e.get('result', '?')}]{msg}"
    )


def _commands(e: dict[str, Any]) -> list[str]:
    from services.plans.journal_text import action_line

    return [
        f"- `{e.get('when', '?')}` `{action_line(a)}`" for a in e.get("actions") or [] if isinstance(a, dict)
    ]


# ---------------------------------------------------------------- reading


def open_bundle(path: Path) -> MemoryRecording:
    """Return the recording a bundle holds; raise BundleError when it is missing, not a db2ops bundle,
    damaged or changed since it was written (every file is checked against the manifest)."""
    files = _read_members(path)
    manifest = _manifest(path, files)
    listed: dict[str, Any] = manifest["files"]
    for name in sorted(set(files) - set(listed) - {MANIFEST}):
        raise BundleError(
            f"{path}: {name} is not in the manifest: the bundle was changed after it was written"
        )
    for name, meta in sorted(listed.items()):
        data = files.get(name)
        if data is None:
            raise BundleError(f"{path}: {name} is missing: the bundle is incomplete")
        if not isinstance(meta, dict) or hashlib.sha256(data).hexdigest() != meta.get("sha256"):
            raise BundleError(
                f"{path}: {name} does not match its checksum: the bundle was changed or damaged"
            )
    cluster = str(manifest.get("cluster", ""))
    rec = MemoryRecording()
    for n, row in _rows(path, files, "recording/frames.jsonl"):
        try:
            status = decode_status(row.get("snapshot"))
            at = float(row["at"])
        except (CodecError, KeyError, TypeError, ValueError) as exc:
            raise BundleError(f"{path}: recording/frames.jsonl line {n}: {exc}") from None
        rec.add_frame(Frame(at, status))
    for n, row in _rows(path, files, "recording/items.jsonl"):
        kind, payload = row.get("kind"), row.get("payload")
        if kind not in KINDS or not isinstance(payload, dict) or not isinstance(row.get("at"), (int, float)):
            raise BundleError(f"{path}: recording/items.jsonl line {n} is not a recorded item")
        rec.add_item(RecordedItem(float(row["at"]), cluster, str(kind), payload))
    return rec


def bundle_manifest(path: Path) -> dict[str, Any]:
    """The manifest of a bundle (checked as open_bundle checks it): cluster, span, counts."""
    files = _read_members(path)
    return _manifest(path, files)


def _read_members(path: Path) -> dict[str, bytes]:
    """Every regular file of the archive by its path under the one top folder; refuse anything else."""
    if not path.is_file():
        raise BundleError(f"{path}: no such bundle file")
    files: dict[str, bytes] = {}
    top: str | None = None
    total = 0
    try:
        with tarfile.open(path, mode="r:gz") as tar:
            for count, member in enumerate(tar, start=1):
                if count > MAX_MEMBERS:
                    raise BundleError(f"{path}: more than {MAX_MEMBERS} files: not a db2ops bundle")
                name = member.name
                parts = name.split("/")
                if name.startswith("/") or "\\" in name or ".." in parts or posixpath.normpath(name) != name:
                    raise BundleError(f"{path}: unsafe path {name!r} in the archive: refused")
                if top is None:
                    top = parts[0]
                if parts[0] != top:
                    raise BundleError(f"{path}: files outside the bundle's folder ({name!r}): refused")
                if member.isdir():
                    continue
                if not member.isreg():
                    raise BundleError(f"{path}: {name!r} is a link or special file: refused")
                if member.size > MAX_MEMBER_BYTES:
                    raise BundleError(f"{path}: {name!r} is larger than {MAX_MEMBER_BYTES} bytes: refused")
                total += member.size
                if total > MAX_TOTAL_BYTES:
                    raise BundleError(f"{path}: more than {MAX_TOTAL_BYTES} bytes uncompressed: refused")
                inner = "/".join(parts[1:])
                if not inner or inner in files:
                    raise BundleError(f"{path}: {name!r} is not a bundle file or appears twice: refused")
                handle = tar.extractfile(member)
                data = handle.read(member.size + 1) if handle is not None else b""
                if len(data) != member.size:
                    raise BundleError(f"{path}: {name!r} is truncated: the bundle is damaged")
                files[inner] = data
    except (tarfile.TarError, EOFError, OSError, UnicodeError, zlib.error) as exc:
        raise BundleError(
            f"{path}: not a readable .tar.gz ({exc}): the bundle is damaged or not one"
        ) from None
    return files


def _manifest(path: Path, files: dict[str, bytes]) -> dict[str, Any]:
    raw = files.get(MANIFEST)
    if raw is None:
        raise BundleError(f"{path}: no manifest.json: not a db2ops bundle")
    try:
        manifest = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BundleError(f"{path}: manifest.json is not JSON ({exc}): the bundle is damaged") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError(f"{path}: manifest.json is not a db2ops bundle's")
    if manifest.get("version") != VERSION:
        raise BundleError(
            f"{path}: bundle format version {manifest.get('version')!r}; this db2ops reads version {VERSION}"
        )
    if not isinstance(manifest.get("files"), dict) or not isinstance(manifest.get("cluster"), str):
        raise BundleError(f"{path}: manifest.json lacks its cluster or file list: the bundle is damaged")
    return manifest


def _rows(path: Path, files: dict[str, bytes], name: str) -> Iterable[tuple[int, dict[str, Any]]]:
    data = files.get(name)
    if data is None:
        raise BundleError(f"{path}: no {name}: not a db2ops bundle")
    for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BundleError(f"{path}: {name} line {n} is not JSON ({exc})") from None
        if not isinstance(row, dict):
            raise BundleError(f"{path}: {name} line {n} is not an object")
        yield n, row
