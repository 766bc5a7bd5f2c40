"""The recording on disk: one SQLite file (WAL) holding every cluster's frames and items (issue 13).

How a week of 2-second snapshots stays small:
- Every few minutes (`keyframe_s`), and whenever the state changed, a frame is a *keyframe* or a *change*:
  a keyframe holds the whole snapshot; a change holds a patch against its keyframe (exact).
- A frame whose state equals the frame before it (`model.same_state`) is a *tick*: a patch against its
  keyframe of what still moved (log positions, clocks), read times excepted. Reading a tick gives the
  keyframe's read times moved by the time between them (a stale part keeps its old `fetched_at`), and
  the keyframe's `duration_s`: so a tick is exact in state and within READ_TIME_TOLERANCE_S in ages.
- Large payloads (keyframe pieces, raw tool output) are content-addressed blobs, zlib-compressed: the same
  crm_mon XML read on both nodes, or an unchanged part of a keyframe, is stored once.

A reader (`RecordStore.open(path, readonly=True)`) works while another process writes (WAL).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import sqlite3
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from services import paths
from services.private_file import PRIVATE_MODE
from services.record.codec import FORMAT, CodecError, decode_status, encode
from services.record.model import KINDS, RAW, VOLATILE_FIELDS, Frame, RecordedItem, _strip
from services.status.model import ClusterStatus

APPLICATION_ID = 0x64623272  # "db2r": PRAGMA application_id of a db2ops recording
SCHEMA = 1
KEYFRAME_S = 900.0  # a whole snapshot at least this often (a read is always its keyframe + one patch)
TICK_S = 15.0  # a steady frame is kept at most this often (every frame whose state changed is kept)
READ_TIME_TOLERANCE_S = 1.0
KEEP_NEWEST_S = 3600.0  # the size limit never drops the last hour  # a tick's read times are within this of the recorded ones

# frames.kind
KEY, CHANGE, TICK = 0, 1, 2
SKIPPED = 3  # add_frame's answer for a steady frame within TICK_S of the last one kept (not stored)

_SCHEMA_SQL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (id INTEGER PRIMARY KEY, hash BLOB NOT NULL UNIQUE, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS frames (
    id INTEGER PRIMARY KEY, cluster TEXT NOT NULL, at REAL NOT NULL,
    kind INTEGER NOT NULL, changed INTEGER NOT NULL, key_id INTEGER, body BLOB NOT NULL);
CREATE INDEX IF NOT EXISTS frames_at ON frames (cluster, at);
CREATE INDEX IF NOT EXISTS frames_changes ON frames (cluster, at) WHERE changed;
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY, cluster TEXT NOT NULL, at REAL NOT NULL,
    kind TEXT NOT NULL, body BLOB NOT NULL, blob INTEGER);
CREATE INDEX IF NOT EXISTS items_at ON items (cluster, at);
"""


class RecordError(Exception):
    """The recording cannot be opened or read; the message names the file and what to do."""


def default_store_path() -> Path:
    """The console's recording: state_dir()/record.sqlite (mode 0600: it holds host names and output)."""
    return paths.state_dir() / "record.sqlite"


@dataclass(frozen=True)
class RawText:
    """One tool's raw output a frame was parsed from."""

    host: str
    command: str
    text: str


@dataclass(frozen=True)
class Written:
    """What `add_frame` stored: the frame's kind (KEY, CHANGE or TICK), whether its state differs from the
    frame before it, and how many raw texts it recorded."""

    kind: int
    changed: bool
    raw_items: int = 0


# --- compact payloads ---------------------------------------------------------------------------------


def _json(data: Any) -> bytes:
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode()


def _pack(data: Any, zdict: bytes = b"") -> bytes:
    """JSON, zlib-compressed when that is smaller; with `zdict` (the keyframe's JSON) as the dictionary
    for patches, whose keys and values mostly repeat the keyframe's."""
    text = _json(data)
    if zdict:
        c = zlib.compressobj(6, zdict=zdict)
        packed = c.compress(text) + c.flush()
        return b"d" + packed if len(packed) < len(text) else b"j" + text
    packed = zlib.compress(text, 6)
    return b"z" + packed if len(packed) < len(text) else b"j" + text


def _zdict(full: dict[str, Any]) -> bytes:
    return _json(full)[-32768:]  # zlib's window


def _unpack(blob: bytes, zdict: bytes = b"") -> Any:
    if blob[:1] == b"z":
        return json.loads(zlib.decompress(blob[1:]))
    if blob[:1] == b"d":
        d = zlib.decompressobj(zdict=zdict)
        return json.loads(d.decompress(blob[1:]) + d.flush())
    if blob[:1] == b"j":
        return json.loads(blob[1:])
    raise RecordError("a recorded payload is damaged (unknown packing)")


# --- patches: the difference between two encoded snapshots -----------------------------------------------

_SAME = object()
_READ_TIMES = ("fetched_at", "duration_s")


def _diff(a: Any, b: Any, lossy: bool, key: str = "") -> Any:
    """A patch turning `a` into `b` (_SAME when none); `lossy` ignores read times within tolerance."""
    if lossy and key == "duration_s":
        return _SAME
    if lossy and key == "fetched_at" and _near(a, b):
        return _SAME
    if type(a) is type(b) and a == b:
        return _SAME
    if isinstance(a, dict) and isinstance(b, dict):
        sub = {}
        for k, v in b.items():
            if k in a:
                d = _diff(a[k], v, lossy, k)
                if d is not _SAME:
                    sub[k] = d
            elif not (lossy and k == "duration_s"):
                sub[k] = ["=", v]
        gone = [k for k in a if k not in b and not (lossy and k == "duration_s")]
        if not sub and not gone:
            return _SAME
        return ["{", sub, gone] if gone else ["{", sub]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        subs = {}
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            d = _diff(x, y, lossy)
            if d is not _SAME:
                subs[str(i)] = d
        return ["[", subs] if subs else _SAME
    return ["=", b]


def _near(a: Any, b: Any) -> bool:
    numbers = (int, float)
    return isinstance(a, numbers) and isinstance(b, numbers) and abs(a - b) < READ_TIME_TOLERANCE_S


def _apply(base: Any, patch: Any) -> Any:
    op = patch[0]
    if op == "=":
        return patch[1]
    if op == "{":
        out = dict(base)
        for k, sub in patch[1].items():
            out[k] = _apply(base.get(k), sub) if k in base else sub[1]
        for k in patch[2] if len(patch) > 2 else ():
            out.pop(k, None)
        return out
    if op == "[":
        out_list = list(base)
        for i, sub in patch[1].items():
            out_list[int(i)] = _apply(out_list[int(i)], sub)
        return out_list
    raise RecordError(f"a recorded patch is damaged (unknown operation {op!r})")


_PARTS = ("crm", "qnetd", "overlay_route", "alarms")  # ClusterStatus's parts, and its maps of parts:
_PART_MAPS = ("quorum", "qdevice", "hadr")


def _shift(full: dict[str, Any], dt: float) -> dict[str, Any]:
    """`full` (an encoded snapshot) with the read times of its fresh parts moved by `dt` (a stale part keeps
    its old time: its last good value's). Copies only what it changes."""
    out = dict(full)
    for key in _PARTS:
        if isinstance(out.get(key), dict):
            out[key] = _shift_part(out[key], dt)
    for key in _PART_MAPS:
        if isinstance(out.get(key), dict):
            out[key] = {host: _shift_part(part, dt) for host, part in out[key].items()}
    return out


def _shift_part(part: Any, dt: float) -> Any:
    if not isinstance(part, dict) or not isinstance(part.get("fetched_at"), (int, float)):
        return part
    if "error" in part and "value" in part:  # stale
        return part
    return {**part, "fetched_at": part["fetched_at"] + dt}


def _same_state(a: Any, b: Any) -> bool:
    """Whether two snapshots show the same state, without encoding them: equal but for VOLATILE_FIELDS (of
    dataclasses) and fields not recorded. Stricter than model.same_state (an int is not a float here): it
    may say "different" where same_state says "same", never the other way, so a change is never skipped.
    Subtrees are first compared whole (==, mostly in C; equal whole means equal in state too); only those
    that differ are walked."""
    if a is b:
        return True
    kind: Any = type(a)
    if type(b) is not kind:
        return False
    names = _compared(kind)
    if names is not None:
        for name in names:
            x, y = getattr(a, name), getattr(b, name)
            if x is not y and x != y and not _same_state(x, y):
                return False
        return True
    if kind is tuple or kind is list:
        return len(a) == len(b) and all(x == y or _same_state(x, y) for x, y in zip(a, b, strict=True))
    if kind is dict:
        return a.keys() == b.keys() and all(v == b[k] or _same_state(v, b[k]) for k, v in a.items())
    return bool(a == b)


_COMPARED: dict[type, tuple[str, ...] | None] = {}


def _compared(cls: type) -> tuple[str, ...] | None:
    """The fields `_same_state` compares of a dataclass (None for any other type), worked out once."""
    if cls not in _COMPARED:
        _COMPARED[cls] = (
            tuple(
                f.name
                for f in dataclasses.fields(cls)
                if f.name not in VOLATILE_FIELDS and f.metadata.get("recorded", True)
            )
            if dataclasses.is_dataclass(cls)
            else None
        )
    return _COMPARED[cls]


# --- keyframes as content-addressed pieces ----------------------------------------------------------------


def _pieces(full: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """The keyframe's pieces: each top-level field, each host of the per-host maps."""
    for k, v in full.items():
        if isinstance(v, dict) and k in ("quorum", "qdevice", "hadr"):
            for host, part in v.items():
                yield f"{k}\x00{host}", part
        else:
            yield k, v


def _join(pieces: Mapping[str, Any]) -> dict[str, Any]:
    full: dict[str, Any] = {}
    for name, value in pieces.items():
        if "\x00" in name:
            k, host = name.split("\x00", 1)
            full.setdefault(k, {})[host] = value
        else:
            full[name] = value
    return full


@dataclass
class _Writing:
    """The writer's memory of one cluster: its keyframe and the state of its last frame."""

    key_id: int
    key_at: float
    key_full: dict[str, Any]
    key_zdict: bytes
    key_size: int
    last_state: Any
    last_at: float
    raw_hashes: dict[tuple[str, str], bytes]
    last_status: ClusterStatus | None = None  # the last frame kept, for the quick same-state check
    skipped: ClusterStatus | None = None  # the last frame skipped since, kept on close


class RecordStore:
    """A RecordingReader over one SQLite file, and its writer (`add_frame`, `add_item`)."""

    def __init__(
        self, conn: sqlite3.Connection, path: Path, readonly: bool, keyframe_s: float, tick_s: float
    ) -> None:
        self._conn = conn
        self.path = path
        self.readonly = readonly
        self.keyframe_s = keyframe_s
        self.tick_s = tick_s
        self._lock = threading.RLock()  # the recorder's thread writes, the console's may read
        self._writing: dict[str, _Writing] = {}
        # keyframe id -> (its encoded snapshot, its zlib dictionary), the last few used
        self._keys: OrderedDict[int, tuple[dict[str, Any], bytes]] = OrderedDict()

    # --- opening ----------------------------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path | str,
        readonly: bool = False,
        *,
        keyframe_s: float = KEYFRAME_S,
        tick_s: float = TICK_S,
    ) -> RecordStore:
        """Open (or, unless `readonly`, create) the recording at `path`.

        Raises RecordError when the file is missing (readonly), not a db2ops recording, from a newer
        db2ops, or cannot be opened (locked, read-only folder, damaged)."""
        path = Path(path)
        if readonly and not path.exists():
            raise RecordError(f"{path}: no recording there (the console records to {default_store_path()})")
        try:
            if not readonly:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                fd = os.open(path, os.O_RDWR | os.O_CREAT, PRIVATE_MODE)  # 0600 before SQLite sees it
                os.close(fd)
                conn = sqlite3.connect(path, timeout=2.0, check_same_thread=False, isolation_level=None)
            else:
                uri = f"file:{path.resolve()}?mode=ro"
                conn = sqlite3.connect(
                    uri, uri=True, timeout=2.0, check_same_thread=False, isolation_level=None
                )
        except (OSError, sqlite3.Error) as exc:
            raise RecordError(f"{path}: cannot open the recording: {exc}") from None
        try:
            cls._check(conn, path, readonly)
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, readonly, keyframe_s, tick_s)

    @staticmethod
    def _check(conn: sqlite3.Connection, path: Path, readonly: bool) -> None:
        foreign = (
            f"{path} is not a db2ops recording; move it away or give another file "
            f"(db2ops records to {default_store_path()})"
        )
        try:
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise RecordError(f"{foreign} ({exc})") from None
        if app_id == 0 and not tables:
            if readonly:
                raise RecordError(f"{path} is an empty file, not a db2ops recording")
            try:
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # before the first table: lets it shrink
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA}")
                conn.executescript(_SCHEMA_SQL)
                conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a crash loses at most the last frames
            except sqlite3.Error as exc:
                raise RecordError(f"{path}: cannot create the recording: {exc}") from None
            return
        if app_id != APPLICATION_ID:
            raise RecordError(foreign)
        if version > SCHEMA:
            raise RecordError(
                f"{path} was recorded by a newer db2ops (schema {version}, this one reads {SCHEMA}); "
                "upgrade db2ops to read it"
            )
        if not readonly:
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except sqlite3.Error as exc:
                raise RecordError(f"{path}: cannot write the recording: {exc}") from None
        with contextlib.suppress(sqlite3.Error):
            conn.execute("PRAGMA synchronous = NORMAL")  # WAL: a crash loses at most the last frames

    def close(self) -> None:
        """Keep each cluster's last snapshot if it was skipped (the recording then ends when it ended), and
        close the file."""
        with self._lock:
            for w in list(self._writing.values()):
                if w.skipped is not None and not self.readonly:
                    try:
                        self.add_frame(w.skipped, force=True)
                    except sqlite3.Error:  # closing anyway: the frames before it are on file
                        break
            self._conn.close()

    def __enter__(self) -> RecordStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- writing ----------------------------------------------------------------------------------------

    def add_frame(
        self, status: ClusterStatus, raw: Sequence[RawText] | None = None, *, force: bool = False
    ) -> Written:
        """Record one snapshot; with its raw texts (default: the parts' `raw`) when the state changed or
        at a keyframe, each only when it differs from the last one recorded for its host and command.

        A steady frame (same state as the last one kept) within `tick_s` of the last one kept is not
        stored (SKIPPED; `force` stores it anyway): status_at gives that earlier frame, the same state, for
        its time. The last one skipped is stored on close.

        Raises sqlite3.Error (disk full, locked, read-only): the Recorder pauses on it."""
        at = status.taken_at
        with self._lock:
            w = self._writing.get(status.cluster)
            within = w is not None and 0 <= at - w.last_at < self.tick_s and not force
            quick_same = (
                w is not None
                and w.last_status is not None
                and at >= w.last_at
                and _same_state(w.last_status, status)
            )
            if within and quick_same:  # most polls of a steady cluster end here, without encoding it
                assert w is not None
                w.skipped = status
                return Written(SKIPPED, False)
            full = encode(status)
            state = w.last_state if w is not None and quick_same else _strip(full)
            if w is not None and within and state == w.last_state:
                w.skipped = status
                return Written(SKIPPED, False)
            with self._transaction():
                written = self._add_frame(status, raw, full, state)
            self._writing[status.cluster].last_status = status
            self._writing[status.cluster].skipped = None
            return written

    def _add_frame(
        self, status: ClusterStatus, raw: Sequence[RawText] | None, full: dict[str, Any], state: Any
    ) -> Written:
        at = status.taken_at
        w = self._writing.get(status.cluster)
        if w is None:
            w = self._resume(status.cluster)
        changed = w is None or state != w.last_state or at < w.last_at
        kind = TICK
        if w is None or at - w.key_at >= self.keyframe_s or at < w.key_at:
            kind = KEY
        else:
            patch = _diff(_shift(w.key_full, at - w.key_at), full, lossy=not changed)
            body = _pack(patch if patch is not _SAME else ["{", {}], w.key_zdict)
            if len(body) > w.key_size // 2:
                kind = KEY
            else:
                kind = CHANGE if changed else TICK
        if kind == KEY:
            frame_id, size = self._write_key(status.cluster, at, full, changed)
            hashes = w.raw_hashes if w is not None else {}
            w = _Writing(frame_id, at, full, self._keys[frame_id][1], size, state, at, hashes)
            self._writing[status.cluster] = w
        else:
            assert w is not None
            self._conn.execute(
                "INSERT INTO frames (cluster, at, kind, changed, key_id, body) VALUES (?, ?, ?, ?, ?, ?)",
                (status.cluster, at, kind, changed, w.key_id, body),
            )
            w.last_state, w.last_at = state, at
        raws = 0
        if kind != TICK:
            texts = raw if raw is not None else _raw_texts(status)
            raws = self._write_raws(status.cluster, at, texts, w.raw_hashes)
        return Written(kind, changed, raws)

    def _resume(self, cluster: str) -> _Writing | None:
        """A writer reopening a recording: compare the next frame with the last one on file."""
        row = self._conn.execute(
            "SELECT id, at, kind, key_id, body FROM frames WHERE cluster = ? ORDER BY at DESC, id DESC LIMIT 1",
            (cluster,),
        ).fetchone()
        if row is None:
            return None
        full = self._full(row)
        key_id = row[0] if row[2] == KEY else row[3]
        key_at = self._conn.execute("SELECT at FROM frames WHERE id = ?", (key_id,)).fetchone()[0]
        key, zdict = self._key(key_id)
        return _Writing(key_id, key_at, key, zdict, 0, _strip(full), row[1], {})

    def _write_key(self, cluster: str, at: float, full: dict[str, Any], changed: bool) -> tuple[int, int]:
        refs: dict[str, int] = {}
        size = 0
        for name, value in _pieces(full):
            blob_id, n = self._put_blob(_pack(value))
            refs[name] = blob_id
            size += n
        cur = self._conn.execute(
            "INSERT INTO frames (cluster, at, kind, changed, key_id, body) VALUES (?, ?, ?, ?, NULL, ?)",
            (cluster, at, KEY, changed, _pack(refs)),
        )
        frame_id = cur.lastrowid
        assert frame_id is not None
        self._remember_key(frame_id, full)
        return frame_id, size

    def _put_blob(self, data: bytes) -> tuple[int, int]:
        """Store `data` once: return its blob id (an existing one for the same bytes) and its size."""
        digest = hashlib.sha256(data).digest()[:16]
        row = self._conn.execute("SELECT id FROM blobs WHERE hash = ?", (digest,)).fetchone()
        if row is not None:
            return int(row[0]), len(data)
        cur = self._conn.execute("INSERT INTO blobs (hash, data) VALUES (?, ?)", (digest, data))
        assert cur.lastrowid is not None
        return cur.lastrowid, len(data)

    def _write_raws(
        self, cluster: str, at: float, texts: Iterable[RawText], last: dict[tuple[str, str], bytes]
    ) -> int:
        count = 0
        for raw in texts:
            if not raw.text:
                continue
            digest = hashlib.sha256(raw.text.encode()).digest()
            if last.get((raw.host, raw.command)) == digest:
                continue
            blob_id, _ = self._put_blob(_pack(raw.text))
            self._conn.execute(
                "INSERT INTO items (cluster, at, kind, body, blob) VALUES (?, ?, ?, ?, ?)",
                (cluster, at, RAW, _pack({"host": raw.host, "command": raw.command}), blob_id),
            )
            last[(raw.host, raw.command)] = digest
            count += 1
        return count

    def add_item(self, item: RecordedItem) -> None:
        """Record one item (a RAW item's text is stored as a shared blob)."""
        if item.kind not in KINDS:
            raise ValueError(f"unknown item kind {item.kind!r}; one of {', '.join(KINDS)}")
        payload = dict(item.payload)
        with self._lock, self._transaction():
            blob_id = None
            if item.kind == RAW and isinstance(payload.get("text"), str):
                blob_id, _ = self._put_blob(_pack(payload.pop("text")))
            self._conn.execute(
                "INSERT INTO items (cluster, at, kind, body, blob) VALUES (?, ?, ?, ?, ?)",
                (item.cluster, item.at, item.kind, _pack(payload), blob_id),
            )

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            self._writing.clear()  # what was remembered may not be on file: start again from the file
            raise
        self._conn.execute("COMMIT")

    # --- retention --------------------------------------------------------------------------------------

    def used_bytes(self) -> int:
        """Bytes the recording's pages hold (free pages excluded), WAL not counted."""
        with self._lock:
            pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
            free = self._conn.execute("PRAGMA freelist_count").fetchone()[0]
            size = self._conn.execute("PRAGMA page_size").fetchone()[0]
        return int((pages - free) * size)

    def prune(
        self, *, max_age_s: float | None = None, max_bytes: int | None = None, now: float | None = None
    ) -> int:
        """Drop what is older than `max_age_s`, then the oldest days until the recording holds at most
        `max_bytes`; return the frames and items dropped. A keyframe a kept frame needs is kept."""
        now = time.time() if now is None else now
        dropped = 0
        with self._lock:
            if max_age_s is not None:
                dropped += self._drop_before(now - max_age_s)
            while max_bytes is not None and self.used_bytes() > max_bytes:
                first = self._conn.execute(
                    "SELECT min(at) FROM (SELECT min(at) AS at FROM frames UNION ALL SELECT min(at) FROM items)"
                ).fetchone()[0]
                last = self._conn.execute(
                    "SELECT max(at) FROM (SELECT max(at) AS at FROM frames UNION ALL SELECT max(at) FROM items)"
                ).fetchone()[0]
                if first is None:
                    break
                # a tenth of what is held (at least a minute), oldest first; never the last hour
                cutoff = min(first + max((last - first) / 10, 60.0), last - KEEP_NEWEST_S)
                if cutoff <= first:
                    break
                n = self._drop_before(cutoff)
                dropped += n
                if n == 0:
                    break
        return dropped

    def _drop_before(self, cutoff: float) -> int:
        with self._transaction():
            c = self._conn
            frames = c.execute(
                "DELETE FROM frames WHERE at < ? AND id NOT IN "
                "(SELECT key_id FROM frames WHERE at >= ? AND key_id IS NOT NULL)",
                (cutoff, cutoff),
            ).rowcount
            items = c.execute("DELETE FROM items WHERE at < ?", (cutoff,)).rowcount
            if frames or items:
                self._drop_unused_blobs()
        self._writing.clear()
        self._keys.clear()
        with contextlib.suppress(sqlite3.Error):
            self._conn.execute("PRAGMA incremental_vacuum")
        return int(frames + items)

    def _drop_unused_blobs(self) -> None:
        used: set[int] = {r[0] for r in self._conn.execute("SELECT blob FROM items WHERE blob IS NOT NULL")}
        for (body,) in self._conn.execute("SELECT body FROM frames WHERE kind = ?", (KEY,)):
            used.update(_unpack(body).values())
        unused = [r[0] for r in self._conn.execute("SELECT id FROM blobs") if r[0] not in used]
        self._conn.executemany("DELETE FROM blobs WHERE id = ?", ((i,) for i in unused))

    # --- reading (RecordingReader) ----------------------------------------------------------------------

    def clusters(self) -> list[str]:
        rows = self._query("SELECT DISTINCT cluster FROM frames UNION SELECT DISTINCT cluster FROM items", ())
        return sorted(r[0] for r in rows)

    def span(self, cluster: str) -> tuple[float, float] | None:
        row = self._query("SELECT min(at), max(at) FROM frames WHERE cluster = ?", (cluster,))[0]
        return None if row[0] is None else (row[0], row[1])

    def change_times(
        self, cluster: str, since: float | None = None, until: float | None = None
    ) -> list[float]:
        span = self.span(cluster)
        if span is None:
            return []
        where, args = _between(since, until)
        rows = self._query(
            f"SELECT at FROM frames WHERE cluster = ? AND changed {where} ORDER BY at, id", (cluster, *args)
        )
        times = [r[0] for r in rows]
        # the first frame on file always counts (retention may have dropped the one it was compared with)
        first = span[0]
        if (
            (not times or times[0] != first)
            and (since is None or first >= since)
            and (until is None or first <= until)
        ):
            times.insert(0, first)
        return times

    def status_at(self, cluster: str, at: float) -> ClusterStatus | None:
        rows = self._query(
            "SELECT id, at, kind, key_id, body FROM frames WHERE cluster = ? AND at <= ? "
            "ORDER BY at DESC, id DESC LIMIT 1",
            (cluster, at),
        )
        return self._status(rows[0]) if rows else None

    def frames(self, cluster: str, since: float | None = None, until: float | None = None) -> Iterator[Frame]:
        where, args = _between(since, until)
        rows = self._query(
            f"SELECT id, at, kind, key_id, body FROM frames WHERE cluster = ? {where} ORDER BY at, id",
            (cluster, *args),
        )
        for row in rows:
            yield Frame(row[1], self._status(row))

    def items(
        self,
        cluster: str,
        since: float | None = None,
        until: float | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[RecordedItem]:
        where, args = _between(since, until)
        if kinds is not None:
            where += f" AND kind IN ({','.join('?' * len(kinds))})"
            args = (*args, *kinds)
        rows = self._query(
            f"SELECT at, kind, body, blob FROM items WHERE cluster = ? {where} ORDER BY at, id",
            (cluster, *args),
        )
        out = []
        for at, kind, body, blob in rows:
            payload = _unpack(body)
            if blob is not None:
                payload["text"] = self._blob(blob)
            out.append(RecordedItem(at, cluster, kind, payload))
        return out

    # --- reading helpers --------------------------------------------------------------------------------

    def _query(self, sql: str, args: tuple[Any, ...]) -> list[Any]:
        try:
            with self._lock:
                return self._conn.execute(sql, args).fetchall()
        except sqlite3.DatabaseError as exc:
            raise RecordError(f"{self.path}: cannot read the recording: {exc}") from None

    def _blob(self, blob_id: int) -> Any:
        rows = self._query("SELECT data FROM blobs WHERE id = ?", (blob_id,))
        if not rows:
            raise RecordError(f"{self.path}: the recording is damaged (a stored piece is missing)")
        return _unpack(rows[0][0])

    def _key(self, key_id: int) -> tuple[dict[str, Any], bytes]:
        known = self._keys.get(key_id)
        if known is not None:
            self._keys.move_to_end(key_id)
            return known
        rows = self._query("SELECT body FROM frames WHERE id = ? AND kind = ?", (key_id, KEY))
        if not rows:
            raise RecordError(f"{self.path}: the recording is damaged (a keyframe is missing)")
        refs = _unpack(rows[0][0])
        full = _join({name: self._blob(blob_id) for name, blob_id in refs.items()})
        self._remember_key(key_id, full)
        return self._keys[key_id]

    def _remember_key(self, key_id: int, full: dict[str, Any]) -> None:
        self._keys[key_id] = (full, _zdict(full))
        while len(self._keys) > 32:
            self._keys.popitem(last=False)

    def _full(self, row: tuple[Any, ...]) -> dict[str, Any]:
        frame_id, at, kind, key_id, body = row
        if kind == KEY:
            return self._key(frame_id)[0]
        key, zdict = self._key(key_id)
        key_at = self._query("SELECT at FROM frames WHERE id = ?", (key_id,))[0][0]
        patch = _unpack(body, zdict)
        result = _apply(_shift(key, at - key_at), patch)
        assert isinstance(result, dict)
        return result

    def _status(self, row: tuple[Any, ...]) -> ClusterStatus:
        try:
            return decode_status({"format": FORMAT, "status": self._full(row)})
        except (CodecError, KeyError, IndexError, TypeError) as exc:
            raise RecordError(f"{self.path}: a recorded frame cannot be read: {exc}") from None


def _between(since: float | None, until: float | None) -> tuple[str, tuple[Any, ...]]:
    where, args = "", cast(tuple[Any, ...], ())
    if since is not None:
        where, args = where + " AND at >= ?", (*args, since)
    if until is not None:
        where, args = where + " AND at <= ?", (*args, until)
    return where, args


def _raw_texts(status: ClusterStatus) -> list[RawText]:
    """The raw outputs the snapshot's parts were parsed from (Part.raw), one per host and command."""
    from services.status.poll import iter_parts

    out = []
    for _key, part in iter_parts(status):
        raw = getattr(part, "raw", "")
        if raw:
            out.append(RawText(part.source, part.command, raw))
    return out
