"""Files only the operator may read: exports of the journal, dry runs, incident reports and logs hold
host names, commands and log lines, so they get the journal's mode, 0600, whatever the umask."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TextIO

PRIVATE_MODE = 0o600


def open_private(path: Path) -> TextIO:
    """Open `path` for writing text (UTF-8), created or truncated with mode 0600 (an existing file is
    set to 0600 too); return the file object. Raises OSError when it cannot be opened."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_MODE)
    try:
        os.fchmod(fd, PRIVATE_MODE)  # an earlier export may exist with a wider mode
        return os.fdopen(fd, "w", encoding="utf-8")
    except BaseException:
        os.close(fd)
        raise


def write_private_text(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600, creating its folder first. Raises OSError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open_private(path) as fh:
        fh.write(text)
