"""Replay of the real-Pacemaker walk (issue 13): the walk (cluster_walk.py) hands every snapshot it gathers
to the console's Recorder; here the recording is opened as `db2ops replay` opens it (replay_feed.open_reader,
the read-only store) and each state of the walk must be found at the time the walk accepted it, stepping
change by change must pass through the states in walk order, and the incidents must name the takeover.
Run with `pytest -m pacemaker`."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from services.record.incidents import Incident, find_incidents
from services.record.model import RAW, RecordingReader
from services.record.open_store import close_recording
from services.record.recorder import Recorder
from services.record.replay_feed import ReplayFeeder, cluster_from_status, open_reader, resolve_start
from services.status.incident import clock_time
from services.status.model import ClusterStatus
from services.status.poll import ClusterFeed

from .cluster_walk import STATES, Observation, mismatches

pytestmark = pytest.mark.pacemaker


@dataclass
class Replayed:
    reader: RecordingReader
    cluster: str
    feeder: ReplayFeeder
    steps: list[tuple[float, ClusterStatus]]  # (change time, the replayed status there), stepping forward


def _step_through(
    feeder: ReplayFeeder, cluster: str, first: ClusterStatus
) -> Iterator[tuple[float, ClusterStatus]]:
    """Step the replay from its first frame to its last, change by change (the scrubber's `]`), yielding
    what the status screen's feed holds at each stop."""
    feed = ClusterFeed(cluster_from_status(first))
    at: float | None = feeder.span()[0]
    while at is not None:
        feeder.apply(at, {cluster: feed})
        assert feed.status is not None
        yield at, feed.status
        at = feeder.next_change(at, cluster)


@pytest.fixture(scope="module")
def replayed(cluster_walk: dict[str, Observation], walk_recorder: Recorder) -> Iterator[Replayed]:
    opened = open_reader(store=walk_recorder.path)
    reader = opened.reader
    start = resolve_start(reader)  # what a bare `db2ops replay` on this recording would open
    (cluster,) = start.clusters
    feeder = ReplayFeeder(reader, [cluster])
    first = reader.status_at(cluster, feeder.span()[0])
    assert first is not None
    yield Replayed(reader, cluster, feeder, list(_step_through(feeder, cluster, first)))
    close_recording(reader)


def _walked(cluster_walk: dict[str, Observation], state: str) -> Observation:
    obs = cluster_walk[state]
    if obs.mismatches:
        pytest.fail(f"the walk never saw {state} (test_real_cluster.py says why): {obs.mismatches}")
    return obs


def test_the_recorder_kept_up_with_the_walk(cluster_walk, walk_recorder: Recorder, replayed) -> None:
    state = walk_recorder.state
    assert state.paused_reason is None and state.dropped == 0, state
    assert state.frames >= len(STATES)
    span = replayed.reader.span(replayed.cluster)
    assert span is not None
    first, last = cluster_walk[STATES[0]], cluster_walk[STATES[-1]]
    assert span[0] <= first.accepted_at and last.accepted_at - 1.0 <= span[1] <= last.accepted_at


@pytest.mark.parametrize("state", STATES)
def test_each_state_is_found_at_its_time(cluster_walk, replayed, state: str) -> None:
    obs = _walked(cluster_walk, state)
    feed = ClusterFeed(cluster_from_status(obs.status))
    replayed.feeder.apply(obs.accepted_at, {replayed.cluster: feed})
    assert feed.status is not None, f"no frame recorded at or before {state}"
    assert feed.status.taken_at <= obs.accepted_at
    assert mismatches(feed.status, obs.expect) == [], (
        f"replay at {clock_time(obs.accepted_at)} ({state}) shows {[v.code for v in feed.status.verdicts]}"
    )
    # the replay reads back what the walk saw then: the same verdicts, word for word
    assert [(v.code, v.message) for v in feed.status.verdicts] == [
        (v.code, v.message) for v in obs.status.verdicts
    ]


def test_stepping_change_by_change_visits_the_states_in_walk_order(cluster_walk, replayed) -> None:
    times = [at for at, _ in replayed.steps]
    assert times == replayed.reader.change_times(replayed.cluster)
    stops: list[int] = []  # per state, the step in force when the walk accepted it
    for state in STATES:
        obs = _walked(cluster_walk, state)
        step = bisect.bisect_right(times, obs.accepted_at) - 1
        assert step >= 0, f"{state} was accepted before the first recorded frame"
        _, status = replayed.steps[step]
        assert mismatches(status, obs.expect) == [], f"step {step} ({state})"
        stops.append(step)
    for i in range(1, len(STATES)):
        before, after, b, a = STATES[i - 1], STATES[i], stops[i - 1], stops[i]
        differs = cluster_walk[before].expect != cluster_walk[after].expect
        # a new picture is a new step; the same picture (a move's constraint cleared) may stay on one
        assert (a > b) if differs else (a >= b), f"{before} at step {b}, {after} at step {a}"
    assert len(set(stops)) >= len(STATES) - 1  # only moved/move-cleared look alike


def _covering(incidents: list[Incident], at: float) -> Incident | None:
    return next((i for i in incidents if i.start <= at and (i.end is None or at < i.end)), None)


def test_incidents_of_the_walk_name_the_takeover(cluster_walk, replayed) -> None:
    incidents = find_incidents(replayed.reader, replayed.cluster)
    assert incidents, "the walk crashed nodes and lost quorum, but the recording shows no incident"
    for state in STATES:
        obs = _walked(cluster_walk, state)
        covering = _covering(incidents, obs.accepted_at)
        if obs.expect.verdicts:
            assert covering is not None, f"{state} ({sorted(obs.expect.verdicts)}) is in no incident"
        else:
            assert covering is None, f"healthy {state} lies inside incident {covering}"
    crash = cluster_walk["node-crash"]
    incident = _covering(incidents, crash.accepted_at)
    assert incident is not None
    crashed, survivor = crash.context["crashed"], crash.status.promoted_node
    assert (incident.old_primary, incident.new_primary) == (crashed, survivor)
    assert f"{survivor} took over from {crashed} (crash)" in incident.summary, incident.summary
    assert incident.summary.startswith(f"{clock_time(incident.start)}–{clock_time(incident.end or 0)} ")
    assert incident.end is not None and incident.end <= cluster_walk["crash-rejoined"].accepted_at
    assert incident.start <= crash.accepted_at
    # the evidence a bundle of it carries: the crm_mon XML of the span, more than one
    xml = [
        i
        for i in replayed.reader.items(replayed.cluster, incident.start, incident.end, kinds=[RAW])
        if "crm_mon" in i.payload.get("command", "")
    ]
    assert len(xml) >= 2, [i.payload.get("command") for i in xml]
    assert all("<pacemaker-result" in i.payload.get("text", "") for i in xml)


def test_switchovers_end_as_takeovers_not_as_unfinished(cluster_walk, replayed) -> None:
    """An incident ends at the healthy snapshot that shows its promotion done: its summary says who took
    over, never that the switchover was "not completed"."""
    incidents = find_incidents(replayed.reader, replayed.cluster)
    standby = cluster_walk["node-standby"]
    incident = _covering(incidents, standby.accepted_at)
    assert incident is not None and incident.end is not None
    new, old = standby.status.promoted_node, standby.context["standby_node"]
    assert f"{new} took over from {old} (switchover)" in incident.summary, incident.summary
    assert incident.promoted_at is not None and incident.start <= incident.promoted_at <= incident.end
    # the move: an incident only when a poll caught the promotion under way (about a second)
    healthy, moved = cluster_walk["healthy"], cluster_walk["moved"]
    for i in incidents:
        if healthy.accepted_at < i.start <= moved.accepted_at:
            assert (
                f"{moved.context['moved_to']} took over from {moved.context['moved_from']} (switchover)"
                in (i.summary)
            ), i.summary
    assert not [i.summary for i in incidents if i.end is not None and "not completed" in i.summary]
