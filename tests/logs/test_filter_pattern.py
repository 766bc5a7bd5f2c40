"""CloudWatch filter-pattern evaluator: AWS documentation examples, the runbook's patterns, the traps."""

from __future__ import annotations

import re

import pytest
from corpus import CORPUS, corpus_files

from services.logs.filter_pattern import FilterPatternError, compile_pattern, filter_events
from services.parsers.db2audit import parse_db2audit
from services.parsers.db2diag import parse_db2diag

# The event set AWS's FilterAndPatternSyntax page uses for unstructured examples.
AWS_EVENTS = [
    "[ERROR 400] BAD REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
    "[SUCCESS 200] AUTHORIZED REQUEST",
]

# Audit events as the CloudWatch agent ships them (one extract record per event), for the runbook's test:
# `grant select on table sample.worker` by db2inst1 (must alarm), a read by appusr (must not).
GRANT_BY_DBA = (
    "timestamp=2025-09-01-05.10.02.114233;\n  category=SECMAINT;\n  audit event=GRANT;\n  event correlator=9;\n"
    "  event status=0;\n  database=SAMPLE;\n  userid=db2inst1;\n  authid=DB2INST1;\n"
    "  object schema=SAMPLE;\n  object name=WORKER;\n  object type=TABLE;\n  grantor=DB2INST1;\n"
    "  grantee=BOB;\n  grantee type=USER;\n  privilege=SELECT;\n"
)
CONTEXT_BY_DBA = (
    "timestamp=2025-09-01-05.10.02.110001;\n  category=CONTEXT;\n  audit event=EXECUTE_IMMEDIATE;\n"
    "  userid=db2inst1;\n  authid=DB2INST1;\n  text=grant select on table sample.worker to user bob;\n"
)
READ_BY_APPUSR = (
    "timestamp=2025-09-01-05.11.00.000001;\n  category=CHECKING;\n  audit event=CHECKING_OBJECT;\n"
    "  userid=appusr;\n  authid=APPUSR;\n  object schema=SAMPLE;\n  object name=WORKER;\n  object type=TABLE;\n"
    "  access attempted=SELECT;\n  text=select * from sample.worker;\n"
)
READ_BY_UPPER_APPUSR = READ_BY_APPUSR.replace("userid=appusr", "userid=APPUSR").replace(
    "text=select * from sample.worker", "text=SELECT * FROM SAMPLE.WORKER"
)


def _matching(pattern: str, events: list[str]) -> list[int]:
    return filter_events(pattern, events)


# ------------------------------------------------------------------ AWS documentation examples


def test_single_term_is_a_case_sensitive_substring():
    assert _matching("ERROR", AWS_EVENTS) == [0, 1, 2, 3]
    assert _matching("error", AWS_EVENTS) == []
    assert compile_pattern("ERROR").matches("[ERROR] connection lost")


def test_space_separated_terms_are_and():
    assert _matching('"ERROR" "ARGUMENTS"', AWS_EVENTS) == [2, 3]
    assert _matching("ERROR ARGUMENTS", AWS_EVENTS) == [2, 3]
    assert compile_pattern('"ERROR" "Exception"').matches("ERROR: java.lang.Exception: boom")
    assert not compile_pattern('"ERROR" "Exception"').matches("ERROR: boom")


def test_question_mark_terms_are_or():
    assert _matching("?ERROR ?SUCCESS", AWS_EVENTS) == [0, 1, 2, 3, 4]
    assert _matching("?MISSING ?INVALID", AWS_EVENTS) == [2, 3]
    assert compile_pattern("?ERROR ?WARN").matches("WARN disk 91% full")
    assert not compile_pattern("?ERROR ?WARN").matches("INFO all good")


def test_minus_excludes():
    assert _matching("ERROR -ARGUMENTS", AWS_EVENTS) == [0, 1]
    assert _matching("-ERROR", AWS_EVENTS) == [4]
    assert compile_pattern("ERROR -Exiting").matches("ERROR timeout")
    assert not compile_pattern("ERROR -Exiting").matches("ERROR Exiting now")


def test_quoted_phrase_and_quoted_exclusion():
    assert _matching('"INVALID ARGUMENTS"', AWS_EVENTS) == [3]
    assert _matching('ERROR -"BAD REQUEST"', AWS_EVENTS) == [1, 2, 3]
    assert _matching('"[ERROR 401]"', AWS_EVENTS) == [1]
    assert compile_pattern(r'"say \"hi\""').matches('they say "hi" here')


def test_regex_terms():
    assert _matching("%AUTHORIZED%", AWS_EVENTS) == [1, 4]
    assert _matching("%ERROR 4[01][0-9]%".replace(" ", "\\s"), AWS_EVENTS) == [0, 1, 2]
    assert _matching(r"%^\[SUCCESS%", AWS_EVENTS) == [4]
    assert _matching("%[Ee]rror|MISSING%", ["an error", "MISSING x", "nothing"]) == [0, 1]


def test_empty_pattern_matches_everything():
    assert _matching("", AWS_EVENTS) == [0, 1, 2, 3, 4]
    assert _matching("   ", ["", "x"]) == [0, 1]


# ------------------------------------------------------------------ the runbook's patterns on realistic events


def test_runbook_worker_minus_appusr_and_its_case_trap():
    fp = compile_pattern("worker -appusr")
    events = [GRANT_BY_DBA, CONTEXT_BY_DBA, READ_BY_APPUSR, READ_BY_UPPER_APPUSR]
    # The GRANT record only says object name=WORKER: `worker` misses it; only the lowercase text matches.
    assert filter_events(fp, events) == [1]
    # The trap: a user who connected as APPUSR is not excluded when the statement text was lower case.
    trap = READ_BY_UPPER_APPUSR.replace(
        "text=SELECT * FROM SAMPLE.WORKER", "text=select * from sample.worker"
    )
    assert fp.matches(trap)
    joined = " ".join(fp.warnings)
    assert "-appusr is case-sensitive" in joined and "APPUSR" in joined
    assert "object name=WORKER" in joined


def test_runbook_worker_pattern_suggestion_is_honest_about_exclusions():
    suggestion = compile_pattern("worker -appusr").suggest_case_insensitive()
    assert suggestion.exact is False
    assert suggestion.pattern == "worker -appusr -APPUSR -Appusr"
    assert "does not contain" in suggestion.explanation and "WORKER" in suggestion.explanation
    better = compile_pattern(suggestion.pattern)
    trap = READ_BY_UPPER_APPUSR.replace(
        "text=SELECT * FROM SAMPLE.WORKER", "text=select * from sample.worker"
    )
    assert not better.matches(trap)
    assert compile_pattern("WORKER -appusr -APPUSR").matches(GRANT_BY_DBA)


def test_runbook_error_severe_pattern_on_corpus_db2diag_records():
    diag_text = "\n".join(p.read_bytes().decode() for p in corpus_files("db2diag/*.txt"))
    records = parse_db2diag(diag_text)
    fp = compile_pattern("?Error ?Severe")
    hits = [r for r in records if fp.matches(r.raw)]
    levels = {r.level for r in hits}
    assert {"Error", "Severe"} <= levels
    assert all(r.level in {"Error", "Severe"} or "Error" in r.raw or "Severe" in r.raw for r in hits)
    expected = sum(1 for r in records if r.level in {"Error", "Severe"})
    exact = compile_pattern('?"LEVEL: Error" ?"LEVEL: Severe"')
    assert sum(1 for r in records if exact.matches(r.raw)) == expected == 8
    # The trap: upper-case words are missed.
    assert not fp.matches("2025-01-01 ERROR SEVERE disk failure")
    joined = " ".join(fp.warnings)
    assert "ERROR" in joined and "SEVERE" in joined and '"LEVEL: Error"' in joined


def test_error_severe_case_insensitive_suggestion_is_one_regex_and_catches_uppercase():
    suggestion = compile_pattern("?Error ?Severe").suggest_case_insensitive()
    assert suggestion.exact is True
    assert suggestion.pattern == "%[Ee][Rr][Rr][Oo][Rr]|[Ss][Ee][Vv][Ee][Rr][Ee]%"
    fixed = compile_pattern(suggestion.pattern)
    assert fixed.matches("ERROR") and fixed.matches("severe") and fixed.matches("LEVEL: Error")
    assert not fixed.matches("LEVEL: Warning")


def test_two_and_terms_suggestion_matches_any_order_and_case():
    suggestion = compile_pattern("ERROR Exception").suggest_case_insensitive()
    fixed = compile_pattern(suggestion.pattern)
    assert fixed.matches("exception raised: error") and fixed.matches("ERROR ... EXCEPTION")
    assert not fixed.matches("error only")
    assert compile_pattern("a b c").suggest_case_insensitive().pattern is None


def test_audit_corpus_records_as_events():
    text = (CORPUS / "db2audit/extract-report-context-checking-v1158.txt").read_bytes().decode()
    events = [r.raw for r in parse_db2audit(text)]
    assert filter_events("CHECKING_OBJECT", events) == [1]
    assert filter_events('"userid=db2inst1" -SECADM', events) == [0]
    assert filter_events("logall", events) == []  # the policy name is LOGALL
    assert filter_events("%[Ll][Oo][Gg][Aa][Ll][Ll]%", events) == [0, 1]


# ------------------------------------------------------------------ mixing ? with plain terms (documented choice)


def test_question_terms_open_alternatives_like_cdk_term_groups():
    fp = compile_pattern('?"ERROR" "MainThread" ?"WARN" "Deadlock"')
    assert fp.matches("ERROR in MainThread") and fp.matches("WARN Deadlock detected")
    assert not fp.matches("ERROR in worker") and not fp.matches("WARN slow")
    assert any("TestMetricFilter" in w for w in fp.warnings)
    fp = compile_pattern("?ERROR ?WARN -Exiting")
    assert fp.matches("ERROR Exiting") and not fp.matches("WARN Exiting")


# ------------------------------------------------------------------ errors that say how to fix the pattern


@pytest.mark.parametrize(
    ("pattern", "needle"),
    [
        ('{ $.level = "ERROR" }', "not supported by db2ops' evaluator; test it on AWS with TestMetricFilter"),
        ("[ip, user, ...]", "not supported by db2ops' evaluator; test it on AWS with TestMetricFilter"),
        ("worker – appusr", "'worker -appusr'"),
        ("?Error?Severe", "?Error ?Severe"),
        ("- appusr", "-appusr"),
        ("sample.worker", '"sample.worker"'),
        ('"unterminated', "closing double quote"),
        ("%abc", "closing %"),
        ("%(a|b)%", "parentheses"),
        ("%a b%", "\\s"),
        ("%a% %b% %c%", "at most 2"),
        ("%%", "empty regex"),
        ("-?x", "one operator"),
        ('"a"b', "separate terms"),
    ],
)
def test_bad_patterns_raise_with_a_fix(pattern, needle):
    with pytest.raises(FilterPatternError) as info:
        compile_pattern(pattern)
    assert needle in str(info.value)


def test_two_regexes_are_allowed_and_mixing_warns():
    fp = compile_pattern("%a% %b%")
    assert fp.matches("b then a") and not fp.matches("a only")
    assert any("standalone" in w for w in fp.warnings)


def test_filter_pattern_error_is_a_value_error():
    assert issubclass(FilterPatternError, ValueError)
    with pytest.raises(ValueError, match=re.escape("JSON")):
        filter_events("{ $.x = 1 }", ["x"])
