"""`db2ops bundle`: by incident number or by span, and each refusal with its exit code and what to do
(no recording, no such incident with the known ones listed, an empty span, a bad time, an unwritable output).
The recording store is replaced by a recorded drill walk (services/record/open_store.py is what opens it)."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from incident_harness import START
from recorded_walk import kill_primary_walk

import tui.cli
from services.record import bundle_cli
from services.record.bundle import open_bundle
from services.record.model import MemoryRecording
from services.record.open_store import RecordingUnavailable, open_recording


@pytest.fixture
async def recorded(monkeypatch, tmp_path) -> MemoryRecording:
    r = await kill_primary_walk(monkeypatch)
    opened: list[Path | None] = []

    def fake_open(path):
        opened.append(path)
        return r.recording

    monkeypatch.setattr(bundle_cli, "open_recording", fake_open)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    r.recording.opened = opened  # type: ignore[attr-defined]
    return r.recording


def _main(*argv: str) -> int:
    return tui.cli.main(list(argv))


async def test_bundle_by_incident_number(recorded, tmp_path, capsys) -> None:
    out = tmp_path / "inc1.tar.gz"
    store = tmp_path / "rec.sqlite"
    assert _main("bundle", "--cluster", "lab1", "--incident", "1", "-o", str(out), "--store", str(store)) == 0
    printed = capsys.readouterr().out
    assert "Incident #1: " in printed and "db2b took over from db2a (crash)" in printed
    assert f"Bundle written to {out}" in printed
    assert recorded.opened == [store]  # type: ignore[attr-defined]
    back = open_bundle(out)
    assert back.frames("lab1") and back.frames("lab1")[0].at < START + 4.5 < back.frames("lab1")[-1].at
    with tarfile.open(out) as tar:
        names = tar.getnames()
    assert sum("/evidence/crm_mon/" in n for n in names) >= 2 and any(
        n.endswith("/manifest.json") for n in names
    )


async def test_bundle_by_since_until_and_the_one_recorded_cluster(recorded, tmp_path, monkeypatch) -> None:
    out = tmp_path / "span.tar.gz"
    monkeypatch.setattr(bundle_cli.time, "time", lambda: START + 200)
    assert _main("bundle", "--since", "3m", "--until", "2026-11-30T00:53:40Z", "-o", str(out)) == 0
    with tarfile.open(out) as tar:
        manifest = json.load(tar.extractfile(next(m for m in tar if m.name.endswith("manifest.json"))))  # type: ignore[arg-type]
    assert manifest["cluster"] == "lab1"
    assert manifest["since"] == START + 20 and manifest["until"] == START + 20


async def test_no_such_incident_lists_the_known_ones(recorded, tmp_path, capsys) -> None:
    assert _main("bundle", "--cluster", "lab1", "--incident", "4", "-o", str(tmp_path / "x.tar.gz")) == 1
    err = capsys.readouterr().err
    assert "no incident #4 for lab1 (incidents: #1 " in err and "took over from db2a" in err
    assert not (tmp_path / "x.tar.gz").exists()


async def test_an_empty_span_an_unknown_cluster_and_bad_times(recorded, tmp_path, capsys) -> None:
    out = str(tmp_path / "x.tar.gz")
    assert (
        _main(
            "bundle",
            "--cluster",
            "lab1",
            "--since",
            "2020-01-01T00:00:00Z",
            "--until",
            "2020-01-01T01:00:00Z",
            "-o",
            out,
        )
        == 1
    )
    assert "nothing recorded for lab1 between 2020-01-01T00:00:00Z" in capsys.readouterr().err
    assert _main("bundle", "--cluster", "nope", "--since", "10m", "-o", out) == 1
    assert "nothing recorded for cluster 'nope' (recorded: lab1)" in capsys.readouterr().err
    assert _main("bundle", "--since", "yesterday-ish", "-o", out) == 2
    assert "is not a time: give a duration ago (10m" in capsys.readouterr().err
    assert _main("bundle", "--since", "10m", "--until", "20m", "-o", out) == 2
    assert "--until is before --since" in capsys.readouterr().err
    assert _main("bundle", "--incident", "1", "--until", "10m", "-o", out) == 2
    assert "drop --since/--until" in capsys.readouterr().err


async def test_an_unwritable_output_says_so(recorded, tmp_path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert _main("bundle", "--incident", "1", "-o", str(blocker / "b.tar.gz")) == 2
    assert f"cannot write {blocker / 'b.tar.gz'}" in capsys.readouterr().err


def test_no_recording_says_how_to_get_one(monkeypatch, tmp_path, capsys) -> None:
    def missing(path):
        raise RecordingUnavailable(f"no recording at {path}: the console records while it runs")

    monkeypatch.setattr(bundle_cli, "open_recording", missing)
    assert _main("bundle", "--incident", "1", "-o", str(tmp_path / "x.tar.gz"), "--store", "/nope.db") == 1
    assert "no recording at /nope.db" in capsys.readouterr().err


def test_open_recording_without_a_store_file(tmp_path) -> None:
    with pytest.raises(RecordingUnavailable, match="no recording|cannot read recordings"):
        open_recording(tmp_path / "absent.sqlite")


def test_the_span_is_required(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        _main("bundle", "--cluster", "lab1", "-o", "x.tar.gz")
    assert exc.value.code == 2
    assert "one of the arguments --incident --since is required" in capsys.readouterr().err
