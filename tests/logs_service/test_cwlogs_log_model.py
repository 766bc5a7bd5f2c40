"""LogEntry / LogStore: merge by time, dedup, filter index, search, markers, export (corpus records)."""

from datetime import UTC, datetime

import pytest
from corpus import CORPUS, corpus_files

from services.logs.filter_pattern import FilterPatternError
from services.logs.model import (
    LogEntry,
    LogFilter,
    LogStore,
    entries_from_event,
    entries_from_text,
    from_us,
    to_us,
)

TAKEOVER = CORPUS / "db2diag" / "pcmk-takeover-02-event-start-change.txt"
HAVEND = CORPUS / "db2diag" / "pcmk-db2havend-02-attrd-and-enable.txt"
CONTAINER = CORPUS / "db2diag" / "container-db2start-warning-event-error.txt"
AUDIT = CORPUS / "db2audit" / "extract-report-context-checking-v1158.txt"


def diag(path):
    return entries_from_text(path.read_text(), "diag")


def entry(ts_s: float, level="Info", source="diag", text=None, event_id=None) -> LogEntry:
    body = text or f"{level} record at {ts_s}"
    return LogEntry(int(ts_s * 1_000_000), source, level, "db2a", body, body, event_id=event_id)


def test_diag_entry_time_is_utc_from_the_minute_offset():
    start, change = diag(TAKEOVER)
    # 2023-06-09-20.26.08.238097-420: local = UTC - 7h, so UTC is 03:26:08 the next day
    assert start.time == datetime(2023, 6, 10, 3, 26, 8, 238097, tzinfo=UTC)
    assert (start.level, start.host) == ("Event", "pcmk1.fyre.ibm.com")
    assert (
        start.summary == "db2agnti sqeDBMgr::StartUsingLocalDatabase: START Received TAKEOVER HADR command."
    )
    assert change.summary.endswith("CHANGE HADR state set to HDR_S_PEER (was HDR_P_PEER), connId=1")
    assert "..." not in start.text  # the author's elision line is not part of the record


def test_havend_summary_shows_the_command_line():
    first = diag(HAVEND)[0]
    assert first.summary == (
        "db2havend db2CMVendorPCMKExecute: /usr/sbin/attrd_updater -n db2hadr-v11580_v11580_HADRDB -Q -N pcmk1"
    )


def test_audit_entries_summarise_who_did_what():
    context, checking = entries_from_text(AUDIT.read_text(), "audit")
    assert context.source == "audit" and context.host == "2e62336d93c9"
    assert context.summary.startswith("CONTEXT/EXECUTE_IMMEDIATE by DB2INST1 “CREATE AUDIT POLICY LOGALL")
    assert checking.summary == "CHECKING/CHECKING_OBJECT by DB2INST1 CREATE AUDIT_POLICY LOGALL"
    assert checking.record.fields["access approval reason"] == "SECADM"  # re-parsed on demand


def test_event_becomes_a_raw_entry_when_it_is_no_record():
    [e] = entries_from_event(
        {"timestamp": 1_000, "message": "hello\nworld", "logStreamName": "Db2 - i-1"}, "diag"
    )
    assert (e.ts_us, e.level, e.summary, e.host) == (1_000_000, "", "hello", "Db2 - i-1")


def test_event_host_comes_from_the_stream_map():
    text = TAKEOVER.read_text().split("\n...\n")[0]
    [e] = entries_from_event(
        {"timestamp": 5, "message": text, "logStreamName": "Db2 - i-1", "eventId": "x"},
        "diag",
        {"Db2 - i-1": "db2a"},
    )
    assert (e.host, e.event_id, e.time.year) == ("db2a", "x", 2023)


def test_store_merges_late_entries_by_time_and_keeps_ties_in_arrival_order():
    store = LogStore()
    for ts in (10, 30, 20, 30, 5):
        store.add(entry(ts, text=f"t{ts}-{len(store)}"))
    assert [e.text for e in store.visible] == ["t5-4", "t10-0", "t20-2", "t30-1", "t30-3"]


def test_store_drops_duplicate_event_ids():
    store = LogStore()
    assert store.add(entry(1, event_id="a")) == 0
    assert store.add(entry(2, event_id="a")) == -1
    assert len(store) == 1


def test_filter_pattern_levels_sources_and_invert():
    store = LogStore()
    store.extend(diag(CONTAINER) + entries_from_text(AUDIT.read_text(), "audit"))
    store.set_filter(store.filter.with_pattern("Released lock"))
    assert [e.level for e in store.visible] == ["Warning", "Warning"]
    store.set_filter(store.filter.with_pattern("!Released lock"))
    assert len(store.visible) == len(store) - 2
    store.set_filter(LogFilter(hidden_levels=frozenset({"Event", "Info"})))
    assert [e.level for e in store.visible] == ["Warning", "Warning", "Error"]
    store.set_filter(LogFilter(sources=frozenset({"audit"})))
    assert [e.source for e in store.visible] == ["audit", "audit"]


def test_filter_pattern_is_case_sensitive_like_cloudwatch():
    store = LogStore()
    store.extend(
        [entry(1, text="authid=APPUSR; object=WORKER"), entry(2, text="authid=DB2INST1; object=WORKER")]
    )
    store.set_filter(store.filter.with_pattern("WORKER -appusr"))
    assert len(store.visible) == 2  # the runbook's case trap: -appusr does not exclude APPUSR
    store.set_filter(store.filter.with_pattern("WORKER -APPUSR"))
    assert [e.text for e in store.visible] == ["authid=DB2INST1; object=WORKER"]


def test_bad_filter_pattern_raises_the_typed_error():
    with pytest.raises(FilterPatternError):
        LogFilter().with_pattern('{ $.level = "x" }')


def test_new_entries_respect_the_current_filter():
    store = LogStore()
    store.set_filter(LogFilter(hidden_levels=frozenset({"Info"})))
    assert store.add(entry(1, "Info")) == -1
    assert store.add(entry(2, "Error")) == 0
    assert len(store) == 2 and len(store.visible) == 1


def test_remove_takes_entries_out_and_keeps_the_filter():
    store = LogStore()
    early, hidden, late = entry(1, "Error"), entry(2, "Info"), entry(3, "Error", event_id="a")
    late_info = entry(4)
    store.extend([early, hidden, late, late_info])
    store.set_filter(LogFilter(hidden_levels=frozenset({"Info"})).with_pattern("record"))
    mark = store.add_marker("mine", now=from_us(9_000_000))
    generation = store.generation
    assert store.remove([late, late_info, entry(3, "Error")]) == 1  # one of them visible; a stranger ignored
    assert store.entries == [early, hidden, mark] and store.visible == [early, mark]
    assert store.filter.pattern_text == "record" and store.filter.hidden_levels == {"Info"}
    assert store.level_counts["Error"] == 1 and store.level_counts["Info"] == 1
    assert store.generation > generation  # views drop their caches
    assert store.add(late) == 1  # its event id is forgotten: it comes back, in time order, filtered
    assert store.add(late_info) == -1
    assert store.visible == [early, late, mark]
    assert store.remove([]) == 0 and store.remove([entry(5)]) == 0


def test_markers_stay_visible_under_any_filter():
    store = LogStore()
    store.add(entry(100, "Info"))
    mark = store.add_marker("drill started", now=from_us(50_000_000))
    assert mark.ts_us == 100_000_000  # never before the newest entry
    store.set_filter(LogFilter(hidden_levels=frozenset({"Info"})).with_pattern("nothing matches this"))
    assert store.visible == [mark]


def test_find_wraps_and_goes_backwards():
    store = LogStore()
    store.extend([entry(i, text=t) for i, t in enumerate(["Alpha", "beta", "ALPHA two", "gamma"])])
    assert store.find("alpha", 0) == 2
    assert store.find("alpha", 2) == 0
    assert store.find("alpha", 0, backwards=True) == 2
    assert store.find("zeta", 0) == -1


def test_index_at_time():
    store = LogStore()
    store.extend([entry(10), entry(20), entry(30)])
    assert store.index_at_time(from_us(15_000_000)) == 1
    assert store.index_at_time(from_us(99_000_000)) == 3


def test_export_writes_only_visible_records(tmp_path):
    store = LogStore()
    store.extend(diag(CONTAINER))
    store.add_marker("mark")
    store.set_filter(LogFilter(hidden_levels=frozenset({"Event"})))
    path = tmp_path / "out" / "visible.log"
    assert store.export(path) == 3
    text = path.read_text()
    assert text.count("LEVEL: Warning") == 2 and text.count("LEVEL: Error") == 1
    assert "LEVEL: Event" not in text and "mark" not in text


def test_bulk_load_sorts_and_trimming_keeps_the_newest():
    store = LogStore(max_entries=2000)
    store.extend([entry(3000 - i) for i in range(1500)])
    assert [e.ts_us for e in store.visible[:2]] == [1_501_000_000, 1_502_000_000]
    store.extend([entry(5000 + i) for i in range(600)])
    assert len(store) <= 2000
    assert store.entries[-1].ts_us == 5599_000_000
    assert store.entries[0].ts_us > 1_501_000_000


def test_trimming_forgets_the_event_ids_of_dropped_entries():
    """A live tail adds ids forever: the dedup set must stay bounded by the entries kept (the fault
    report's soak found it growing after the store was full)."""
    store = LogStore(max_entries=1000)
    for i in range(10_000):
        store.add(entry(i, event_id=f"e{i}"))
    assert len(store) <= 1000
    assert len(store._seen_ids) == len(store)
    assert store.add(entry(99_999, event_id="e9999")) == -1  # a kept entry is still deduplicated


def test_to_us_and_from_us_round_trip_naive_as_utc():
    naive = datetime(2026, 11, 26, 10, 0, 0, 123456)
    assert from_us(to_us(naive)) == naive.replace(tzinfo=UTC)


def test_fast_header_agrees_with_the_parser_on_every_corpus_record():
    from services.logs.model import fast_diag_header
    from services.parsers.db2diag import parse_db2diag

    checked = 0
    for path in corpus_files("db2diag/*.txt"):
        for record in parse_db2diag(path.read_text()):
            fast = fast_diag_header(record.raw)
            if fast is None:
                continue  # not the exact Db2 layout: the parser's own header is used
            assert fast == (to_us(record.timestamp), record.level), (path.name, record.raw[:60])
            checked += 1
    assert checked >= 30


def test_fast_header_rejects_impossible_times():
    from services.logs.model import fast_diag_header

    good = "2026-11-26-10.00.00.000000+000 I1E100           LEVEL: Warning\nPID : 1"
    assert fast_diag_header(good) == (to_us(datetime(2026, 11, 26, 10, tzinfo=UTC)), "Warning")
    assert fast_diag_header(good.replace("-11-26-10", "-13-26-10")) is None
    assert fast_diag_header(good.replace("10.00.00", "25.00.00")) is None
    assert fast_diag_header("not a header at all, but long enough to slice safely") is None


def test_a_record_with_only_a_retcode_summarises_it():
    # The Error and the HADR Severe of the corpus carry RETCODE and no MESSAGE; their row used to end
    # at "sqleriar_database: " / "hdrEduAcceptEvent: ", hiding SQLO_CONN_REFUSED from the list.
    error = diag(CONTAINER)[4]
    assert error.level == "Error"
    assert error.summary == (
        'db2bp sqleriar_database: ZRC=0x8005006D=-2147155859=SQLE_CA_BUILT "SQLCA has been built and saved'
        ' in component specific control block."'
    )
    severe = diag(CORPUS / "db2diag" / "hadr-wiki-connect-error-severe-2006.HTMLMANGLED.txt")[2]
    assert severe.level == "Severe"
    assert severe.summary == (
        'db2hadrs hdrEduAcceptEvent: ZRC 0x810F0019 -2129723367 SQLO_CONN_REFUSED "Connection refused"'
    )
