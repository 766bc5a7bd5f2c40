"""`db2ops bundle --host-evidence` against the embedded lab over real SSH: the reading commands are printed
before they run, each host's texts land under host/ (listed in the manifest with their checksums, scrubbed
of secrets like every other text), a host that does not answer gets a text that says so while the bundle
is still written; `--dry-run` prints the commands and writes nothing; without the flag no host is reached."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
from bundle_files import members
from recorded_walk import kill_primary_walk

import tui.cli
import tui.cli_evidence
from lab.runtime import LabRuntime
from services.record import bundle_cli
from services.record.bundle import open_bundle, write_bundle
from services.record.host_evidence import EvidenceText
from tui.cli import main


async def test_host_evidence_from_the_lab_and_from_a_host_that_does_not_answer(
    own_home, tmp_path: Path, capsys
) -> None:
    runtime = LabRuntime()
    await runtime.start(1, base_dir=tmp_path / "lab", failover_delay_s=0, with_aws=False)
    inv = str(runtime.inventory_path)
    full, dead, dry = tmp_path / "full.tar.gz", tmp_path / "dead.tar.gz", tmp_path / "dry.tar.gz"
    try:
        record = ["--inventory", inv, "record", "--cluster", "lab1", "--for", "1.5s"]
        assert await asyncio.to_thread(main, record) == 0
        capsys.readouterr()
        bundle = ["--inventory", inv, "bundle", "--cluster", "lab1", "--since", "2m", "--host-evidence"]
        assert await asyncio.to_thread(main, [*bundle, "--dry-run", "-o", str(dry)]) == 0
        dry_out = capsys.readouterr().out
        assert await asyncio.to_thread(main, [*bundle, "-o", str(full)]) == 0
        full_out = capsys.readouterr().out
        runtime.control("lab1", "kill-primary")
        await runtime.settle()
        assert await asyncio.to_thread(main, [*bundle, "-o", str(dead)]) == 0
        dead_out = capsys.readouterr().out
    finally:
        await runtime.stop()

    # the dry run: every command, nothing run, nothing written
    assert "db2a$ journalctl --no-pager --utc" in dry_out and "db2b$ db2pd -hadr -db" in dry_out
    assert "db2a$ find /var/lib/pacemaker/pengine" in dry_out and "db2b$ db2diag -time " in dry_out
    assert "Dry run: no command was run and no bundle was written." in dry_out and not dry.exists()

    # all hosts answered: the commands were printed before the reads, the texts are in host/
    assert full_out.index("db2a$ journalctl") < full_out.index("Reading 2 hosts through SSH")
    assert "8 host texts" in full_out and "No answer" not in full_out
    files = members(full)
    for host in ("db2a", "db2b"):
        for name in ("pacemaker-journal.txt", "pe-inputs.txt", "db2diag.txt", "db2pd-hadr-now.txt"):
            assert f"host/{host}/{name}" in files
    assert b"HADR_ROLE = PRIMARY" in files["host/db2a/db2pd-hadr-now.txt"]
    assert b"HADR_ROLE = STANDBY" in files["host/db2b/db2pd-hadr-now.txt"]
    manifest = json.loads(files["manifest.json"])
    assert manifest["host_evidence"] == 8
    for name in (n for n in files if n.startswith("host/")):
        assert manifest["files"][name]["sha256"] == hashlib.sha256(files[name]).hexdigest()
    index = [json.loads(x) for x in files["host/index.jsonl"].splitlines()]
    assert all(row["exit_status"] == 0 for row in index)
    report = files["report.md"].decode()
    assert "## Host evidence" in report and "`host/db2b/db2pd-hadr-now.txt`: `db2pd -hadr -db" in report
    open_bundle(full)  # checks every file against the manifest

    # db2a down: its texts say so, db2b's evidence is there, the bundle is written
    assert "No answer from db2a" in dead_out
    files = members(dead)
    text = files["host/db2a/pacemaker-journal.txt"].decode()
    assert text.startswith("No answer from db2a: ") and "journalctl" in text
    assert b"HADR_ROLE = PRIMARY" in files["host/db2b/db2pd-hadr-now.txt"]  # db2b took over
    journal = files["host/db2b/pacemaker-journal.txt"].decode()  # the takeover, a moment before `until`
    assert "Result of promote operation" in journal and journal.rstrip().endswith("on db2b: ok")
    index = [json.loads(x) for x in files["host/index.jsonl"].splitlines()]
    assert {r["host"] for r in index if r["exit_status"] is None} == {"db2a"}
    assert "- did not answer: db2a (their files say why)" in files["report.md"].decode()
    open_bundle(dead)


@pytest.fixture
async def recorded(monkeypatch):
    r = await kill_primary_walk(monkeypatch)
    monkeypatch.setattr(bundle_cli, "open_recording", lambda _path: r.recording)
    return r


async def test_without_the_flag_no_host_is_reached(recorded, tmp_path, monkeypatch, capsys) -> None:
    def no_ssh(*_args, **_kwargs):
        raise AssertionError("a bundle without --host-evidence reached for SSH")

    # where `bundle` looks them up (tui/cli_evidence.py imports them from tui/cli_support.py)
    monkeypatch.setattr(tui.cli_evidence, "console_context", no_ssh)
    monkeypatch.setattr(tui.cli_evidence, "load_inventory", no_ssh)
    monkeypatch.setattr("services.record.host_evidence.gather_evidence", no_ssh)
    out = tmp_path / "b.tar.gz"
    assert tui.cli.main(["bundle", "--cluster", "lab1", "--incident", "1", "-o", str(out)]) == 0
    files = members(out)
    assert not any(n.startswith("host/") for n in files)
    assert json.loads(files["manifest.json"])["host_evidence"] is None
    assert "- not gathered (`db2ops bundle ... --host-evidence`" in files["report.md"].decode()
    assert "host texts" not in capsys.readouterr().out


async def test_dry_run_alone_and_a_cluster_not_in_the_inventory_are_refused(recorded, tmp_path) -> None:
    import io

    from services.inventory.model import Inventory

    printed = io.StringIO()

    request = bundle_cli.BundleRequest("lab1", tmp_path / "x.tar.gz", 1, dry_run=True)
    with pytest.raises(bundle_cli.BundleCommandError, match="add --host-evidence") as err:
        bundle_cli.run_bundle(request, printed)
    assert err.value.code == 2
    request = bundle_cli.BundleRequest("lab1", tmp_path / "x.tar.gz", 1, host_evidence=True)
    with pytest.raises(bundle_cli.BundleCommandError, match="not in the inventory") as err:
        bundle_cli.run_bundle(request, printed, inventory=Inventory(clusters=()), gather=lambda *a: [])
    assert err.value.code == 2 and not (tmp_path / "x.tar.gz").exists()
    assert "db2a$" not in printed.getvalue()  # refused before any command is shown or run


async def test_host_texts_are_scrubbed_and_an_empty_span_reads_no_host(recorded, tmp_path) -> None:
    secret = "password=Hunter2-db2pw"
    texts = [
        EvidenceText("db2b", "db2b/db2diag.txt", "db2diag -time x:y", f"connect {secret}\n", 0),
        EvidenceText("db2a", "db2a/../../etc/db2pd.txt", "db2pd -hadr -db HADRDB", "", None, "OSError: down"),
    ]
    out = tmp_path / "b.tar.gz"
    start = recorded.recording.frames("lab1")[0].at
    write_bundle(
        recorded.recording, "lab1", since=start, until=start + 30, out=out, host_evidence=lambda: texts
    )
    files = members(out)
    assert b"Hunter2" not in b"".join(files.values())
    assert files["host/db2b/db2diag.txt"] == b"connect password=***\n"
    assert "host/db2a/etc/db2pd.txt" in files  # path parts from outside never climb out of host/
    called = []
    from services.record.bundle import BundleError

    with pytest.raises(BundleError, match="nothing recorded"):
        write_bundle(
            recorded.recording,
            "lab1",
            since=start - 9000,
            until=start - 8000,
            out=tmp_path / "e.tar.gz",
            host_evidence=lambda: called.append(1) or [],
        )
    assert called == []  # no host is asked for an empty span
