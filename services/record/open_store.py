"""The recording store, opened read-only for incidents and bundles, when there is one.

services/record/store.py (the SQLite store) is imported only here and only when asked: the timeline and
`db2ops bundle` work (saying there is no recording) on a db2ops whose store is absent, not yet written, or
unreadable.
"""

from __future__ import annotations

from pathlib import Path

from services.record.model import RecordingReader


class RecordingUnavailable(ValueError):
    """No recording to read: the message says why and what to do."""


def store_path(path: Path | None = None) -> Path | None:
    """`path`, or the store's default path (None when the store module is absent)."""
    if path is not None:
        return path
    try:
        from services.record.store import default_store_path
    except ImportError:
        return None
    return Path(default_store_path())


def open_recording(path: Path | None = None) -> RecordingReader:
    """Open the recording store at `path` (default: the store's default path) read-only; raise
    RecordingUnavailable when there is none or it cannot be read."""
    try:
        from services.record.store import RecordStore
    except ImportError:
        raise RecordingUnavailable("this db2ops cannot read recordings (no recording store)") from None
    where = store_path(path)
    if where is None or not where.exists():
        raise RecordingUnavailable(
            f"no recording at {where}: the console records while it runs (or `db2ops record --cluster NAME`)"
        )
    try:
        reader: RecordingReader = RecordStore.open(where, readonly=True)
    except Exception as exc:  # sqlite3.DatabaseError, OSError, the store's own errors: say which file
        raise RecordingUnavailable(f"cannot read the recording {where}: {exc}") from None
    return reader


def close_recording(reader: object) -> None:
    """Close a reader that has a close() (the store); a MemoryRecording has none."""
    close = getattr(reader, "close", None)
    if callable(close):
        close()
