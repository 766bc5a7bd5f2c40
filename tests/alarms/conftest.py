"""Fixtures of tests/alarms (defined in alarm_fixtures.py, which the tests also import helpers from)."""

from alarms.alarm_fixtures import aws, monitoring, moto_url  # noqa: F401
