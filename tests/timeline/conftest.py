"""Fixtures of tests/timeline: the session moto server on 127.0.0.1, reset per test as in tests/alarms, and
the lab drill of lab_drill.py."""

from alarms.alarm_fixtures import aws  # noqa: F401
from moto_server import moto_url  # noqa: F401

from timeline.lab_drill import drill_lab  # noqa: F401
