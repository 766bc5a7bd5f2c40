"""Fixtures of tests/alarms (defined in alarm_fixtures.py, which the tests also import helpers from)."""

from moto_server import moto_url  # noqa: F401

from alarms.alarm_fixtures import aws, monitoring  # noqa: F401
