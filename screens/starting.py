"""Placeholder shown until there is a cluster to show (the embedded lab is starting, or none configured)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Center, Middle
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, LoadingIndicator, Static

from tui.widgets.header import ConsoleHeader


class StartingScreen(Screen[None]):
    """Says what the console is waiting for; `show_error` replaces the spinner with what to do."""

    HELP = "The console is waiting for its clusters (the embedded lab is starting)."

    def __init__(self, message: str, busy: bool = True) -> None:
        super().__init__(name="starting")
        self.message = message
        self.busy = busy

    def compose(self) -> ComposeResult:
        yield ConsoleHeader("starting")
        with Middle(), Center():
            yield Static(Content.styled(self.message, "bold"), id="starting-message")
        if self.busy:
            yield LoadingIndicator(id="starting-spinner")
        yield Footer()

    def show_error(self, message: str) -> None:
        """Replace the spinner by an error text (stays until the user quits)."""
        for spinner in self.query(LoadingIndicator):
            spinner.remove()
        self.query_one("#starting-message", Static).update(Content.styled(message, "bold $error"))
