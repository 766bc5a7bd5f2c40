"""Where the corpus of real tool outputs lives, and helpers that fail loudly when a sample is missing.

The samples the tests use are kept in the repository (tests/corpus/, see its README.md), so a clone on its
own runs every test. DB2OPS_CORPUS points the tests at another copy, e.g. ../shared/corpus when trying new
samples before copying them in. A missing directory or sample is a test failure that names the path: a
skipped parser test would hide exactly the regressions the corpus exists to catch.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CORPUS = Path(os.environ.get("DB2OPS_CORPUS") or REPO / "tests" / "corpus")
LAB = CORPUS / "pacemaker-lab"


def _missing(what: str) -> str:
    """`what` went wrong, where the corpus was looked for and what to do about it."""
    if os.environ.get("DB2OPS_CORPUS"):
        return f"{what}. DB2OPS_CORPUS={CORPUS}: unset it to use the repository's tests/corpus/."
    return (
        f"{what}. Tests read the repository's corpus at {CORPUS}: restore it from git, or copy a new sample "
        "there from ../shared/corpus with its SOURCES.md entry (tests/corpus/README.md)."
    )


def corpus_files(pattern: str) -> list[Path]:
    """Sorted files under CORPUS matching the glob `pattern` (e.g. "pacemaker-lab/*/*quorumtool_-s.txt").

    Fails the calling test (or the module, at collection) when the corpus directory is missing or the
    pattern matches no file: a parametrized test over an empty list would otherwise pass having run nothing.
    """
    if not CORPUS.is_dir():
        pytest.fail(_missing(f"corpus directory not found: {CORPUS}"), pytrace=False)
    found = sorted(p for p in CORPUS.glob(pattern) if p.is_file())
    if not found:
        pytest.fail(_missing(f"no corpus file matches {CORPUS / pattern}"), pytrace=False)
    return found


def corpus_path(relative: Path | str) -> Path:
    """The corpus file at `relative` (to CORPUS; an absolute path is kept), failing when it does not exist."""
    path = Path(relative)
    path = path if path.is_absolute() else CORPUS / path
    if not path.is_file():
        pytest.fail(_missing(f"corpus sample not found: {path}"), pytrace=False)
    return path


def corpus_id(value: object) -> str | None:
    """pytest `ids=` callable: a corpus path shown relative to CORPUS (None lets pytest choose)."""
    if isinstance(value, Path):
        try:
            return str(value.relative_to(CORPUS))
        except ValueError:
            return value.name
    return None


def read(path: Path | str) -> str:
    """Text of a corpus file (path absolute or relative to CORPUS); fails naming the path when it is missing."""
    return corpus_path(path).read_text(encoding="utf-8")
