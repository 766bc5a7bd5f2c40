"""The recording store, opened read-only for incidents and bundles, when there is one.

services/record/store.py (the SQLite store) is imported only here and only when asked: the timeline and
`db2ops bundle` work (saying there is no recording) on a db2ops whose store is absent, not yet written, or
unreadable.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from services.record.model import RecordingReader


class RecordingUnavailable(ValueError):
    """No recording to read: the message says why and what to do."""


def _store_module() -> Any:
    """services.record.store, imported on first use (SQLite and its schema are not needed before)."""
    try:
        return importlib.import_module("services.record.store")
    except ImportError:
        return None


def store_path(path: Path | None = None) -> Path | None:
    """`path`, or the store's default path (None when the store module is absent)."""
    if path is not None:
        return path
    store = _store_module()
    return Path(store.default_store_path()) if store is not None else None


def open_recording(path: Path | None = None) -> RecordingReader:
    """Open the recording store at `path` (default: the store's default path) read-only; raise
    RecordingUnavailable when there is none or it cannot be read."""
    store = _store_module()
    if store is None:
        raise RecordingUnavailable("this db2ops cannot read recordings (no recording store)")
    where = store_path(path)
    if where is None or not where.exists():
        raise RecordingUnavailable(
            f"no recording at {where}: the console records while it runs (or `db2ops record --cluster NAME`)"
        )
    try:
        reader: RecordingReader = store.RecordStore.open(where, readonly=True)
    except Exception as exc:  # sqlite3.DatabaseError, OSError, the store's own errors: say which file
        raise RecordingUnavailable(f"cannot read the recording {where}: {exc}") from None
    return reader


def close_recording(reader: object) -> None:
    """Close a reader that has a close() (the store); a MemoryRecording has none."""
    close = getattr(reader, "close", None)
    if callable(close):
        close()
