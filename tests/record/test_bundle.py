"""The post-incident bundle: its report names the takeover and its times, it holds the raw evidence of the
span and a manifest, open_bundle gives every frame back; secrets never get in; a missing, corrupt, foreign,
tampered or hostile archive is refused with a clear message."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from bundle_files import members
from incident_harness import START
from recorded_walk import kill_primary_walk

from services.record import bundle as bundle_mod
from services.record.bundle import BundleError, open_bundle, write_bundle
from services.record.incidents import find_incidents
from services.record.model import JOURNAL, LOG, RAW, MemoryRecording
from services.status.incident import clock_time

AWS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQDexample"
PASSWORD = "Hunter2-db2pw"
PEM = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7secretbody\n-----END RSA PRIVATE KEY-----"
SECRETS = (AWS_KEY_ID, AWS_SECRET, SESSION, PASSWORD, "MIIEowIBAAKCAQEA7secretbody", "stdin-only-secret")


async def _bundle(monkeypatch, tmp_path) -> tuple[Path, MemoryRecording, tuple[float, float | None]]:
    r = await kill_primary_walk(monkeypatch)
    (incident,) = find_incidents(r.recording, "lab1")
    since, until = incident.span()
    out = tmp_path / "out" / "b.tar.gz"
    result = write_bundle(r.recording, "lab1", since=since, until=until, out=out)
    assert result.path == out and result.frames == len(r.recording.frames("lab1", since, until))
    return out, r.recording, (since, until)


async def test_the_report_of_a_kill_primary_names_the_takeover_and_its_times(monkeypatch, tmp_path) -> None:
    out, _, _ = await _bundle(monkeypatch, tmp_path)
    report = members(out)["report.md"].decode()
    assert "db2b took over from db2a (crash)" in report
    assert "takeover: Pacemaker promoted db2b, 8 s after the loss" in report
    assert f"`{clock_time(START + 12)}`" in report  # the promote, on the console's clock
    assert f"{clock_time(START + 4.5)}–{clock_time(START + 67)}" in report  # the incident's span
    assert "overlay IP 192.168.1.81/32 moved: db2a -> db2b" in report
    assert "alarm db2-lab1-hadr-role: OK → ALARM" in report
    assert "Start EC2 instance of db2a [verified]" in report  # the journal entry
    assert "`aws ec2 StartInstances {}`" in report  # the command the DBA ran
    assert "TAKEOVER HADR completed" in report  # the log record, on the timeline


async def test_the_bundle_holds_the_evidence_and_a_manifest_of_every_file(monkeypatch, tmp_path) -> None:
    out, rec, (since, until) = await _bundle(monkeypatch, tmp_path)
    files = members(out)
    crm = [n for n in files if n.startswith("evidence/crm_mon/") and n.endswith(".xml")]
    assert len(crm) >= 2
    assert all(files[n].lstrip().startswith(b"<") for n in crm)
    assert any(n.startswith("evidence/db2pd/") for n in files)
    manifest = json.loads(files["manifest.json"])
    assert manifest["cluster"] == "lab1" and manifest["since"] == since and manifest["until"] == until
    assert set(manifest["files"]) == set(files) - {"manifest.json"}
    for name, meta in manifest["files"].items():
        assert hashlib.sha256(files[name]).hexdigest() == meta["sha256"]
    index = [json.loads(line) for line in files["evidence/index.jsonl"].splitlines()]
    assert {i["file"] for i in index} == {n for n in files if n.startswith("evidence/") and "/" in n[9:]}
    raw = rec.items("lab1", since, until, kinds=(RAW,))
    assert len(index) == len(raw)
    assert all(since <= i["at"] <= until for i in index)  # type: ignore[operator]


async def test_open_bundle_gives_back_every_frame_and_item(monkeypatch, tmp_path) -> None:
    out, rec, (since, until) = await _bundle(monkeypatch, tmp_path)
    back = open_bundle(out)
    assert back.clusters() == ["lab1"]
    assert back.frames("lab1") == rec.frames("lab1", since, until)
    assert back.items("lab1") == rec.items("lab1", since, until)
    assert back.change_times("lab1") == rec.change_times("lab1", since, until)
    # the incident is found again in the bundle, with the same summary
    assert [i.summary for i in find_incidents(back, "lab1")] == [
        i.summary for i in find_incidents(rec, "lab1")
    ]


async def test_the_state_before_the_span_is_included(monkeypatch, tmp_path) -> None:
    r = await kill_primary_walk(monkeypatch)
    out = tmp_path / "b.tar.gz"
    result = write_bundle(r.recording, "lab1", since=START + 3, until=START + 20, out=out)
    back = open_bundle(out)
    assert back.frames("lab1")[0].at == START + 2  # the frame in force at `since`
    assert result.frames == len(back.frames("lab1"))


async def test_secrets_never_get_into_a_bundle(monkeypatch, tmp_path) -> None:
    r = await kill_primary_walk(monkeypatch)
    at = START + 20
    r.add(
        RAW,
        {
            "host": "db2a",
            "command": "cat /root/.aws/credentials",
            "text": f"aws_secret_access_key = {AWS_SECRET}\n"
            f"aws_access_key_id={AWS_KEY_ID}\naws_session_token={SESSION}\n{PEM}\n",
        },
        at,
    )
    r.add(
        LOG,
        {
            "group": "/db2",
            "stream": "db2a",
            "message": f"connect user db2inst1 using {PASSWORD}",
            "source": "diag",
        },
        at,
    )
    r.add(
        JOURNAL,
        {
            "who": "dba",
            "when": "2026-11-30T00:53:40Z",
            "cluster": "lab1",
            "plan": "ha",
            "run_id": "r2",
            "step_id": "s",
            "step_title": "Set the password",
            "target": "db2a",
            "result": "verified",
            "message": f"used password={PASSWORD} and key {AWS_SECRET}",
            "actions": [
                {
                    "kind": "ssh",
                    "host": "db2a",
                    "argv": ["chpasswd"],
                    "command": "chpasswd",
                    "input": "db2inst1:stdin-only-secret",
                },
                {
                    "kind": "ssh",
                    "host": "db2a",
                    "argv": ["db2", "connect"],
                    "command": f"db2 connect to HADRDB user db2inst1 using {PASSWORD}",
                },
            ],
            "intent_id": "",
        },
        at,
    )
    out = tmp_path / "b.tar.gz"
    result = write_bundle(r.recording, "lab1", since=START, until=START + 120, out=out)
    blob = out.read_bytes()
    files = members(out)
    everything = b"\n".join(files.values()).decode()
    for secret in SECRETS:
        assert secret not in everything, secret
    assert (
        secret.encode() not in blob
    )  # and not in the raw archive either (it is compressed: belt and braces)
    assert result.redactions >= 6
    assert json.loads(files["manifest.json"])["redactions"] == result.redactions
    assert "chpasswd" in files["report.md"].decode()  # the command stays, its stdin does not
    assert "aws_secret_access_key = ***" in everything
    assert open_bundle(out).frames("lab1")  # still a valid recording


async def test_an_empty_span_is_refused(monkeypatch, tmp_path) -> None:
    r = await kill_primary_walk(monkeypatch)
    with pytest.raises(BundleError, match="nothing recorded for lab1"):
        write_bundle(MemoryRecording(), "lab1", since=START, until=START + 10, out=tmp_path / "x.tar.gz")
    with pytest.raises(BundleError, match="nothing recorded for lab2"):
        write_bundle(r.recording, "lab2", since=START, out=tmp_path / "x.tar.gz")
    assert not (tmp_path / "x.tar.gz").exists()


async def test_journal_dir_entries_of_the_span_are_added(monkeypatch, tmp_path) -> None:
    from services.plans.journal import Journal, JournalEntry

    r = await kill_primary_walk(monkeypatch)
    journal = Journal(tmp_path / "journal")
    for when, title in (("2026-11-30T00:53:30Z", "In span"), ("2026-11-30T09:00:00Z", "Far later")):
        journal.append(JournalEntry("dba", when, "lab1", "failover", "r9", title, title, "db2b", "verified"))
    out = tmp_path / "b.tar.gz"
    write_bundle(r.recording, "lab1", since=START, until=START + 120, out=out, journal_dir=journal.directory)
    report = members(out)["report.md"].decode()
    assert "In span [verified]" in report and "Far later" not in report


# ---------------------------------------------------------------- hostile and damaged bundles


def _tar(path: Path, entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for e in entries:
            if isinstance(e, tarfile.TarInfo):
                tar.addfile(e)
            else:
                info = tarfile.TarInfo(e[0])
                info.size = len(e[1])
                tar.addfile(info, io.BytesIO(e[1]))
    return path


def _rewrite(src: Path, dst: Path, change) -> Path:
    """Copy bundle `src` to `dst`, passing each (name, data) through `change` (None drops it)."""
    entries: list[tarfile.TarInfo | tuple[str, bytes]] = []
    with tarfile.open(src, "r:gz") as tar:
        for m in tar:
            if m.isdir():
                entries.append(m)
                continue
            new = change(m.name, tar.extractfile(m).read())  # type: ignore[union-attr]
            if new is not None:
                entries.append(new)
    return _tar(dst, entries)


async def test_a_changed_missing_or_extra_file_is_refused(monkeypatch, tmp_path) -> None:
    out, _, _ = await _bundle(monkeypatch, tmp_path)

    def edit(name, data):
        return (name, data.replace(b"db2b", b"db2c")) if name.endswith("report.md") else (name, data)

    with pytest.raises(BundleError, match="report.md does not match its checksum"):
        open_bundle(_rewrite(out, tmp_path / "t1.tar.gz", edit))
    with pytest.raises(BundleError, match="frames.jsonl is missing"):
        open_bundle(_rewrite(out, tmp_path / "t2.tar.gz", lambda n, d: None if "frames" in n else (n, d)))
    entries: list = []
    with tarfile.open(out, "r:gz") as tar:
        folder = tar.getmembers()[0].name
        for m in tar:
            entries.append(m if m.isdir() else (m.name, tar.extractfile(m).read()))  # type: ignore[union-attr]
    entries.append((f"{folder}/evidence/planted.txt", b"x"))
    with pytest.raises(BundleError, match="planted.txt is not in the manifest"):
        open_bundle(_tar(tmp_path / "t4.tar.gz", entries))


@pytest.mark.parametrize(
    ("entries", "words"),
    [
        ([("b/../../etc/passwd", b"x")], "unsafe path"),
        ([("/etc/passwd", b"x")], "unsafe path"),
        ([("b/manifest.json", b"{}"), ("c/other", b"x")], "outside the bundle's folder"),
        ([("b/./x", b"x")], "unsafe path"),
        ([("b/manifest.json", b"not json")], "manifest.json is not JSON"),
        ([("b/manifest.json", b'{"format": "crm-report"}')], "not a db2ops bundle"),
        ([("b/manifest.json", b'{"format": "db2ops-bundle", "version": 9}')], "version 9"),
        ([("b/report.md", b"# hi")], "no manifest.json"),
    ],
)
def test_a_hostile_or_foreign_archive_is_refused(tmp_path, entries, words) -> None:
    with pytest.raises(BundleError, match=words):
        open_bundle(_tar(tmp_path / "h.tar.gz", entries))


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.FIFOTYPE])
def test_links_and_special_files_are_refused(tmp_path, kind) -> None:
    link = tarfile.TarInfo("b/manifest.json")
    link.type, link.linkname = kind, "/etc/shadow"
    with pytest.raises(BundleError, match="link or special file"):
        open_bundle(_tar(tmp_path / "l.tar.gz", [link]))


def test_size_and_count_caps(tmp_path, monkeypatch) -> None:
    big = _tar(tmp_path / "big.tar.gz", [("b/manifest.json", b"x" * 2000)])
    monkeypatch.setattr(bundle_mod, "MAX_MEMBER_BYTES", 1000)
    with pytest.raises(BundleError, match="larger than 1000 bytes"):
        open_bundle(big)
    monkeypatch.setattr(bundle_mod, "MAX_MEMBER_BYTES", 10_000)
    monkeypatch.setattr(bundle_mod, "MAX_TOTAL_BYTES", 3000)
    many = _tar(tmp_path / "many.tar.gz", [(f"b/f{i}", b"x" * 1000) for i in range(4)])
    with pytest.raises(BundleError, match="more than 3000 bytes"):
        open_bundle(many)
    monkeypatch.setattr(bundle_mod, "MAX_MEMBERS", 3)
    with pytest.raises(BundleError, match="more than 3 files"):
        open_bundle(_tar(tmp_path / "count.tar.gz", [(f"b/f{i}", b"") for i in range(5)]))


def test_a_missing_or_corrupt_file_is_refused(tmp_path) -> None:
    with pytest.raises(BundleError, match="no such bundle file"):
        open_bundle(tmp_path / "nope.tar.gz")
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8b\x08\x00garbage" * 10)
    with pytest.raises(BundleError, match="not a readable .tar.gz"):
        open_bundle(junk)
    plain = tmp_path / "plain.tar.gz"
    plain.write_text("just text")
    with pytest.raises(BundleError, match="not a readable .tar.gz"):
        open_bundle(plain)


async def test_a_truncated_bundle_is_refused(monkeypatch, tmp_path) -> None:
    out, _, _ = await _bundle(monkeypatch, tmp_path)
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    with pytest.raises(BundleError, match="damaged|not a readable|missing"):
        open_bundle(cut)


async def test_an_unwritable_output_raises_oserror_and_leaves_nothing(monkeypatch, tmp_path) -> None:
    r = await kill_primary_walk(monkeypatch)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError):
        write_bundle(r.recording, "lab1", since=START, out=blocker / "b.tar.gz")
    folder = tmp_path / "ro"
    (folder / "b.tar.gz").mkdir(parents=True)  # a folder where the file should go (root ignores modes)
    with pytest.raises(OSError):
        write_bundle(r.recording, "lab1", since=START, out=folder / "b.tar.gz")
    assert [p.name for p in folder.iterdir()] == ["b.tar.gz"]  # the temporary file is gone


async def test_the_bundle_file_is_private(monkeypatch, tmp_path) -> None:
    out, _, _ = await _bundle(monkeypatch, tmp_path)
    assert out.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in out.parent.iterdir()] == ["b.tar.gz"]  # no temporary file left


async def test_escape_sequences_do_not_reach_the_report(monkeypatch, tmp_path) -> None:
    r = await kill_primary_walk(monkeypatch)
    r.add(
        LOG, {"group": "/db2", "stream": "db2a", "message": "evil \x1b]0;pwned\x07 title", "source": "diag"}
    )
    out = tmp_path / "b.tar.gz"
    write_bundle(r.recording, "lab1", since=START, out=out)
    report = members(out)["report.md"].decode()
    assert "evil  title" in report and "\x1b" not in report and "pwned" not in report


DIAG_RECORD = """2026-12-06-21.02.13.478986+000 I885491E473           LEVEL: Error
PID     : 86622                TID : 139773848518643 PROC : db2bp
INSTANCE: db2inst1             NODE : 000            DB   : HADRDB
APPHDL  : 0-24719              APPID: *LOCAL.DB2.261206210213
HOSTNAME: db2a
FUNCTION: DB2 UDB, base sys utilities, sqleriar_database, probe:9
RETCODE : ZRC=0x8005006D=-2147155859=SQLE_CA_BUILT
          "SQLCA has been built and saved in component specific control block."
"""


async def test_a_db2diag_record_reads_in_the_report_as_on_the_console(monkeypatch, tmp_path) -> None:
    """The report's timeline words a db2diag record as the console's timeline does (level, host, function),
    not by its first line (a timestamp and a record id that say nothing to a reviewer)."""
    r = await kill_primary_walk(monkeypatch)
    r.add(
        LOG,
        {
            "group": "db2-diagnostics-logs",
            "stream": "i-0abc",
            "host": "db2a",
            "message": DIAG_RECORD,
            "source": "diag",
        },
    )
    out = tmp_path / "b.tar.gz"
    write_bundle(r.recording, "lab1", since=START, out=out)
    report = members(out)["report.md"].decode()
    (line,) = [x for x in report.splitlines() if "**log** db2diag Error" in x]
    assert "on db2a: " in line and "sqleriar_database" in line
    assert "I885491E473" not in line and "i-0abc" not in line


async def test_the_log_records_per_minute_are_a_chart_in_the_report_and_an_svg(monkeypatch, tmp_path) -> None:
    """The span's recorded log records counted per minute (as `stats count(*) by bin(1m)`): bars in
    report.md and logs-per-minute.svg beside it; a span without log records has neither."""
    import xml.etree.ElementTree as ET

    r = await kill_primary_walk(monkeypatch)
    for k in range(3):  # three more records, at the start of the span
        r.add(
            LOG, {"group": "/db2", "stream": "db2b", "message": f"record {k}", "source": "diag"}, at=START + k
        )
    out = tmp_path / "b.tar.gz"
    write_bundle(r.recording, "lab1", since=START, out=out)
    files = members(out)
    report = files["report.md"].decode()
    section = report.split("### Db2 log records per minute", 1)[1].split("## What the console said", 1)[0]
    assert "count(*) by bin(1m) (UTC)" in section and "│█" in section
    assert "](logs-per-minute.svg)" in section
    root = ET.fromstring(files["logs-per-minute.svg"])
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert json.loads(files["manifest.json"])["files"]["logs-per-minute.svg"]["size"] > 0

    calm = MemoryRecording()
    calm.add_frame(r.recording.frames("lab1")[0])
    out2 = tmp_path / "calm.tar.gz"
    write_bundle(calm, "lab1", since=START - 60, out=out2)
    files2 = members(out2)
    assert "logs-per-minute.svg" not in files2
    assert "- no log record recorded in this span" in files2["report.md"].decode()
