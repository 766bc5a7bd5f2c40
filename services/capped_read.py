"""Reads of saved command outputs with a ceiling, so `/dev/zero` or a wrong path ends in a clear error,
not a MemoryError traceback or a read that never ends."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from pathlib import Path

__all__ = ["MAX_LINE_CHARS", "MAX_OUTPUT_MB", "OutputTooLarge", "iter_text_chunks", "read_text_capped"]

MAX_OUTPUT_MB = 64  # a crm_mon XML of a large cluster is ~1 MB; a 14 MB one is already extreme
MAX_LINE_CHARS = 16 << 20  # a log line longer than this is not a log (db2diag/db2audit lines are < 64 KB)


class OutputTooLarge(OSError):
    """The file is larger than the ceiling; `strerror` says so and what to do (an OSError, so callers that
    report "cannot read FILE: <strerror>" report it without a change)."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.EFBIG, message)


def read_text_capped(path: Path, max_mb: int = MAX_OUTPUT_MB) -> str:
    """Return the text of `path` (UTF-8, undecodable bytes replaced, newlines as `Path.read_text`).

    Raises OutputTooLarge past `max_mb` MB (reading at most one character more), OSError when unreadable.
    """
    limit = max_mb << 20
    with Path(path).open("r", encoding="utf-8", errors="replace") as fh:
        text = fh.read(limit + 1)
    if len(text) > limit:
        raise OutputTooLarge(
            f"output larger than {max_mb} MB: not a saved command output; save only the command's output "
            "(e.g. `crm_mon --as-xml > crm.xml`) and parse that"
        )
    return text


def iter_text_chunks(path: Path, chunk_chars: int, max_line: int = MAX_LINE_CHARS) -> Iterator[str]:
    """Yield the text of `path` in chunks of `chunk_chars`, CRLF kept as written (offsets match the file).

    Raises OutputTooLarge when a line runs past `max_line` characters without a newline (binary data,
    `/dev/zero`): the parsers would hold it in memory whole.
    """
    since_newline = 0
    with Path(path).open("r", encoding="utf-8", errors="replace", newline="") as fh:
        while chunk := fh.read(chunk_chars):
            last = chunk.rfind("\n")  # the parsers split on \n only
            since_newline = len(chunk) - last - 1 if last >= 0 else since_newline + len(chunk)
            if since_newline > max_line:
                raise OutputTooLarge(
                    f"a line longer than {max_line >> 20} MB: not a text log (binary data?); check the path"
                )
            yield chunk
