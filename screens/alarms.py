"""The alarm screen (`:alarms`): the CloudWatch alarms of the cluster's account/region, db2ops's own first.

Each row: state with its age, actions on or MUTED, the rule, a sparkline of the metric over the last hours,
the metric filter and log group behind it, and the reason. Below: the selected alarm in full with a
Sparkline; on the right: its SNS topic and subscriptions (pending / confirmed). Keys: m mute/unmute,
f test-fire, l log events, h history, e edit, d delete, r refresh. Every change runs as a plan step
(guard + journal). On the lab, values from the lab's CloudWatch evaluator are labelled "(lab)"; when the
lab runs in another process (`db2ops lab --serve`) they are read from it over SSH, and a lab that does not
answer is a note at the start of the status line.

Polls never overlap: the next one is scheduled when the previous has finished; boto3 runs in threads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Sparkline, Static

from screens.alarm_dialogs import (
    AlarmHistoryScreen,
    DeleteAlarmModal,
    EditAlarmModal,
    MuteAlarmModal,
    SubscribeEmailModal,
    TestFireConfirm,
    UnmuteConfirm,
)
from screens.alarm_side import side_panel_text, sns_topics
from services.alarms.mute import MuteNote, MuteRequest, format_utc
from services.alarms.service import (
    AlarmReader,
    AlarmService,
    AlarmServiceError,
    AlarmView,
    SubscriptionView,
    human_age,
)
from services.alarms.steps import (
    AlarmEditError,
    DeleteAlarmStep,
    EditAlarmStep,
    MuteAlarmStep,
    SubscribeEmailStep,
    TestFireStep,
)
from services.inventory.model import Cluster
from services.plans import WriteRefused, ensure_writable
from services.words import plural
from tui.screen_registry import ScreenUnavailable, register_screen
from tui.widgets.fit_size import fit_size
from tui.widgets.fitted_footer import FittedFooter
from tui.widgets.header import ConsoleHeader
from tui.widgets.plain_text import plain, plain_cells

STATE_STYLE = {
    "ALARM": ("▲ ALARM", "bold red"),
    "OK": ("● OK", "green"),
    "INSUFFICIENT_DATA": ("? NO DATA", "yellow"),
}
BARS = "▁▂▃▄▅▆▇█"
AWS_POLL_S = 30.0  # GetMetricData is billed per metric: poll AWS gently
LAB_POLL_S = 3.0


def mini_spark(values: list[float], width: int = 20) -> str:
    """Return `values` as a `width`-character bar string (max per slot); "" when there are none."""
    if not values:
        return ""
    step = max(1, -(-len(values) // width))
    slots = [max(values[i : i + step]) for i in range(0, len(values), step)][-width:]
    top = max(max(slots), 0.0)
    # Zero is the lowest bar; any activity shows at least the second one, so a single event stays visible.
    return "".join(BARS[0] if v <= 0 else BARS[max(1, round(v / top * (len(BARS) - 1)))] for v in slots)


class AlarmsScreen(Screen[None]):
    """Alarms of one cluster's account/region, with mute, test-fire, logs, history, edit and delete."""

    HELP = (
        "The CloudWatch alarms db2ops knows, its own first. m mutes (asks why and until when) or unmutes "
        "actions, f test-fires (a "
        "test: subscribers are notified), l shows the matching log events, h the history, e edits "
        "threshold/period, d deletes (type the name), s subscribes an e-mail address to the alarm's SNS "
        "topic (when setup ran without one), r refreshes. Changes go through plans and the journal."
    )
    BINDINGS = [
        Binding("m", "mute", "Mute/unmute"),
        Binding("f", "test_fire", "Test-fire"),
        Binding("l", "logs", "Log events"),
        Binding("h", "history", "History"),
        Binding("e", "edit", "Edit"),
        Binding("d", "delete", "Delete"),
        Binding("r", "refresh", "Refresh"),
        Binding("s", "subscribe", "Subscribe e-mail", show=False),
    ]
    DEFAULT_CSS = """
    AlarmsScreen #alarms-status { height: 1; padding: 0 1; color: $text-muted; }
    AlarmsScreen #alarms-table { height: 1fr; }
    AlarmsScreen #alarm-bottom { height: auto; max-height: 14; border-top: solid $panel; }
    AlarmsScreen #alarm-detail { width: 1fr; height: auto; padding: 0 1; }
    AlarmsScreen #alarm-spark { height: 3; }
    AlarmsScreen #alarm-spark-label { color: $text-muted; }
    AlarmsScreen #alarms-side { width: 56; height: auto; padding: 0 1; border-left: solid $panel; }
    /* narrow terminals: the detail keeps at least half the width (the subscriptions wrap) */
    AlarmsScreen.-narrow #alarms-side { width: 45%; }
    AlarmsScreen.-narrow #alarms-status { height: auto; }
    """

    def __init__(
        self,
        cluster: Cluster,
        service: AlarmReader,
        *,
        poll_interval: float | None = None,
        clock: Callable[[], datetime] | None = None,
        spark_hours: float = 3,
    ) -> None:
        super().__init__(name=f"alarms:{cluster.name}")
        self.cluster = cluster
        self.service = service
        # A backend that answers locally (the lab in this process) is polled often; AWS, or a lab in
        # another process asked over SSH, at the AWS pace (r refreshes at once).
        fast = service.fast_polls
        self.poll_interval = (
            poll_interval if poll_interval is not None else (LAB_POLL_S if fast else AWS_POLL_S)
        )
        self.poll_once = poll_interval == 0
        self.clock = clock or (lambda: datetime.now(UTC))
        self.spark_hours = spark_hours
        self.alarms: list[AlarmView] = []
        self.sparks: dict[str, list[float]] = {}
        self.subs: dict[str, list[SubscriptionView] | str] = {}  # topic -> subscriptions or error text
        self.sent: dict[str, list[dict[str, Any]]] = {}  # alarm -> SNS messages the lab sent (lab only)
        self.mutes: dict[str, MuteNote] = {}  # alarm -> who muted it, why, until when (the journal's)
        self.error = ""
        self.loaded_at: datetime | None = None
        self.loaded = asyncio.Event()
        self._wake = asyncio.Event()

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        yield ConsoleHeader("alarms", self.cluster)
        yield Static("loading alarms…", id="alarms-status")
        yield DataTable(id="alarms-table", cursor_type="row", zebra_stripes=True)
        with Horizontal(id="alarm-bottom"):
            with Vertical(id="alarm-detail"):
                yield Static("", id="alarm-detail-text")
                yield Static("", id="alarm-spark-label", markup=False)
                yield Sparkline([], id="alarm-spark")
            yield Static("", id="alarms-side")
        yield FittedFooter()

    @property
    def lab(self) -> bool:
        return self.service.source == "lab"  # values are labelled "(lab)"

    @property
    def table(self) -> DataTable:
        return self.query_one("#alarms-table", DataTable)

    def on_mount(self) -> None:
        fit_size(self, self.app.size.width, self.app.size.height)
        self._add_columns()
        self.table.focus()
        self._start_polling()

    @property
    def with_spark_column(self) -> bool:
        """Below 90 columns the sparkline column goes first (the detail under the table still draws it)."""
        return not self.has_class("-tiny")

    def _add_columns(self) -> None:
        lab = " (lab)" if self.lab else ""
        spark = [f"Last {self.spark_hours:g}h{lab}"] if self.with_spark_column else []
        self.table.clear(columns=True)
        self.table.add_columns(
            f"State{lab}", "Since", "Alarm", "Actions", *spark, "Log group: filter pattern", "Reason"
        )

    def on_resize(self, event: events.Resize) -> None:
        before = self.with_spark_column
        fit_size(self, event.size.width, event.size.height)
        if before != self.with_spark_column:
            self._add_columns()
            self._render_all()

    # ------------------------------------------------------------------ polling
    def _start_polling(self) -> None:
        self.run_worker(self._poll_loop(), group="alarms-poll", exclusive=True, exit_on_error=False)

    async def _poll_loop(self) -> None:
        while True:
            self._wake.clear()
            await self.refresh_data()
            if self.poll_once:
                return
            try:  # the next poll starts only after this one finished: polls never overlap
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)
            except TimeoutError:
                pass

    async def refresh_data(self) -> None:
        """Read alarms, sparklines and subscriptions through the service, then redraw."""
        try:
            alarms = await self.service.list_alarms()
        except AlarmServiceError as exc:
            self.error = str(exc)
            self._render_status()
            self.loaded.set()
            return
        limit = asyncio.Semaphore(4)

        async def spark(alarm: AlarmView) -> tuple[str, list[float]]:
            async with limit:
                try:
                    return alarm.name, await self.service.metric_sparkline(alarm, self.spark_hours)
                except AlarmServiceError:
                    return alarm.name, []

        async def subs(topic: str) -> tuple[str, list[SubscriptionView] | str]:
            try:
                return topic, await self.service.topic_subscriptions(topic)
            except AlarmServiceError as exc:
                return topic, str(exc)

        async def sent(alarm: AlarmView) -> tuple[str, list[dict[str, Any]]]:
            try:
                return alarm.name, await self.service.lab_notifications(alarm.name) if self.lab else []
            except AlarmServiceError:  # the lab did not answer: the status line's note says so
                return alarm.name, []

        topics = sorted({t for a in alarms for t in sns_topics(a)})
        sparks, subscriptions, messages, mutes = await asyncio.gather(
            asyncio.gather(*(spark(a) for a in alarms)),
            asyncio.gather(*(subs(t) for t in topics)),
            asyncio.gather(*(sent(a) for a in alarms)),
            self.service.mute_notes(),
        )
        self.alarms, self.sparks, self.subs = alarms, dict(sparks), dict(subscriptions)
        self.sent, self.mutes = dict(messages), mutes
        self.error = ""
        self.loaded_at = self.clock()
        self._render_all()
        self.loaded.set()

    async def on_unmount(self) -> None:
        try:  # its own SSH pool to a lab in another process, if any
            await self.service.close()
        except Exception:  # closing: nothing left to tell the user
            pass

    def action_refresh(self) -> None:
        if self.poll_once:
            self._start_polling()
        else:
            self._wake.set()

    # ------------------------------------------------------------------ drawing
    def _render_all(self) -> None:
        table = self.table
        keep = self.selected.name if self.selected else None
        table.clear()
        now = self.clock()
        for a in self.alarms:
            label, style = STATE_STYLE.get(a.state, (a.state, ""))
            actions = self._actions_cell(a, now)
            filt = _short(f"{a.log_group}: {a.filter_pattern}", 44) if a.filter_name else "—"
            name = Text(a.name, "bold" if a.ours else "")
            spark = [mini_spark(self.sparks.get(a.name, []))] if self.with_spark_column else []
            table.add_row(
                *plain_cells(
                    Text(label, style),
                    human_age(a.age(now)),
                    name,
                    actions,
                    *spark,
                    filt,
                    _short(a.reason, 60),
                ),
                key=a.name,
            )
        if keep is not None and keep in {a.name for a in self.alarms}:
            table.move_cursor(row=[a.name for a in self.alarms].index(keep))
        self._render_status()
        self._render_selected()

    def mute_of(self, alarm: AlarmView) -> MuteNote | None:
        """Return the journal's note of `alarm`'s mute (None when not muted or muted elsewhere)."""
        return None if alarm.actions_enabled else self.mutes.get(alarm.name)

    def _actions_cell(self, a: AlarmView, now: Any) -> Text:
        if a.actions_enabled:
            return Text("on", "green")
        note = self.mute_of(a)
        if note is not None and note.expired(now):
            return Text("MUTED, EXPIRED", "bold red")
        if note is not None and note.until is not None:
            return Text(f"MUTED to {note.until.strftime('%H:%M')}", "bold yellow")
        return Text("MUTED", "bold yellow")

    def _mute_line(self, a: AlarmView) -> Text:
        """Return who muted `a`, why and until when (or that an expiry passed), as far as the journal knows."""
        now = self.clock()
        note = self.mute_of(a)
        if note is None:
            return Text(
                "muted: no mute of it in this machine's journal (muted elsewhere or by hand): who/why unknown",
                "dim",
            )
        line = Text(
            f"muted by {note.who} at {note.when.strftime('%H:%M')} UTC: {note.reason or '(no reason)'}; "
        )
        if note.until is None:
            line.append("no expiry")
        elif note.expired(now):
            line.append(
                f"EXPIRED at {format_utc(note.until)} ({human_age(now - note.until)} ago): still muted, "
                "nobody is paged; m unmutes (db2ops never unmutes by itself)",
                "bold red",
            )
        else:
            line.append(f"until {format_utc(note.until)} (in {human_age(note.until - now)})")
        return line

    def _render_status(self) -> None:
        bits = [plural(len(self.alarms), "alarm"), f"{sum(a.state == 'ALARM' for a in self.alarms)} in ALARM"]
        bits.append(f"{sum(a.ours for a in self.alarms)} by db2ops")
        lab_note = self.service.lab_note if self.lab else ""  # a lab in another process
        if self.lab and not lab_note:
            bits.append(
                "lab: states, history, datapoints and e-mail confirmation come from the lab's evaluator (lab)"
            )
        else:
            bits.append(f"AWS {self.cluster.aws.region}")
        if self.loaded_at is not None:
            bits.append(f"read {self.loaded_at.strftime('%H:%M:%S')} UTC")
        text = Text()
        now = self.clock()
        expired = [a.name for a in self.alarms if (n := self.mute_of(a)) is not None and n.expired(now)]
        if expired:
            text.append(f"⚠ mute expired: {', '.join(expired)} (m unmutes)", "bold red")
            text.append(" · ")
        for problem in (self.error, lab_note):  # first: the line is cut at the screen's edge
            if problem:
                text.append(f"⚠ {problem}", "bold red")
                text.append(" · ")
        text.append(" · ".join(bits))
        self.query_one("#alarms-status", Static).update(text)

    @property
    def selected(self) -> AlarmView | None:
        """Return the alarm under the cursor (None when the table is empty)."""
        if not self.alarms or not self.is_mounted:
            return None
        row = self.table.cursor_row
        return self.alarms[row] if 0 <= row < len(self.alarms) else None

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "alarms-table":
            self._render_selected()

    def _render_selected(self) -> None:
        a = self.selected
        detail = self.query_one("#alarm-detail-text", Static)
        label = self.query_one("#alarm-spark-label", Static)
        spark = self.query_one("#alarm-spark", Sparkline)
        if a is None:
            detail.update(
                "No alarms in this account/region yet. The monitoring setup creates them: "
                "open it with `:setup` (or `db2ops setup monitoring --cluster NAME --apply`)."
                if not self.error
                else ""
            )
            label.update("")
            spark.data = []
            self.query_one("#alarms-side", Static).update("")
            return
        lab = " (lab)" if a.source == "lab" else ""
        text = Text()
        text.append(a.name, "bold")
        text.append(f"  {'db2ops' if a.ours else 'not created by db2ops'}\n", "dim")
        state_label, style = STATE_STYLE.get(a.state, (a.state, ""))
        text.append(state_label, style)
        text.append(f"{lab} for {human_age(a.age(self.clock()))}: {a.reason}\n")
        text.append(f"Rule: {a.namespace} {a.metric_name}: {a.condition}; actions ")
        text.append(
            "enabled" if a.actions_enabled else "MUTED", "green" if a.actions_enabled else "bold yellow"
        )
        text.append("\n")
        if not a.actions_enabled:
            text.append_text(self._mute_line(a))
            text.append("\n")
        if a.filter_name:
            text.append(f"Filter: {a.filter_name}  pattern: {a.filter_pattern}  log group: {a.log_group}")
        else:
            text.append("Filter: no metric filter publishes this metric (l has nothing to show)", "dim")
        detail.update(text)
        values = self.sparks.get(a.name, [])
        peak = max(values) if values else 0
        label.update(
            plain(f"{a.metric_name} over the last {self.spark_hours:g} h{lab}: peak {peak:g} per bucket")
        )
        spark.data = values or [0.0]
        self._render_side(a)

    def _render_side(self, a: AlarmView) -> None:
        side = side_panel_text(a, self.subs, self.sent.get(a.name))
        self.query_one("#alarms-side", Static).update(side)

    # ------------------------------------------------------------------ actions
    def _writable(self) -> bool:
        try:
            ensure_writable(
                self.cluster, apply_requested=True, inventory_source=self.service.inventory_source
            )
        except WriteRefused as exc:
            self.notify(str(exc), title="Read-only", severity="error", timeout=8)
            return False
        return True

    def _target(self) -> AlarmView | None:
        alarm = self.selected
        if alarm is None:
            self.notify("no alarm selected", severity="warning")
        return alarm

    def action_mute(self) -> None:
        """Ask first: a mute takes a reason and an optional expiry; an unmute is confirmed."""
        alarm = self._target()
        if alarm is None or not self._writable():
            return
        if alarm.actions_enabled:

            def muted(request: MuteRequest | None) -> None:
                if request is not None:
                    step = MuteAlarmStep(alarm.name, mute=True, request=request)
                    self.apply_step(step, f"Muted {alarm.name}")

            self.app.push_screen(MuteAlarmModal(alarm, self.clock), muted)
            return

        def unmuted(go: bool | None) -> None:
            if go:
                self.apply_step(MuteAlarmStep(alarm.name, mute=False), f"Unmuted {alarm.name}")

        self.app.push_screen(UnmuteConfirm(alarm, self._mute_line(alarm).plain), unmuted)

    def action_test_fire(self) -> None:
        alarm = self._target()
        if alarm is None or not self._writable():
            return
        people = [
            s for t in sns_topics(alarm) for s in self.subs.get(t, []) if isinstance(s, SubscriptionView)
        ]

        def answered(go: bool | None) -> None:
            if go:
                self.apply_step(TestFireStep(alarm.name), f"Test-fired {alarm.name}")

        self.app.push_screen(TestFireConfirm(alarm, people), answered)

    def action_edit(self) -> None:
        alarm = self._target()
        if alarm is None or not self._writable():
            return

        def answered(values: tuple[float, int] | None) -> None:
            if values is None:
                return
            try:
                step = EditAlarmStep(alarm.name, threshold=values[0], period=values[1])
            except AlarmEditError as exc:
                self.notify(str(exc), severity="error")
                return
            self.apply_step(step, f"Edited {alarm.name}")

        self.app.push_screen(EditAlarmModal(alarm), answered)

    def action_delete(self) -> None:
        alarm = self._target()
        if alarm is None or not self._writable():
            return

        def answered(go: bool | None) -> None:
            if go:
                self.apply_step(DeleteAlarmStep(alarm.name), f"Deleted {alarm.name}")

        self.app.push_screen(DeleteAlarmModal(alarm), answered)

    def action_subscribe(self) -> None:
        """The runbook's e-mail subscription, added from here when setup ran without one (a plan step)."""
        alarm = self._target()
        if alarm is None or not self._writable():
            return

        def answered(email: str | None) -> None:
            if not email:
                return
            try:
                step = SubscribeEmailStep(alarm.name, email)
            except AlarmEditError as exc:
                self.notify(str(exc), severity="error")
                return
            self.apply_step(step, f"Subscribed {email} (pending until confirmed)")

        self.app.push_screen(SubscribeEmailModal(alarm), answered)

    def action_history(self) -> None:
        alarm = self._target()
        if alarm is not None:
            self.app.push_screen(AlarmHistoryScreen(alarm.name, self.service.alarm_history))

    @work(group="alarm-change", exit_on_error=False)
    async def apply_step(self, step: Any, done_text: str) -> None:
        """Run `step` through the service's plan runner; say the outcome; refresh."""
        try:
            result = await self.service.apply_change(step)
        except WriteRefused as exc:
            self.notify(str(exc), title="Refused", severity="error", timeout=8)
            return
        except Exception as exc:  # an unexpected error must not take the screen down
            self.notify(f"{type(exc).__name__}: {exc}", title=step.title, severity="error", timeout=8)
            return
        outcome = result.steps[0] if result.steps else None
        if result.ok and outcome is not None and outcome.status == "already_done":
            self.notify(f"nothing to do: {outcome.message}", title=step.title)
        elif result.ok:
            self.notify(f"{done_text} (written to the journal)", title="Done")
        else:
            message = outcome.message if outcome is not None else result.next_hint
            self.notify(message or "the change failed", title=step.title, severity="error", timeout=10)
        self.action_refresh()

    async def action_logs(self) -> None:
        alarm = self._target()
        if alarm is None:
            return
        if not alarm.filter_pattern and not alarm.filter_name:
            self.notify(
                "no metric filter publishes this alarm's metric: nothing to look up", severity="warning"
            )
            return
        from tui import screen_registry

        entry = screen_registry.resolve("logs")
        if entry is None:
            self.notify("the log screen is not available in this console", severity="error")
            return
        try:
            screen = entry.factory(self.app)
        except ScreenUnavailable as exc:
            self.notify(str(exc), severity="error")
            return
        await self.app.push_screen(screen)
        # Only the alarm's log group: a diag pattern run over the audit records shows unrelated matches.
        aws = self.cluster.aws
        source = {aws.audit_log_group: "audit", aws.diag_log_group: "diag"}.get(alarm.log_group)
        set_source = getattr(getattr(screen, "view", None), "set_source_mode", None)
        if source is not None and set_source is not None:
            set_source(source)
        apply = getattr(screen, "apply_prompt", None)
        if apply is not None and alarm.filter_pattern:
            apply("filter", alarm.filter_pattern)
            self.notify(f"filter {alarm.filter_pattern} (log group {alarm.log_group})", title="Log events")


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _open_alarms(app: Any) -> AlarmsScreen:
    cluster = app.current_cluster
    if cluster is None:
        raise ScreenUnavailable("no cluster selected: pick one on :fleet first, then :alarms")
    # On the lab, the lab's CloudWatch evaluator answers what moto does not (tui/backends.py); a lab in
    # another process (`db2ops lab --serve`) is asked over SSH, through the session's one SSH pool.
    from tui.backends import extras_for

    context = app.context
    extras = extras_for(cluster, context.lab, context.runner)
    service = AlarmService(cluster, extras=extras, inventory_source=context.inventory.source)
    return AlarmsScreen(cluster, service)


register_screen(
    "alarms",
    _open_alarms,
    "CloudWatch alarms, their SNS subscribers; mute, test-fire, edit",
    aliases=("alarm",),
)
