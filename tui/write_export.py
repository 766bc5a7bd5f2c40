"""Writing an export (dry run, incident report) from a screen without blocking the event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.private_file import write_private_text


async def write_export(path: Path, text: str) -> None:
    """Write `text` to `path` (UTF-8, mode 0600 like the journal) in a thread, creating its folder first.

    Raises OSError when the folder cannot be created or the file written (the caller says what to check).
    """

    await asyncio.to_thread(write_private_text, path, text)
