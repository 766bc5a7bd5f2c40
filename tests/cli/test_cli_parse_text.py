"""`db2ops parse KIND FILE` prints a short text summary derived from the parsed value; JSON only with --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpus import corpus_files
from installed_cli import run_db2ops

from tui.cli import main
from tui.cli_parser import PARSE_KINDS

SAMPLES = {
    "crm_mon-xml": "pacemaker-lab/04-node-down/db2a__crm_mon_-1_--output-as=xml.xml",
    "quorum": "pacemaker-lab/06-no-quorum/db2b__corosync-quorumtool_-s.txt",
    "qdevice": "corosync-qdevice/qdevice-tool-s-tabs.txt",
    "qnetd": "corosync-qdevice/qnetd-tool-l-tabs.txt",
    "db2pd-hadr": "db2pd-hadr/peer-primary-azure-rhel-v111.txt",
    "db2cm-list": "db2cm-list/hadr-both-online-qdevice.txt",
    "dbcfg-hadr": "db2-dbcfg-hadr/grep-hadr-primary-aws.BR-DECODED.txt",
    "db2audit-describe": "db2audit/describe-active.txt",
    "db2diag": "db2diag/container-db2start-warning-event-error.txt",
    "db2audit": "db2audit/extract-report-context-checking-v1158.txt",
}

# Lines each text view must hold: the state a DBA looks for first, taken from the parsed sample.
EXPECTED = {
    "crm_mon-xml": [
        "pacemaker: connected, with quorum, DC db2a (2.1.5-a3f44794f94), stack corosync",
        "promoted on: db2a",
        "  db2b  OFFLINE, 0 resources",
        "  promotable clone db2_db2inst1_db2inst1_HADRDB-clone: Promoted on db2a; Stopped",
    ],
    "quorum": [
        "quorum: NOT quorate, activity blocked; votes 1 of 3 expected, 2 needed",
        "    2  db2b     1 vote(s)  qdevice A,NV,NMW (local)",
    ],
    "qdevice": [
        "qdevice: Connected, qnetd pacemakertest3:5403 (model Net, algorithm LMS)",
        "configured nodes 1, 2; membership 1, 2",
    ],
    "qnetd": [
        "cluster db2domain (LMS, Node with lowest node ID): 2 clients",
        "  node 2  ::ffff:10.11.71.180:48260  vote ACK (ACK)  membership 1, 2",
    ],
    "db2pd-hadr": [
        "database ID2: Active, member 0, up 1 days 15:45:23",
        "stream: PRIMARY PEER NEARSYNC, CONNECTED",
        "  primary az-idb01 (db2id2) -> standby az-idb02 (db2id2)",
        "  log gap 132242668 bytes, heartbeats missed 5, peer window 300 s",
    ],
    "db2cm-list": [
        "db2cm: HADR domain db2domain, leader jspcmk2",
        "nodes: jspcmk1 Online, jspcmk2 Online",
        "fencing: Not configured; quorum: Qdevice",
    ],
    "dbcfg-hadr": [
        "HADR database role: PRIMARY",
        "  HADR_REMOTE_HOST   db2-ec2",
        "  HADR_SSL_LABEL     (not set)",
    ],
    "db2audit-describe": [
        "audit: ACTIVE (AUD0000I Operation succeeded.)",
        "categories: AUDIT BOTH, CHECKING BOTH, OBJMAINT BOTH, SECMAINT BOTH, SYSADMIN BOTH, VALIDATE BOTH, "
        "CONTEXT BOTH",
    ],
    "db2diag": [
        "2025-09-01-04.01.42.935663+000  Warning  I465616E393  Released lock on the file:",
        "2025-09-01-04.03.37.960445+000  Error    I468858E460  db SAMPLE  DB2 UDB, base sys utilities, "
        "sqleriar_database, probe:9",
    ],
    "db2audit": ["2025-09-01-04.59.54.873608  CHECKING/CHECKING_OBJECT db2inst1 LOGALL"],
}


def _sample(kind: str) -> Path:
    (path,) = corpus_files(SAMPLES[kind])
    return path


def _not_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def test_every_kind_has_a_checked_text_view() -> None:
    assert set(SAMPLES) == set(EXPECTED) == set(PARSE_KINDS)


@pytest.mark.parametrize("kind", PARSE_KINDS)
def test_text_view_of_each_kind(kind: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", kind, str(_sample(kind))]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    assert [line for line in EXPECTED[kind] if line not in lines] == []
    assert all(_not_json(line) for line in lines) and _not_json(out)  # text, not JSON nor a dump of it


@pytest.mark.parametrize("kind", ["db2diag", "db2audit"])
def test_log_kinds_print_one_line_per_record_and_json_per_record_with_json(
    kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = str(_sample(kind))
    assert main(["parse", kind, path, "--json"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["parse", kind, path]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(records) > 1
    assert [line.split("  ", 1)[0] for line in lines] == [r["timestamp_text"] for r in records]


def test_installed_cli_prints_json_only_with_json(tmp_path: Path) -> None:
    path = str(_sample("db2pd-hadr"))
    text = run_db2ops(tmp_path, "parse", "db2pd-hadr", path)
    assert (text.returncode, text.stderr) == (0, "")
    assert text.stdout.startswith("database ID2: Active, member 0") and _not_json(text.stdout)
    as_json = run_db2ops(tmp_path, "parse", "db2pd-hadr", path, "--json")
    assert (as_json.returncode, as_json.stderr) == (0, "")
    doc = json.loads(as_json.stdout)
    assert (doc["database"], doc["streams"][0]["state"], doc["streams"][0]["log_gap_bytes"]) == (
        "ID2",
        "PEER",
        132242668,
    )
