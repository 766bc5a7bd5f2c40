"""The headline dates a takeover on this console's clock: Pacemaker's times (the node's clock, zone and
skew) are mapped through the same answer's `last_update`, and a time after the snapshot is never stated.
A reviewer saw "took over at 15:00:07" on a snapshot taken at 14:59:06 (the node's clock 65 s ahead)."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tui"))

import tui_fixtures as fx  # noqa: E402

from services.parsers.crm_mon_xml import parse_crm_mon_xml  # noqa: E402
from services.status.incident import build_headline, clock_time, crm_epoch, find_failover  # noqa: E402
from services.status.verdicts import derive_verdicts  # noqa: E402

AHEAD = "Thu Nov 26 15:00:11 2026"  # the 04-node-down capture's last_update; the snapshot is at T0 (14:59:06)


def _skewed_crm(last_update: str = AHEAD):
    """db2b's crm_mon answer after db2a crashed, its clock 65 s ahead of the console's (T0)."""
    xml = fx._mirrored(fx._read("04-node-down/db2a__crm_mon_-1_--output-as=xml.xml"))
    return fx._p(replace(parse_crm_mon_xml(xml), last_update=last_update), "db2b", fx.T0)


def _stale_with(crm) -> object:
    status = replace(fx.failover_stale(), crm=crm)
    return replace(status, verdicts=derive_verdicts(status))


def test_a_node_clock_ahead_is_mapped_onto_the_console_clock():
    crm = _skewed_crm()
    assert crm.value.last_update == AHEAD
    # promoted 4 s before that node's crm_mon ran, so 4 s before the answer arrived here
    assert crm_epoch(crm, "Thu Nov 26 15:00:07 2026") == fx.T0 - 4


def test_the_takeover_is_dated_before_the_snapshot_and_after_the_loss():
    status = _stale_with(_skewed_crm())
    f = find_failover(status)
    assert f is not None and f.done and f.promoted_at is not None and f.lost_at is not None
    assert f.lost_at <= f.promoted_at <= status.taken_at
    title = build_headline(status, fx.T0 + 1).title
    assert f"at {clock_time(fx.T0 - 4)}" in title
    assert "15:00:07" not in title


def test_a_takeover_time_in_the_future_of_the_snapshot_is_not_stated():
    # no last_update to learn the node's clock from: the promote reads 61 s after the answer arrived
    status = _stale_with(_skewed_crm(last_update=""))
    title = build_headline(status, fx.T0 + 1).title
    assert "took over as HADR primary" in title
    assert "15:00:07" not in title
    assert "promoted it" not in title  # no delay computed from an impossible time


def test_the_stale_fixture_tells_a_possible_story():
    # the snapshot tests' failover_stale: db2a last seen 38.5 s before T0, db2b promoted since, before T0
    status = fx.failover_stale()
    # its crm_mon answer is dated at the snapshot (the capture re-dated), not at 15:00:11
    assert status.crm.value.last_update == "Thu Nov 26 14:59:06 2026"
    f = find_failover(status)
    assert f is not None and f.promoted_at is not None and f.lost_at is not None
    assert fx.T0 - 38.5 <= f.lost_at <= f.promoted_at <= fx.T0


def _healthy_b_took_over_at(when: float):
    """The after-move fixture (db2b primary, HADR PEER) whose primary reports HADR_LAST_TAKEOVER_TIME `when`."""
    status = fx.after_failover()
    part = status.hadr["db2b"]
    streams = tuple(replace(st, last_takeover_time=when) for st in part.value.streams)
    return replace(
        status, hadr={**status.hadr, "db2b": replace(part, value=replace(part.value, streams=streams))}
    )


def test_the_healthy_line_names_a_takeover_of_the_last_hour_only():
    recent = build_headline(_healthy_b_took_over_at(fx.T0 - 600), fx.T0).title
    assert recent.startswith(
        f"Healthy: db2b is primary since the takeover at {clock_time(fx.T0 - 600)} (10 min ago),"
    )
    old = build_headline(_healthy_b_took_over_at(fx.T0 - 3700), fx.T0).title
    assert old == "Healthy: db2b is primary, HADR PEER, quorum with qdevice"
    # a takeover time after the answer that reported it is a wrong clock, not a fact
    future = build_headline(_healthy_b_took_over_at(fx.T0 + 60), fx.T0 + 90).title
    assert "takeover" not in future
