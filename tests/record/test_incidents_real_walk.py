"""Incidents of a recording of the REAL Pacemaker walk (tests/pacemaker/cluster_walk.py: move, standby, node
crash, qnetd down, quorum lost, recovered), without the lab: the frames the recorder stored during one
`pytest -m pacemaker` run (tests/corpus/pacemaker-lab/record/README.md). On real Pacemaker a switchover's
last degraded snapshot shows the promotion under way and the healthy one ending the incident shows it done:
the summary must say who took over, not "not completed"."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace

from corpus import corpus_files

from services.record.codec import decode_status
from services.record.incidents import find_incidents
from services.record.model import Frame, MemoryRecording
from services.status.incident import clock_time
from services.status.model import ClusterStatus

(WALK,) = corpus_files("pacemaker-lab/record/walk-frames.jsonl.gz")


def _frames() -> list[ClusterStatus]:
    with gzip.open(WALK, "rt") as fh:
        return [decode_status(json.loads(line)) for line in fh]


def _recording(statuses: list[ClusterStatus]) -> MemoryRecording:
    return MemoryRecording(Frame(s.taken_at, s) for s in statuses)


def test_every_incident_of_the_real_walk_names_its_takeover() -> None:
    incidents = find_incidents(_recording(_frames()), "pcmk")
    takeovers = [i.summary.split(" ", 1)[1] for i in incidents]
    assert takeovers == [
        "db2a took over from db2b (switchover)",  # crm resource move
        "db2b took over from db2a (switchover)",  # the primary's node put in standby
        "db2a took over from db2b (crash)",  # its corosync and pacemaker killed
        "db2b took over from db2a (crash)",  # the primary killed without qnetd: quorum lost, then back
    ]
    for i in incidents:
        assert i.end is not None and i.summary.startswith(f"{clock_time(i.start)}–{clock_time(i.end)} ")
        assert i.promoted_at is not None and i.start - 1 <= i.promoted_at <= i.end
        assert (i.new_primary, i.old_primary) == tuple(i.summary.split()[1:6:4])


def test_promoted_again_where_it_was_is_no_takeover() -> None:
    """The move's incident, but ending with the old primary promoted again: the headline, no takeover."""
    frames = _frames()
    before, during, after = frames[0], frames[1], frames[2]
    assert (before.promoted_node, during.promoted_node, after.promoted_node) == ("db2b", None, "db2a")
    back = replace(before, taken_at=after.taken_at)
    (incident,) = find_incidents(_recording([before, during, back]), "pcmk")
    assert incident.new_primary is None and "took over" not in incident.summary
    assert "promotion in progress" in incident.summary or "switchover" in incident.summary


def test_an_incident_still_promoting_at_the_end_is_not_completed() -> None:
    frames = _frames()
    (incident,) = find_incidents(_recording(frames[:2]), "pcmk")
    assert incident.open and incident.summary.endswith("ongoing switchover to db2a not completed")
