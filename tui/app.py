"""The console App shell: screens, themes, the refresh loop, events, drills and host-key questions.

First-frame discipline: nothing here imports asyncssh, boto3 or moto. The status service (and with it SSH
and AWS) is built inside a worker after the first frame; the lab is started the same way.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.binding import Binding
from textual.filter import LineFilter
from textual.notifications import SeverityLevel
from textual.screen import ModalScreen, Screen
from textual.signal import Signal

from services.context import ConsoleContext, LabHandle, StatusSource
from services.inventory.model import Cluster, Inventory
from services.settings import Settings
from services.ssh.runner import HostRunner
from services.status.poll import ClusterFeed, StatusPoller
from services.text_safety import safe_line, safe_text
from themes.themes import CSS_PATH, THEMES, next_theme, resolve_theme
from tui import screen_registry
from tui.backends import extras_chooser, insights_engine_for
from tui.control_filter import ControlCharacterFilter
from tui.event_toasts import EventToasts
from tui.host_keys import HostKeyQuestions

if TYPE_CHECKING:
    from services.record.recorder import Recorder
    from services.status.model import ClusterStatus


def _console_commands_provider() -> type:
    # imported when the palette first opens: textual.command stays off the first frame
    from tui.commands import ConsoleCommands

    return ConsoleCommands


EXIT_AFTER_FIRST_FRAME_ENV = "DB2OPS_EXIT_AFTER_FIRST_FRAME"
FIRST_FRAME_MARKER = "DB2OPS_FIRST_FRAME"


class Db2OpsApp(App[int]):
    """The db2ops console over one ConsoleContext (`self.context`: the SSH pool, the status source, the lab,
    journals, timelines, failover runs). Pass `context`, or the inventory and settings (plus, in tests,
    fakes for `status_source` and `runner`) and the app makes it; the real StatusService over the SSH pool
    is built after the first frame."""

    TITLE = "db2ops"
    INTERVAL_STEPS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
    CSS_PATH = CSS_PATH
    COMMANDS = App.COMMANDS | {_console_commands_provider}
    BINDINGS = [
        # f1 too: with a text field focused, `?` is text (a search, a reason), f1 still opens the help
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        # priority: handled on arrival, so keys typed right after ":" reach the prompt (see check_action)
        Binding("colon", "command_prompt", "Command", id="app.command", priority=True),
        Binding("minus,escape", "back", "Back", id="app.back"),
        Binding("space", "refresh_now", "Refresh", id="app.refresh"),
        Binding("p", "toggle_pause", "Pause", id="app.pause"),
        Binding("t", "cycle_theme", "Theme", id="app.theme"),
        Binding("right_square_bracket", "slower", "Slower refresh", id="app.slower", show=False),
        Binding("left_square_bracket", "faster", "Faster refresh", id="app.faster", show=False),
    ]

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Show a toast; its text is always plain: names, remote errors and filter patterns (`[w1, w2]`)
        are never read as markup, and escape sequences in them never reach the terminal (text_safety)."""
        super().notify(
            safe_text(message), title=safe_line(title), severity=severity, timeout=timeout, markup=False
        )

    def _refresh_notifications(self) -> None:
        super()._refresh_notifications()
        self.call_after_refresh(self.place_toasts)

    def place_toasts(self) -> None:
        """Keep the toasts off the inputs and the banner of the screen on top (tui/toast_place.py)."""
        from tui.toast_place import place_toasts

        if self._notifications and self.screen_stack:
            place_toasts(self.screen)

    def get_line_filters(self) -> Sequence[LineFilter]:
        """Textual's filters plus the control-character guard: nothing drawn carries an escape sequence,
        a C0/C1 control or a bidi override, whatever widget built it (control_filter)."""
        return [*super().get_line_filters(), self._control_filter]

    def __init__(
        self,
        inventory: Inventory | None = None,
        settings: Settings | None = None,
        status_source: StatusSource | None = None,
        lab: LabHandle | None = None,
        *,
        context: ConsoleContext | None = None,
        runner: HostRunner | None = None,
        start_cluster: str | None = None,
        clock: Callable[[], float] = time.time,
        settings_path: Path | None = None,
        toasts: bool = True,
        recorder: Recorder | Callable[[], Recorder] | None = None,
    ) -> None:
        super().__init__()
        # one instance for the app's life: each rendered line caches its filtered form per filter
        self._control_filter = ControlCharacterFilter()
        if context is None:
            if inventory is None:
                raise TypeError("Db2OpsApp needs an inventory or a context")
            context = ConsoleContext(
                inventory,
                settings,
                runner=runner,
                status_source=status_source,
                lab=lab,
                extras_for=extras_chooser(lab),
                insights_for=insights_engine_for,
            )
        elif any(part is not None for part in (inventory, settings, status_source, lab, runner)):
            raise TypeError("Db2OpsApp: pass either a context or its parts, not both")
        self.context = context
        self._start_cluster = start_cluster
        self._clock = clock
        self._settings_path = settings_path
        self._toasts = toasts
        self._feeds: dict[str, ClusterFeed] = {}
        self._current: str | None = start_cluster
        self.host_keys = HostKeyQuestions(self)
        self.event_toasts = EventToasts(self)
        self.paused = False
        self.refresh_interval = float(self.settings.refresh_interval_s)
        self.first_frame_at: float | None = None
        self.drills_done = 0
        # what the embedded lab said when it started (tui/widgets/lab_notes.py); empty without a lab
        self.lab_warnings: tuple[str, ...] = ()
        self.lab_not_running: tuple[str, ...] = ()
        # the recording (services/record): fed every snapshot, written on its own thread; None: not recording.
        # A factory is called when polling starts, after the first frame (sqlite3 stays off its imports).
        self._make_recorder: Callable[[], Recorder] | None = None
        self.recorder: Recorder | None = None
        if callable(recorder):
            self._make_recorder = recorder
        else:
            self.recorder = recorder
        self.status_signal: Signal[str] = Signal(self, "status")
        self.console_state_signal: Signal[None] = Signal(self, "console-state")
        self.poller = StatusPoller(
            self.context.status,
            self._on_status,
            self._on_poll_error,
            self.refresh_interval,
            # twice the parts' own deadline: a part times out (and is shown so) before the poll would
            deadline=2 * self.settings.status_deadline_s,
        )
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = resolve_theme(self.settings.theme, set(self.available_themes))
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)

    # ------------------------------------------------------------------ state other modules read

    @property
    def inventory(self) -> Inventory:
        return self.context.inventory

    @inventory.setter
    def inventory(self, inventory: Inventory) -> None:
        self.context.inventory = inventory

    @property
    def settings(self) -> Settings:
        return self.context.settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        self.context.settings = settings

    @property
    def lab(self) -> LabHandle | None:
        return self.context.lab

    @property
    def clusters(self) -> tuple[Cluster, ...]:
        return self.inventory.clusters

    @property
    def current_cluster(self) -> Cluster | None:
        """The cluster of the top-most status screen, else the one last opened, else the only one."""
        for screen in reversed(self.screen_stack):
            cluster = getattr(screen, "cluster", None)
            if isinstance(cluster, Cluster):
                return cluster
        if self._current is not None and self.inventory.cluster(self._current) is not None:
            return self.inventory.cluster(self._current)
        return self.clusters[0] if len(self.clusters) == 1 else None

    def now(self) -> float:
        return self._clock()

    def replay_label(self) -> str:
        """The recorded time and play state the header shows in replay (tui/replay.py); "" when live."""
        return ""

    def command_entries(self) -> tuple[screen_registry.ScreenEntry, ...]:
        """The `:` commands help and the prompt list: every registered screen (the replay has its own)."""
        return screen_registry.entries()

    def feed(self, name: str) -> ClusterFeed:
        """Return the feed of cluster `name` (created empty for a cluster not polled yet)."""
        if name not in self._feeds:
            cluster = self.inventory.cluster(name) or Cluster(name=name)
            self._feeds[name] = ClusterFeed(cluster)
        return self._feeds[name]

    # ------------------------------------------------------------------ start-up

    def on_mount(self) -> None:
        from screens.starting import StartingScreen

        if self.clusters:
            self._push_home()
        elif self.lab is not None:
            self.push_screen(StartingScreen("Starting the lab: SSH hosts and the AWS emulator…"))
        else:
            where = self.inventory.source or "the inventory"
            self.push_screen(
                StartingScreen(f"No clusters in {where}: add one (see `db2ops locate`).", busy=False)
            )
        self.call_after_refresh(self._after_first_frame)
        # inputs appear and move while a toast is up (a prompt opens, a dialog, a resize): follow them
        self.set_interval(0.5, self.place_toasts)

    def _push_home(self) -> None:
        from screens.fleet import FleetScreen
        from screens.status import StatusScreen

        start = self.inventory.cluster(self._start_cluster) if self._start_cluster else None
        if self._start_cluster and start is None:
            known = ", ".join(c.name for c in self.clusters)
            self.notify(f"no cluster {self._start_cluster!r}; known: {known}", severity="warning")
        if len(self.clusters) > 1:
            self.push_screen(FleetScreen())
        if start is not None or len(self.clusters) == 1:
            self.push_screen(StatusScreen(start or self.clusters[0]))

    def _after_first_frame(self) -> None:
        self.first_frame_at = time.time()
        if os.environ.get(EXIT_AFTER_FIRST_FRAME_ENV):
            self.exit(0)
            return
        self.run_worker(self._load_screens(), group="startup", exit_on_error=False)
        if self.lab is not None and not self.clusters:
            self.run_worker(self._start_lab(), group="startup", exit_on_error=False)
        else:
            self._start_polling()

    async def _load_screens(self) -> None:
        # other helpers' screens (logs, alarms, wizard, journal) register themselves on import
        await asyncio.to_thread(screen_registry.load_screen_modules)

    async def _start_lab(self) -> None:
        from screens.starting import StartingScreen

        lab = self.lab
        if lab is None:
            return
        try:
            await lab.start()
            inventory = lab.inventory
            if not isinstance(inventory, Inventory):
                from services.inventory.loader import load_inventory

                inventory = await asyncio.to_thread(load_inventory, Path(inventory))
        except Exception as exc:  # show it on screen: the user needs to know why nothing comes
            screen = self.screen
            message = f"The lab did not start: {exc}. Run `db2ops lab --serve` to see its log."
            if isinstance(screen, StartingScreen):
                screen.show_error(message)
            else:
                self.notify(message, severity="error", timeout=30, markup=False)
            return
        self.inventory = inventory
        from tui.widgets.lab_notes import lab_warnings, toast_lab_warnings

        self.lab_warnings, self.lab_not_running = lab_warnings(lab)
        if isinstance(self.screen, StartingScreen):
            self.pop_screen()
        self._push_home()
        toast_lab_warnings(self, self.lab_warnings, self.lab_not_running)
        self._start_polling()

    def _start_polling(self) -> None:
        if self._make_recorder is not None:
            self.recorder, self._make_recorder = self._make_recorder(), None
        if self.recorder is not None:
            self._start_recording(self.recorder)
        for cluster in self.clusters:
            self.feed(cluster.name).cluster = cluster
            self.run_worker(
                self.poller.run(cluster), group="poll", name=f"poll:{cluster.name}", exit_on_error=False
            )

    def _start_recording(self, recorder: Recorder) -> None:
        from services.plans.journal import journal_for

        def changed(_state: object) -> None:  # from the recorder's thread
            try:
                self.call_from_thread(self.console_state_signal.publish, None)
            except RuntimeError:  # the app is not running (any more)
                pass

        recorder.on_change = changed
        for cluster in self.clusters:
            recorder.watch_journal(cluster.name, journal_for(cluster).path)
        recorder.start()
        self.context.recorder = recorder  # the timelines' log records go to it too (LOG items)
        self.console_state_signal.publish(None)

    @property
    def recording(self) -> str:
        """What the header says of the recording: "REC", "recording paused: why", or "" (not recording)."""
        recorder = self.recorder
        return "" if recorder is None or not recorder.state.recording else recorder.state.label

    async def on_unmount(self) -> None:
        self.workers.cancel_group(self, "poll")
        if self.recorder is not None:  # what is queued is written; the file stays consistent
            self.context.recorder = None
            await asyncio.to_thread(self.recorder.stop)
        try:  # the SSH pool, then the lab
            await asyncio.wait_for(self.context.close(), 20)
        except Exception:  # closing on exit: nothing left to tell the user
            pass

    # ------------------------------------------------------------------ polling results

    def _on_status(self, cluster: Cluster, status: ClusterStatus) -> None:
        from services.status.events import diff_snapshots

        events = self.feed(cluster.name).apply(status, diff_snapshots)
        if self.recorder is not None:
            self.recorder.record_status(status)  # a queue put: never waits for the disk
        if self._toasts:
            self.event_toasts.add(cluster.name, events)
        self.status_signal.publish(cluster.name)
        self.host_keys.ask()

    def _on_poll_error(self, cluster: Cluster, exc: BaseException) -> None:
        self.feed(cluster.name).fail(f"{type(exc).__name__}: {exc}", self.now())
        self.status_signal.publish(cluster.name)

    # ------------------------------------------------------------------ navigation and commands

    def open_cluster(self, name: str) -> None:
        """Show the status screen of cluster `name` (notifies when there is no such cluster)."""
        from screens.status import StatusScreen

        cluster = self.inventory.cluster(name)
        if cluster is None:
            known = ", ".join(c.name for c in self.clusters) or "none"
            self.notify(f"no cluster {name!r}; known: {known}", severity="warning")
            return
        self._current = name
        self._show(StatusScreen(cluster))

    def _show(self, screen: Screen[Any]) -> None:
        if isinstance(screen, ModalScreen):
            self.push_screen(screen)
            return
        names = [s.name for s in self.screen_stack]
        if screen.name and screen.name in names:
            while self.screen.name != screen.name:  # go back to it rather than stacking a copy
                self.pop_screen()
            return
        self.push_screen(screen)

    def run_command(self, text: str) -> None:
        """Run one `:` command: a screen alias (`status [cluster]`, `fleet`, `logs`, …) or `q`."""
        command = screen_registry.split_command(text)
        if command is None:
            return
        name, args = command
        if name in screen_registry.QUIT_WORDS:
            self.exit(0)
            return
        entry = screen_registry.resolve(name)
        if entry is None:
            screen_registry.load_screen_modules()  # a screen typed before the background load finished
            entry = screen_registry.resolve(name)
        if entry is None:
            known = ", ".join(f":{e.alias}" for e in screen_registry.entries())
            self.notify(f"unknown command :{name}. Known: {known}, :q", severity="warning", timeout=8)
            return
        sub = screen_registry.resolve(f"{name}-{args[0]}") if args else None
        if sub is not None:  # `:setup ha` opens the screen registered as `setup-ha`
            entry, args = sub, args[1:]
        if args and entry.alias == "status":
            self.open_cluster(args[0])
            return
        try:
            screen = entry.factory(self)
        except screen_registry.ScreenUnavailable as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        self._show(screen)

    # ------------------------------------------------------------------ actions

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "command_prompt":
            from textual.widgets import Input, TextArea

            # a ":" typed into a text field is text (filters, times), not command mode
            return not isinstance(self.focused, Input | TextArea)
        return True

    def action_help(self) -> None:
        from screens.help import HelpScreen, help_for

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(help_for(self.screen))

    def action_command_prompt(self) -> None:
        from screens.command_prompt import CommandPrompt

        self.push_screen(CommandPrompt(), lambda text: self.run_command(text or ""))

    async def action_back(self) -> None:
        if isinstance(self.screen, ModalScreen):
            self.screen.dismiss(None)
        elif len(self.screen_stack) > 2:  # never pop the home screen (stack[0] is Textual's default)
            self.pop_screen()

    def action_refresh_now(self) -> None:
        self._retry_hosts_now()
        self.poller.refresh_now()

    def _retry_hosts_now(self, cluster: Cluster | None = None) -> None:
        """End the SSH reconnect backoff (of `cluster`'s hosts, or all): a user who asks for a refresh
        (or just restored the lab) must see a host that came back now, not after up to 8 s of backoff."""
        self.context.retry_hosts_now(None if cluster is None else cluster.hosts)

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        self.poller.set_paused(self.paused)
        self.notify("Refresh paused: space still polls once" if self.paused else "Refresh resumed")
        self.console_state_signal.publish(None)

    def action_cycle_theme(self) -> None:
        self.set_theme(next_theme(self.theme))

    def action_slower(self) -> None:
        bigger = [s for s in self.INTERVAL_STEPS if s > self.refresh_interval]
        self.set_refresh_interval(bigger[0] if bigger else self.INTERVAL_STEPS[-1])

    def action_faster(self) -> None:
        smaller = [s for s in self.INTERVAL_STEPS if s < self.refresh_interval]
        self.set_refresh_interval(smaller[-1] if smaller else self.INTERVAL_STEPS[0])

    def set_refresh_interval(self, seconds: float) -> None:
        """Set the time between polls (saved in the settings)."""
        self.refresh_interval = seconds
        self.poller.set_interval(seconds)
        self.console_state_signal.publish(None)
        self._save_settings(refresh_interval_s=seconds)

    def set_theme(self, name: str) -> None:
        """Switch to theme `name` (saved in the settings)."""
        self.theme = name
        self.notify(f"Theme: {name}", timeout=2)

    def watch_theme(self, name: str) -> None:
        if name != self.settings.theme:
            self._save_settings(theme=name)

    def _save_settings(self, **changes: Any) -> None:
        self.settings = replace(self.settings, **changes)
        self.run_worker(
            self._write_settings(self.settings), group="settings", exclusive=True, exit_on_error=False
        )

    async def _write_settings(self, settings: Settings) -> None:
        from services.settings import save_settings

        try:
            await asyncio.to_thread(save_settings, settings, self._settings_path)
        except OSError as exc:
            self.notify(
                f"Could not save settings: {exc}. Check the permissions of the config dir.",
                severity="warning",
            )

    # ------------------------------------------------------------------ lab drills

    def run_drill(self, cluster: Cluster, verb: str) -> None:
        """Run `db2ops-lab <verb>` on a lab host of `cluster` (refused on non-lab clusters)."""
        from tui.drills import LAB_DRILLS

        if not cluster.lab:
            self.notify(
                f"{cluster.name} is not a lab cluster: drills only run on the embedded lab", severity="error"
            )
            return
        if verb not in LAB_DRILLS:
            self.notify(f"unknown drill {verb!r}; known: {', '.join(LAB_DRILLS)}", severity="warning")
            return
        self.run_worker(self._drill(cluster, verb), group=f"drill:{cluster.name}", exit_on_error=False)

    async def _drill(self, cluster: Cluster, verb: str) -> None:
        from tui.drills import run_lab_drill

        runner = await self.context.host_runner()
        await run_lab_drill(self, runner, cluster, verb)
        self.drills_done += 1
        self._retry_hosts_now(cluster)
        self.poller.refresh_now(cluster.name)


def _settings_recorder(settings: Settings) -> Callable[[], Recorder]:
    def make() -> Recorder:
        from services.record.recorder import recorder_from_settings

        return recorder_from_settings(settings)

    return make


def run_console(
    inventory: Inventory,
    *,
    settings: Settings,
    lab: LabHandle | None = None,
    start_cluster: str | None = None,
) -> int:
    """Run the console until the user quits; return the exit code (0 normally).

    With DB2OPS_EXIT_AFTER_FIRST_FRAME=1 the app exits right after painting its first screen and prints
    `DB2OPS_FIRST_FRAME <epoch seconds>` (bench/first_frame.py measures start-up with it).
    """
    # the console's one composition root; its lab (if any) plays CloudWatch for the lab's clusters
    context = ConsoleContext(
        inventory, settings, lab=lab, extras_for=extras_chooser(lab), insights_for=insights_engine_for
    )
    app = Db2OpsApp(
        context=context,
        start_cluster=start_cluster,
        recorder=_settings_recorder(settings) if settings.record else None,
    )
    code = app.run()
    if os.environ.get(EXIT_AFTER_FIRST_FRAME_ENV) and app.first_frame_at is not None:
        print(f"{FIRST_FRAME_MARKER} {app.first_frame_at:.6f}", flush=True)
    return int(code or 0)
