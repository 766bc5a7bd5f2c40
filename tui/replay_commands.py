"""The replay's command palette: moving in time, its screens and clusters; nothing that changes anything."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from tui.commands import ConsoleCommand, ConsoleCommands

if TYPE_CHECKING:
    from tui.replay import ReplayApp


def replay_commands(app: ReplayApp) -> list[ConsoleCommand]:
    """Return every palette command of the replay."""
    cmds = [
        ConsoleCommand(
            "Previous change",
            "Step back to the previous recorded change ([)",
            partial(app.action_replay_step, -1),
        ),
        ConsoleCommand(
            "Next change", "Step to the next recorded change (])", partial(app.action_replay_step, 1)
        ),
        ConsoleCommand("Play or pause", "Play the recording on (p)", app.action_replay_play),
        ConsoleCommand("Speed 1×/10×", "Play speed (>)", app.action_replay_speed),
        ConsoleCommand("Go to a time", 'Jump to "03:12", "-5m", "+30s" (g or :at)', app.action_replay_goto),
        ConsoleCommand("Help", "Keys and commands of this screen (?)", app.action_help),
        ConsoleCommand("Back", "Go back to the previous screen (- or Escape)", app.action_back),
        ConsoleCommand("Cycle theme", "dark → light → high contrast (t)", app.action_cycle_theme),
    ]
    cmds += [
        ConsoleCommand(e.display_title, e.description, partial(app.run_command, e.alias))
        for e in app.command_entries()
        if e.alias != "at"
    ]
    cmds += [
        ConsoleCommand(f"Cluster {c.name}", f"Recorded status of {c.name}", partial(app.open_cluster, c.name))
        for c in app.clusters
    ]
    cmds.append(ConsoleCommand("Quit", "Leave the replay (:q)", lambda: app.exit(0)))
    return cmds


class ReplayCommands(ConsoleCommands):
    """The console's palette provider (same discovery and search) over the replay's commands."""

    def _commands(self) -> list[ConsoleCommand]:
        from tui.replay import ReplayApp

        app = self.app
        assert isinstance(app, ReplayApp)  # only ReplayApp lists this provider
        return replay_commands(app)
