"""Incidents found in a recording: from the first degraded snapshot to the return to healthy, one line each,
numbered per cluster in time order, through the lab drills (K kill-primary, D disconnect-hadr, N stop-qnetd,
R restore), none, an open one, and two in a row."""

from __future__ import annotations

from incident_harness import START, DrillWalk
from recorded_walk import RecordedWalk, kill_primary_walk

from services.record.incidents import find_incidents, short_title
from services.record.model import ALARM
from services.status.incident import clock_time
from services.status.model import Severity


async def _walk(monkeypatch) -> RecordedWalk:
    r = RecordedWalk(DrillWalk(monkeypatch=monkeypatch))
    await r.snap()
    await r.step(2, 2)
    return r


async def test_kill_primary_is_one_incident_naming_the_takeover(monkeypatch) -> None:
    r = await kill_primary_walk(monkeypatch)
    (incident,) = find_incidents(r.recording, "lab1")
    assert incident.number == 1 and incident.cluster == "lab1"
    assert incident.start == START + 4.5  # the first poll after the kill
    assert incident.end == START + 67  # db2a back in PEER: healthy (the takeover line is OK, not degraded)
    assert incident.severity is Severity.CRITICAL
    assert (incident.new_primary, incident.old_primary) == ("db2b", "db2a")
    assert incident.promoted_at is not None and incident.lost_at is not None
    assert incident.route_moved_at == START + 12
    assert incident.summary == (
        f"{clock_time(START + 4.5)}–{clock_time(START + 67)} db2b took over from db2a (crash), "
        "route moved in 8 s, 1 alarm"
    )
    assert "\n" not in incident.summary
    assert incident.alarms == ("db2-lab1-hadr-role",)


async def test_a_healthy_recording_has_no_incident(monkeypatch) -> None:
    r = await _walk(monkeypatch)
    await r.step(30, 30)
    assert find_incidents(r.recording, "lab1") == []
    assert find_incidents(r.recording, "other") == []


async def test_an_incident_still_degraded_at_the_end_is_open(monkeypatch) -> None:
    r = await _walk(monkeypatch)
    r.walk.lab.kill_primary()
    await r.step(0.5, 12, 30)
    (incident,) = find_incidents(r.recording, "lab1")
    assert incident.end is None and incident.open
    assert incident.summary.startswith(f"{clock_time(START + 4.5)}–ongoing db2b took over from db2a")
    assert incident.span(60) == (START + 4.5 - 60, None)


async def test_disconnect_hadr_then_stop_qnetd_are_two_incidents_numbered_in_order(monkeypatch) -> None:
    r = await _walk(monkeypatch)
    r.walk.lab.disconnect_hadr()
    await r.step(0.5, 60)
    r.walk.lab.reconnect_hadr()
    await r.step(0.5, 30)
    r.walk.lab.stop_qnetd()
    await r.step(1, 30)
    r.walk.lab.restore()
    await r.step(1, 30)
    first, second = find_incidents(r.recording, "lab1")
    assert (first.number, second.number) == (1, 2)
    assert (
        first.code == "hadr_disconnected"
        and "HADR link down between db2a (primary) and db2b" in first.summary
    )
    assert first.end is not None and first.end <= second.start
    assert "qnetd" in second.summary.lower() or "quorum" in second.summary.lower()
    assert second.severity.rank >= Severity.WARNING.rank
    # numbers are the recording's: asking for the later span alone still calls it #2
    assert [i.number for i in find_incidents(r.recording, "lab1", since=second.start)] == [2]
    assert [i.number for i in find_incidents(r.recording, "lab1", until=first.end)] == [1]
    assert find_incidents(r.recording, "lab1", since=(second.end or 0) + 1) == []


async def test_alarms_counted_from_recorded_alarm_changes(monkeypatch) -> None:
    r = await _walk(monkeypatch)
    r.walk.lab.disconnect_hadr()
    await r.step(0.5)
    r.add(ALARM, {"name": "a1", "state": "ALARM", "previous": "OK", "reason": ""})
    r.add(ALARM, {"name": "a2", "state": "ALARM", "previous": "OK", "reason": ""})
    r.add(ALARM, {"name": "a1", "state": "OK", "previous": "ALARM", "reason": ""})
    await r.step(10)
    r.walk.lab.reconnect_hadr()
    await r.step(0.5, 30)
    (incident,) = find_incidents(r.recording, "lab1")
    assert incident.alarms == ("a1", "a2")
    assert incident.summary.endswith(", 2 alarms")


def test_a_long_headline_is_cut_to_its_first_clause() -> None:
    long = "HADR link down between db2a (primary) and db2b (standby), both instances running: " + "x " * 80
    assert (
        short_title(long)
        == "HADR link down between db2a (primary) and db2b (standby), both instances running"
    )
    assert len(short_title("word " * 40)) <= 90 and short_title("word " * 40).endswith("…")
    assert short_title("short") == "short"


async def test_a_recording_without_events_gives_the_same_incidents(monkeypatch) -> None:
    """The summary's route time comes from the recorded events, or from the frames when none were."""
    from services.record.model import Frame, MemoryRecording

    r = await kill_primary_walk(monkeypatch)
    frames_only = MemoryRecording(
        (Frame(f.at, f.status) for f in r.recording.frames("lab1")),
        r.recording.items("lab1", kinds=(ALARM,)),
    )
    assert find_incidents(frames_only, "lab1") == find_incidents(r.recording, "lab1")
