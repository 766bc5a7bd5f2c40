"""`db2ops status --json` fields a script reads: per part source/age/time/error, verdict codes, exit code."""

from __future__ import annotations

import json
from dataclasses import replace

from status_builders import hadr, healthy, part, with_verdicts

from services.status_json import status_to_dict


def test_each_part_says_where_when_and_how_long():
    s = healthy(t=1000.0)
    d = json.loads(json.dumps(status_to_dict(s, now=1012.5)))
    assert d["hadr"]["db2a"]["source"] == "db2a"
    assert d["hadr"]["db2a"]["age_s"] == 12.5
    assert d["hadr"]["db2a"]["fetched_at"] == 1000.0  # absolute, so a script can compare two runs
    assert d["hadr"]["db2a"]["duration_s"] == 0.0
    assert d["overlay_route"]["fetched_at"] == 1000.0


def test_each_cluster_carries_its_own_exit_code():
    # With several clusters the process exit code is the worst one; each object says its own.
    assert status_to_dict(healthy())["exit_code"] == 0
    degraded = healthy()
    degraded = with_verdicts(
        replace(
            degraded, hadr={**degraded.hadr, "db2b": part(hadr("STANDBY", state="REMOTE_CATCHUP"), "db2b")}
        )
    )
    d = status_to_dict(degraded)
    assert d["exit_code"] == 1 and [v["code"] for v in d["verdicts"]] == ["hadr_not_peer"]
    down = with_verdicts(replace(healthy(), host_errors={"db2b": "connection refused"}))
    assert status_to_dict(down)["exit_code"] == 2
