"""Writing an export (dry run, incident report) from a screen without blocking the event loop."""

from __future__ import annotations

import asyncio
from pathlib import Path


async def write_export(path: Path, text: str) -> None:
    """Write `text` to `path` (UTF-8) in a thread, creating its folder first. Returns None.

    Raises OSError when the folder cannot be created or the file written (the caller says what to check).
    """

    def write() -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    await asyncio.to_thread(write)
