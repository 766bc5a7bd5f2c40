"""`db2ops status --json` fields a script reads: per part source/age/time/error, verdict codes, exit code."""

from __future__ import annotations

import json
from dataclasses import replace

from status_builders import down as unreachable
from status_builders import hadr, healthy, part, with_verdicts

from services.status.render_json import status_document, status_to_dict


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
    down = with_verdicts(replace(healthy(), host_errors={"db2b": unreachable("db2b")}))
    assert status_to_dict(down)["exit_code"] == 2


def _named(name: str, s=None):
    return replace(s or healthy(), cluster=name)


def test_document_has_one_shape_for_one_cluster_and_several():
    one = json.loads(json.dumps(status_document([_named("c1")], now=1012.5)))
    down = with_verdicts(replace(healthy(), cluster="c2", host_errors={"db2b": unreachable("db2b")}))
    two = json.loads(json.dumps(status_document([_named("c1"), down], now=1012.5)))
    assert set(one) == set(two) == {"schema_version", "exit_code", "clusters"}
    assert one["schema_version"] == two["schema_version"] == 1
    assert isinstance(one["clusters"], list)
    assert [c["cluster"] for c in one["clusters"]] == ["c1"]
    assert one["clusters"][0] == json.loads(json.dumps(status_to_dict(_named("c1"), now=1012.5)))
    assert [c["cluster"] for c in two["clusters"]] == ["c1", "c2"]  # in the order given
    assert (one["exit_code"], two["exit_code"]) == (0, 2)  # the worst cluster's
    assert [c["exit_code"] for c in two["clusters"]] == [0, 2]


def test_document_exit_code_can_be_the_process_one_and_no_cluster_is_an_empty_list():
    assert status_document([_named("c1")], exit_code=2)["exit_code"] == 2  # e.g. a host key awaits trust
    assert status_document([]) == {"schema_version": 1, "exit_code": 0, "clusters": []}


def test_a_failed_part_keeps_error_as_its_message_and_adds_error_kind():
    s = healthy(t=1000.0)
    failed = replace(s.hadr["db2b"], value=None, error=unreachable("db2b", "connection refused"))
    d = json.loads(json.dumps(status_to_dict(replace(s, hadr={**s.hadr, "db2b": failed}), now=1000.0)))
    assert d["hadr"]["db2b"]["error"] == "connection refused"  # a string, as before error_kind existed
    assert d["hadr"]["db2b"]["error_kind"] == "unreachable"
    assert (d["hadr"]["db2a"]["error"], d["hadr"]["db2a"]["error_kind"]) == (None, None)
    down = json.loads(json.dumps(status_to_dict(replace(s, host_errors={"db2b": unreachable("db2b")}))))
    assert down["host_errors"] == {"db2b": "connection refused"}
    assert down["host_error_kinds"] == {"db2b": "unreachable"}
