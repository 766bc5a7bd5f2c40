"""Fixtures for plan tests (from tests/plan_fixtures.py): one moto server for the session (reset per
test), a fresh lab cluster whose host commands run in-process, and the journal/progress directories
under tmp_path. `post` stays importable from here (moto's control API)."""

from __future__ import annotations

from plan_fixtures import aws_endpoint, lab, moto_endpoint, post, state_home

# pytest takes a conftest's fixtures from its names: importing them is what shares them here
__all__ = ["aws_endpoint", "lab", "moto_endpoint", "post", "state_home"]
