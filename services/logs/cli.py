"""Headless log commands: `db2ops parse db2diag|db2audit FILE [--json]` and `db2ops filter-test PATTERN FILE`.

Pure functions over a path and text streams; tui/cli_reads.py wires argparse to them. Files are read in chunks
through the incremental parsers, so a large db2diag.log never sits in memory twice.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from services.capped_read import iter_text_chunks
from services.logs.filter_pattern import FilterPattern, FilterPatternError, compile_pattern
from services.parsers.db2audit import AuditRecord, Db2AuditParser
from services.parsers.db2diag import Db2DiagParser, DiagRecord, looks_like_db2diag
from services.parsers.errors import ParseError
from services.words import plural

__all__ = [
    "LOG_KINDS",
    "filter_test",
    "iter_events",
    "parse_log_file",
    "parse_log_file_to_json_lines",
    "record_line",
]

LOG_KINDS = ("db2diag", "db2audit")
CHUNK_CHARS = 1 << 20
_SNIFF_CHARS = 1 << 16


def _chunks(path: Path) -> Iterator[str]:
    # CRLF kept exactly as written, so offsets and raw text match the file; a line past 16 MB is refused.
    return iter_text_chunks(path, CHUNK_CHARS)


def record_line(record: DiagRecord | AuditRecord) -> str:
    """One line of text for a db2diag or db2audit record: its timestamp as written, then (db2diag) the
    level, record id and database, then the record's one-line summary."""
    if isinstance(record, DiagRecord):
        db = f"  db {record.db}" if record.db else ""
        return f"{record.timestamp_text}  {record.level or '-':<8} {record.record_id}{db}  {record.summary}"
    return f"{record.timestamp_text}  {record.summary}"


def _json_line(record: DiagRecord | AuditRecord) -> str:
    return json.dumps(record.to_dict(), ensure_ascii=False)


def parse_log_file(
    kind: str, path: Path, out: TextIO, err: TextIO | None = None, *, as_json: bool = False
) -> int:
    """Write one line per record of `path` to `out`, in file order; return the record count.

    `kind` is "db2diag" or "db2audit". A line is a JSON object with every field when `as_json` (datetimes
    ISO-8601: db2diag with its UTC offset, db2audit naive), else record_line()'s text. Lines outside
    records are reported on `err` (default stderr), never dropped silently. Raises ValueError for an
    unknown kind, ParseError when the file has text but no record at all, and OSError when the file
    cannot be read.
    """
    if kind not in LOG_KINDS:
        raise ValueError(f"unknown log kind {kind!r}: use one of {', '.join(LOG_KINDS)}")
    parser = Db2DiagParser() if kind == "db2diag" else Db2AuditParser()
    render = _json_line if as_json else record_line
    count = 0
    for chunk in _chunks(Path(path)):
        for record in parser.feed(chunk):
            out.write(render(record) + "\n")
            count += 1
    for record in parser.flush():
        out.write(render(record) + "\n")
        count += 1
    if parser.skipped_lines:
        if count == 0:
            first = next((line for line in parser.preamble.splitlines() if line.strip()), "")
            expected = "a db2diag record header" if kind == "db2diag" else "a `timestamp=` audit record"
            raise ParseError(
                kind,
                expected,
                line=1,
                excerpt=first,
                hint=f"is {path} a {kind} file? try the other kind or check the file",
            )
        print(
            f"{path}: {plural(parser.skipped_lines, 'line')} outside {kind} records "
            f"{'was' if parser.skipped_lines == 1 else 'were'} not parsed",
            file=err or sys.stderr,
        )
    return count


def parse_log_file_to_json_lines(kind: str, path: Path, out: TextIO, err: TextIO | None = None) -> int:
    """parse_log_file() with one JSON object per record (`db2ops parse db2diag|db2audit FILE --json`)."""
    return parse_log_file(kind, path, out, err, as_json=True)


def iter_events(path: Path, mode: str = "auto") -> Iterator[str]:
    """Yield the events of `path` as CloudWatch would hold them.

    mode "record": each db2diag record is one event (the CloudWatch agent with a
    `multi_line_start_pattern` for the Db2 timestamp); "line": each line is one event (the agent's
    default, and the runbook's config); "auto": records when the file starts like a db2diag.log (a
    header within its first 64 KiB), else lines. Lines outside db2diag records are line events.
    """
    path = Path(path)
    if mode == "auto":
        with path.open("r", encoding="utf-8", errors="replace", newline="") as fh:
            mode = "record" if looks_like_db2diag(fh.read(_SNIFF_CHARS)) else "line"
    if mode == "line":
        yield from _line_events(path)
        return
    if mode != "record":
        raise ValueError(f"unknown event mode {mode!r}: use auto, record or line")
    parser = Db2DiagParser()
    preamble_seen = 0
    for chunk in _chunks(path):
        records = parser.feed(chunk)
        if records and len(parser.preamble) > preamble_seen:
            yield from _split_lines(parser.preamble[preamble_seen:])
            preamble_seen = len(parser.preamble)
        for record in records:
            yield record.raw.rstrip("\r\n")
    records = parser.flush()
    if len(parser.preamble) > preamble_seen:
        yield from _split_lines(parser.preamble[preamble_seen:])
    for record in records:
        yield record.raw.rstrip("\r\n")


def _split_lines(text: str) -> Iterator[str]:
    for line in text.splitlines():
        if line.strip():
            yield line


def _line_events(path: Path) -> Iterator[str]:
    # CloudWatch drops empty lines; a trailing CR is part of the line ending, not of the event.
    with path.open("r", encoding="utf-8", errors="replace", newline="") as fh:
        for line in fh:
            line = line.rstrip("\r\n")
            if line.strip():
                yield line


def filter_test(pattern: str, path: Path, out: TextIO, err: TextIO | None = None, mode: str = "auto") -> int:
    """Print the events of `path` that `pattern` matches, one per line or one db2diag record each.

    Returns the exit code: 0 when at least one event matched, 1 when none did, 2 when the pattern is
    invalid or the file cannot be read (a message saying what to fix goes to `err`, default stderr).
    Pattern warnings (case traps) and a match count also go to `err`, so `out` holds only events.
    Raises BrokenPipeError when the reader of `out` has gone.
    """
    err = err or sys.stderr
    try:
        compiled: FilterPattern = compile_pattern(pattern)
    except FilterPatternError as exc:
        print(f"filter-test: bad pattern {pattern!r}: {exc}", file=err)
        return 2
    for warning in compiled.warnings:
        print(f"filter-test: warning: {warning}", file=err)
    matched = total = 0
    try:
        for event in iter_events(Path(path), mode):
            total += 1
            if compiled.matches(event):
                matched += 1
                out.write(event + "\n")
    except BrokenPipeError:  # the reader left (`| head`): not a file error; the CLI ends quietly
        raise
    except OSError as exc:
        print(
            f"filter-test: cannot read {path}: {exc.strerror or exc}; check the path and permissions",
            file=err,
        )
        return 2
    print(f"filter-test: {matched} of {plural(total, 'event')} matched {pattern!r}", file=err)
    return 0 if matched else 1
