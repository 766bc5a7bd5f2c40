"""A yes/no question over the current screen: the question, two compact buttons, the safe answer focused.

Subclasses (ConfirmApply, ConfirmLeave, LeaveFailover) name their buttons, keys and frame; this class
holds the layout and the answering once.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static
from textual.widgets.button import ButtonVariant

Buttons = tuple[tuple[str, str, ButtonVariant], ...]


def yes_no_css(name: str, width: int = 80, border: str = "$warning") -> str:
    """Return the DEFAULT_CSS of the yes/no modal class `name`: a `width`-wide box with a thick `border`."""
    return f"""
    {name} {{ align: center middle; background: $background 60%; }}
    {name} > Vertical {{ width: {width}; height: auto; border: thick {border}; background: $surface; padding: 1 2; }}
    {name} Horizontal {{ height: auto; margin: 1 0 0 0; }}
    {name} Button {{ margin: 0 2 0 0; }}
    """


class YesNoModal(ModalScreen[bool]):
    """Ask `question`; dismiss with True when the yes button (or `answer(True)`) is chosen, else False.

    BUTTONS lists (label, id, variant) in the order shown; YES_ID is the button meaning yes; SAFE_ID the
    button focused first (the answer that changes nothing).
    """

    BUTTONS: ClassVar[Buttons] = ()
    YES_ID: ClassVar[str] = ""
    SAFE_ID: ClassVar[str] = ""
    QUESTION_ID: ClassVar[str | None] = None

    def __init__(self, question: str | Content) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.question, id=self.QUESTION_ID, markup=False)  # names in it are text
            with Horizontal():
                for label, button_id, variant in self.BUTTONS:
                    yield Button(label, id=button_id, variant=variant, compact=True)

    def on_mount(self) -> None:
        self.query_one(f"#{self.SAFE_ID}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == self.YES_ID)

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
