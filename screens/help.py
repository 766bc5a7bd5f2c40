"""`?` help: the keys of the screen you were on (with what they do), and the `:` commands."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from tui.screen_registry import ScreenEntry, entries, register_screen


@dataclass(frozen=True)
class KeyHelp:
    keys: str
    description: str
    where: str  # "screen" or "app"


def declared_actions(screen: Screen[object]) -> set[str]:
    """Return the actions of the bindings `screen`'s own classes declare (not Textual's Screen: its focus
    keys are plumbing)."""
    return {
        binding.action
        for cls in type(screen).__mro__
        if not cls.__module__.startswith("textual.")
        for binding in Binding.make_bindings(vars(cls).get("BINDINGS", ()))
    }


def screen_keys(screen: Screen[object]) -> list[KeyHelp]:
    """Return every enabled binding active on `screen` (its own and the app's), one entry per action: all
    that the screen declares, also those the footer leaves out (`s` subscribe on :alarms), and of its
    widgets and the app those the footer shows or that carry one of our ids."""
    by_action: dict[tuple[str, str], KeyHelp] = {}
    declared = declared_actions(screen)
    for key, active in screen.active_bindings.items():
        if not active.enabled:
            continue
        binding = active.binding
        description = binding.description or binding.tooltip
        own = active.node is screen and binding.action in declared
        # widget plumbing (cursor keys, copy, focus) is hidden; footer keys and our own ids are listed
        if not description or not (own or binding.show or (binding.id and "." in binding.id)):
            continue
        where = "app" if active.node is screen.app else "screen"
        display = screen.app.get_key_display(binding)
        ident = (binding.action, description)
        if ident in by_action:
            old = by_action[ident]
            by_action[ident] = KeyHelp(f"{old.keys} / {display}", old.description, old.where)
        else:
            by_action[ident] = KeyHelp(display, description, where)
        del key
    return sorted(by_action.values(), key=lambda k: (k.where != "screen", k.description.lower()))


def _hanging(label: str, label_w: int, text: str, width: int | None) -> list[Content]:
    """Return `label` padded to `label_w` then `text`, wrapped under itself (not under the label)."""
    room = (width or 0) - label_w
    wrapped = textwrap.wrap(text, room) if room >= 20 else [text]
    first = Content.assemble((label.ljust(label_w), "bold $accent"), wrapped[0] if wrapped else "")
    return [first, *(Content(" " * label_w + line) for line in wrapped[1:])]


def help_content(
    title: str,
    about: str,
    keys: list[KeyHelp],
    width: int | None = None,
    commands: Sequence[ScreenEntry] | None = None,
) -> Content:
    """Return the help text: what the screen shows, its keys, then the `:` commands. With `width` (the
    text columns available), long descriptions wrap under themselves instead of under the keys."""
    lines: list[Content] = [Content.styled(title, "bold $primary"), Content(about), Content("")]
    key_w = max((len(k.keys) for k in keys), default=4) + 2
    for section, label in (("screen", "Keys on this screen"), ("app", "Keys everywhere")):
        items = [k for k in keys if k.where == section]
        if not items:
            continue
        lines.append(Content.styled(label, "bold underline"))
        for k in items:
            lines += _hanging(k.keys, key_w, k.description, width)
        lines.append(Content(""))
    lines.append(Content.styled("Commands (type : then a name, Enter)", "bold underline"))
    listed = [(", ".join(f":{n}" for n in e.names), e.description) for e in commands or entries()]
    listed.append((":q, :quit", "Quit db2ops"))
    name_w = min(max(len(n) for n, _ in listed), 36) + 2
    for names, description in listed:
        lines += _hanging(names, name_w, description, width)
    lines.append(Content(""))
    lines.append(
        Content.styled(
            "ctrl+p opens the command palette with every action. Escape closes this help.",
            "$foreground-muted",
        )
    )
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    """Modal help for the screen below it."""

    BINDINGS = [
        Binding("escape,question_mark,q,minus", "dismiss", "Close help", id="help.close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 95%; height: auto; max-height: 90%;
        border: thick $primary; background: $surface; padding: 1 2;
    }
    HelpScreen Static { height: auto; }
    """

    def __init__(
        self,
        title: str,
        about: str,
        keys: list[KeyHelp],
        width: int | None = None,
        commands: Sequence[ScreenEntry] | None = None,
    ) -> None:
        super().__init__()
        self._content = help_content(title, about, keys, width, commands)

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self._content, id="help-text")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)


def help_for(screen: Screen[object]) -> HelpScreen:
    """Return the help modal for `screen` (its title, HELP text and active keys)."""
    name = type(screen).__name__.removesuffix("Screen")
    replay = name.startswith("Replay") and name != "Replay"  # tui/replay_screens: "Help: status (replay)"
    title = f"Help: {name.removeprefix('Replay').lower() or 'screen'}" + (" (replay)" if replay else "")
    about = getattr(screen, "HELP", None) or (type(screen).__doc__ or "").strip().splitlines()[0:1]
    if isinstance(about, list):
        about = about[0] if about else ""
    about = str(about) + _cut_environment_note(screen)
    # the text columns inside the box: width 90 (at most 95% of the terminal), thick border, padding 2
    text_width = min(90, screen.app.size.width * 95 // 100) - 2 - 4 - 2
    from tui.app import Db2OpsApp

    # the console's commands (the replay has its own set); a bare App (screen tests) lists the registry
    app = screen.app
    commands = app.command_entries() if isinstance(app, Db2OpsApp) else None
    return HelpScreen(title, about, screen_keys(screen), text_width, commands)


def _cut_environment_note(screen: Screen[object]) -> str:
    """The environment label the screen's header had to shorten (tui/widgets/header.py), in full; ''."""
    from tui.widgets.header import ConsoleHeader

    for header in screen.query(ConsoleHeader).results():
        if header.cut_environment and header.cluster is not None:
            return (
                f" Environment of {header.cluster.name} (shortened in the header): {header.cut_environment}."
            )
    return ""


register_screen(
    "help", lambda app: help_for(app.screen), "Keys and commands of the current screen", aliases=("h",)
)
