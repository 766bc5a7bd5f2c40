"""`--since` / `--until` times: a duration ago, a clock time today (yesterday's when still to come), an ISO
date and time; anything else is refused with the accepted forms."""

from __future__ import annotations

import time
from datetime import datetime

import pytest

from services.record.when import parse_when

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
