"""The incident timeline: status events, journal, alarms and db2diag records merged in time order."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from corpus import CORPUS, corpus_files
from status.status_builders import IDS, crm, hadr, healthy, part, with_verdicts

from services.alarms.service import AlarmHistory, AlarmView, HistoryItem
from services.cluster_model import OverlayRoute
from services.logs.model import entries_from_text
from services.plans.journal import JournalEntry
from services.status.model import Severity
from services.timeline.model import Timeline, TimelineEntry, parse_utc

corpus_files("db2diag/pcmk-takeover-*")
T0 = parse_utc("2023-06-10T03:26:00Z")


def failed_over(t: float):
    return with_verdicts(
        replace(
            healthy(t),
            crm=part(crm(promoted="db2b"), "db2b", t),
            hadr={"db2a": part(hadr("STANDBY"), "db2a", t), "db2b": part(hadr("PRIMARY"), "db2b", t)},
            overlay_route=part(OverlayRoute("rtb-1", "192.168.1.81/32", instance_id=IDS["db2b"]), "aws", t),
        )
    )


def journal_entry(
    step: str, title: str, when: str, result: str = "verified", cluster: str = "lab"
) -> JournalEntry:
    return JournalEntry(
        who="dba",
        when=when,
        cluster=cluster,
        plan="failover",
        run_id="R1",
        step_id=step,
        step_title=title,
        target="db2b",
        result=result,
        message="applied and verified",
        actions=({"kind": "ssh", "host": "db2b", "command": "db2 takeover hadr on db HADRDB"},),
    )


def alarm(state: str, since: datetime | None) -> AlarmView:
    return AlarmView(
        name="db2-diag-severe",
        state=state,
        state_since=since,
        reason="Threshold Crossed: 1 datapoint [2.0] was >= the threshold (1.0).",
        actions_enabled=True,
        namespace="Db2",
        metric_name="DiagSevere",
        period=60,
        statistic="Sum",
        threshold=1.0,
        comparison="GreaterThanOrEqualToThreshold",
        treat_missing="notBreaching",
    )


def test_merges_every_source_in_time_order():
    tl = Timeline("lab")
    assert tl.add_snapshot(healthy(T0)) == []
    events = tl.add_snapshot(failed_over(T0 + 9.5))
    assert {e.kind for e in events} >= {"promoted_changed", "route_moved"}
    tl.add_journal([journal_entry("takeover", "Takeover HADR on db2b", "2023-06-10T03:26:07Z")])
    tl.add_journal([journal_entry("takeover", "x", "2023-06-10T03:26:07Z", cluster="other")])  # not ours
    text = "\n\n".join(p.read_text() for p in corpus_files("db2diag/pcmk-takeover-*"))
    assert tl.add_log_entries(entries_from_text(text, "diag")) == 3
    tl.add_alarm_states([alarm("OK", None)], at=T0)  # first sighting, OK: nothing to say
    since = datetime(2023, 6, 10, 3, 26, 30, tzinfo=UTC)
    tl.add_alarm_states([alarm("ALARM", since)], at=T0 + 40)
    got = [(e.source, e.title) for e in tl.entries()]
    host = "db2diag {} on pcmk1.fyre.ibm.com: "
    assert got[:3] == [
        ("journal", "Takeover HADR on db2b [verified]"),
        (
            "log",
            host.format("Info") + "db2hadrp.0.1 hdrPriTkHandleInitialRequest: "
            "Primary has started non-forced takeover request.",
        ),
        (
            "log",
            host.format("Event") + "db2agnti sqeDBMgr::StartUsingLocalDatabase: "
            "START Received TAKEOVER HADR command.",
        ),
    ]
    status = [title for source, title in got if source == "status"]
    assert "promoted node changed: db2a -> db2b" in status
    assert "overlay IP 192.168.1.81/32 moved: db2a -> db2b" in status
    assert got.index(("status", status[0])) == 3
    assert got[-2][1].endswith("CHANGE HADR state set to HDR_S_PEER (was HDR_P_PEER), connId=1")
    assert got[-1] == ("alarm", "alarm db2-diag-severe: OK → ALARM")
    assert [e.at for e in tl.entries()] == sorted(e.at for e in tl.entries())
    assert [e.source for e in tl.entries(sources=["journal", "alarm"])] == ["journal", "alarm"]
    assert [e.source for e in tl.entries(since=T0 + 11)] == ["alarm"]


def test_adding_the_same_things_twice_changes_nothing():
    tl = Timeline("lab")
    entry = journal_entry("takeover", "Takeover HADR on db2b", "2023-06-10T03:26:05Z")
    assert tl.add_journal([entry]) == 1
    version = tl.version
    assert tl.add_journal([entry]) == 0 and tl.version == version
    logs = entries_from_text((CORPUS / "db2diag" / "pcmk-takeover-01-info-nonforced.txt").read_text(), "diag")
    assert tl.add_log_entries(logs) == 1 and tl.add_log_entries(logs) == 0
    assert len(tl) == 2


def test_only_log_records_of_interest_are_kept():
    # 2 Warning + 2 Event records about db2start (not HADR) and 1 Error: only the Error is an incident fact
    text = (CORPUS / "db2diag" / "container-db2start-warning-event-error.txt").read_text()
    entries = entries_from_text(text, "diag")
    assert [e.level for e in entries] == ["Warning", "Event", "Event", "Warning", "Error"]
    tl = Timeline("lab")
    assert tl.add_log_entries(entries) == 1
    (kept,) = tl.entries()
    assert kept.severity is Severity.WARNING
    assert kept.title.startswith("db2diag Error on 2e62336d93c9: db2bp sqleriar_database")
    assert kept.detail == entries[-1].text


def test_alarm_history_state_updates_only():
    history = AlarmHistory(
        "db2-diag-severe",
        (
            HistoryItem(
                datetime(2023, 6, 10, 3, 27, tzinfo=UTC), "StateUpdate", "Alarm updated from OK to ALARM"
            ),
            HistoryItem(
                datetime(2023, 6, 10, 3, 28, tzinfo=UTC), "Action", "Published a notification to SNS"
            ),
        ),
    )
    tl = Timeline("lab")
    assert tl.add_alarm_history(history) == 1
    (e,) = tl.entries()
    assert (e.severity, e.title) == (
        Severity.CRITICAL,
        "alarm db2-diag-severe: Alarm updated from OK to ALARM",
    )


def test_markdown_incident_report():
    tl = Timeline("lab")
    tl.add(TimelineEntry(T0, "status", Severity.WARNING, "promoted node changed: db2a -> db2b", ref="a"))
    tl.add(
        TimelineEntry(
            T0 + 2.25, "journal", Severity.INFO, "Takeover HADR on db2b [verified]", "$ db2 takeover", "b"
        )
    )
    md = tl.to_markdown(now=T0 + 60)
    assert md.splitlines()[:4] == [
        "# Incident timeline: lab",
        "",
        "Generated 2023-06-10 03:27:00Z by db2ops.",
        "",
    ]
    assert "- From 2023-06-10 03:26:00Z to 2023-06-10 03:26:02.250Z (UTC)" in md
    assert "- Entries: 1 status, 1 journal" in md
    assert "- Worst severity: warning" in md
    assert "- `2023-06-10 03:26:00Z` ⚠ **status** promoted node changed: db2a -> db2b" in md
    assert "  ```\n  $ db2 takeover\n  ```" in md
    assert Timeline("lab").to_markdown().endswith("_Nothing recorded in this range._\n")


def test_detail_with_backticks_gets_a_longer_fence():
    tl = Timeline("lab")
    tl.add(TimelineEntry(T0, "log", Severity.CRITICAL, "x", "a ``` b", "r"))
    assert "````\n  a ``` b\n  ````" in tl.to_markdown()


def test_bad_journal_time_is_skipped():
    tl = Timeline("lab")
    assert tl.add_journal([journal_entry("takeover", "t", "yesterday")]) == 0


def test_live_step_events_keep_their_exact_time_and_the_journal_copy_is_skipped():
    from services.plans import StepEvent

    tl = Timeline("lab")
    tl.add_snapshot(healthy(T0 + 6.9))
    tl.add_step_event("failover", StepEvent("takeover", "Takeover HADR on db2b", "applying"), T0 + 7.0)
    done = StepEvent("takeover", "Takeover HADR on db2b", "finished", "applied", "applied and verified")
    assert tl.add_step_event("failover", done, T0 + 7.2, target="db2b")
    tl.add_snapshot(failed_over(T0 + 7.6))
    # the journal line of the same step, stamped 03:26:07 (whole seconds), is not added twice
    assert tl.add_journal([journal_entry("takeover", "Takeover HADR on db2b", "2023-06-10T03:26:07Z")]) == 0
    assert tl.add_journal([journal_entry("final", "Final snapshot", "2023-06-10T03:26:08Z")]) == 1
    got = [(e.source, e.title) for e in tl.entries()]
    assert got[0] == ("journal", "Takeover HADR on db2b [verified]")
    assert tl.entries()[0].detail == "applied and verified (target db2b)"
    assert got[1][0] == "status" and got[-1] == ("journal", "Final snapshot [verified]")


def test_one_change_seen_by_two_pollers_is_one_entry():
    from services.status.events import StatusEvent

    tl = Timeline("lab")
    msg = "promoted node changed: db2a -> db2b"
    console = StatusEvent(T0 + 2.0, "lab", "promoted_changed", msg, Severity.WARNING)
    verify = StatusEvent(T0 + 0.6, "lab", "promoted_changed", msg, Severity.WARNING)
    assert tl.add_status_events([verify]) == 1
    assert tl.add_status_events([console]) == 0
    back = StatusEvent(
        T0 + 5.0, "lab", "promoted_changed", "promoted node changed: db2b -> db2a", Severity.WARNING
    )
    later = StatusEvent(T0 + 60.0, "lab", "promoted_changed", msg, Severity.WARNING)
    assert tl.add_status_events([back, later]) == 2
    assert [round(e.at - T0, 3) for e in tl.entries()] == [0.6, 5.0, 60.0]


def test_timeline_shows_control_characters_instead_of_sending_them_to_the_terminal():
    from services.status.model import Severity
    from services.timeline.model import Timeline, TimelineEntry

    t = Timeline("lab1")
    t.add(TimelineEntry(1.0, "log", Severity.INFO, "grant by \x1b]0;owned\x07", "before\x1b[2Jafter"))
    (entry,) = t.entries()
    assert "\x1b" not in entry.title + entry.detail
    assert entry.title == "grant by \\x1b]0;owned\\x07" and entry.detail == "before\\x1b[2Jafter"
