"""Where the shared corpus of real tool outputs lives, and a glob helper that skips when it is missing.

CI runs from a clean clone with shared/ beside it, so the default is <repo>/../shared/corpus;
DB2OPS_CORPUS overrides it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("DB2OPS_CORPUS", REPO.parent / "shared" / "corpus"))
LAB = CORPUS / "pacemaker-lab"


def corpus_files(pattern: str) -> list[Path]:
    """Sorted files under CORPUS matching the glob `pattern` (e.g. "pacemaker-lab/*/*quorumtool_-s.txt").

    Skips the calling test module (at collection) when the corpus directory is missing.
    """
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS} (set DB2OPS_CORPUS)", allow_module_level=True)
    return sorted(p for p in CORPUS.glob(pattern) if p.is_file())


def corpus_id(value: object) -> str | None:
    """pytest `ids=` callable: a corpus path shown relative to CORPUS (None lets pytest choose)."""
    if isinstance(value, Path):
        try:
            return str(value.relative_to(CORPUS))
        except ValueError:
            return value.name
    return None


def read(path: Path | str) -> str:
    """Text of a corpus file (path absolute or relative to CORPUS)."""
    path = Path(path)
    return (path if path.is_absolute() else CORPUS / path).read_text(encoding="utf-8")
