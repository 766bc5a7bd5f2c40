"""The replay's log screen says what its view follows: the replay's time, not CloudWatch; a paused view
counts as new only the records the replay added since."""

from __future__ import annotations

import pytest
from replay_recording import TAKEOVER_RECORD, Drill, open_replay_logs, record_drill
from test_replay_console import SIZE, replay_app
from textual.widgets import Static

from screens.logs import LogsScreen, view_text
from services.record.model import LOG, RecordedItem
from tui.replay_screens import ReplayLogsScreen
from tui.widgets.log_view import LogView


@pytest.fixture
async def drill(monkeypatch) -> Drill:
    return await record_drill(monkeypatch)


def test_the_counts_line_says_following_live_and_following_the_replay_in_a_replay() -> None:
    view = LogView()
    assert str(view_text(view, LogsScreen.FOLLOWING)).endswith("source: all · following")
    replay = str(view_text(view, ReplayLogsScreen.FOLLOWING))
    assert replay.endswith("source: all · following the replay")
    view.follow = False
    assert str(view_text(view, ReplayLogsScreen.FOLLOWING)).endswith("source: all · paused")
    view.pending = 2
    assert str(view_text(view, ReplayLogsScreen.FOLLOWING)).endswith("source: all · paused · 2 new")


def lines(app) -> tuple[str, str]:
    mode, counts = (str(app.screen.query_one(f"#logs-{n}", Static).render()) for n in ("mode", "counts"))
    return mode, counts


async def test_the_replay_logs_screen_follows_the_replay_and_never_mentions_cloudwatch(drill) -> None:
    app = replay_app(drill, at=drill.during_at)
    async with app.run_test(size=SIZE) as pilot:
        await open_replay_logs(app, pilot)
        assert isinstance(app.screen, ReplayLogsScreen)
        mode, counts = lines(app)
        assert mode == "■ recorded · 0 records of interest up to the replay's time"
        assert counts == "0 of 0 entries · source: all · following the replay"
        await pilot.press("right_square_bracket")  # to the takeover: its db2diag record comes in
        await pilot.pause()
        mode, counts = lines(app)
        assert mode == "■ recorded · 1 record of interest up to the replay's time"
        assert counts == "1 of 1 entry · source: all · following the replay"
        assert "CloudWatch" not in mode + counts


async def test_a_paused_replay_log_counts_only_the_records_the_replay_added(drill) -> None:
    # a record already there at the start: the rebuild re-adds it, it is not new
    earlier = TAKEOVER_RECORD.replace("00.53.36", "00.53.20").replace("set to Primary", "set to Standby")
    message = {"group": "db2-diagnostics-logs", "stream": "Db2 - db2a", "message": earlier, "source": "diag"}
    drill.recording.add_item(RecordedItem(drill.killed_at - 5, "lab1", LOG, message))
    app = replay_app(drill, at=drill.during_at)
    async with app.run_test(size=SIZE) as pilot:
        await open_replay_logs(app, pilot)
        screen = app.screen
        assert isinstance(screen, ReplayLogsScreen)
        assert lines(app)[1] == "1 of 1 entry · source: all · following the replay"
        screen.view.follow = False  # the DBA scrolled away from the tail
        await pilot.press("right_square_bracket")
        await pilot.pause()
        assert lines(app)[1] == "2 of 2 entries · source: all · paused · 1 new"
        await pilot.press("left_square_bracket")  # back before the takeover's record: nothing new
        await pilot.pause()
        assert lines(app)[1] == "1 of 1 entry · source: all · paused"
