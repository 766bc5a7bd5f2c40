"""Read a written bundle's files in tests: {path under the top folder: bytes}."""

from __future__ import annotations

import tarfile
from pathlib import Path


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {
            m.name.split("/", 1)[1]: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar
            if m.isreg()
        }
