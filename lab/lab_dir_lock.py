"""One folder per running lab: a lab holds an exclusive lock on its folder (inventory, journal, keys,
known_hosts) while it runs, so two labs started by one user (`lab --serve` and `lab --fresh-ha --serve`
side by side) never overwrite each other's files. The lock is released when the process ends.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LOCK_FILE = "lab.lock"
MAX_LABS = 50


class LabDirInUse(ValueError):
    """The folder asked for (`--dir`) is another running lab's."""


def _try_lock(directory: Path) -> int | None:
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def claim_lab_dir(asked: Path | None, default: Path) -> tuple[Path, int]:
    """Return (folder, lock fd) for a new lab: `asked` when given (raises LabDirInUse when another lab
    runs there), else the first of `default`, `default`-2, `default`-3, ... that no running lab holds."""
    if asked is not None:
        fd = _try_lock(asked)
        if fd is None:
            raise LabDirInUse(
                f"another lab is running in {asked} (its inventory, journal and keys are there): stop it, "
                "or give this lab its own folder with --dir"
            )
        return asked, fd
    for n in range(1, MAX_LABS + 1):
        candidate = default if n == 1 else default.with_name(f"{default.name}-{n}")
        fd = _try_lock(candidate)
        if fd is not None:
            return candidate, fd
    raise LabDirInUse(f"{MAX_LABS} labs are running already (folders {default}*): stop one first")


def release(fd: int | None) -> None:
    """Release a lock from claim_lab_dir (closing the descriptor drops the flock)."""
    if fd is not None:
        os.close(fd)
