"""Pilot tests of the log screen: follow and pending count, filter, search, expand, level toggles,
export, source modes, time jump, marker, detail panel and the Insights panel."""

import re
from datetime import timedelta

import pytest
from logscreen_data import CLUSTER, T0, FakeLogsService, LogsApp, audit_entries, diag_entries
from rich.style import Style

from lab.insights_local import LAB_EVALUATOR
from screens.logs import LogsScreen, mode_text
from services.logs.insights import InsightsResult
from services.logs.model import MARKER
from services.logs.tail import TailStatus
from tui.screen_registry import ScreenUnavailable, resolve
from tui.widgets.log_view import LogView


def row_text(view: LogView, y: int) -> str:
    return "".join(seg.text for seg in view.render_line(y))


async def started(pilot, entries=None):
    await pilot.pause()
    screen: LogsScreen = pilot.app.screen
    screen.view.add_entries(entries if entries is not None else diag_entries() + audit_entries())
    await pilot.pause()
    return screen, screen.view


async def test_follow_keeps_the_tail_and_counts_pending_when_scrolled_away():
    async with LogsApp().run_test(size=(140, 30)) as pilot:
        screen, view = await started(pilot)
        total = len(view.store.visible)
        assert view.follow and view.cursor == total - 1 and view.scroll_y == view.max_scroll_y
        await pilot.press("k", "k")
        assert not view.follow and view.cursor == total - 3
        top = view.scroll_y
        view.add_entries(diag_entries(5, start=T0 + timedelta(hours=1)))
        await pilot.pause()
        assert view.pending == 9  # 5 routine + 4 takeover records
        assert view.cursor == total - 3 and view.scroll_y == top  # nothing moved under the reader
        assert "paused · 9 new" in str(screen.query_one("#logs-counts").render())
        await pilot.press("G")
        assert view.follow and view.pending == 0 and view.cursor == total + 9 - 1
        assert view.scroll_y == view.max_scroll_y


async def test_late_entries_above_the_viewport_do_not_shift_it():
    async with LogsApp().run_test(size=(140, 20)) as pilot:
        screen, view = await started(pilot)
        await pilot.press("g")
        await pilot.press(*["j"] * 20)
        first_row = row_text(view, 0)
        view.add_entries(diag_entries(2, start=T0 - timedelta(hours=1)))
        await pilot.pause()
        assert row_text(view, 0) == first_row


async def test_removing_later_entries_keeps_a_paused_view_in_place_and_a_following_one_at_the_tail():
    async with LogsApp().run_test(size=(140, 20)) as pilot:
        screen, view = await started(pilot)
        later = diag_entries(5, start=T0 + timedelta(hours=1))
        view.add_entries(later)
        await pilot.press("slash", *"!Severe", "enter")  # what the DBA set on the store stays
        await pilot.press("g", *["j"] * 20)
        await pilot.pause()
        first_row, chosen, cursor = row_text(view, 0), view.selected, view.cursor
        shown = [e for e in later if e in view.store.visible]
        assert len(shown) == 8  # the takeover's Severe record is filtered out
        view.pending = 12
        assert view.remove_entries(later) == 8 and view.store.filter.pattern_text == "Severe"
        await pilot.pause()
        assert row_text(view, 0) == first_row and view.selected is chosen and view.cursor == cursor
        assert not view.follow and view.pending == 4
        assert not any(e in view.store.entries for e in later)
        earlier = diag_entries(2, start=T0 - timedelta(hours=1))  # a record dated before the viewport
        view.add_entries(earlier)
        await pilot.pause()
        assert row_text(view, 0) == first_row
        view.remove_entries(earlier)
        await pilot.pause()
        assert row_text(view, 0) == first_row and view.selected is chosen
        await pilot.press("G")
        view.add_entries(later)
        await pilot.pause()
        view.remove_entries(later[-4:])
        await pilot.pause()
        assert view.follow and view.selected is view.store.visible[-1] is shown[4]
        assert view.scroll_y == view.max_scroll_y


async def test_filter_hides_non_matching_entries_and_bang_inverts():
    async with LogsApp().run_test(size=(140, 30)) as pilot:
        screen, view = await started(pilot)
        total = len(view.store)
        await pilot.press("slash", *"Severe", "enter")
        assert [e.level for e in view.store.visible] == ["Severe"]
        assert "filter: Severe" in str(screen.query_one("#logs-counts").render())
        assert screen.query_one("#logs-prompt").has_class("-hidden")
        await pilot.press("slash", "ctrl+u", *"!Severe", "enter")
        assert len(view.store.visible) == total - 1
        await pilot.press("slash", "ctrl+u", "enter")
        assert len(view.store.visible) == total


async def test_bad_filter_pattern_keeps_the_prompt_open_with_an_error():
    async with LogsApp().run_test(size=(140, 30)) as pilot:
        screen, view = await started(pilot)
        await pilot.press("slash", *"{ $.x = 1 }", "enter")
        assert not screen.query_one("#logs-prompt").has_class("-hidden")
        assert any(n.severity == "error" for n in pilot.app._notifications)
        assert view.store.filter.pattern_text == ""
        await pilot.press("escape")
        assert screen.query_one("#logs-prompt").has_class("-hidden")


async def test_search_highlights_matches_and_n_moves_between_them():
    async with LogsApp().run_test(size=(200, 30)) as pilot:
        screen, view = await started(pilot)
        await pilot.press("d", "g", "s", *"locklist", "enter")
        matches = [i for i, e in enumerate(view.store.visible) if "locklist" in e.text.lower()]
        assert len(matches) >= 2
        assert view.cursor == matches[0]
        await pilot.press("n")
        assert view.cursor == matches[1]
        await pilot.press("N")
        assert view.cursor == matches[0]
        y = view._row_of(view.cursor) - round(view.scroll_y)
        segments = list(view.render_line(y))
        match_style = view.get_component_rich_style("log-view--match", partial=True)
        hits = [s for s in segments if s.text.lower() == "locklist"]
        assert hits and all(s.style.bgcolor == match_style.bgcolor for s in hits)


async def test_enter_expands_a_record_in_place_and_collapses_it():
    async with LogsApp().run_test(size=(140, 30)) as pilot:
        screen, view = await started(pilot)
        height = view.virtual_size.height
        await pilot.press("enter")
        entry = view.selected
        lines = len(entry.text.rstrip().splitlines())
        assert view.is_expanded(entry) and view.virtual_size.height == height + lines
        assert "CHANGE  : HADR DATABASE ROLE/TYPE -" in "\n".join(
            row_text(view, y) for y in range(view.size.height)
        )
        await pilot.press("enter")
        assert not view.is_expanded(entry) and view.virtual_size.height == height


async def test_level_toggles_hide_and_show_a_level():
    async with LogsApp().run_test(size=(140, 30)) as pilot:
        screen, view = await started(pilot)
        events = sum(e.level == "Event" for e in view.store.visible)
        assert events > 0
        await pilot.press("5")  # 1..6 = Critical, Severe, Error, Warning, Event, Info
        assert all(e.level != "Event" for e in view.store.visible)
        assert "hidden: Event" in str(screen.query_one("#logs-counts").render())
        await pilot.press("5")
        assert sum(e.level == "Event" for e in view.store.visible) == events


async def test_tab_cycles_merged_diag_only_and_audit_only():
    async with LogsApp().run_test(size=(140, 30)) as pilot:
        screen, view = await started(pilot)
        assert {e.source for e in view.store.visible} == {"diag", "audit"}
        await pilot.press("tab")
        assert view.source_mode == "diag" and {e.source for e in view.store.visible} == {"diag"}
        await pilot.press("tab")
        assert [e.source for e in view.store.visible] == ["audit", "audit"]
        await pilot.press("tab")
        assert view.source_mode == "all" and len(view.store.visible) == len(view.store)


async def test_export_writes_the_visible_entries_under_the_data_dir(tmp_path):
    async with LogsApp().run_test(size=(140, 30)) as pilot:
        screen, view = await started(pilot)
        await pilot.press("tab", "tab")  # audit only
        await pilot.press("e")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        [path] = (tmp_path / "data" / "db2ops" / "exports").glob("logs-*.log")
        text = path.read_text()
        assert len(re.findall(r"^timestamp=", text, re.MULTILINE)) == 2 and "LEVEL:" not in text
        assert any(str(path) in n.message for n in pilot.app._notifications)


async def test_time_jump_moves_to_the_first_entry_at_or_after_the_time():
    async with LogsApp().run_test(size=(140, 30)) as pilot:
        screen, view = await started(pilot)
        await pilot.press("J", *"2026-11-26 10:01:00", "enter")
        assert view.selected.time == T0 + timedelta(seconds=60)
        assert not view.follow


async def test_marker_line_is_added_at_the_tail_and_survives_filters():
    async with LogsApp().run_test(size=(140, 30)) as pilot:
        screen, view = await started(pilot)
        await pilot.press("m")
        assert view.store.visible[-1].source == MARKER
        await pilot.press("slash", *"Severe", "enter")
        assert [e.source for e in view.store.visible] == ["diag", MARKER]


async def test_detail_panel_shows_the_selected_record_fields():
    async with LogsApp().run_test(size=(160, 40)) as pilot:
        screen, view = await started(pilot)
        body = str(screen.query_one("#detail-body").render())
        assert (
            "EDUNAME" in body
            and "db2agent (HADRDB) 0" in body
            and "HADR database role set to PRIMARY" in body
        )
        await pilot.press("d")
        assert screen.has_class("-no-detail")


async def test_insights_panel_runs_a_preset_and_shows_rows_and_who_evaluated():
    rows = (
        {
            "@timestamp": "2026-11-26 10:05:00.000",
            "@logStream": "Db2 - i-0bbb",
            "@message": diag_entries(0)[1].text,
        },
    )
    result = InsightsResult(
        "Complete", ("@timestamp", "@logStream", "@message"), rows, "q1", evaluated_by=LAB_EVALUATOR
    )
    service = FakeLogsService(result)
    async with LogsApp(service).run_test(size=(160, 40)) as pilot:
        screen, view = await started(pilot)
        await pilot.press("i")
        assert screen.has_class("-insights")
        await pilot.click("#insights-run")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        status = str(screen.query_one("#insights-status").render())
        assert "Scheduled → Running → Complete · 1 row · " in status
        assert "evaluated by db2ops (lab: moto lacks this)" in status
        results = screen.query_one("#insights-results", LogView)
        assert [e.level for e in results.store.visible] == ["Severe"]
        assert results.store.visible[0].host == "db2b"
        query, time_range, sources = service.calls[0]
        assert "LEVEL: (Critical|Severe|Error)" in query and sources == ("diag",)
        assert time_range.end - time_range.start == timedelta(hours=1)


async def test_insights_errors_and_bad_ranges_are_shown_in_the_panel():
    service = FakeLogsService(error="too many Logs Insights queries are running")
    async with LogsApp(service).run_test(size=(160, 40)) as pilot:
        screen, view = await started(pilot)
        await pilot.press("i")
        await pilot.click("#insights-run")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        assert "too many Logs Insights queries" in str(screen.query_one("#insights-status").render())
        range_input = screen.query_one("#insights-range")
        range_input.value = "whenever"
        range_input.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert "cannot read the time range 'whenever'" in str(screen.query_one("#insights-status").render())


async def test_since_last_failover_comes_from_the_log_when_no_status_is_polled():
    async with LogsApp(FakeLogsService()).run_test(size=(160, 40)) as pilot:
        screen, view = await started(pilot)
        takeover = screen.last_failover()
        assert takeover == T0 + timedelta(seconds=300, milliseconds=20)  # "HADR database role set to PRIMARY"


def test_mode_line_says_how_events_arrive():
    polling = TailStatus(
        "polling", "polling every 1 s: Live Tail unavailable (the endpoint answered HTTP 500)"
    )
    text = str(mode_text(polling, lab=True))
    # The lab note and the mode come before the long reason, which a narrow terminal may cut; the
    # interval is said once (it used to read "polling once a second · polling every 1 s: ..." and the lab
    # note fell off the end of a 200-column line).
    assert text == (
        "◌ polling every 1 s · lab: moto (filters and Insights evaluated by db2ops)"
        " · Live Tail unavailable (the endpoint answered HTTP 500)"
    )
    starting = str(mode_text(TailStatus("polling", "polling every 2 s while Live Tail starts"), lab=False))
    assert starting == "◌ polling every 2 s · while Live Tail starts"
    ended = str(mode_text(TailStatus("polling", "Live Tail session ended; polling until it restarts"), False))
    assert ended == "◌ polling · Live Tail session ended; polling until it restarts"
    failed = str(
        mode_text(TailStatus("stopped", "could not read the log groups", error="AccessDenied"), True)
    )
    assert failed.startswith("■ stopped · ⚠ AccessDenied · lab: moto")
    live = str(mode_text(TailStatus("live-tail", "Live Tail session started", sampled=True), lab=False))
    assert live.startswith("● Live Tail") and "SAMPLED by AWS" in live and "lab" not in live


def test_logs_screen_is_registered_for_the_command_mode():
    entry = resolve("logs")
    assert entry is not None and resolve("log") is entry

    class NoCluster:
        current_cluster = None

    with pytest.raises(ScreenUnavailable, match="pick one on :fleet first"):
        entry.factory(NoCluster())

    from services.context import ConsoleContext
    from services.inventory.model import Inventory
    from services.logs.insights import AwsInsights

    class WithCluster:
        current_cluster = CLUSTER
        context = ConsoleContext(Inventory(clusters=(CLUSTER,)), insights_for=lambda cluster: AwsInsights())

    screen = entry.factory(WithCluster())
    assert isinstance(screen, LogsScreen) and screen.service.hosts == {
        "Db2 - i-0aaa": "db2a",  # the runbook's stream name
        "Db2 - i-0bbb": "db2b",
        "i-0aaa": "db2a",  # what setup monitoring writes
        "i-0bbb": "db2b",
    }
    # the context's backend choice reaches the screen's service (AWS here: the endpoint filters itself)
    assert isinstance(screen.service.insights_engine, AwsInsights) and not screen.service.filters_locally


HOSTILE = (
    "2026-11-26-10.00.00.000000+000 I1E100           LEVEL: Severe\r\n"
    "PID     : 1                    TID : 2              PROC : db2sysc 0\r\n"
    "MESSAGE : x\x1b]2;PWNED\x07 \x1b[31mred\x9b2J \x1b[2J end\r\n"
)


def test_control_characters_in_a_record_never_reach_the_terminal():
    # A db2diag MESSAGE or an audited statement is text any database user can shape: the detail panel
    # used to pass ESC sequences through, which retitled the terminal and cleared the screen. The entry
    # drops them whole (services/text_safety.py), parameters included.
    from services.logs.model import entries_from_text
    from tui.widgets.log_detail import detail_content
    from tui.widgets.log_line import entry_line

    (entry,) = entries_from_text(HOSTILE, "diag")
    shown = detail_content(entry).plain
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", shown)
    assert "x red  end" in shown and "PWNED" not in shown and "\\x1b" not in shown
    assert "\\x0d" not in shown  # CRLF line ends are line ends
    entry.host = "db2\x1b[2Ja"
    row = entry_line(entry, lambda _name: Style(), None, (8, 40), False)
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", row.text)
    assert "db2a" in row.text and "PWNED" not in row.text


async def test_escape_sequences_in_a_db2diag_record_reach_neither_the_row_nor_the_detail_panel():
    # the bulk path (records in the middle of a load) and the record path (the first one) alike
    from services.logs.model import entries_from_text

    plain = HOSTILE.replace("\x1b]2;PWNED\x07 \x1b[31mred\x9b2J \x1b[2J end", "plain")
    text = "".join(
        (HOSTILE if i in (0, 3) else plain).replace("I1E100", f"I{i}E100").replace("10.00.00", f"10.00.0{i}")
        for i in range(6)
    )
    entries = entries_from_text(text, "diag")
    assert len(entries) == 6 and {type(e).__name__ for e in entries} == {"LogEntry", "_TextDiagEntry"}
    async with LogsApp().run_test(size=(160, 40)) as pilot:
        screen, view = await started(pilot, entries)
        rows = [row_text(view, y) for y in range(6)]
        assert all("x red  end" in rows[i] for i in (0, 3)) and "plain" in rows[1]
        for y in (0, 3):
            view.cursor = y
            await pilot.pause()
            body = str(screen.query_one("#detail-body").render())
            assert "x red  end" in body and "PWNED" not in body
            assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", body)
        assert not any(re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]|PWNED", row) for row in rows)


@pytest.mark.parametrize("width", [100, 80])
async def test_on_a_narrow_terminal_the_detail_goes_under_the_list_and_the_message_keeps_the_width(width):
    # The detail beside the list left a 100-column terminal ~10 columns of message after the 40-column
    # time/level/host prefix; under the list, and with times lost their date, the message gets the rest.
    async with LogsApp(FakeLogsService()).run_test(size=(width, 30)) as pilot:
        screen, view = await started(pilot)
        panel = screen.query_one("#log-detail")
        assert panel.region.y >= view.region.bottom and panel.region.width == width
        assert view.size.width >= width - 1 and view.size.height >= 12
        row = row_text(view, 0)
        assert re.match(r"^\d\d:\d\d:\d\d\.\d{3} [DA]", row), row  # no date: the detail has it
        prefix = len("10:00:00.000 D Event    db2a ")
        assert len(row.rstrip()) > prefix + width // 2  # the message fills the rest


async def test_the_detail_panel_stays_beside_the_list_on_a_wide_terminal():
    async with LogsApp(FakeLogsService()).run_test(size=(200, 30)) as pilot:
        screen, view = await started(pilot)
        panel = screen.query_one("#log-detail")
        assert panel.size.width + panel.styles.gutter.width == 64
        assert view.size.width >= 200 - 64 - 1
        assert re.match(r"^2026-11-26 \d\d:\d\d:\d\d\.\d{3} [DA]", row_text(view, 0))
