"""While the console records, the log records its timelines keep go to the recording as LOG items (the
recorder is on the app's context from the start of the polls until the console closes)."""

from __future__ import annotations

import asyncio

import tui_fixtures as fx
from corpus import CORPUS

from services.logs.model import entries_from_event
from services.record.model import LOG
from services.record.recorder import Recorder
from services.record.store import RecordStore
from tui.app import Db2OpsApp

TAKEOVER = (CORPUS / "db2diag" / "pcmk-takeover-01-info-nonforced.txt").read_text()
STREAM = "Db2 - i-0aaa00000000000001"


async def test_the_consoles_timeline_log_records_are_recorded(tmp_path) -> None:
    source = fx.FakeStatusSource("healthy")
    recorder = Recorder(tmp_path / "record.sqlite", retention_days=None, max_mb=None)
    app = Db2OpsApp(
        fx.inventory(),
        fx.settings(),
        status_source=source,
        runner=fx.FakeLabRunner(source),
        clock=lambda: fx.NOW,
        recorder=recorder,
    )
    event = {"timestamp": 1_700_000_000_000, "message": TAKEOVER, "logStreamName": STREAM}
    async with app.run_test(size=(120, 40)) as pilot:
        await asyncio.wait_for(app.poller.wait_polls("lab-hadr", 1), 10)
        await pilot.pause()
        assert app.context.recorder is recorder
        timeline = app.context.timeline("lab-hadr")
        assert timeline.add_log_entries(entries_from_event(event, "diag")) == 1
        assert timeline.add_log_entries(entries_from_event(event, "diag")) == 0  # read again: not new
        assert await asyncio.to_thread(recorder.flush)
    assert app.context.recorder is None  # closed with the console
    with RecordStore.open(tmp_path / "record.sqlite", readonly=True) as store:
        (item,) = store.items("lab-hadr", kinds=[LOG])
    assert item.payload["stream"] == STREAM and item.payload["group"] == "db2-diagnostics-logs"
    assert "non-forced takeover request" in item.payload["message"]
