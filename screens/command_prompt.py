"""`:` command mode: a one-line prompt at the bottom, completing the registered screen aliases."""

from __future__ import annotations

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label

from tui.screen_registry import entries

BUILTIN_COMMANDS = ("q", "quit")


class CommandPrompt(ModalScreen[str | None]):
    """Returns the typed command (without the colon) or None when cancelled."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="prompt.cancel"),
        Binding("tab", "complete", "Complete", id="prompt.complete", priority=True),
    ]
    DEFAULT_CSS = """
    CommandPrompt { align: left bottom; background: $background 0%; }
    CommandPrompt > #prompt-row { dock: bottom; height: 3; width: 100%; background: $panel; }
    CommandPrompt Label { width: 2; padding: 1 0 0 1; color: $accent; text-style: bold; }
    CommandPrompt Input, CommandPrompt Input:focus { width: 1fr; border: none; height: 1; margin: 1 0 0 0;
                                                     padding: 0; background: $panel; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._finished = False

    def compose(self) -> ComposeResult:
        from textual.containers import Horizontal

        from tui.app import Db2OpsApp

        # the console's commands (the replay has its own set); a bare App (screen tests) the registry's
        app = self.app
        listed = app.command_entries() if isinstance(app, Db2OpsApp) else entries()
        names = [n for e in listed for n in e.names] + list(BUILTIN_COMMANDS)
        with Horizontal(id="prompt-row"):
            yield Label(":")
            aliases = ", ".join(e.alias for e in listed if e.alias != "help")
            yield Input(
                placeholder=f"{aliases or 'status, fleet'}, q  (Tab completes, Esc cancels)",
                suggester=SuggestFromList(sorted(names), case_sensitive=False),
                id="command-input",
            )

    def on_key(self, event: events.Key) -> None:
        # A key reaches the screen only when the Input did not take it: typed faster than the prompt
        # mounted (":q" + Enter in one burst). Feed it to the Input instead of losing it.
        field = self.query_one(Input)
        if event.is_printable and event.character:
            event.stop()
            field.focus()
            field.insert_text_at_cursor(event.character)
        elif event.key == "enter":
            event.stop()
            self._finish(field.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._finish(event.value)

    def _finish(self, text: str) -> None:
        if not self._finished:  # Enter may arrive both as a key and as a submit
            self._finished = True
            self.dismiss(text.strip().lstrip(":"))

    def action_complete(self) -> None:
        # Input accepts its suggestion on "right" at the end of the line; Tab does the same here.
        self.query_one(Input).action_cursor_right()

    def action_cancel(self) -> None:
        self.dismiss(None)
