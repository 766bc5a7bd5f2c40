"""Dialogs of the alarm screen: test-fire confirmation, edit threshold/period, typed delete confirmation and
the alarm history. They only ask and show; the alarm screen runs the change as a plan step.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, DataTable, Input, Label, Static

from services.alarms.mute import MuteRequest, MuteRequestError, format_utc, make_mute_request
from services.alarms.service import AlarmHistory, AlarmServiceError, AlarmView, SubscriptionView
from services.alarms.steps import AlarmEditError, check_period, check_threshold
from services.words import plural
from tui.widgets.plain_text import plain, plain_cells

DIALOG_CSS = """
.alarm-dialog { width: 78; height: auto; max-height: 90%; padding: 1 2; border: thick $warning;
                background: $surface; }
.alarm-dialog .title { text-style: bold; margin-bottom: 1; }
.alarm-dialog .error { color: $text-error; height: auto; }
.alarm-dialog .buttons { height: auto; margin-top: 1; align-horizontal: right; }
.alarm-dialog Button { margin-left: 2; }
.alarm-dialog Input { margin-bottom: 1; }
"""


class TestFireConfirm(ModalScreen[bool]):
    """Ask before a test-fire: says it is a test and who will be notified. Dismisses True to go ahead."""

    __test__ = False  # not a pytest class
    DEFAULT_CSS = DIALOG_CSS + "TestFireConfirm { align: center middle; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, alarm: AlarmView, subscriptions: list[SubscriptionView]) -> None:
        super().__init__()
        self.alarm = alarm
        self.subscriptions = subscriptions

    def compose(self) -> ComposeResult:
        a = self.alarm
        fire = "Test-fire (notifies)"
        if not a.actions_enabled:
            who = "Its actions are MUTED: the state changes but nobody is notified."
        elif a.state == "ALARM":
            # AWS runs actions only on a state change: ALARM -> ALARM notifies nobody.
            who = (
                "It is ALREADY IN ALARM: CloudWatch runs actions only when the state changes, so this "
                "test-fire NOTIFIES NOBODY. To test the notification, test-fire it once it is back to OK "
                "(or run :setup, page 8 'Prove it fires')."
            )
            fire = "Test-fire (no notification)"
        elif self.subscriptions:
            people = ", ".join(f"{s.endpoint} ({s.protocol}, {s.status})" for s in self.subscriptions)
            who = f"Its SNS topic WILL NOTIFY: {people}."
        else:
            who = "It has no SNS subscribers that db2ops can see."
        with Vertical(classes="alarm-dialog"):
            yield Label(f"TEST-FIRE alarm {a.name}?", classes="title", markup=False)
            yield Static(
                "This is a TEST. db2ops sets the alarm to ALARM now (SetAlarmState, reason "
                '"db2ops test-fire by <you>"); when that changes its state CloudWatch runs its actions. '
                f"{who} CloudWatch puts the alarm back at its next evaluation (about a minute). "
                "The change is written to the operator journal.",
                markup=False,  # subscription endpoints come from AWS
            )
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button(fire, id="fire", variant="warning")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#fire")
    def _fire(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class MuteAlarmModal(ModalScreen[MuteRequest | None]):
    """Ask why (required) and until when (optional) before muting; dismisses the MuteRequest or None."""

    DEFAULT_CSS = DIALOG_CSS + "MuteAlarmModal { align: center middle; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, alarm: AlarmView, now: Callable[[], datetime]) -> None:
        super().__init__()
        self.alarm = alarm
        self.now = now

    def compose(self) -> ComposeResult:
        a = self.alarm
        with Vertical(classes="alarm-dialog"):
            yield Label(f"MUTE alarm {a.name}?", classes="title", markup=False)
            yield Static(
                f"It is {a.state} now. Muted, it still changes state but NOBODY IS PAGED (DisableAlarmActions) "
                "until it is unmuted. Who, why and until when go to the operator journal and the alarm screen. "
                "db2ops does not unmute by itself: past the expiry the alarm screen shows the mute EXPIRED "
                "and m unmutes it.",
                markup=False,
            )
            yield Label("Reason (required)")
            yield Input(placeholder="e.g. planned failover drill, CHG0012345", id="mute-reason")
            yield Label("Until (optional): 30m, 2h, 1d or a UTC time; empty: until unmuted")
            yield Input(placeholder="empty: no expiry", id="mute-until")
            yield Static("", id="mute-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Mute (nobody is paged)", id="mute", variant="warning", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#mute-reason", Input).focus()

    def request(self) -> MuteRequest | None:
        """Return the request the two fields make (None, and why on screen, when they do not)."""
        try:
            request = make_mute_request(
                self.query_one("#mute-reason", Input).value,
                self.query_one("#mute-until", Input).value,
                self.now(),
            )
        except MuteRequestError as exc:
            self.query_one("#mute-error", Static).update(str(exc))
            self.query_one("#mute", Button).disabled = True
            return None
        until = f"muted until {format_utc(request.until)}" if request.until else "muted until unmuted"
        self.query_one("#mute-error", Static).update(until)
        self.query_one("#mute", Button).disabled = False
        return request

    @on(Input.Changed)
    def _changed(self) -> None:
        self.request()

    @on(Input.Submitted, "#mute-reason")
    def _next(self) -> None:
        self.query_one("#mute-until", Input).focus()

    @on(Input.Submitted, "#mute-until")
    @on(Button.Pressed, "#mute")
    def _mute(self) -> None:
        request = self.request()
        if request is not None:
            self.dismiss(request)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class UnmuteConfirm(ModalScreen[bool]):
    """Ask before unmuting: the pager comes back (and says so when the alarm is in ALARM now)."""

    DEFAULT_CSS = DIALOG_CSS + "UnmuteConfirm { align: center middle; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, alarm: AlarmView, muted_note: str = "") -> None:
        super().__init__()
        self.alarm = alarm
        self.muted_note = muted_note

    def compose(self) -> ComposeResult:
        a = self.alarm
        now = (
            "It is IN ALARM now: CloudWatch pages only on a state change, so nobody is paged until it "
            "changes state again."
            if a.state == "ALARM"
            else f"It is {a.state} now: its next change of state pages its subscribers."
        )
        with Vertical(classes="alarm-dialog"):
            yield Label(f"Unmute alarm {a.name}?", classes="title", markup=False)
            yield Static(
                f"{self.muted_note + ' ' if self.muted_note else ''}Its actions are enabled again "
                f"(EnableAlarmActions). {now} The change is written to the operator journal.",
                markup=False,
            )
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Unmute", id="unmute", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#unmute")
    def _unmute(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class EditAlarmModal(ModalScreen[tuple[float, int] | None]):
    """Edit threshold and period with AWS's validation; dismisses (threshold, period) or None."""

    DEFAULT_CSS = DIALOG_CSS + "EditAlarmModal { align: center middle; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, alarm: AlarmView) -> None:
        super().__init__()
        self.alarm = alarm

    def compose(self) -> ComposeResult:
        a = self.alarm
        with Vertical(classes="alarm-dialog"):
            yield Label(f"Edit alarm {a.name}", classes="title", markup=False)
            yield Static(f"Now: {a.condition}. Every other setting is kept (PutMetricAlarm).", markup=False)
            yield Label("Threshold")
            yield Input(f"{a.threshold:g}", id="threshold")
            yield Label("Period (seconds): 10, 20, 30 or a multiple of 60")
            yield Input(str(a.period), id="period")
            yield Static("", id="edit-error", classes="error", markup=False)
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Save", id="save", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#threshold", Input).focus()
        self.validate_inputs()

    def validate_inputs(self) -> tuple[float, int] | None:
        """Return (threshold, period) when both are valid, else None (and show why)."""
        problems = []
        threshold = period = None
        try:
            threshold = check_threshold(self.query_one("#threshold", Input).value.strip())
        except AlarmEditError as exc:
            problems.append(str(exc))
        text = self.query_one("#period", Input).value.strip()
        try:
            period = check_period(int(text))
        except ValueError as exc:
            problems.append(
                str(exc) if isinstance(exc, AlarmEditError) else f"period {text!r} is not a number"
            )
        if threshold is not None and period is not None and period < 60:
            problems.append(
                f"note: {period} s is a high-resolution alarm; a metric-filter metric has one datapoint "
                "a minute, so it will sit in INSUFFICIENT_DATA or flap"
            )
        self.query_one("#edit-error", Static).update(plain("\n".join(problems)))
        ok = threshold is not None and period is not None
        self.query_one("#save", Button).disabled = not ok
        return (threshold, period) if ok else None  # type: ignore[return-value]

    @on(Input.Changed)
    def _changed(self) -> None:
        self.validate_inputs()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        values = self.validate_inputs()
        if values is not None:
            self.dismiss(values)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class DeleteAlarmModal(ModalScreen[bool]):
    """Delete only after the alarm's name is typed exactly. Dismisses True to delete."""

    DEFAULT_CSS = (
        DIALOG_CSS
        + "DeleteAlarmModal { align: center middle; } DeleteAlarmModal .alarm-dialog { border: thick $error; }"
    )
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, alarm: AlarmView) -> None:
        super().__init__()
        self.alarm = alarm

    def compose(self) -> ComposeResult:
        with Vertical(classes="alarm-dialog"):
            yield Label(f"Delete alarm {self.alarm.name}?", classes="title", markup=False)
            yield Static(
                "DeleteAlarms removes the alarm; its metric filter, metric and SNS topic stay. "
                "`db2ops setup monitoring` re-creates db2ops's alarms. Type the alarm's name to confirm:"
            )
            yield Input(placeholder=self.alarm.name, id="typed")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Delete", id="delete", variant="error", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#typed", Input).focus()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        self.query_one("#delete", Button).disabled = event.value != self.alarm.name

    @on(Input.Submitted)
    @on(Button.Pressed, "#delete")
    def _delete(self) -> None:
        if self.query_one("#typed", Input).value == self.alarm.name:
            self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)


class SubscribeEmailModal(ModalScreen[str | None]):
    """Ask for the e-mail address to subscribe to the alarm's SNS topic; dismisses it, or None."""

    DEFAULT_CSS = DIALOG_CSS + "SubscribeEmailModal { align: center middle; }"
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, alarm: AlarmView) -> None:
        super().__init__()
        self.alarm = alarm

    def compose(self) -> ComposeResult:
        with Vertical(classes="alarm-dialog"):
            yield Label(
                f"Subscribe an e-mail to the topic of {self.alarm.name}", classes="title", markup=False
            )
            yield Static(
                "SNS Subscribe (email): AWS sends a confirmation link; nothing is delivered until the person "
                "clicks it. Runs as a plan: the write guard and the journal.",
                markup=False,
            )
            yield Input(placeholder="dba-team@example.com", id="email")
            with Horizontal(classes="buttons"):
                yield Button("Cancel", id="cancel")
                yield Button("Subscribe", id="subscribe", variant="primary", disabled=True)

    def on_mount(self) -> None:
        self.query_one("#email", Input).focus()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        from services.monitoring.params import valid_email

        self.query_one("#subscribe", Button).disabled = not valid_email(event.value.strip())

    @on(Input.Submitted)
    @on(Button.Pressed, "#subscribe")
    def _subscribe(self) -> None:
        if not self.query_one("#subscribe", Button).disabled:
            self.dismiss(self.query_one("#email", Input).value.strip())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class AlarmHistoryScreen(ModalScreen[None]):
    """The alarm's history, newest first; loads through `loader(name)` in a worker."""

    DEFAULT_CSS = (
        DIALOG_CSS
        + """
    AlarmHistoryScreen { align: center middle; }
    AlarmHistoryScreen .alarm-dialog { width: 90%; height: 80%; border: thick $accent; }
    AlarmHistoryScreen DataTable { height: 1fr; }
    AlarmHistoryScreen #history-detail { height: auto; max-height: 8; color: $text-muted; }
    """
    )
    BINDINGS = [Binding("escape,q,h", "close", "Close")]

    def __init__(self, alarm_name: str, loader: Callable[[str], Awaitable[AlarmHistory]]) -> None:
        super().__init__()
        self.alarm_name = alarm_name
        self.loader = loader
        self.history: AlarmHistory | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="alarm-dialog"):
            yield Label(f"History of {self.alarm_name}", classes="title", id="history-title", markup=False)
            yield Static("loading…", id="history-status", markup=False)
            yield DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
            yield Static("", id="history-detail", markup=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Time (UTC)", "Type", "Summary")
        self.load()

    @work(exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        status = self.query_one("#history-status", Static)
        try:
            history = await self.loader(self.alarm_name)
        except AlarmServiceError as exc:
            status.update(str(exc))
            status.add_class("error")
            return
        self.show(history)

    def show(self, history: AlarmHistory) -> None:
        """Fill the table with `history` (newest first)."""
        self.history = history
        lab = " (lab: recorded by the lab's CloudWatch evaluator)" if history.source == "lab" else ""
        self.query_one("#history-status", Static).update(
            plain(f"{plural(len(history.items), 'entry', 'entries')}, newest first{lab}")
        )
        table = self.query_one(DataTable)
        table.clear()
        for i, item in enumerate(history.items):
            when = _utc(item.timestamp)
            table.add_row(*plain_cells(when, item.kind, item.summary), key=str(i))
        if history.items:
            table.focus()

    @on(DataTable.RowHighlighted)
    def _detail(self, event: DataTable.RowHighlighted) -> None:
        if self.history is None or event.row_key.value is None:
            return
        item = self.history.items[int(event.row_key.value)]
        self.query_one("#history-detail", Static).update(_short(item.data, 600))

    def action_close(self) -> None:
        self.dismiss(None)


def _utc(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S") if when is not None else "?"


def _short(text: Any, limit: int) -> str:
    text = str(text or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"
