"""Exports (journal runbook, dry run, timeline report, log records) are 0600 like the journal, whatever the
umask, and an earlier export with a wider mode is narrowed when it is overwritten."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.logs.model import export_entries
from services.private_file import write_private_text
from tui.write_export import write_export


@pytest.fixture(autouse=True)
def _usual_umask():
    old = os.umask(0o022)  # the usual umask gives 0644 files
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


async def test_write_export_is_0600_even_over_an_older_0644_file(tmp_path: Path) -> None:
    path = tmp_path / "exports" / "dry-run.txt"
    await write_export(path, "tee /etc/x\n")
    assert _mode(path) == 0o600 and path.read_text() == "tee /etc/x\n"
    path.chmod(0o644)
    await write_export(path, "again\n")
    assert _mode(path) == 0o600 and path.read_text() == "again\n"


def test_private_text_and_log_exports_are_0600(tmp_path: Path) -> None:
    write_private_text(tmp_path / "a" / "runbook.md", "# journal\n")
    assert _mode(tmp_path / "a" / "runbook.md") == 0o600
    assert export_entries([], tmp_path / "logs.txt") == 0
    assert _mode(tmp_path / "logs.txt") == 0o600
