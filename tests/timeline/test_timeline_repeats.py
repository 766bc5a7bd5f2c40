"""A db2diag record that repeats folds into one timeline line (count, last time, hosts), so a routine error
written every minute cannot bury the takeover; HADR records and records after a quiet gap keep their own."""

from __future__ import annotations

from datetime import UTC, datetime

from services.logs.model import LogEntry
from services.timeline.model import REPEAT_WINDOW_S, Timeline

T0 = datetime(2026, 11, 26, 18, 48, 53, tzinfo=UTC).timestamp()
SQLCA = 'sqleriar_database: ZRC=0x8005006D=-2147155859=SQLE_CA_BUILT "SQLCA has been built"'


def diag(at: float, host: str, level: str, summary: str, *, pid: int = 4242) -> LogEntry:
    text = f"2026-11-26-18.48.53.720000+000 I969120E LEVEL: {level}\nPID     : {pid}\nHOSTNAME: {host}\n{summary}\n"
    return LogEntry(round(at * 1_000_000), "diag", level, host, summary, text)


def test_a_routine_error_every_minute_is_one_line_with_count_last_time_and_hosts() -> None:
    timeline = Timeline("lab1")
    records = [
        diag(T0, "db2b", "Error", SQLCA),
        diag(T0 + 60, "db2a", "Error", SQLCA.replace("0x8005006D", "0x8005006E")),  # numbers aside
        diag(T0 + 150, "db2b", "Error", SQLCA),
    ]
    assert timeline.add_log_entries(records) == 3
    [line] = timeline.entries()
    assert line.at == T0
    assert line.title == f"db2diag Error ×3 until 18:51:23Z on db2b, db2a: {SQLCA}"
    assert line.detail.endswith("repeated 2 more time(s), at 18:49:53, 18:51:23 (UTC)")
    assert line.detail.startswith(records[0].text.rstrip())
    # Re-feeding the same records (every poll does) changes nothing.
    version = timeline.version
    assert timeline.add_log_entries(records) == 0
    assert timeline.version == version
    assert timeline.entries()[0].title.startswith("db2diag Error ×3 ")


def test_hadr_records_keep_a_line_each_and_other_messages_are_not_folded() -> None:
    timeline = Timeline("lab1")
    hadr = "hdrEduAcceptEvent: Failed to connect to primary. HADR rc: 0"
    timeline.add_log_entries(
        [
            diag(T0, "db2b", "Severe", hadr),
            diag(T0 + 2, "db2b", "Severe", hadr, pid=4243),
            diag(T0 + 3, "db2b", "Error", SQLCA),
            diag(T0 + 4, "db2b", "Severe", SQLCA),  # same message, other level: its own line
        ]
    )
    titles = [e.title for e in timeline.entries()]
    assert titles == [
        f"db2diag Severe on db2b: {hadr}",
        f"db2diag Severe on db2b: {hadr}",
        f"db2diag Error on db2b: {SQLCA}",
        f"db2diag Severe on db2b: {SQLCA}",
    ]


def test_after_a_quiet_gap_the_record_starts_a_new_line() -> None:
    timeline = Timeline("lab1")
    later = T0 + REPEAT_WINDOW_S + 1
    timeline.add_log_entries([diag(T0, "db2a", "Error", SQLCA), diag(later, "db2a", "Error", SQLCA)])
    assert [e.at for e in timeline.entries()] == [T0, later]
    assert all("×" not in e.title for e in timeline.entries())


def test_control_characters_of_a_folded_record_are_made_visible() -> None:
    timeline = Timeline("lab1")
    hostile = "sqlexLogPluginMessage: user \x1b[2Jevil failed"
    timeline.add_log_entries([diag(T0, "db2a", "Error", hostile), diag(T0 + 5, "db2a", "Error", hostile)])
    [folded] = timeline.entries()
    assert "\x1b" not in folded.title and "\x1b" not in folded.detail
    one = Timeline("lab1")
    one.add_log_entries([diag(T0, "db2a", "Error", hostile)])
    [single] = one.entries()
    assert "\x1b" not in single.title and "\x1b" not in single.detail


def test_a_dropped_line_forgets_its_repeats_so_they_can_come_back() -> None:
    timeline = Timeline("lab1", max_entries=2)
    timeline.add_log_entries([diag(T0, "db2a", "Error", SQLCA), diag(T0 + 5, "db2a", "Error", SQLCA)])
    for n in range(2):  # two newer lines push the folded one out
        timeline.add_log_entries([diag(T0 + 10 + n, "db2a", "Critical", f"other problem {'x' * (n + 1)}")])
    assert all("SQLCA" not in e.title for e in timeline.entries())
    assert timeline.add_log_entries([diag(T0 + 5, "db2a", "Error", SQLCA)]) == 1


def test_an_older_occurrence_read_later_becomes_the_line() -> None:
    # The timeline reads one log stream after the other: db2b's records can come before db2a's older ones.
    timeline = Timeline("lab1")
    timeline.add_log_entries([diag(T0 + 120, "db2b", "Error", SQLCA), diag(T0 + 180, "db2b", "Error", SQLCA)])
    timeline.add_log_entries([diag(T0, "db2a", "Error", SQLCA), diag(T0 + 60, "db2a", "Error", SQLCA)])
    [line] = timeline.entries()
    assert line.at == T0
    assert line.title == f"db2diag Error ×4 until 18:51:53Z on db2b, db2a: {SQLCA}"
    assert line.detail.startswith(diag(T0, "db2a", "Error", SQLCA).text.rstrip())
    assert line.detail.endswith("at 18:49:53, 18:50:53, 18:51:53 (UTC)")
    everything = [
        diag(T0 + n * 60, h, "Error", SQLCA) for n, h in enumerate(["db2a", "db2a", "db2b", "db2b"])
    ]
    assert timeline.add_log_entries(everything) == 0
