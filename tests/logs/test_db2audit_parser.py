"""db2audit extract and describe parsers against every corpus sample, plus wrapping and bad input."""

from __future__ import annotations

from datetime import datetime

import pytest
from corpus import CORPUS, corpus_files

from services.parsers.db2audit import Db2AuditParser, parse_db2audit, parse_db2audit_describe
from services.parsers.errors import ParseError

AUDIT_FILES = corpus_files("db2audit/*.txt")


def read(name: str) -> str:
    """Exact corpus text: CRLF kept."""
    return (CORPUS / name).read_bytes().decode("utf-8")


def test_corpus_has_the_five_samples():
    assert [p.name for p in AUDIT_FILES] == [
        "describe-active.txt",
        "describe-inactive.txt",
        "extract-report-context-checking-v1158.txt",
        "ibm-doc-10.5-execute-statement-sample.txt",
        "ibm-doc-11.1-checking-sample.FLATTENED.txt",
    ]


def test_extract_context_and_checking_crlf_with_wrapped_text():
    text = read("db2audit/extract-report-context-checking-v1158.txt")
    parser = Db2AuditParser()
    context, checking = parser.feed(text) + parser.flush()
    assert parser.preamble == "\r\n" and parser.skipped_lines == 0
    assert context.timestamp == datetime(2025, 9, 1, 4, 59, 54, 866271)
    assert context.timestamp.tzinfo is None
    assert (context.category, context.event) == ("CONTEXT", "EXECUTE_IMMEDIATE")
    assert (context.userid, context.authid, context.database) == ("db2inst1", "DB2INST1", "SAMPLE")
    # the extract wrapped the statement at a blank: `text` is the statement as run, `fields` as written
    assert context.text == "CREATE AUDIT POLICY LOGALL CATEGORIES ALL STATUS BOTH ERROR TYPE AUDIT"
    assert context.fields["text"] == "CREATE AUDIT POLICY LOGALL CATEGORIES ALL STATUS BOTH ERROR TYPE\nAUDIT"
    assert context.fields["application id"] == "*LOCAL.db2inst1.250901045238"
    assert context.fields["package section"] == "203"
    assert context.fields["local transaction id"] == "0x2802000000000000"
    assert context.hostname == "2e62336d93c9"
    assert context.status == "" and not context.failed
    assert len(context.fields) == 17
    assert context.offset == 2 and text[context.offset :].startswith("timestamp=2025-09-01-04.59.54.866271;")
    assert context.raw.endswith("hostname=2e62336d93c9;\r\n")
    assert (checking.category, checking.event, checking.status) == ("CHECKING", "CHECKING_OBJECT", "0")
    assert (checking.object_name, checking.object_type, checking.object_schema) == (
        "LOGALL",
        "AUDIT_POLICY",
        "",
    )
    assert checking.fields["access approval reason"] == "SECADM"
    assert checking.fields["access attempted"] == "CREATE"
    assert checking.fields["access control manager"] == "INTERNAL"
    assert checking.timestamp == datetime(2025, 9, 1, 4, 59, 54, 873608)
    assert text[checking.offset : checking.offset + len(checking.raw)] == checking.raw
    assert checking.summary == "CHECKING/CHECKING_OBJECT db2inst1 LOGALL"


def test_ibm_execute_sample_compilation_environment_and_repeated_values():
    (rec,) = parse_db2audit(read("db2audit/ibm-doc-10.5-execute-statement-sample.txt"))
    assert (rec.category, rec.event, rec.userid, rec.authid) == ("EXECUTE", "STATEMENT", "smith", "SMITH")
    assert rec.timestamp == datetime(2006, 4, 10, 13, 20, 51, 29203)
    assert rec.text == "SELECT * FROM DEPARTMENT WHERE DEPTNO = ? AND DEPTNAME = ?"
    assert rec.fields["session authid"] == "SMITH" and rec.fields["uow id"] == "2"
    env = rec.compilation_environment
    assert len(env) == 10
    assert env["isolation level"] == "CS" and env["federated asynchrony"] == "0"
    assert env["refresh age"] == "+00000000000000.000000"
    assert [v for k, v in rec.items if k == "value index"] == ["0", "1", "INFORMATION CENTER"]
    assert [v for k, v in rec.items if k == "value type"] == ["CHAR", "VARCHAR"]
    assert rec.fields["value data"] == "C01"
    assert rec.fields["local_start_time"] == "2006-04-10-13.20.51.021507"  # last field without ";"


def test_ibm_checking_sample_without_indentation():
    (rec,) = parse_db2audit(read("db2audit/ibm-doc-11.1-checking-sample.FLATTENED.txt"))
    assert rec.timestamp == datetime(1998, 6, 24, 8, 42, 11, 622984)
    assert (rec.category, rec.event, rec.userid, rec.authid) == (
        "CHECKING",
        "CHECKING_OBJECT",
        "boss",
        "BOSS",
    )
    assert (rec.object_schema, rec.object_name, rec.object_type) == ("GSTAGER", "NONE", "REOPT_VALUES")
    assert rec.fields["access approval reason"] == "DBADM" and rec.fields["access attempted"] == "STORE"
    assert rec.database == "FOO" and len(rec.fields) == 18


def test_describe_active_and_inactive():
    active = parse_db2audit_describe(read("db2audit/describe-active.txt"))
    inactive = parse_db2audit_describe(read("db2audit/describe-inactive.txt"))
    assert active.active is True and inactive.active is False
    expected = {
        c: "BOTH" for c in ("AUDIT", "CHECKING", "OBJMAINT", "SECMAINT", "SYSADMIN", "VALIDATE", "CONTEXT")
    }
    assert active.categories == expected == inactive.categories
    assert active.return_sqlca_on_error is False
    assert active.data_path == "/var/log/bigsql/cli/db2audit/data/"
    assert active.archive_path == "/var/log/bigsql/cli/db2audit/archivedata/"
    assert (active.message_id, active.message, active.succeeded) == ("AUD0000I", "Operation succeeded.", True)


def test_describe_rejects_other_text():
    with pytest.raises(ParseError) as info:
        parse_db2audit_describe("SQL1092N  The requested command or operation failed.\n")
    assert info.value.kind == "db2audit-describe"
    assert "SQL1092N" in info.value.excerpt


def test_record_emitted_at_blank_line_not_inside_wrapped_value():
    parser = Db2AuditParser()
    first = parser.feed("timestamp=2025-01-01-00.00.00.000001;\n  category=CONTEXT;\n  text=select\n\n")
    assert first == []  # the blank line sits inside the unterminated text= value
    done = parser.feed("  from t;\n\n")
    assert len(done) == 1 and done[0].text == "select\n\nfrom t"
    second = parser.feed("timestamp=2025-01-01-00.00.01.000001;\n  category=VALIDATE;\n")
    assert second == []
    (last,) = parser.flush()
    assert last.category == "VALIDATE"


def test_garbage_is_kept_and_strict_mode_raises():
    parser = Db2AuditParser()
    recs = parser.feed("$ db2audit extract\nAUD0000I  Operation succeeded.\n")
    recs += parser.flush()
    assert recs == [] and parser.skipped_lines == 2
    assert parser.preamble == "$ db2audit extract\nAUD0000I  Operation succeeded.\n"
    with pytest.raises(ParseError) as info:
        parse_db2audit("AUD0000I  Operation succeeded.\n", strict=True)
    assert info.value.kind == "db2audit"


def test_impossible_timestamp_is_none():
    (rec,) = parse_db2audit("timestamp=2025-13-01-00.00.00.000000;\n  category=AUDIT;\n")
    assert rec.timestamp is None and rec.timestamp_text == "2025-13-01-00.00.00.000000"


def test_negative_event_status_marks_failure():
    (rec,) = parse_db2audit(
        "timestamp=2025-09-01-05.00.00.000001;\n  category=CHECKING;\n  audit event=CHECKING_OBJECT;\n"
        "  event status=-551;\n  userid=bob;\n  object schema=SAMPLE;\n  object name=WORKER;\n"
    )
    assert rec.failed and rec.status == "-551"
    assert rec.summary == "CHECKING/CHECKING_OBJECT bob SAMPLE.WORKER status=-551"
    assert rec.to_dict()["fields"]["object name"] == "WORKER"


def test_indented_paste_keeps_every_record():
    # A ticket/e-mail paste indents every line and may drop the blank separators. Before, the indented
    # `timestamp=` lines were not record starts: the whole file was "not a db2audit file", or (without
    # blank lines) the second record's fields were swallowed by the first.
    lines = [line for line in read("db2audit/extract-report-context-checking-v1158.txt").splitlines() if line]
    for text in ("\n".join("    " + line for line in lines), "\n".join(" " + line for line in lines)):
        parser = Db2AuditParser()
        records = parser.feed(text) + parser.flush()
        assert [(r.event, r.timestamp_text) for r in records] == [
            ("EXECUTE_IMMEDIATE", "2025-09-01-04.59.54.866271"),
            ("CHECKING_OBJECT", "2025-09-01-04.59.54.873608"),
        ]
        assert records[1].object_name == "LOGALL" and parser.skipped_lines == 0
        assert text[records[1].offset :].lstrip().startswith("timestamp=2025-09-01-04.59.54.873608;")
        assert records[0].raw + records[1].raw == text  # nothing lost, nothing twice


def test_the_labs_wrapped_statement_parses_back_to_the_statement_run():
    # The lab writes statements as the real extract does (wrapped after 64 characters of value at a blank,
    # continuation unindented, as the v11.5.8 corpus sample): the parser gives back the statement as run.
    from datetime import datetime as dt

    from lab.diag_records import audit_execute, wrap_audit_text

    corpus = read("db2audit/extract-report-context-checking-v1158.txt")
    value = "CREATE AUDIT POLICY LOGALL CATEGORIES ALL STATUS BOTH ERROR TYPE AUDIT"
    assert "  text=" + wrap_audit_text(value) + ";\n" in corpus.replace("\r\n", "\n")
    statement = "CALL SYSPROC.ADMIN_CMD('RUNSTATS ON TABLE SAMPLE.DEPARTMENT WITH DISTRIBUTION AND DETAILED INDEXES ALL')"
    record = audit_execute(
        dt(2025, 9, 1, 5, 0, 0, 1),
        userid="db2inst1",
        authid="DB2INST1",
        statement=statement,
        database="HADRDB",
        instance="db2inst1",
        hostname="db2a",
    )
    wrapped = record.split("  statement text=", 1)[1].split(";\n", 1)[0].split("\n")
    assert len(wrapped) == 2 and len(wrapped[0]) <= 64 and not wrapped[1].startswith(" ")
    (parsed,) = parse_db2audit(record)
    assert parsed.text == statement
    assert parsed.fields["statement isolation level"] == "CS"  # the record goes on after the wrapped value


def test_a_word_longer_than_the_wrap_width_is_cut():
    from lab.diag_records import wrap_audit_text

    word = "X" * 70
    assert wrap_audit_text(word) == "X" * 64 + "\n" + "X" * 6
    assert wrap_audit_text("short") == "short"
