"""Properties: chunk boundaries never change what the incremental parsers return, nothing is lost, and
arbitrary input never raises anything but the typed errors."""

from __future__ import annotations

from corpus import corpus_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.logs.filter_pattern import FilterPatternError, compile_pattern
from services.parsers.db2audit import Db2AuditParser, parse_db2audit
from services.parsers.db2diag import Db2DiagParser, parse_db2diag
from services.parsers.errors import ParseError

DIAG_TEXT = "garbage before\n" + "\n".join(p.read_bytes().decode() for p in corpus_files("db2diag/*.txt"))
AUDIT_TEXT = "\n".join(
    p.read_bytes().decode()
    for p in corpus_files("db2audit/*extract*.txt") + corpus_files("db2audit/ibm-doc-*.txt")
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _chunks(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *sorted(cuts), len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _diag_chunked(chunks: list[str]) -> tuple[list, Db2DiagParser]:
    parser = Db2DiagParser()
    out = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
    out.extend(parser.flush())
    return out, parser


def _assert_nothing_lost(text: str, records: list, preamble: str) -> None:
    if not records:
        assert preamble == text
        return
    assert preamble == text[: records[0].offset]
    end = 0
    for rec in records:
        assert text[rec.offset : rec.offset + len(rec.raw)] == rec.raw
        assert rec.offset >= end and text[end : rec.offset] in ("", "\n") or end == 0
        end = rec.offset + len(rec.raw)
    assert end == len(text)


@SETTINGS
@given(st.lists(st.integers(min_value=0, max_value=len(DIAG_TEXT)), max_size=40))
def test_db2diag_chunk_boundaries_do_not_change_records(cuts):
    one_shot = parse_db2diag(DIAG_TEXT)
    chunked, parser = _diag_chunked(_chunks(DIAG_TEXT, cuts))
    assert chunked == one_shot
    assert [r.level for r in chunked] == [r.level for r in one_shot]
    _assert_nothing_lost(DIAG_TEXT, chunked, parser.preamble)
    assert parser.preamble == "garbage before\n" and parser.skipped_lines == 1


def test_db2diag_concatenated_corpus_record_count():
    assert len(parse_db2diag(DIAG_TEXT)) == 34


@SETTINGS
@given(st.lists(st.integers(min_value=0, max_value=len(AUDIT_TEXT)), max_size=40))
def test_db2audit_chunk_boundaries_do_not_change_records(cuts):
    one_shot = parse_db2audit(AUDIT_TEXT)
    parser = Db2AuditParser()
    chunked = []
    for chunk in _chunks(AUDIT_TEXT, cuts):
        chunked.extend(parser.feed(chunk))
    chunked.extend(parser.flush())
    assert chunked == one_shot
    assert [r.event for r in chunked] == [
        "EXECUTE_IMMEDIATE",
        "CHECKING_OBJECT",
        "STATEMENT",
        "CHECKING_OBJECT",
    ]


_DIAGISH = st.sampled_from(
    [
        "2023-06-09-20.26.08.204400-420 I1E1 LEVEL: Info",
        "2023-06-09-20.26.08.204400-420",
        "PID : 1  TID : 2  PROC : x",
        "DATA #1 : String, 3 bytes",
        "MESSAGE : m",
        "CHANGE  : c",
        "CALLSTCK: (x)",
        "  [0] 0x1 f + 0x2",
        "\r",
        "\n",
        "\xa0",
        " ",
        "timestamp=2025-01-01-00.00.00.000001;",
        "  text=a",
        ";",
        "LEVEL:",
        "...",
        "<==",
    ]
)


@SETTINGS
@given(st.lists(st.one_of(_DIAGISH, st.text(max_size=20)), max_size=30), st.binary(max_size=200))
def test_arbitrary_input_never_raises_anything_but_parse_error(parts, blob):
    text = "".join(parts) + blob.decode("utf-8", errors="replace")
    for strict in (False, True):
        try:
            records = parse_db2diag(text, strict=strict)
        except ParseError:
            assert strict
            continue
        for rec in records:
            rec.to_dict()
            assert isinstance(rec.summary, str)
        chunked, parser = _diag_chunked(_chunks(text, [len(text) // 3, len(text) // 2]))
        assert chunked == records
        _assert_nothing_lost(text, chunked, parser.preamble)
        try:
            audits = parse_db2audit(text, strict=strict)
        except ParseError:
            assert strict
            continue
        for rec in audits:
            rec.to_dict()
            assert text[rec.offset : rec.offset + len(rec.raw)] == rec.raw


@SETTINGS
@given(st.text(max_size=40), st.text(max_size=60))
def test_arbitrary_patterns_raise_only_filter_pattern_error(pattern, message):
    try:
        compiled = compile_pattern(pattern)
    except FilterPatternError as exc:
        assert str(exc)
        return
    assert isinstance(compiled.matches(message), bool)
    compiled.suggest_case_insensitive()


@SETTINGS
@given(st.from_regex(r"[A-Za-z0-9_]{1,8}", fullmatch=True), st.text(alphabet="abcAB_ 01", max_size=30))
def test_exclusion_is_the_negation_of_the_term(word, message):
    assert compile_pattern(f"-{word}").matches(message) is (word not in message)
    assert compile_pattern(f'"{word}"').matches(message) is (word in message)
    assert compile_pattern(f"?{word} ?zzz").matches(message) is (word in message or "zzz" in message)


_AUDITISH = st.sampled_from(
    [
        "timestamp=2025-09-01-04.59.54.866271;\n",
        "  timestamp=2025-09-01-04.59.54.873608;\n",
        "  category=CHECKING;\n",
        "  audit event=CHECKING_OBJECT;\n",
        "  text=CREATE AUDIT POLICY\n",
        "AUDIT;\n",
        "  compilation environment=\n",
        "    isolation level=CS\n",
        "\n",
        "\r\n",
        "AUD0000I  Operation succeeded.\n",
        ";",
        "  authid=APPUSR",
    ]
)


@SETTINGS
@given(
    st.lists(st.one_of(_AUDITISH, st.text(max_size=15)), max_size=30),
    st.lists(st.integers(min_value=0, max_value=600), max_size=8),
)
def test_db2audit_arbitrary_text_and_cuts_lose_and_duplicate_nothing(parts, cuts):
    text = "".join(parts)
    one_shot = parse_db2audit(text)
    parser = Db2AuditParser()
    chunked = []
    for chunk in _chunks(text, [c for c in cuts if c <= len(text)]):
        chunked.extend(parser.feed(chunk))
    chunked.extend(parser.flush())
    assert chunked == one_shot
    kept = [line for piece in [*(r.raw for r in chunked), parser.preamble] for line in piece.split("\n")]
    assert sorted(line for line in kept if line.strip()) == sorted(
        line for line in text.split("\n") if line.strip()
    )
    for rec in chunked:
        assert text[rec.offset : rec.offset + len(rec.raw)] == rec.raw


@SETTINGS
@given(
    st.lists(
        st.one_of(
            _DIAGISH,
            st.sampled_from(["x.2023-06-09-20.26.08.204400-420 I2E2 LEVEL: Event"]),
            st.text(max_size=15),
        ),
        max_size=30,
    ),
    st.lists(st.integers(min_value=0, max_value=600), max_size=8),
)
def test_db2diag_arbitrary_text_and_cuts_lose_and_duplicate_nothing(parts, cuts):
    text = "".join(parts)
    one_shot = parse_db2diag(text)
    chunked, parser = _diag_chunked(_chunks(text, [c for c in cuts if c <= len(text)]))
    assert chunked == one_shot
    _assert_nothing_lost(text, chunked, parser.preamble)
