"""One apply at a time per cluster: an exclusive lock on a file in the state dir.

Two applies on one cluster (two terminals, the console and a cron job) would both report "verified" while
the last writer wins. `cluster_lock` takes fcntl.flock on state_dir()/plans/<cluster>/apply.lock and writes
who holds it (pid, host, operator, plan, since when) into the file, so the second apply is refused with a
message naming the holder. The kernel releases the lock when the holder exits, even on SIGKILL: a stale
file never blocks anyone.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from services.plans.guard import WriteRefused
from services.plans.journal import utc_now_iso
from services.plans.progress import progress_path

LOCK_FILE = "apply.lock"


class ClusterBusy(WriteRefused):
    """Another apply holds the cluster's lock; the message names it (pid, host, operator, plan, since)."""

    def __init__(self, message: str, holder: dict[str, object]) -> None:
        super().__init__(message)
        self.holder = holder


def lock_path(cluster: str, directory: Path | None = None) -> Path:
    """Return the lock file of `cluster` (beside its plans' progress files; `directory` as for those)."""
    return progress_path(cluster, "x", directory).with_name(LOCK_FILE)


def _holder_text(holder: dict[str, object]) -> str:
    if not holder:
        return "another db2ops process (it wrote no details yet)"
    who = f" by {holder['operator']}" if holder.get("operator") else ""
    return (
        f"{holder.get('plan', '?')} apply{who}, pid {holder.get('pid', '?')} on {holder.get('host', '?')}, "
        f"since {holder.get('since', '?')}"
    )


@contextmanager
def cluster_lock(
    cluster: str, plan: str, *, operator: str = "", directory: Path | None = None
) -> Iterator[Path]:
    """Hold `cluster`'s apply lock for the `with` block; yield the lock file's path.

    Raises ClusterBusy when another process or task holds it, OSError when the state dir is not writable.
    """
    path = lock_path(cluster, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        try:
            holder = json.loads(os.read(fd, 4096).decode("utf-8") or "{}")
        except (OSError, ValueError):
            holder = {}
        os.close(fd)
        holder = holder if isinstance(holder, dict) else {}
        raise ClusterBusy(
            f"cluster {cluster} is being changed by another apply ({_holder_text(holder)}); nothing was "
            f"changed: wait for it to finish, then run again (the lock is {path}; it is freed when that "
            "process ends)",
            holder,
        ) from None
    except BaseException:
        os.close(fd)
        raise
    try:
        holder = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "operator": operator,
            "plan": plan,
            "since": utc_now_iso(),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode("utf-8"), 0)
        yield path
    finally:
        try:
            os.ftruncate(fd, 0)  # the next holder starts from an empty file
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)
