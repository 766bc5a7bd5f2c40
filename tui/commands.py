"""The command palette provider: every console action, screen and (on the lab) drill, by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

if TYPE_CHECKING:
    from tui.app import Db2OpsApp


@dataclass(frozen=True)
class ConsoleCommand:
    title: str
    help: str
    callback: Callable[[], object]


def markup_safe(text: str) -> str:
    """Return `text` for a markup field: every "[" escaped (textual.markup.escape leaves "[ and ]")."""
    return text.replace("[", "\\[")


class ConsoleCommands(Provider):
    """Lists `app.console_commands()`; fuzzy-matches titles."""

    def _commands(self) -> list[ConsoleCommand]:
        from tui.app import Db2OpsApp

        app = self.app
        assert isinstance(app, Db2OpsApp)  # only Db2OpsApp lists this provider in its COMMANDS
        return console_commands(app)

    async def discover(self) -> Hits:
        for cmd in self._commands():
            # the palette reads titles and help as markup: "[ and ]" must stay text
            yield DiscoveryHit(markup_safe(cmd.title), cmd.callback, help=markup_safe(cmd.help))

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for cmd in self._commands():
            score = matcher.match(cmd.title)
            if score == 0 and query.strip().lower() in cmd.help.lower():
                score = 0.1  # a word of the help ("takeover", ":st") finds the command, below title hits
            if score > 0:
                yield Hit(score, matcher.highlight(cmd.title), cmd.callback, help=markup_safe(cmd.help))


def console_commands(app: Db2OpsApp) -> list[ConsoleCommand]:
    """Return every palette command of `app`: actions, themes, intervals, screens, clusters, drills, keys."""
    from themes.themes import THEME_NAMES
    from tui import screen_registry
    from tui.drills import LAB_DRILLS

    cmds = [
        ConsoleCommand("Refresh now", "Poll every cluster now (space)", app.action_refresh_now),
        ConsoleCommand(
            "Resume refresh" if app.paused else "Pause refresh",
            "Stop or restart the automatic polls (p)",
            app.action_toggle_pause,
        ),
        ConsoleCommand("Help", "Keys and commands of this screen (?)", app.action_help),
        ConsoleCommand("Back", "Go back to the previous screen (- or Escape)", app.action_back),
        ConsoleCommand("Cycle theme", "dark → light → high contrast (t)", app.action_cycle_theme),
    ]
    cmds += [
        ConsoleCommand(f"Theme: {t}", "Switch theme (remembered)", partial(app.set_theme, t))
        for t in THEME_NAMES
    ]
    cmds += [
        ConsoleCommand(
            f"Refresh every {s:g} s", "Time between polls ([ and ])", partial(app.set_refresh_interval, s)
        )
        for s in app.INTERVAL_STEPS
    ]
    cmds += [
        ConsoleCommand(
            e.display_title,
            f"{e.description} ({', '.join(':' + n for n in e.names)})",
            partial(app.run_command, e.alias),
        )
        for e in screen_registry.entries()
    ]
    cmds += [
        ConsoleCommand(
            f"Cluster {c.name}", f"Status of {c.name} ({c.environment})", partial(app.open_cluster, c.name)
        )
        for c in app.clusters
    ]
    cluster = app.current_cluster
    if cluster is not None and cluster.lab:
        cmds += [
            ConsoleCommand(
                f"Lab drill: {label}",
                f"db2ops-lab {verb} on {cluster.name}",
                partial(app.run_drill, cluster, verb),
            )
            for verb, (label, _argv) in LAB_DRILLS.items()
        ]
    if app.host_keys.pending():
        cmds.append(
            ConsoleCommand(
                "Review host keys",
                "Ask again about unknown or changed SSH host keys",
                lambda: app.host_keys.ask(again=True),
            )
        )
    cmds.append(ConsoleCommand("Quit", "Leave db2ops (:q)", lambda: app.exit(0)))
    return cmds
