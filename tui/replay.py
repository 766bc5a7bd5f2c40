"""`db2ops replay`: the console's own screens (fleet, status, timeline) on a recording, at a recorded time.

ReplayApp is the console App with a ReplayClock for `now` and a ReplayFeeder instead of the poller: every
age, stale panel and headline is computed against the recorded time. Nothing here reaches a host or AWS
(no polls, no status service, no timeline sources). Actions that change anything do not exist here: the
app's and screens' bindings are replaced, and `replay_allows` gates every screen- or app-level action
against REPLAY_ACTIONS, so a binding a screen gains later stays out of replay (and out of footer and help)
until it is listed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen

from services.context import ConsoleContext
from services.inventory.model import Cluster, Inventory
from services.record.incident_source import IncidentSource
from services.record.model import RecordingReader
from services.record.replay_feed import (
    OpenedRecording,
    ReplayClock,
    ReplayError,
    ReplayFeeder,
    ReplayStart,
    format_when,
    parse_when,
    strip_until,
    timeline_until,
)
from services.record.strip import Strip
from services.settings import Settings
from tui import screen_registry
from tui.app import Db2OpsApp
from tui.replay_screens import (
    ReplayAlarmsScreen,
    ReplayFleetScreen,
    ReplayLogsScreen,
    ReplayStatusScreen,
    ReplayTimelineScreen,
)

# screen- and app-level actions that exist in replay: looking, moving in time, navigating. Widget-level
# actions (cursor keys, scrolling, typing in the `:` prompt) are the widgets' own and change nothing.
REPLAY_ACTIONS = frozenset(
    {
        "help",
        "command_prompt",
        "back",
        "cycle_theme",
        "quit",
        "replay_step",
        "replay_play",
        "replay_speed",
        "replay_goto",
        "toggle_source",  # the timeline's source filters
        "next_incident",  # the timeline's recorded incidents: select one, the replay moves to it
        "toggle_detail",  # the log screen's detail panel
        "close_prompt",  # the log screen's filter/search prompt
        "select_cursor",  # the fleet's Enter: open a cluster
        "details",  # a status panel's full errors
        "focus_next",
        "focus_previous",
        "command_palette",
        "dismiss",
        "close",
        "cancel",
        "complete",
    }
)
# widget actions that exist live but not in replay (a replay writes nothing, not even an export file)
WIDGET_ACTIONS_ABSENT = frozenset({"export"})
TICK_S = 0.25


def replay_allows(node: DOMNode, action: str) -> bool:
    """Whether `action` of `node` may run (and show) in replay."""
    if isinstance(node, Screen | Db2OpsApp):
        return action in REPLAY_ACTIONS
    return action not in WIDGET_ACTIONS_ABSENT


def _replay_commands_provider() -> type:
    # imported when the palette first opens, as the console's own provider
    from tui.replay_commands import ReplayCommands

    return ReplayCommands


class ReplayApp(Db2OpsApp, inherit_bindings=False):
    """The console over a recording (see the module doc)."""

    BINDINGS = [
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("colon", "command_prompt", "Command", id="app.command", priority=True),
        Binding("minus,escape", "back", "Back", id="app.back"),
        Binding("left_square_bracket", "replay_step(-1)", "Prev change", id="replay.prev"),
        Binding("right_square_bracket", "replay_step(1)", "Next change", id="replay.next"),
        Binding("p", "replay_play", "Play/pause", id="replay.play"),
        Binding("greater_than_sign", "replay_speed", "Speed 1×/10×", id="replay.speed"),
        Binding("g", "replay_goto", "Go to time", id="replay.goto"),
        Binding("t", "cycle_theme", "Theme", id="app.theme", show=False),
        Binding("ctrl+q", "quit", "Quit", show=False, priority=True),
    ]
    COMMANDS = App.COMMANDS | {_replay_commands_provider}

    def __init__(
        self,
        reader: RecordingReader,
        start: ReplayStart,
        clusters: tuple[Cluster, ...],
        *,
        settings: Settings | None = None,
        source: str = "the recording",
        wall_clock: Callable[[], float] = time.monotonic,
        reopen: Callable[[], RecordingReader] | None = None,
    ) -> None:
        self.reader = reader
        # a reader for the timeline's incident list, read in a thread (an SQLite store's connection
        # belongs to the thread that opened it): the store opens again, a bundle is shared
        self.reopen = reopen if reopen is not None else (lambda: reader)
        self.feeder = ReplayFeeder(reader, start.clusters)
        first, last = self.feeder.span()
        self.replay_clock = ReplayClock(start.at, first, last)
        self.replay_source = source
        self.replay_note = start.note
        self._wall = wall_clock
        self._wall_at: float | None = None
        # no runner, no status source: nothing is built, since nothing is polled
        context = ConsoleContext(Inventory(clusters, source=source), settings)
        super().__init__(context=context, start_cluster=start.cluster, clock=self.replay_clock, toasts=False)

    # ------------------------------------------------------------------ what the header shows

    def replay_label(self) -> str:
        clock = self.replay_clock
        state = f"▶ {clock.speed:g}×" if clock.playing else "paused"
        return f"{format_when(clock.at)} · {state} · {self.replay_source}"

    # ------------------------------------------------------------------ start-up: no polls, no lab

    def on_mount(self) -> None:
        self.feeder.apply(self.replay_clock.at, self._replay_feeds())
        super().on_mount()
        self.set_interval(TICK_S, self._on_tick)
        if self.replay_note:
            self.notify(self.replay_note, title="Replay", timeout=8)

    def _start_polling(self) -> None:
        pass  # replay: the feeder sets the feeds; nothing is polled

    async def _load_screens(self) -> None:
        pass  # replay opens its own screens only (command_entries)

    def _push_home(self) -> None:
        start = self.inventory.cluster(self._start_cluster) if self._start_cluster else None
        if len(self.clusters) > 1:
            self.push_screen(ReplayFleetScreen())
        if start is not None or len(self.clusters) == 1:
            self.push_screen(ReplayStatusScreen(start or self.clusters[0]))

    def _replay_feeds(self) -> dict[str, Any]:
        return {name: self.feed(name) for name in self.feeder.clusters}

    # ------------------------------------------------------------------ the clock

    def move_to(self, at: float) -> float:
        """Put the replay at `at` (kept within the recording) and redraw every screen; return the time."""
        landed = self.replay_clock.set(at)
        self._sync()
        return landed

    def _sync(self) -> None:
        self.feeder.apply(self.replay_clock.at, self._replay_feeds())
        for name in self.feeder.clusters:
            self.status_signal.publish(name)
        for screen in self.screen_stack:
            if isinstance(screen, ReplayTimelineScreen | ReplayLogsScreen):
                screen.show_at(self.reader, self.replay_clock.at)
        self.console_state_signal.publish(None)

    def _on_tick(self) -> None:
        now = self._wall()
        if self._wall_at is None or not self.replay_clock.playing:
            self._wall_at = now
            return
        self.replay_tick(now - self._wall_at)
        self._wall_at = now

    def replay_tick(self, wall_seconds: float) -> None:
        """Advance a playing replay by `wall_seconds` of wall time (times its speed)."""
        if self.replay_clock.playing:
            self.replay_clock.tick(wall_seconds)
            self._sync()

    def focus_cluster(self) -> str | None:
        """The cluster whose changes the scrubber steps through: the top screen's (status, timeline, logs,
        alarms), or None on the fleet (every replayed cluster's changes)."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, ModalScreen):
                continue
            cluster = getattr(screen, "cluster", None)
            return cluster.name if isinstance(cluster, Cluster) else None
        return None

    def action_replay_step(self, direction: int) -> None:
        at = self.replay_clock.at
        name = self.focus_cluster()
        to = self.feeder.next_change(at, name) if direction > 0 else self.feeder.prev_change(at, name)
        if to is None:
            self.notify("No later change recorded" if direction > 0 else "No earlier change recorded")
            return
        self.replay_clock.playing = False
        self.move_to(to)

    def action_replay_play(self) -> None:
        self.replay_clock.toggle_play()
        self._wall_at = self._wall()
        if not self.replay_clock.playing and self.replay_clock.at >= self.replay_clock.end:
            self.notify("At the end of the recording: step back ([) or go to a time (g)")
        self.console_state_signal.publish(None)

    def action_replay_speed(self) -> None:
        self.replay_clock.cycle_speed()
        self.console_state_signal.publish(None)

    def action_replay_goto(self) -> None:
        from textual.widgets import Input

        from screens.command_prompt import CommandPrompt

        prompt = CommandPrompt()
        self.push_screen(prompt, lambda text: self.run_command(text or ""))
        self.call_after_refresh(lambda: prompt.query_one(Input).insert_text_at_cursor("at "))

    def go_to(self, text: str) -> None:
        """Jump to the time `text` names ("03:12", "2026-12-06 03:12:33", "-5m", "+30s")."""
        try:
            when = parse_when(text, base=self.replay_clock.at)
        except ReplayError as exc:
            self.notify(str(exc), severity="warning", timeout=8)
            return
        clock = self.replay_clock
        if not clock.start - 1e-6 <= when <= clock.end + 1e-6:
            self.notify(
                f"{format_when(when)} is outside the recording ({format_when(clock.start)} – "
                f"{format_when(clock.end)})",
                severity="warning",
                timeout=8,
            )
            return
        clock.playing = False
        self.move_to(when)

    # ------------------------------------------------------------------ what exists in replay

    def command_entries(self) -> tuple[screen_registry.ScreenEntry, ...]:
        """The `:` commands of replay (help and the prompt list these)."""
        return (
            screen_registry.ScreenEntry(
                "at", lambda app: None, 'Go to a time: "03:12", "-5m", "+30s"', ("goto",)
            ),
            screen_registry.ScreenEntry(
                "alarms", lambda app: None, "The cluster's alarms as recorded at the replay's time", ("al",)
            ),
            screen_registry.ScreenEntry("fleet", lambda app: None, "Every recorded cluster", ("ls",)),
            screen_registry.ScreenEntry("help", lambda app: None, "Keys and commands", ("h",)),
            screen_registry.ScreenEntry(
                "logs", lambda app: None, "The recorded log records up to the replay's time", ("log",)
            ),
            screen_registry.ScreenEntry(
                "status", lambda app: None, "Status of a cluster at the replay's time", ("st",)
            ),
            screen_registry.ScreenEntry(
                "timeline", lambda app: None, "What was recorded up to the replay's time", ("tl",)
            ),
        )

    def run_command(self, text: str) -> None:
        from screens.help import help_for

        command = screen_registry.split_command(text)
        if command is None:
            return
        name, args = command
        if name in screen_registry.QUIT_WORDS:
            self.exit(0)
        elif name in ("at", "goto"):
            self.go_to(" ".join(args))
        elif name in ("fleet", "ls", "clusters"):
            self._show(ReplayFleetScreen())
        elif name in ("status", "st", "cluster"):
            self.open_cluster(args[0]) if args else self._open_current()
        elif name in ("timeline", "tl", "incident"):
            self._open_timeline()
        elif name in ("logs", "log", "alarms", "al", "alarm"):
            self._open_cluster_screen(name)
        elif name in ("help", "h"):
            self.push_screen(help_for(self.screen))
        else:
            known = ", ".join(f":{e.alias}" for e in self.command_entries())
            self.notify(f"not in replay: :{name}. Replay has {known}, :q", severity="warning", timeout=8)

    def _open_current(self) -> None:
        cluster = self.current_cluster
        if cluster is None:
            self.notify("no cluster selected: pick one on :fleet first", severity="warning")
            return
        self.open_cluster(cluster.name)

    def open_cluster(self, name: str) -> None:
        cluster = self.inventory.cluster(name)
        if cluster is None:
            known = ", ".join(c.name for c in self.clusters)
            self.notify(f"no recording of {name!r}; recorded: {known}", severity="warning")
            return
        self._current = name
        self._show(ReplayStatusScreen(cluster))
        self.console_state_signal.publish(None)

    def _open_timeline(self) -> None:
        cluster = self.current_cluster
        if cluster is None:
            self.notify("no cluster selected: open one on :fleet first", severity="warning")
            return
        screen = ReplayTimelineScreen(
            cluster,
            timeline_until(self.reader, cluster.name, self.replay_clock.at),
            poll_interval=0,
            incidents=IncidentSource(cluster.name, open_reader=self.reopen),
            strip=self._strip_of(cluster.name),
        )
        self._show(screen)

    def _strip_of(self, cluster: str) -> Callable[[], Strip | None]:
        """The timeline's failover strip at the replay's time. Worked out again only when the frame in force
        changed (the feeder has already read it), not on every tick of a playing replay: the strip reads
        hours of frames."""
        memo: dict[float | None, Strip | None] = {}

        def strip() -> Strip | None:
            shown = self.feed(cluster).status
            key = shown.taken_at if shown is not None else None
            if key not in memo:
                memo.clear()
                memo[key] = strip_until(self.reader, cluster, self.replay_clock.at)
            return memo[key]

        return strip

    def _open_cluster_screen(self, name: str) -> None:
        cluster = self.current_cluster
        if cluster is None:
            self.notify(f"no cluster selected: open one on :fleet first, then :{name}", severity="warning")
            return
        if name.startswith("log"):
            logs = ReplayLogsScreen(cluster)
            self._show(logs)
            self.call_after_refresh(logs.show_at, self.reader, self.replay_clock.at)
        else:
            self._show(ReplayAlarmsScreen(cluster))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in REPLAY_ACTIONS:
            return False
        return super().check_action(action, parameters)

    def _check_action_state(self, action: str, default_namespace: DOMNode) -> bool | None:
        # what footer and help read: a screen's action outside REPLAY_ACTIONS is not shown at all
        target, name, _params = self._parse_action(action, default_namespace)
        if not replay_allows(target, name):
            return False
        return super()._check_action_state(action, default_namespace)

    async def run_action(
        self, action: Any, default_namespace: DOMNode | None = None, namespaces: Any = None
    ) -> bool:
        target, name, _params = self._parse_action(
            action, self if default_namespace is None else default_namespace, namespaces
        )
        if not replay_allows(target, name):
            return False
        return await super().run_action(action, default_namespace, namespaces)


def replay_clusters(
    reader: RecordingReader, names: tuple[str, ...], inventory: Inventory | None
) -> tuple[Cluster, ...]:
    """The Cluster each replayed name is drawn as (the inventory's when known, else rebuilt)."""
    from services.record.replay_feed import cluster_from_status

    out = []
    for name in names:
        span = reader.span(name)
        status = reader.status_at(name, span[1]) if span is not None else None
        known = inventory.cluster(name) if inventory is not None else None
        if status is None:
            raise ReplayError(f"the recording holds no status frame for {name}")
        out.append(cluster_from_status(status, known))
    return tuple(out)


def run_replay(
    opened: OpenedRecording,
    start: ReplayStart,
    *,
    inventory: Inventory | None = None,
    settings: Settings | None = None,
) -> int:
    """Run the replay console until the user quits; return the exit code."""
    from services.record.open_store import close_recording

    clusters = replay_clusters(opened.reader, start.clusters, inventory)
    app = ReplayApp(
        opened.reader, start, clusters, settings=settings, source=opened.name, reopen=opened.reopen
    )
    try:
        return int(app.run() or 0)
    finally:
        close_recording(opened.reader)
