"""A recorded snapshot decodes to the very snapshot that was recorded: every moment of a kill/restore drill,
stale parts, errors and verdicts included; a damaged or foreign record is refused with a clear error."""

from __future__ import annotations

import json

import pytest
from incident_harness import DrillWalk

from services.record.codec import CodecError, decode, status_from_json, status_to_json
from services.status.model import ClusterStatus, Severity
from services.status.render_json import status_to_dict


async def _walk(monkeypatch) -> list[ClusterStatus]:
    walk = DrillWalk(monkeypatch=monkeypatch)
    frames = [await walk.snap()]
    walk.lab.kill_primary()
    for step in (0.5, 1.5, 10, 30):
        walk.advance(step)
        frames.append(await walk.snap())
    walk.lab.restore()
    walk.advance(20)
    frames.append(await walk.snap())
    return frames


async def test_every_moment_of_a_drill_round_trips(monkeypatch) -> None:
    frames = await _walk(monkeypatch)
    assert any(f.severity is Severity.CRITICAL for f in frames)  # the walk really left healthy
    assert any(p.stale for f in frames for p in f.hadr.values())  # and carried stale parts
    for status in frames:
        back = status_from_json(status_to_json(status))
        assert back == status
        assert status_to_dict(back, now=status.taken_at) == status_to_dict(status, now=status.taken_at)


async def test_defaults_are_not_written(monkeypatch) -> None:
    frames = await _walk(monkeypatch)
    text = status_to_json(frames[0])
    assert '"standby":false' not in text  # CrmNode.standby's default
    assert len(text) < len(json.dumps(status_to_dict(frames[0], now=frames[0].taken_at))) * 3


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("{not json", "not JSON"),
        ('{"format": 1}', "no 'status'"),
        ('{"format": 99, "status": {}}', "format 99"),
        ('{"format": 1, "status": {"cluster": "lab1"}}', "ClusterStatus.taken_at is missing"),
        ('{"format": 1, "status": {"cluster": 7, "taken_at": 1.0}}', "ClusterStatus.cluster"),
        (
            '{"format": 1, "status": {"cluster": "a", "taken_at": 1.0, "verdicts": [{"code": "x", '
            '"severity": "dire", "message": "m"}]}}',
            "dire",
        ),
    ],
)
def test_a_damaged_record_is_refused_clearly(text: str, words: str) -> None:
    with pytest.raises(CodecError, match=words):
        status_from_json(text)


def test_an_older_record_without_a_new_field_takes_its_default() -> None:
    status = decode({"cluster": "a", "taken_at": 5}, ClusterStatus)
    assert status == ClusterStatus(cluster="a", taken_at=5.0)


async def test_change_times_skip_polls_where_only_clocks_moved(monkeypatch) -> None:
    from services.record.model import Frame, MemoryRecording, same_state

    walk = DrillWalk(monkeypatch=monkeypatch)
    steady = []
    for _ in range(3):
        steady.append(await walk.snap())
        walk.advance(2)
    assert steady[0] != steady[1]  # the times differ...
    assert same_state(steady[0], steady[1])  # ...the state does not
    walk.lab.kill_primary()
    walk.advance(0.5)
    killed = await walk.snap()
    assert not same_state(steady[-1], killed)
    rec = MemoryRecording(Frame(s.taken_at, s) for s in [*steady, killed])
    assert rec.change_times("lab1") == [steady[0].taken_at, killed.taken_at]
    assert rec.status_at("lab1", steady[1].taken_at + 1) == steady[1]
    assert rec.status_at("lab1", steady[0].taken_at - 1) is None
