"""Headless `parse ... --json` and `filter-test` functions on corpus files."""

from __future__ import annotations

import io
import json
import shutil

import pytest
from corpus import CORPUS, corpus_files

from services.logs import cli as log_cli
from services.logs.cli import filter_test, iter_events, parse_log_file_to_json_lines
from services.parsers.errors import ParseError

corpus_files("db2diag/*.txt")  # fails the module when the corpus is missing

DIAG = CORPUS / "db2diag/container-db2start-warning-event-error.txt"
AUDIT = CORPUS / "db2audit/extract-report-context-checking-v1158.txt"


def test_parse_db2diag_json_lines_in_order_with_iso_offsets():
    out = io.StringIO()
    assert parse_log_file_to_json_lines("db2diag", DIAG, out) == 5
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [r["record_id"] for r in rows] == [
        "I465616E393",
        "I466010E1182",
        "I467193E1270",
        "I468464E393",
        "I468858E460",
    ]
    assert rows[0]["timestamp"] == "2025-09-01T04:01:42.935663+00:00"
    assert rows[4]["level"] == "Error" and rows[4]["db"] == "SAMPLE"
    assert rows[1]["data"][3]["type"] == "SQLCA, PD_DB2_TYPE_SQLCA"
    raw = DIAG.read_bytes().decode()
    assert all(raw[r["offset"] : r["offset"] + len(r["raw"])] == r["raw"] for r in rows)  # CRLF kept


def test_parse_db2diag_json_with_small_chunks_gives_same_output(monkeypatch):
    whole = io.StringIO()
    path = CORPUS / "db2diag/pcmk-db2havend-02-attrd-and-enable.txt"
    parse_log_file_to_json_lines("db2diag", path, whole)
    monkeypatch.setattr(log_cli, "CHUNK_CHARS", 7)
    chunked = io.StringIO()
    assert parse_log_file_to_json_lines("db2diag", path, chunked) == 5
    assert chunked.getvalue() == whole.getvalue()


def test_parse_db2audit_json_lines():
    out = io.StringIO()
    assert parse_log_file_to_json_lines("db2audit", AUDIT, out) == 2
    first, second = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["timestamp"] == "2025-09-01T04:59:54.866271"
    assert (
        first["fields"]["text"] == "CREATE AUDIT POLICY LOGALL CATEGORIES ALL STATUS BOTH ERROR TYPE\nAUDIT"
    )
    assert (second["category"], second["event"], second["fields"]["object name"]) == (
        "CHECKING",
        "CHECKING_OBJECT",
        "LOGALL",
    )


def test_parse_wrong_kind_raises_parse_error_and_unknown_kind_value_error(tmp_path):
    with pytest.raises(ParseError) as info:
        parse_log_file_to_json_lines("db2diag", AUDIT, io.StringIO())
    assert info.value.kind == "db2diag" and "timestamp=" in info.value.excerpt
    with pytest.raises(ValueError, match="db2diag, db2audit"):
        parse_log_file_to_json_lines("syslog", AUDIT, io.StringIO())
    empty = tmp_path / "empty.log"
    empty.write_text("")
    assert parse_log_file_to_json_lines("db2diag", empty, io.StringIO()) == 0


def test_parse_reports_lines_outside_records(tmp_path):
    path = tmp_path / "pasted.log"
    shutil.copy(CORPUS / "db2diag/pcmk-takeover-01-info-nonforced.txt", path)
    path.write_text("$ tail db2diag.log\n" + path.read_text())
    out, err = io.StringIO(), io.StringIO()
    assert parse_log_file_to_json_lines("db2diag", path, out, err) == 1
    assert "1 line outside db2diag records was not parsed" in err.getvalue()


def test_filter_test_prints_whole_db2diag_records():
    out, err = io.StringIO(), io.StringIO()
    path = CORPUS / "db2diag/hadr-wiki-connect-error-severe-2006.HTMLMANGLED.txt"
    assert filter_test('"LEVEL: Severe"', path, out, err) == 0
    printed = out.getvalue()
    assert printed.count("LEVEL: Severe") == 2 and "LEVEL: Error" not in printed
    assert "0x0000007FBFFFADD4 : 1900 0F81 ...." in printed  # the whole record, not just the header line
    assert "2 of 3 events matched" in err.getvalue()


def test_filter_test_lines_for_audit_and_exit_1_when_nothing_matches():
    out, err = io.StringIO(), io.StringIO()
    assert filter_test("worker -appusr", AUDIT, out, err) == 1
    assert out.getvalue() == ""
    assert "0 of 40 events" in err.getvalue()  # one event per non-empty line, like the runbook's agent
    assert "-appusr is case-sensitive" in err.getvalue()
    out = io.StringIO()
    assert filter_test("LOGALL", AUDIT, out, io.StringIO()) == 0
    assert out.getvalue().splitlines() == [
        "  text=CREATE AUDIT POLICY LOGALL CATEGORIES ALL STATUS BOTH ERROR TYPE",
        "  object name=LOGALL;",
    ]


def test_filter_test_bad_pattern_and_missing_file_exit_2(tmp_path):
    err = io.StringIO()
    assert filter_test("worker – appusr", AUDIT, io.StringIO(), err) == 2
    assert "EN DASH" in err.getvalue() and "worker -appusr" in err.getvalue()
    err = io.StringIO()
    assert filter_test("{ $.a = 1 }", AUDIT, io.StringIO(), err) == 2
    assert "TestMetricFilter" in err.getvalue()
    err = io.StringIO()
    assert filter_test("x", tmp_path / "nope.log", io.StringIO(), err) == 2
    assert "cannot read" in err.getvalue()


def test_iter_events_modes():
    path = CORPUS / "db2diag/pcmk-takeover-02-event-start-change.txt"
    records = list(iter_events(path))
    assert len(records) == 2 and records[0].startswith("2023-06-09-20.26.08.238097-420")
    lines = list(iter_events(path, "line"))
    assert len(lines) == 17 and "..." in lines
    with pytest.raises(ValueError, match="auto, record or line"):
        list(iter_events(path, "json"))


def test_cli_filter_test_accepts_a_pattern_that_starts_with_minus(capsys):
    # The runbook's exclusion patterns start with '-'; argparse used to read them as an unknown option
    # and answered "the following arguments are required: file".
    from tui.cli import main

    assert main(["filter-test", "-appusr", str(AUDIT)]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "timestamp=2025-09-01-04.59.54.866271;"
    assert "40 of 40 events matched '-appusr'" in captured.err
    assert main(["--inventory", "x.yaml", "filter-test", "-LOGALL -appusr", str(AUDIT)]) == 0
    assert "LOGALL" not in capsys.readouterr().out
    assert main(["filter-test", "--", "-LOGALL", str(AUDIT)]) == 0  # the explicit form keeps working


def test_filter_test_reader_leaving_is_not_reported_as_a_file_error():
    # `db2ops filter-test ... | head -2` used to print "cannot read FILE: Broken pipe; check the path".
    class ClosedPipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    err = io.StringIO()
    with pytest.raises(BrokenPipeError):
        filter_test("LOGALL", AUDIT, ClosedPipe(), err)
    assert "cannot read" not in err.getvalue()


def test_cli_parse_log_into_a_closed_pipe_exits_0_quietly(monkeypatch):
    # `db2ops parse db2diag big.log --json | head -1` used to end with "cannot read big.log: Broken pipe".
    from tui.cli import main

    class ClosedPipe(io.StringIO):
        def write(self, text):
            raise BrokenPipeError(32, "Broken pipe")

    class KeptOpen(io.StringIO):
        def close(self):  # main() closes stderr so Python's exit flush stays quiet
            pass

    err = KeptOpen()
    monkeypatch.setattr("sys.stdout", ClosedPipe())
    monkeypatch.setattr("sys.stderr", err)
    assert main(["parse", "db2diag", str(DIAG), "--json"]) == 0
    assert err.getvalue() == ""


def test_cli_filter_test_can_count_events_like_the_runbooks_line_agent(capsys):
    # The runbook's agent config has no multi_line_start_pattern: each db2diag LINE is an event. The CLI
    # could only split records, so a DBA could not see what the runbook's metric filter really counts.
    from tui.cli import main

    path = str(CORPUS / "db2diag/hadr-wiki-connect-error-severe-2006.HTMLMANGLED.txt")
    assert main(["filter-test", "--events", "line", "Severe", path]) == 0
    captured = capsys.readouterr()
    assert captured.out.splitlines() == [
        line.rstrip() for line in (CORPUS / path).read_text().splitlines() if "Severe" in line
    ]
    assert "of 3 events" not in captured.err  # lines, not the 3 records
    assert main(["filter-test", "Severe", path]) == 0
    assert "2 of 3 events matched 'Severe'" in capsys.readouterr().err
    assert main(["filter-test", "--events=record", "-Severe", path]) == 0  # option, then a '-' pattern
    assert "1 of 3 events matched '-Severe'" in capsys.readouterr().err
    assert main(["filter-test", "-Severe", path, "--events", "line"]) == 0  # the option after the file
    assert "events matched '-Severe'" in capsys.readouterr().err
