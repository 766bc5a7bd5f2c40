"""The fast paths of db2diag parsing equal the slow ones they replace.

- DiagEntryParser (log-view entries straight from text, header fields captured by the split) gives the
  entries LogEntry.from_diag builds from each parsed record: every corpus sample, a lab-generated
  stream, pasted-copy quirks and hypothesis-generated text, cut into arbitrary chunks.
- Db2DiagParser's one-count proof that a chunk holds only ordinary records gives the records the
  per-piece algorithm gives (split on every header at a line start, then look inside each piece).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from corpus import corpus_files
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lab.diag_records import HostDiagLog
from services.logs.diag_entries import FEED_SIZE, DiagEntryParser, diag_entries_from_text
from services.logs.model import LogEntry, entries_from_text
from services.parsers.db2diag import (
    _HEADER_START_RE,
    _SPLIT_RE,
    Db2DiagParser,
    DiagRecord,
    _records_from_piece,
    parse_db2diag,
)

DIAG_TEXTS = {p.name: p.read_bytes().decode("utf-8") for p in corpus_files("db2diag/*.txt")}
ALL_DIAG = "garbage before\n" + "\n".join(DIAG_TEXTS.values())
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _view(entry: LogEntry) -> tuple:
    return (
        entry.ts_us,
        entry.source,
        entry.level,
        entry.text,
        entry.host,
        entry.summary,
        entry.stream,
        entry.event_id,
    )


def _slow_entries(text: str) -> list[tuple]:
    return [_view(LogEntry.from_diag(r)) for r in parse_db2diag(text)]


def _chunks(text: str, cuts: list[int]) -> list[str]:
    bounds = [0, *sorted(cuts), len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


def _fast_entries(chunks: list[str]) -> tuple[list[LogEntry], DiagEntryParser]:
    parser = DiagEntryParser()
    out: list[LogEntry] = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
    out.extend(parser.flush())
    return out, parser


def _reference_records(text: str) -> list[DiagRecord]:
    """The per-piece algorithm: split on every header at a line start, then look inside each piece."""
    out: list[DiagRecord] = []
    offset = 0
    for i, piece in enumerate(_SPLIT_RE.split(text)):
        if i > 0 or _HEADER_START_RE.match(piece):
            out.extend(_records_from_piece(piece, offset))
        offset += len(piece) + 1
    return out


def _lab_stream(records: int) -> str:
    rng = random.Random(5)
    hosts = [
        HostDiagLog(h, utc_offset_minutes=-300, rng=random.Random(rng.random())) for h in ("db2a", "db2b")
    ]
    start = datetime(2026, 11, 26, 23, 59, 30, tzinfo=UTC)  # crosses midnight, a day and a minute
    return (
        "\n\n".join(
            hosts[i % 2].routine(
                start + timedelta(milliseconds=250 * i), i % 2 == 0, "db2_db2inst1_db2inst1_HADRDB"
            )
            for i in range(records)
        )
        + "\n"
    )


@pytest.mark.parametrize("name", sorted(DIAG_TEXTS))
def test_every_corpus_sample_gives_the_entries_from_diag_gives(name):
    text = DIAG_TEXTS[name]
    expected = _slow_entries(text)
    assert expected
    for cuts in ([], [len(text) // 2], list(range(37, len(text), 211))):
        entries, _ = _fast_entries(_chunks(text, cuts))
        assert [_view(e) for e in entries] == expected


def test_concatenated_corpus_keeps_the_preamble_and_every_record():
    entries, parser = _fast_entries([ALL_DIAG])
    assert [_view(e) for e in entries] == _slow_entries(ALL_DIAG)
    assert len(entries) == 34 and parser.records_emitted == 34
    assert parser.preamble == "garbage before\n" and parser.skipped_lines == 1


@pytest.mark.parametrize(
    ("name", "from_captures"),
    [
        ("rsyslog-pmdb2diag-test-all-levels.FIXTURE.txt", 7),
        ("container-db2start-warning-event-error.txt", 3),
        ("pcmk-db2havend-02-attrd-and-enable.txt", 3),
    ],
)
def test_corpus_records_in_db2_layout_are_read_from_the_split_captures(name, from_captures):
    # All records but the first (read by from_diag) and the last (pending until flush).
    entries = diag_entries_from_text(DIAG_TEXTS[name])
    assert sum(type(e) is not LogEntry for e in entries) == from_captures == len(entries) - 2


def test_lab_stream_every_entry_from_the_captures_with_times_and_levels_right():
    text = _lab_stream(600)
    expected = _slow_entries(text)
    entries, _ = _fast_entries(_chunks(text, list(range(4096, len(text), 4096))))
    assert [_view(e) for e in entries] == expected
    assert len(entries) == 600
    # All but each chunk's first record came from the bulk path.
    assert sum(type(e) is not LogEntry for e in entries) >= 600 - len(text) // 4096 - 2
    # 2026-11-26 18:59:30 local at -300 is 23:59:30 UTC; 4 records a second.
    assert entries[0].time == datetime(2026, 11, 26, 23, 59, 30, tzinfo=UTC)
    assert entries[-1].time == datetime(2026, 11, 26, 23, 59, 30, tzinfo=UTC) + timedelta(
        milliseconds=250 * 599
    )
    assert {e.level for e in entries} <= {"Info", "Event", "Warning", "Error", "Severe", "Critical"}


def test_entries_from_text_uses_the_fast_path_and_equals_the_record_path():
    text = _lab_stream(700)
    assert len(text) > FEED_SIZE  # fed in slices: records cut by a slice boundary complete
    fast = entries_from_text(text, "diag")
    kept = entries_from_text(text, "diag", keep=True)  # keep=True holds the parsed records
    assert [_view(e) for e in fast] == [_view(e) for e in kept]
    assert all(e._record is not None for e in kept)


_HEAD = "2023-06-09-20.26.08.204400-420 I1E1           LEVEL: Info\nPID     : 1\n"


@pytest.mark.parametrize(
    "odd",
    [
        "2023-13-45-10.26.08.204400-420 I2E2           LEVEL: Severe\nMESSAGE : impossible date\n",
        "2023-06-09-20.26.61.204400-420 I2E2           LEVEL: Error\nMESSAGE : second 61\n",
        "\t2023-06-09-20.26.09.000000-420 I2E2           LEVEL: Warning\nMESSAGE : tab copy\n",
        "2023-06-09-20.26.09.000000-420 I2E2           LEVEL: Info-x\nMESSAGE : odd level word\n",
        "2023-06-09-20.26.09.000000-420 I2E2 LEVEL:\tError\nMESSAGE : tab before level\n",
        "2023-06-09-20.26.09.000000-420\xa0I2E2\xa0LEVEL: Error\nMESSAGE : NO-BREAK SPACEs\n",
        "2023-06-09-20.26.09.000000-420 LEVEL: Event\nCHANGE  : no record id\n",
        "2023-06-09-20.26.09.000000-420 I2E2           LEVEL: Info\nMESSAGE : pasted\n\n...\n",
        "2023-06-09-20.26.09.000000-420 I2E2           LEVEL: Info\nMESSAGE : html\n</pre>\n",
        "2023-06-09-20.26.09.000000-420 I2E2           LEVEL: Event\nCHANGE  : a <automatic>\n",
        "2023-06-09-20.26.09.000000-420 I2E2           LEVEL: Info\r\nMESSAGE : crlf…\r\n",
        "2023-06-09-20.26.09.000000-420 I2E2           LEVEL: Info\nMESSAGE : glued.2023-06-09-20.26.10"
        ".000000-420 I3E3 LEVEL: Error\nMESSAGE : second\n",
    ],
)
def test_an_odd_record_between_ordinary_ones_gives_what_from_diag_gives(odd):
    text = _HEAD + "\n" + odd + "\n" + _HEAD.replace("I1E1", "I9E9")
    entries = diag_entries_from_text(text)
    assert [_view(e) for e in entries] == _slow_entries(text)
    assert len(entries) == len(parse_db2diag(text)) >= 3


def test_escape_sequences_are_cleaned_alike_on_the_bulk_and_the_record_path():
    # a db2diag MESSAGE carries text a database user shapes: no path may hand the terminal its escapes
    text = DIAG_TEXTS["rsyslog-pmdb2diag-test-all-levels.FIXTURE.txt"]
    at = [i for i in range(len(text)) if text.startswith("DB   : ", i)][2] + len("DB   : ")
    text = text[:at] + "a\x1b]0;pwned\x07b\x1b[2Jc\x9b31md\x00" + text[at:]
    fast = diag_entries_from_text(text)
    assert [_view(e) for e in fast] == _slow_entries(text)
    (hostile,) = [e for e in fast if "abcd" in e.text]
    assert type(hostile) is not LogEntry  # the bulk path built it
    assert "pwned" not in hostile.text and "\x1b" not in hostile.text and "\x9b" not in hostile.text
    assert [_view(e) for e in entries_from_text(text, "diag", keep=True)] == [_view(e) for e in fast]


def test_impossible_date_falls_back_to_zero_time_like_from_diag():
    odd = "2023-13-45-10.26.08.204400-420 I2E2           LEVEL: Severe\nMESSAGE : impossible date\n"
    entries = diag_entries_from_text(_HEAD + "\n" + odd + "\n" + _HEAD)
    assert [(e.ts_us, e.level) for e in entries][1] == (0, "Severe")
    assert entries[0].time == entries[2].time == datetime(2023, 6, 10, 3, 26, 8, 204400, tzinfo=UTC)


def test_change_record_text_is_kept_as_written():
    # `<automatic>` is no pasted-copy leftover: the text is not copied or stripped.
    change = "2023-06-09-20.26.09.000000-420 I2E2           LEVEL: Event\nCHANGE  : a <automatic>\n"
    (entry,) = diag_entries_from_text(change)
    assert entry.text == change
    (slow,) = [LogEntry.from_diag(r) for r in parse_db2diag(change)]
    assert slow.text == change


def test_text_entries_are_log_entries_whose_host_and_summary_come_from_the_record():
    text = _lab_stream(4)
    entries = diag_entries_from_text(text)
    bulk = [e for e in entries if type(e) is not LogEntry]
    assert bulk and all(isinstance(e, LogEntry) for e in bulk)
    assert bulk[0].host in ("db2a", "db2b") and bulk[0].source == "diag" and bulk[0].stream == ""
    assert bulk[0].record is not None and bulk[0].record.hostname == bulk[0].host
    bulk[0].host = "renamed"
    assert bulk[0].host == "renamed"


def test_diag_record_equality_hash_and_repr_are_by_raw_and_offset():
    a, b = DiagRecord("x", 3), DiagRecord("x", 3)
    assert a == b and hash(a) == hash(b) and a != DiagRecord("x", 4) and a != DiagRecord("y", 3)
    assert repr(a) == "DiagRecord(raw='x', offset=3)"
    assert a != ("x", 3)
    assert DiagRecord("x").offset == 0


@pytest.mark.parametrize("name", sorted(DIAG_TEXTS))
def test_parser_equals_the_per_piece_algorithm_on_the_corpus(name):
    text = DIAG_TEXTS[name]
    assert parse_db2diag(text) == _reference_records(text)


_TS = st.builds(
    "{:04d}-{:02d}-{:02d}-{:02d}.{:02d}.{:02d}.{:06d}{:+04d}".format,
    st.integers(1999, 2030),
    st.integers(1, 13),  # 13: an impossible date
    st.integers(1, 31),
    st.integers(0, 24),
    st.integers(0, 60),
    st.integers(0, 61),
    st.integers(0, 999_999),
    st.sampled_from([-420, -300, 0, 60, 330]),
)
_LEVELS = ["Info", "Event", "Severe", "Error", "Warning", "Critical", "Debug", "Info-x", "", "info"]
_ANY_HEADER = st.builds(
    "{}{} {}{}LEVEL:{}{}{}".format,
    st.sampled_from(["", "", "", "", "\t", " "]),
    _TS,
    st.sampled_from(["I1E1", "E553813E434", "I496323E554", "x_y", ""]),
    st.sampled_from(["           ", " ", " " * 70, "\xa0", "\t"]),
    st.sampled_from([" ", " ", "", "\t"]),
    st.sampled_from(_LEVELS),
    st.sampled_from(["", "", " ", "\r", " extra"]),
)
_DB2_HEADER = st.builds(  # the layout Db2 writes: the entry is built from the split's captures
    "{} {}           LEVEL: {}{}".format,
    _TS,
    st.sampled_from(["I1E1", "E553813E434", "I496323E554"]),
    st.sampled_from(_LEVELS[:7]),
    st.sampled_from(["", "", "\r"]),
)
_HEADER = st.one_of(_DB2_HEADER, _DB2_HEADER, _DB2_HEADER, _ANY_HEADER)
_NORMAL = [
    "PID     : 203718               TID : 1397 PROC : db2sysc 0",
    "INSTANCE: db2inst1             NODE : 000            DB   : HADRDB",
    "HOSTNAME: db2a",
    "FUNCTION: DB2 UDB, data protection services, sqlpgArchiveLogFile, probe:3180",
    "MESSAGE : ADM1846I  Completed archive",
    '          "DISK:/db2/archive/" from',
    "CHANGE  : STMM CFG DB HADRDB: From: 4352 <automatic>  To: 4096 <automatic>",
    "DATA #1 : String, 23 bytes",
    "1797043",
    "",
    "MESSAGE : any user can shape this\x1b]0;pwned\x07 \x1b[2Jcleared\x9b31m red",  # escapes: cleaned alike
]
_ODD = [
    "LEVEL: Info",
    "copied 2023-06-09-20.26.10.000000-420 I3E3 LEVEL: Error",
    "x2023-06-09-20.26.10.000000-420\xa0I3E3\xa0LEVEL: Severe",
    "...",
    "…",
    "</p>",
    "</pre>  ",
    "\r",
]
_BODY = st.lists(
    st.one_of(*[st.sampled_from(_NORMAL)] * 12, st.sampled_from(_ODD), st.text(max_size=8)),
    max_size=5,
)
_RECORD = st.builds(lambda head, body: "\n".join([head, *body]) + "\n", _HEADER, _BODY)
# Bodies as Db2 writes them: chunks of these pass the one-count proof and take the bulk path.
_PLAIN_RECORD = st.builds(
    lambda head, body: "\n".join([head, *body]) + "\n",
    _HEADER,
    st.lists(st.sampled_from(_NORMAL), max_size=5),
)


@SETTINGS
@given(
    st.lists(_RECORD, min_size=1, max_size=30),
    st.sampled_from(["", "\n", "junk\n"]),
    st.lists(st.integers(0, 5000), max_size=8),
)
def test_fast_paths_equal_the_slow_ones_on_generated_records(records, lead, cuts):
    text = lead + "\n".join(records)
    _assert_fast_equals_slow(text, [c % (len(text) + 1) for c in cuts])


@SETTINGS
@given(st.lists(_PLAIN_RECORD, min_size=1, max_size=40), st.lists(st.integers(0, 5000), max_size=4))
def test_bulk_path_equals_the_slow_one_on_generated_db2_records(records, cuts):
    text = "\n".join(records)
    _assert_fast_equals_slow(text, [c % (len(text) + 1) for c in cuts])


@SETTINGS
@given(st.lists(st.one_of(_RECORD, st.sampled_from(_ODD), st.text(max_size=12)), max_size=30))
def test_fast_paths_equal_the_slow_ones_on_mixed_text(parts):
    text = "".join(parts)
    _assert_fast_equals_slow(text, [len(text) // 3, len(text) // 2])


def _assert_fast_equals_slow(text: str, cuts: list[int]) -> None:
    records = parse_db2diag(text)
    assert records == _reference_records(text)
    assert _feed_all(Db2DiagParser(), _chunks(text, cuts)) == records
    entries, parser = _fast_entries(_chunks(text, cuts))
    assert [_view(e) for e in entries] == [_view(LogEntry.from_diag(r)) for r in records]
    assert parser.records_emitted == len(records)


def _feed_all(parser: Db2DiagParser, chunks: list[str]) -> list[DiagRecord]:
    out = [r for chunk in chunks for r in parser.feed(chunk)]
    return out + parser.flush()
