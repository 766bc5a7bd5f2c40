"""The mute request (reason, expiry) and the mute notes read back from journal lines."""

from datetime import UTC, datetime, timedelta

import pytest

from services.alarms.mute import MuteRequest, MuteRequestError, make_mute_request, mute_notes, parse_expiry
from services.plans.journal import JournalEntry

NOW = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "until"),
    [
        ("", None),
        ("30m", NOW + timedelta(minutes=30)),
        ("2 h", NOW + timedelta(hours=2)),
        ("1d", NOW + timedelta(days=1)),
        ("23:45", NOW + timedelta(minutes=45)),
        ("02:00 UTC", datetime(2026, 12, 7, 2, 0, tzinfo=UTC)),  # earlier than now today: tomorrow
        ("2026-12-07 04:30", datetime(2026, 12, 7, 4, 30, tzinfo=UTC)),
    ],
)
def test_expiry_forms(text, until):
    assert parse_expiry(text, NOW) == until


@pytest.mark.parametrize(
    ("reason", "expiry", "message"),
    [
        ("  ", "1h", "say why the alarm is muted"),
        ("drill", "tomorrow", "cannot read the expiry 'tomorrow'"),
        ("drill", "2026-12-01 10:00", "not in the future"),
        ("drill", "8d", "more than 7 days"),
    ],
)
def test_unusable_requests_say_what_to_type(reason, expiry, message):
    with pytest.raises(MuteRequestError, match=message):
        make_mute_request(reason, expiry, NOW)


def entry(step_id: str, alarm: str, when: str, result: str = "verified", **details) -> JournalEntry:
    return JournalEntry(
        who="alice",
        when=when,
        cluster="c1",
        plan=step_id,
        run_id="r",
        step_id=step_id,
        step_title="t",
        target="aws",
        result=result,
        actions=({"kind": "aws", "params": {"AlarmNames": [alarm]}},),
        details={"alarm": alarm, **details} if details else {},
    )


def test_the_last_mute_or_unmute_of_each_alarm_decides():
    notes = mute_notes(
        [
            entry("alarm-mute", "a1", "2026-12-06T20:00:00Z", reason="old", until=None),
            entry("alarm-unmute", "a1", "2026-12-06T21:00:00Z"),
            entry("alarm-mute", "a2", "2026-12-06T21:00:00Z", reason="patch", until="2026-12-06T22:00:00Z"),
            entry("alarm-mute", "a3", "2026-12-06T21:00:00Z", result="failed", reason="x", until=None),
            entry("alarm-mute", "a4", "2026-12-06T21:00:00Z"),  # a line written before details existed
        ]
    )
    assert set(notes) == {"a2", "a4"}
    assert notes["a2"].reason == "patch" and notes["a2"].expired(NOW)
    assert notes["a4"].reason == "" and notes["a4"].until is None and not notes["a4"].expired(NOW)


def test_details_round_trip_through_a_journal_line():
    line = entry("alarm-mute", "a1", "2026-12-06T20:00:00Z", reason="r", until=None)
    assert JournalEntry.from_dict(line.to_dict()) == line
    plain = entry("alarm-edit", "a1", "2026-12-06T20:00:00Z")
    assert "details" not in plain.to_dict()  # lines of other steps are unchanged
    assert MuteRequest("r").until is None
