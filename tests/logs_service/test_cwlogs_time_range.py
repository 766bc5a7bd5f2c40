"""Time ranges typed in the Insights panel and time jumps of the log view."""

from datetime import UTC, datetime, timedelta

import pytest

from services.logs.insights import TimeRangeError, parse_instant, parse_time_range

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("15m", timedelta(minutes=15)),
        ("2h", timedelta(hours=2)),
        ("1d", timedelta(days=1)),
        ("last 30 min", timedelta(minutes=30)),
        ("1w", timedelta(weeks=1)),
    ],
)
def test_relative_ranges_end_now(text, delta):
    r = parse_time_range(text, NOW)
    assert (r.start, r.end) == (NOW - delta, NOW)


def test_since_last_failover_starts_at_the_takeover():
    takeover = datetime(2026, 11, 26, 11, 17, 3, tzinfo=UTC)
    r = parse_time_range("since last failover", NOW, last_failover=takeover)
    assert (r.start, r.end) == (takeover, NOW)
    assert "2026-11-26 11:17:03" in r.label


def test_since_last_failover_without_a_takeover_says_what_to_do():
    with pytest.raises(TimeRangeError, match="no takeover seen yet"):
        parse_time_range("since last failover", NOW)


def test_absolute_range_in_utc():
    r = parse_time_range("2026-11-26 10:00..2026-11-26 11:00", NOW)
    assert r.start == datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
    assert r.end == datetime(2026, 11, 26, 11, 0, tzinfo=UTC)


def test_open_ended_absolute_range_runs_until_now():
    r = parse_time_range("2026-11-26T09:30:15Z..", NOW)
    assert (r.start, r.end) == (datetime(2026, 11, 26, 9, 30, 15, tzinfo=UTC), NOW)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no time range given"),
        ("yesterday", "cannot read the time range"),
        ("2026-11-26 11:00..2026-11-26 10:00", "swap the two times"),
        ("2026-13-01 10:00..", "cannot read the time"),
        ("0m", "is empty"),
    ],
)
def test_bad_ranges_raise_with_the_accepted_forms(text, message):
    with pytest.raises(TimeRangeError, match=message):
        parse_time_range(text, NOW)


def test_time_jump_accepts_clock_time_today_dates_and_ago():
    assert parse_instant("10:05", NOW) == datetime(2026, 11, 26, 10, 5, tzinfo=UTC)
    assert parse_instant("2026-11-25 23:59:59", NOW) == datetime(2026, 11, 25, 23, 59, 59, tzinfo=UTC)
    assert parse_instant("-15m", NOW) == NOW - timedelta(minutes=15)
    with pytest.raises(TimeRangeError, match="-15m"):
        parse_instant("soon", NOW)
