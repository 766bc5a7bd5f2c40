"""Moving the replay's time through the log screen adds and removes only the records it passes: the DBA's
filter, hidden levels, search and marks stay, a paused view keeps its cursor on its record, and a tick
that passes no record reads only the seconds since the last one and leaves the view alone."""

from __future__ import annotations

import pytest
from replay_recording import TAKEOVER_RECORD, Drill, open_replay_logs, record_drill
from test_replay_console import SIZE, replay_app
from textual.widgets import Static

from services.logs.model import MARKER
from services.record.model import LOG, RecordedItem
from tui.replay_screens import ReplayLogsScreen


@pytest.fixture
async def drill(monkeypatch) -> Drill:
    return await record_drill(monkeypatch)


def diag_record(clock: str, level: str, change: str) -> str:
    """A db2b db2diag record like the takeover's, at `clock` (HH.MM.SS on its day)."""
    return (
        TAKEOVER_RECORD.replace("00.53.36", clock)
        .replace("LEVEL: Event", f"LEVEL: {level}")
        .replace("HADR role set to Primary", change)
    )


def add_record(drill: Drill, at: float, text: str) -> None:
    message = {"group": "db2-diagnostics-logs", "stream": "Db2 - db2b", "message": text, "source": "diag"}
    drill.recording.add_item(RecordedItem(at, "lab1", LOG, message))


# before the replay's start (during the failover): one Event, one Error and one Warning naming SQL1224N;
# at the takeover (the next change), besides its Event record: one more SQL1224N Error
EARLY_EVENT = diag_record("00.53.20", "Event", "HADR role set to Standby")
EARLY_ERROR = diag_record("00.53.21", "Error", "SQL1224N connection lost (first)")
EARLY_WARNING = diag_record("00.53.22", "Warning", "SQL1224N connection lost (retrying)")
LATE_ERROR = diag_record("00.53.36", "Error", "SQL1224N connection lost (at the takeover)")


def with_records(drill: Drill) -> Drill:
    add_record(drill, drill.killed_at - 5, EARLY_EVENT)
    add_record(drill, drill.killed_at - 4, EARLY_ERROR)
    add_record(drill, drill.killed_at - 3, EARLY_WARNING)
    add_record(drill, drill.took_over_at, LATE_ERROR)
    return drill


def counts(app) -> str:
    return str(app.screen.query_one("#logs-counts", Static).render())


def visible_changes(screen: ReplayLogsScreen) -> list[str]:
    """The visible rows as their CHANGE text (markers as "mark")."""
    rows = []
    for entry in screen.view.store.visible:
        if entry.source == MARKER:
            rows.append("mark")
        else:
            rows.append(next(line for line in entry.text.splitlines() if line.startswith("CHANGE"))[10:])
    return rows


async def open_logs(app, pilot) -> ReplayLogsScreen:
    await open_replay_logs(app, pilot)
    screen = app.screen
    assert isinstance(screen, ReplayLogsScreen)
    return screen


async def step(pilot, key: str) -> None:
    await pilot.press(key)
    await pilot.pause()


async def test_the_filter_hidden_levels_search_and_marks_stay_while_the_replay_steps(drill) -> None:
    app = replay_app(with_records(drill), at=drill.during_at)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_logs(app, pilot)
        assert len(screen.view.store) == 3
        await pilot.press("slash", *"SQL1224N", "enter")
        await pilot.press("4")  # hide Warning
        await pilot.press("s", *"lost", "enter")
        await pilot.press("m")
        await pilot.pause()
        settings = "filter: SQL1224N · hidden: Warning · search: lost"
        assert counts(app) == f"2 of 4 entries · source: all · following the replay · {settings}"
        assert visible_changes(screen) == ["SQL1224N connection lost (first)", "mark"]

        await step(pilot, "right_square_bracket")  # to the takeover: its two records come in
        assert app.replay_clock.at == drill.took_over_at
        store = screen.view.store
        assert (store.filter.pattern_text, store.filter.hidden_levels) == ("SQL1224N", frozenset({"Warning"}))
        assert screen.view.search_term == "lost"
        assert counts(app) == f"3 of 6 entries · source: all · following the replay · {settings}"
        assert visible_changes(screen) == [
            "SQL1224N connection lost (first)",
            "SQL1224N connection lost (at the takeover)",
            "mark",
        ]
        assert screen.view.selected is store.visible[-1]  # following: on the newest visible row

        await step(pilot, "left_square_bracket")  # back before the takeover: its records go again
        assert app.replay_clock.at < drill.took_over_at
        assert screen.view.store is store
        assert (store.filter.pattern_text, store.filter.hidden_levels) == ("SQL1224N", frozenset({"Warning"}))
        assert counts(app) == f"2 of 4 entries · source: all · following the replay · {settings}"
        assert visible_changes(screen) == ["SQL1224N connection lost (first)", "mark"]


async def test_a_paused_view_keeps_its_cursor_on_its_record_when_a_later_record_comes_in(drill) -> None:
    app = replay_app(with_records(drill), at=drill.during_at)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_logs(app, pilot)
        view = screen.view
        await pilot.press("up")  # from the newest (the Warning) to the Error: the view pauses
        await pilot.pause()
        assert not view.follow
        chosen = view.selected
        assert chosen is not None and "(first)" in chosen.text
        top = view.scroll_y

        await step(pilot, "right_square_bracket")  # the takeover's two records land after the cursor
        assert len(view.store) == 5
        assert view.selected is chosen and view.cursor == 1
        assert not view.follow and view.scroll_y == top
        assert counts(app) == "5 of 5 entries · source: all · paused · 2 new"


async def test_stepping_back_takes_the_later_records_out_and_stepping_forward_brings_them_back(
    drill,
) -> None:
    app = replay_app(with_records(drill), at=drill.took_over_at)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_logs(app, pilot)
        view = screen.view
        assert len(view.store) == 5
        later = [e for e in view.store.entries if "00.53.36" in e.text]
        assert len(later) == 2
        await pilot.press("home", "down")  # paused on the early Error
        await pilot.pause()
        chosen = view.selected
        assert chosen is not None and "(first)" in chosen.text and not view.follow

        await step(pilot, "left_square_bracket")
        assert app.replay_clock.at < drill.took_over_at
        assert not any(e in view.store.entries for e in later)
        assert [e.level for e in view.store.visible] == ["Event", "Error", "Warning"]
        assert view.selected is chosen and not view.follow
        assert counts(app) == "3 of 3 entries · source: all · paused"

        await step(pilot, "right_square_bracket")  # forward again: the same records, still paused
        assert [e for e in view.store.entries if "00.53.36" in e.text] == later
        assert view.selected is chosen
        assert counts(app) == "5 of 5 entries · source: all · paused · 2 new"


async def test_stepping_back_past_the_record_under_a_paused_cursor_moves_it_to_the_nearest(drill) -> None:
    app = replay_app(with_records(drill), at=drill.took_over_at)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_logs(app, pilot)
        view = screen.view
        await pilot.press("home", "down", "down", "down")  # paused on the takeover's Event (row 4 of 5)
        await pilot.pause()
        assert view.cursor == 3 and not view.follow
        await step(pilot, "left_square_bracket")
        assert len(view.store.visible) == 3
        assert view.cursor == 2 and view.selected is view.store.visible[-1]


class CountingReader:
    """A recording reader that notes the (since, until) of every log read."""

    def __init__(self, reader) -> None:
        self.reader = reader
        self.reads: list[tuple[float | None, float | None]] = []

    def items(self, cluster, since=None, until=None, kinds=None):
        if kinds == [LOG]:
            self.reads.append((since, until))
        return self.reader.items(cluster, since, until, kinds)


async def test_a_playing_replay_reads_only_the_new_seconds_and_a_tick_passing_no_record_changes_nothing(
    drill,
) -> None:
    app = replay_app(with_records(drill), at=drill.during_at)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_logs(app, pilot)
        reader = CountingReader(app.reader)
        view = screen.view
        store, generation, visible = view.store, view.store.generation, list(view.store.visible)
        screen.show_at(reader, drill.during_at + 1)  # one second of play: no record in it
        assert reader.reads == [(drill.during_at, drill.during_at + 1)]
        assert view.store is store and store.generation == generation and store.visible == visible
        screen.show_at(reader, drill.took_over_at)  # reaches the takeover's records: only they are added
        assert reader.reads[-1] == (drill.during_at + 1, drill.took_over_at)
        assert len(store) == 5 and store.visible[:3] == visible
        screen.show_at(reader, drill.during_at)  # stepping back reads nothing: what was read is kept
        assert len(reader.reads) == 2 and len(store) == 3
