"""Fixtures of tests/timeline: the moto server on 127.0.0.1 of tests/alarms (reset per test) and the lab
drill of lab_drill.py."""

from alarms.alarm_fixtures import aws, moto_url  # noqa: F401

from timeline.lab_drill import drill_lab  # noqa: F401
