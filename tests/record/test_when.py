"""`--since` / `--until` times: a duration ago, a clock time today (yesterday's when still to come), an ISO
date and time; anything else is refused with the accepted forms."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from services.record.when import WhenError, is_clock_time, parse_moment, parse_when

NOW = datetime(2026, 11, 30, 3, 20, 0).timestamp()  # this machine's clock


@pytest.mark.parametrize(
    ("text", "ago"), [("90s", 90), ("10m", 600), ("10 min", 600), ("2h", 7200), ("1d", 86400), ("1.5h", 5400)]
)
def test_a_duration_is_that_long_ago(text: str, ago: float) -> None:
    assert parse_when(text, NOW) == NOW - ago


def test_a_clock_time_is_today_or_yesterday() -> None:
    assert parse_when("03:12", NOW) == datetime(2026, 11, 30, 3, 12).timestamp()
    assert parse_when("03:12:33", NOW) == datetime(2026, 11, 30, 3, 12, 33).timestamp()
    assert parse_when("23:50", NOW) == datetime(2026, 11, 29, 23, 50).timestamp()  # not in the future


def test_an_iso_time() -> None:
    assert parse_when("2026-11-30T03:12:33Z", NOW) == 1_796_008_353.0
    assert parse_when("2026-11-30T03:12:33", NOW) == datetime(2026, 11, 30, 3, 12, 33).timestamp()


@pytest.mark.parametrize("text", ["", "soon", "10x", "25:99", "-5m"])
def test_anything_else_is_refused_with_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match="give a duration ago"):
        parse_when(text, time.time())


# ---------------------------------------------------------------- one grammar for the CLI and the replay


@pytest.mark.parametrize(
    "text", ["10m", "1h30m", "10 min", "03:12", "03:12:33", "2026-11-30T03:12:33Z", "2026-11-30 03:12:33"]
)
def test_the_cli_and_the_replay_read_the_shared_forms_alike(text: str) -> None:
    from services.record.replay_feed import parse_when as replay_when

    # the replay's clock time is on its base's day: a base after 03:12 makes the two readings meet
    assert parse_when(text, NOW) == replay_when(text, base=NOW) == parse_moment(text, base=NOW)


def test_durations_combine_and_only_the_replay_takes_a_sign() -> None:
    assert parse_when("1h30m", NOW) == NOW - 5400
    assert parse_moment("-5m", base=NOW) == NOW - 300 and parse_moment("+30s", base=NOW) == NOW + 30
    with pytest.raises(WhenError) as err:
        parse_moment("+30s", base=NOW, forward_ok=False)
    assert err.value.why == "future"
    for signed in ("-5m", "+5m"):
        with pytest.raises(WhenError, match="give a duration ago") as err:
            parse_when(signed, NOW)
        assert err.value.why == "signed"


def test_a_clock_time_is_on_the_base_day_for_the_replay_and_never_ahead_for_the_cli() -> None:
    assert parse_moment("23:50", base=NOW) == datetime(2026, 11, 30, 23, 50).timestamp()
    assert parse_when("23:50", NOW) == datetime(2026, 11, 29, 23, 50).timestamp()
    assert is_clock_time(" 03:12 ") and not is_clock_time("10m") and not is_clock_time("2026-11-30")


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("soon", "unreadable"),
        ("25:00", "invalid"),
        ("2026-13-01", "invalid"),
        ("2026-02-30", "invalid"),
    ],
)
def test_why_a_time_is_refused(text: str, why: str) -> None:
    with pytest.raises(WhenError) as err:
        parse_moment(text, base=NOW)
    assert err.value.why == why
    with pytest.raises(ValueError, match="give a duration ago"):  # the CLI's message names its forms
        parse_when(text, NOW)


def test_an_iso_time_with_an_offset() -> None:
    assert parse_when("2026-11-30T04:12:33+01:00", NOW) == 1_796_008_353.0
    assert parse_moment("2026-11-30T03:12:33.5Z", base=NOW) == 1_796_008_353.5
