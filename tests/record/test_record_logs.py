"""The log records the timeline keeps are recorded as LOG items (issue 13): a timeline poll (CloudWatch
stubbed) records each record once, across polls and across a restarted console; a replay of the recording
shows them on its timeline and its :logs screen; without a recorder nothing is recorded and nothing fails."""

from __future__ import annotations

from pathlib import Path

from corpus import CORPUS
from timeline.test_timeline_sources import (
    ERROR,
    GROUP,
    NOW,
    PROD,
    STREAM,
    T_TAKEOVER,
    TAKEOVER,
    NoAlarms,
    event,
    lists_streams,
    reads,
    stubbed,
)

from services.context import ConsoleContext
from services.inventory.model import Inventory
from services.logs.cloudwatch import CloudWatchLogs
from services.logs.model import entries_from_event
from services.record.model import LOG
from services.record.recorder import Recorder
from services.record.replay_feed import cluster_from_status, log_entries, resolve_start, timeline_until
from services.record.store import RecordStore
from services.settings import Settings
from services.status.model import ClusterStatus
from services.timeline.sources import DEFAULT_WINDOW_S, LATE_MS, TimelineSources

assert CORPUS  # the records come from the corpus (through test_timeline_sources)
# the error record carries its own (much later) time: the replay is looked at after both records
(_LAST,) = entries_from_event(event(ERROR, 0, 0), "diag")
LATER = _LAST.ts_us / 1_000_000 + 1


def _recorder(path: Path) -> Recorder:
    return Recorder(path, retention_days=None, max_mb=None, clock=lambda: NOW).start()


async def _poll_twice(context: ConsoleContext) -> list[str]:
    """Two timeline polls of PROD: the first reads the takeover and an error, the second (LATE_MS back)
    the takeover again. Returns the timeline's log titles."""
    logs, stub = stubbed("logs")
    ms = int(T_TAKEOVER * 1000)
    start = int((NOW - DEFAULT_WINDOW_S) * 1000)
    lists_streams(stub)
    stub.add_response(
        "filter_log_events", {"events": [event(TAKEOVER, ms, 1), event(ERROR, ms + 5, 2)]}, reads(start)
    )
    stub.add_response(
        "filter_log_events", {"events": [event(TAKEOVER, ms, 1)]}, reads(int(NOW * 1000) - LATE_MS)
    )
    now = [NOW]
    timeline = context.timeline("prod1")
    sources = TimelineSources(
        PROD,
        timeline,
        logs=CloudWatchLogs.for_cluster(PROD, client=logs),
        alarms=NoAlarms(),  # type: ignore[arg-type]
        clock=lambda: now[0],
    )
    with stub:
        assert await sources.poll() == 2
        now[0] = NOW + 10
        assert await sources.poll() == 0
        stub.assert_no_pending_responses()
    return [e.title for e in timeline.entries(sources=("log",))]


async def test_a_timeline_poll_records_its_log_records_once_and_a_replay_shows_them(tmp_path) -> None:
    path = tmp_path / "record.sqlite"
    recorder = _recorder(path)
    context = ConsoleContext(Inventory(clusters=(PROD,)), Settings())
    context.recorder = recorder
    recorder.record_status(ClusterStatus("prod1", LATER))  # a frame, so the recording replays
    titles = await _poll_twice(context)
    assert len(titles) == 2
    # a restarted console reads its window again: the records already in the recording are not added
    recorder.stop()
    again = _recorder(path)
    restarted = ConsoleContext(Inventory(clusters=(PROD,)), Settings())
    restarted.recorder = again
    replayed = entries_from_event(event(TAKEOVER, int(T_TAKEOVER * 1000), 1), "diag")
    assert restarted.timeline("prod1").add_log_entries(replayed) == 1
    again.stop()

    with RecordStore.open(path, readonly=True) as store:
        items = store.items("prod1", kinds=[LOG])
        assert len(items) == 2
        assert {i.payload["group"] for i in items} == {GROUP}
        assert {i.payload["stream"] for i in items} == {STREAM}
        assert {i.payload["source"] for i in items} == {"diag"}
        assert any("Primary has started non-forced takeover request" in i.payload["message"] for i in items)
        assert items[0].at == T_TAKEOVER  # the record's own time, not the poll's
        # the replay's timeline has the same log lines the live one had
        back = timeline_until(store, "prod1", LATER)
        assert [e.title for e in back.entries(sources=("log",))] == titles
        assert [e.host for e in log_entries(items)] == ["pcmk1", "pcmk1"]  # as the console named them
        assert [e.title for e in timeline_until(store, "prod1", NOW).entries(sources=("log",))] == titles[:1]
        await _replay_logs_screen(store, titles)


async def _replay_logs_screen(store: RecordStore, titles: list[str]) -> None:
    from tui.replay import ReplayApp
    from tui.replay_screens import ReplayLogsScreen

    start = resolve_start(store, cluster="prod1")
    status = store.status_at("prod1", LATER)
    assert status is not None
    app = ReplayApp(
        store,
        start,
        (cluster_from_status(status),),
        settings=Settings(),
        source="test recording",
        wall_clock=lambda: 0.0,
    )
    async with app.run_test(size=(160, 50)) as pilot:
        app.run_command("logs")
        await pilot.pause()
        assert isinstance(app.screen, ReplayLogsScreen)
        summaries = [e.summary for e in app.screen.view.store.entries]
        assert len(summaries) == 2
        assert all(any(s in t for t in titles) for s in summaries)
        app.run_command("timeline")
        await pilot.pause()
        shown = [e.title for e in app.screen.shown if e.source == "log"]  # type: ignore[attr-defined]
        assert shown == titles


async def test_without_a_recorder_the_timeline_keeps_its_records_and_records_nothing(tmp_path) -> None:
    context = ConsoleContext(Inventory(clusters=(PROD,)), Settings())
    assert context.recorder is None
    assert len(await _poll_twice(context)) == 2


def test_the_same_record_queued_twice_is_written_once(tmp_path) -> None:
    path = tmp_path / "record.sqlite"
    recorder = _recorder(path)
    (entry,) = entries_from_event(event(TAKEOVER, int(T_TAKEOVER * 1000), 1), "diag")
    recorder.record_log_entry("prod1", entry, group=GROUP)
    recorder.record_log_entry("prod1", entry, group=GROUP)
    (other,) = entries_from_event(event(ERROR, int(T_TAKEOVER * 1000) + 5, 2), "diag")
    recorder.record_log_entry("prod1", other, group=GROUP)
    recorder.stop()
    with RecordStore.open(path, readonly=True) as store:
        assert len(store.items("prod1", kinds=[LOG])) == 2


async def test_db2ops_record_reads_the_timelines_log_records_beside_the_polls(tmp_path) -> None:
    """services/record/headless.record runs `logs` (TimelineSources.poll in the CLI) beside the status
    polls; a failing read is said in the summary and the status recording goes on."""
    import asyncio
    import io
    import json

    from services.record.headless import record

    path = tmp_path / "record.sqlite"
    recorder = Recorder(path, retention_days=None, max_mb=None)
    context = ConsoleContext(Inventory(clusters=(PROD,)), Settings())
    context.recorder = recorder
    reads: list[int] = []

    snapped: list[int] = []

    class Source:
        async def snapshot(self, cluster):
            snapped.append(1)
            return ClusterStatus(cluster.name, LATER + len(snapped))

    async def get_source():
        return Source()

    async def logs() -> int:
        reads.append(1)
        if len(reads) == 2:
            raise RuntimeError("throttled")
        records = entries_from_event(event(TAKEOVER, int(T_TAKEOVER * 1000), 1), "diag")
        return context.timeline("prod1").add_log_entries(records)  # the same record on every read

    out = io.StringIO()
    stop = asyncio.Event()

    async def logs_then_stop() -> int:
        # three reads (the first records, the second fails, the third finds it known), and a second
        # snapshot asked for (so the first one reached the recorder)
        if len(reads) >= 3 and len(snapped) >= 2:
            stop.set()
        return await logs()

    code = await record(
        PROD,
        get_source,
        recorder,
        interval=0.05,
        for_s=None,
        out=out,
        as_json=True,
        logs=logs_then_stop,
        logs_note=lambda: "logs: a note",
        logs_interval=0.01,
        stop=stop,
    )
    summary = json.loads(out.getvalue())
    assert code == 0 and len(reads) >= 3
    assert summary["log_records"] == 1 and summary["log_note"] == "logs: a note"
    assert "reading log records: throttled" in summary["poll_errors"]
    with RecordStore.open(path, readonly=True) as store:
        assert len(store.items("prod1", kinds=[LOG])) == 1
        assert store.span("prod1") is not None
