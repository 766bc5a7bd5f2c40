"""Fixtures of tests/timeline: the moto server on 127.0.0.1 of tests/alarms (reset per test)."""

from alarms.alarm_fixtures import aws, moto_url  # noqa: F401
