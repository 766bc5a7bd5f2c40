"""The alarm screen with a deterministic fake service: pilot tests and SVG snapshots."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest
from textual.app import App
from textual.screen import Screen
from textual.widgets import Button, DataTable, Input, Static

from alarms.fake_alarm_service import AUDIT, DIAG, NOW, OTHER, FakeAlarmService, cluster
from screens.alarm_dialogs import (
    AlarmHistoryScreen,
    DeleteAlarmModal,
    EditAlarmModal,
    MuteAlarmModal,
    TestFireConfirm,
    UnmuteConfirm,
)
from screens.alarms import AlarmsScreen, mini_spark
from services.alarms.mute import MuteNote
from services.alarms.steps import DeleteAlarmStep, EditAlarmStep, MuteAlarmStep, TestFireStep
from services.context import ConsoleContext
from services.inventory.model import Inventory
from tui import screen_registry


class AlarmsApp(App[None]):
    def __init__(self, screen: AlarmsScreen) -> None:
        super().__init__()
        self.alarms_screen = screen

    def on_mount(self) -> None:
        self.push_screen(self.alarms_screen)


SIZE = (170, 40)


def make(read_only: bool = False, source: str = "lab", **kwargs) -> tuple[AlarmsApp, FakeAlarmService]:
    service = FakeAlarmService(source, **kwargs)
    screen = AlarmsScreen(cluster(read_only), service, poll_interval=0, clock=lambda: NOW)
    return AlarmsApp(screen), service


async def loaded(pilot) -> AlarmsScreen:
    screen = pilot.app.alarms_screen
    await screen.loaded.wait()
    await pilot.pause()
    return screen


async def pressed(pilot, *keys: str, workers: bool = False) -> Screen:
    """Load the alarm screen, press `keys` (wait for the workers they start); return the screen on top."""
    await loaded(pilot)
    await pilot.press(*keys)
    if workers:
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    return pilot.app.screen


def after(*keys: str, workers: bool = False):
    """snap_compare's run_before: the loaded screen with `keys` pressed."""

    async def before(pilot) -> None:
        await pressed(pilot, *keys, workers=workers)

    return before


def text_of(widget: Static) -> str:
    return str(widget.render())


async def test_rows_ours_first_with_state_age_and_lab_label():
    app, _ = make()
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        table = screen.query_one(DataTable)
        assert [str(table.get_row_at(i)[2]) for i in range(3)] == [AUDIT, DIAG, OTHER]
        assert [str(table.get_row_at(i)[0]) for i in range(3)] == ["▲ ALARM", "● OK", "? NO DATA"]
        assert [table.get_row_at(i)[1] for i in range(3)] == ["5m", "2h10m", "3d04h"]
        assert [str(table.get_row_at(i)[3]) for i in range(3)] == ["on", "MUTED", "on"]
        assert str(table.columns[list(table.columns)[0]].label) == "State (lab)"
        side = text_of(screen.query_one("#alarms-side", Static))
        assert "dba-team@example.com (email) PENDING (lab)" in side
        assert "oncall@example.com (email) CONFIRMED (lab)" in side
        assert "db2ops-lab confirm-email all" in side


async def test_test_fire_asks_and_says_it_is_a_test():
    app, service = make()
    async with app.run_test(size=SIZE) as pilot:
        dialog = await pressed(pilot, "f")
        assert isinstance(dialog, TestFireConfirm)
        body = " ".join(text_of(s) for s in dialog.query(Static))
        # AUDIT is in ALARM already: AWS runs no action for ALARM -> ALARM, the dialog must not promise one
        assert "This is a TEST" in body and "ALREADY IN ALARM" in body and "NOTIFIES NOBODY" in body
        assert "WILL NOTIFY" not in body
        assert str(dialog.query_one("#fire", Button).label) == "Test-fire (no notification)"
        await pilot.press("escape")
        await pilot.pause()
        assert service.applied == []
        await pilot.press("f")
        await pilot.pause()
        await pilot.click("#fire")
        await app.workers.wait_for_complete()
        assert [type(s) for s in service.applied] == [TestFireStep]
        assert service.applied[0].alarm_name == AUDIT


async def test_mute_asks_why_and_until_when_then_runs_a_step_and_read_only_refuses_before_any_call():
    app, service = make()
    async with app.run_test(size=SIZE) as pilot:
        dialog = await pressed(pilot, "m")
        assert isinstance(dialog, MuteAlarmModal) and service.applied == []  # asked, nothing sent yet
        assert app.focused is dialog.query_one("#mute-reason", Input)
        assert dialog.query_one("#mute", Button).disabled  # no reason yet
        await pilot.press(*"drill -p", "enter", *"2h", "enter")
        await app.workers.wait_for_complete()
        step = service.applied[0]
        assert isinstance(step, MuteAlarmStep) and step.mute is True and step.alarm_name == AUDIT
        assert step.request.reason == "drill -p" and step.request.until == NOW + timedelta(hours=2)
        assert "until 2026-11-26 17:00 UTC" in step.title and "drill -p" in step.title
        assert step.journal_details() == {
            "alarm": AUDIT,
            "reason": "drill -p",
            "until": "2026-11-26T17:00:00Z",
        }
        await pilot.pause()
        assert str(app.alarms_screen.query_one(DataTable).get_row_at(0)[3]) == "MUTED"
    app, service = make(read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await loaded(pilot)
        for key in ("m", "f", "e", "d"):
            await pilot.press(key)
            await pilot.pause()
        assert service.applied == []
        assert isinstance(app.screen, AlarmsScreen)  # no dialog opened on a read-only cluster
        assert any("read-only" in n.message for n in app._notifications)
        # the file to edit, not "the inventory"
        assert any("in /etc/db2ops/inventory.yaml" in n.message for n in app._notifications)


@pytest.mark.parametrize("cancel", ["escape", "button"])
async def test_cancelling_the_mute_or_unmute_sends_nothing(cancel):
    app, service = make()
    async with app.run_test(size=SIZE) as pilot:
        dialog = await pressed(pilot, "m")
        await pilot.press(*"maintenance", "tab", *"1h")
        if cancel == "escape":
            await pilot.press("escape")
        else:
            await pilot.click("#cancel")
        await pilot.pause()
        assert isinstance(app.screen, AlarmsScreen) and not isinstance(dialog, AlarmsScreen)
        await pilot.press("down")  # DIAG: muted already, m asks to unmute
        unmute = await pressed(pilot, "m")
        assert isinstance(unmute, UnmuteConfirm) and app.focused is unmute.query_one("#cancel", Button)
        await pilot.press("enter")  # the focused answer is Cancel
        await app.workers.wait_for_complete()
        assert service.applied == []
        unmute = await pressed(pilot, "m")
        await pilot.click("#unmute")
        await app.workers.wait_for_complete()
        assert [(type(s), s.mute, s.alarm_name) for s in service.applied] == [(MuteAlarmStep, False, DIAG)]


async def test_mute_refuses_a_past_or_unreadable_expiry_and_an_empty_reason():
    app, service = make()
    async with app.run_test(size=SIZE) as pilot:
        dialog = await pressed(pilot, "m")
        error = dialog.query_one("#mute-error", Static)
        await pilot.press("space", "tab", *"soon", "enter")
        await pilot.pause()
        assert "say why the alarm is muted" in text_of(error) and isinstance(app.screen, MuteAlarmModal)
        dialog.query_one("#mute-reason", Input).value = "CHG42"
        await pilot.pause()
        assert "cannot read the expiry 'soon'" in text_of(error)
        dialog.query_one("#mute-until", Input).value = "9d"
        await pilot.pause()
        assert "more than 7 days" in text_of(error) and dialog.query_one("#mute", Button).disabled
        dialog.query_one("#mute-until", Input).value = ""
        await pilot.pause()
        assert text_of(error) == "muted until unmuted" and not dialog.query_one("#mute", Button).disabled
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        assert service.applied[0].request.until is None and "(no expiry): CHG42" in service.applied[0].title


async def test_alarm_screen_says_who_muted_why_until_when_and_an_expired_mute_in_red():
    app, service = make()
    service.notes = {
        DIAG: MuteNote(DIAG, "alice", NOW - timedelta(hours=2), "CHG42 patching", NOW - timedelta(minutes=10))
    }
    async with app.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        table = screen.query_one(DataTable)
        assert str(table.get_row_at(1)[3]) == "MUTED, EXPIRED"
        assert "mute expired: " + DIAG in text_of(screen.query_one("#alarms-status", Static))
        await pilot.press("down")
        await pilot.pause()
        detail = text_of(screen.query_one("#alarm-detail-text", Static))
        assert "muted by alice at 13:00 UTC: CHG42 patching" in detail
        assert "EXPIRED at 2026-11-26 14:50 UTC (10m ago): still muted" in detail
    service.notes[DIAG] = replace(service.notes[DIAG], until=NOW + timedelta(minutes=30))
    app2 = AlarmsApp(AlarmsScreen(cluster(), service, poll_interval=0, clock=lambda: NOW))
    async with app2.run_test(size=SIZE) as pilot:
        screen = await loaded(pilot)
        assert str(screen.query_one(DataTable).get_row_at(1)[3]) == "MUTED to 15:30"
        await pilot.press("down")
        await pilot.pause()
        assert "until 2026-11-26 15:30 UTC (in 30m)" in text_of(
            screen.query_one("#alarm-detail-text", Static)
        )


async def test_edit_validates_period_like_aws():
    app, service = make()
    async with app.run_test(size=SIZE) as pilot:
        modal = await pressed(pilot, "e")
        assert isinstance(modal, EditAlarmModal)
        period = modal.query_one("#period", Input)
        period.value = "45"
        await pilot.pause()
        assert modal.query_one("#save", Button).disabled
        assert "10, 20, 30 or a multiple of 60" in text_of(modal.query_one("#edit-error", Static))
        period.value = "300"
        modal.query_one("#threshold", Input).value = "2"
        await pilot.pause()
        await pilot.click("#save")
        await app.workers.wait_for_complete()
        step = service.applied[0]
        assert isinstance(step, EditAlarmStep) and (step.threshold, step.period) == (2.0, 300)


async def test_delete_needs_the_typed_name():
    app, service = make()
    async with app.run_test(size=SIZE) as pilot:
        modal = await pressed(pilot, "d")
        assert isinstance(modal, DeleteAlarmModal)
        typed = modal.query_one("#typed", Input)
        typed.value = AUDIT[:-1]
        await pilot.pause()
        assert modal.query_one("#delete", Button).disabled
        await pilot.press("enter")
        await pilot.pause()
        assert service.applied == [] and app.screen is modal
        typed.value = AUDIT
        await pilot.pause()
        await pilot.click("#delete")
        await app.workers.wait_for_complete()
        assert isinstance(service.applied[0], DeleteAlarmStep) and service.applied[0].alarm_name == AUDIT


async def test_subscribe_asks_for_an_address_and_applies_the_plan_step():
    from screens.alarm_dialogs import SubscribeEmailModal
    from services.alarms.steps import SubscribeEmailStep

    app, service = make()
    async with app.run_test(size=SIZE) as pilot:
        modal = await pressed(pilot, "s")
        assert isinstance(modal, SubscribeEmailModal)
        email = modal.query_one("#email", Input)
        email.value = "oncall@example.com; rm"
        await pilot.pause()
        assert modal.query_one("#subscribe", Button).disabled
        email.value = "oncall@example.com"
        await pilot.pause()
        await pilot.click("#subscribe")
        await app.workers.wait_for_complete()
        step = service.applied[0]
        assert isinstance(step, SubscribeEmailStep) and (step.alarm_name, step.email) == (
            AUDIT,
            "oncall@example.com",
        )


async def test_history_lists_newest_first_with_lab_label():
    app, _ = make()
    async with app.run_test(size=SIZE) as pilot:
        view = await pressed(pilot, "h", workers=True)
        assert isinstance(view, AlarmHistoryScreen)
        table = view.query_one(DataTable)
        assert table.row_count == 4
        assert table.get_row_at(0) == [
            "2026-11-26 14:55:00",
            "Action",
            "Successfully executed action arn:aws:sns:us-east-1:123456789012:db2-alerts",
        ]
        assert "(lab: recorded by the lab's CloudWatch evaluator)" in text_of(
            view.query_one("#history-status", Static)
        )
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, AlarmsScreen)


class FakeLogView:
    def __init__(self) -> None:
        self.modes: list[str] = []

    def set_source_mode(self, mode: str) -> None:
        self.modes.append(mode)


class FakeLogs(Screen[None]):
    def __init__(self) -> None:
        super().__init__()
        self.prompts: list[tuple[str, str]] = []
        self.fake_view = FakeLogView()

    @property
    def view(self) -> FakeLogView:
        return self.fake_view

    def apply_prompt(self, kind: str, text: str) -> bool:
        self.prompts.append((kind, text))
        return True


async def test_l_opens_the_log_screen_filtered_by_the_alarm_pattern(monkeypatch):
    logs = FakeLogs()
    entry = screen_registry.ScreenEntry("logs", lambda app: logs, "fake logs")
    monkeypatch.setitem(screen_registry._ENTRIES, "logs", entry)
    app, _ = make()
    async with app.run_test(size=SIZE) as pilot:
        assert await pressed(pilot, "down", "l") is logs
        assert logs.prompts == [("filter", "?Error ?Severe ?ERROR ?SEVERE")]
        # only the alarm's log group: the diag pattern is not run over the audit records
        assert logs.view.modes == ["diag"]


async def test_polls_never_overlap_and_r_refreshes():
    gate = asyncio.Event()
    service = FakeAlarmService(gate=gate)
    screen = AlarmsScreen(cluster(), service, poll_interval=600, clock=lambda: NOW)
    app = AlarmsApp(screen)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        for _ in range(3):
            await pilot.press("r")  # while the first poll is still waiting on AWS
        await pilot.pause()
        assert (service.list_calls, service.active) == (1, 1)
        gate.set()
        await screen.loaded.wait()
        for _ in range(5):
            await pilot.pause()
        assert service.max_active == 1
        assert service.list_calls == 2  # the presses during the poll ask for exactly one more


def test_mini_spark():
    assert mini_spark([]) == ""
    assert mini_spark([0.0, 0.0]) == "▁▁"
    assert mini_spark([0.0, 1.0, 2.0, 4.0], width=4) == "▁▃▅█"
    assert mini_spark([0.0] * 9 + [1.0] + [0.0] * 50 + [100.0], width=61)[9] == "▂"  # one event stays visible
    assert len(mini_spark([1.0] * 60, width=20)) == 20


# ---------------------------------------------------------------- SVG snapshots


async def test_test_fire_of_an_ok_alarm_says_who_will_be_notified():
    from dataclasses import replace

    from alarms.fake_alarm_service import alarms

    ok = replace(alarms()[0], state="OK")
    people = await FakeAlarmService().topic_subscriptions(ok.alarm_actions[0])
    app = App()
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(TestFireConfirm(ok, people))
        await pilot.pause()
        body = " ".join(text_of(s) for s in app.screen.query(Static))
        assert (
            "WILL NOTIFY: dba-team@example.com (email, pending), oncall@example.com (email, confirmed)"
            in body
        )
        assert str(app.screen.query_one("#fire", Button).label) == "Test-fire (notifies)"


def test_snapshot_alarm_screen(snap_compare):
    app, _ = make()
    assert snap_compare(app, terminal_size=SIZE, run_before=loaded)


def test_snapshot_test_fire_dialog(snap_compare):
    app, _ = make()
    assert snap_compare(app, terminal_size=SIZE, run_before=after("f"))


def test_snapshot_history(snap_compare):
    app, _ = make()
    assert snap_compare(app, terminal_size=SIZE, run_before=after("h", workers=True))


@pytest.mark.parametrize("source", ["aws"])
def test_snapshot_edit_dialog_refusing_45s(snap_compare, source):
    app, _ = make(source=source)

    async def before(pilot) -> None:
        modal = await pressed(pilot, "e")
        modal.query_one("#period", Input).value = "45"
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=before)


@pytest.mark.parametrize("size", [(100, 30), (80, 24)], ids=["100x30", "80x24"])
def test_snapshot_alarm_screen_narrow(snap_compare, size):
    """At 80 columns the sparkline column gives way to the name (the detail still draws it)."""
    app, _ = make()
    assert snap_compare(app, terminal_size=size, run_before=loaded)


def test_alarms_alias_is_registered_and_needs_a_cluster():
    entry = screen_registry.resolve("alarm")
    assert entry is not None and entry.alias == "alarms"

    class NoCluster:
        current_cluster = None

    with pytest.raises(screen_registry.ScreenUnavailable, match="pick one on :fleet"):
        entry.factory(NoCluster())

    class WithCluster:
        current_cluster = cluster()
        context = ConsoleContext(Inventory(), runner=object())  # type: ignore[arg-type]

    screen = entry.factory(WithCluster())
    assert isinstance(screen, AlarmsScreen) and screen.cluster.name == "lab1"
    assert screen.poll_interval == 30.0  # real service, no lab evaluator registered: AWS pace
