"""Command-mode registry: every screen module registers the `:alias` that opens it.

A screen module calls, at import time::

    register_screen("logs", factory, "Follow the Db2 diag and audit logs", aliases=("log",))

`factory(app)` gets the running Db2OpsApp and returns a Screen; it reads what it needs from the app:
`app.current_cluster` (Cluster | None), `app.inventory`, `app.settings`, `app.feed(cluster_name)`.
It may raise `ScreenUnavailable("why, and what to do")` (e.g. no cluster selected); the app shows the text.

The app imports every module of the `screens` package after the first frame (`load_screen_modules`), so a
new screen file needs no change here.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

ScreenFactory = Callable[[Any], Any]


class ScreenUnavailable(Exception):
    """Raised by a factory when its screen cannot open now; the message says what to do instead."""


@dataclass(frozen=True)
class ScreenEntry:
    alias: str
    factory: ScreenFactory
    description: str
    aliases: tuple[str, ...] = ()
    title: str = ""  # the palette's name for the screen; "" derives it (see display_title)

    @property
    def names(self) -> tuple[str, ...]:
        return (self.alias, *self.aliases)

    @property
    def display_title(self) -> str:
        """Return the screen's name for people: `title`, else the description's lead before ":" when it is
        short ("Guided failover: preflight, …" -> "Guided failover"), else the alias capitalised."""
        if self.title:
            return self.title
        lead, sep, _ = self.description.partition(":")
        if sep and 0 < len(lead) <= 30:
            return lead.strip()
        return self.alias.capitalize()


_ENTRIES: dict[str, ScreenEntry] = {}
_LOAD_ERRORS: dict[str, str] = {}


def register_screen(
    alias: str,
    factory: ScreenFactory,
    description: str,
    aliases: tuple[str, ...] | list[str] = (),
    *,
    title: str = "",
) -> ScreenEntry:
    """Register (or replace) the screen opened by `:alias` (and its `aliases`); return its entry.
    `title` names it in the command palette (default: derived from the description, see display_title).

    Raises ValueError when the alias is empty or contains spaces.
    """
    for name in (alias, *aliases):
        if not name or any(c.isspace() for c in name):
            raise ValueError(f"screen alias {name!r} must be one word without spaces")
    entry = ScreenEntry(alias.lower(), factory, description, tuple(a.lower() for a in aliases), title)
    _ENTRIES[entry.alias] = entry
    return entry


def unregister_screen(alias: str) -> None:
    """Forget `alias` (tests use it to restore the registry)."""
    _ENTRIES.pop(alias.lower(), None)


def entries() -> tuple[ScreenEntry, ...]:
    """Return every registered screen, sorted by alias."""
    return tuple(sorted(_ENTRIES.values(), key=lambda e: e.alias))


QUIT_WORDS = frozenset({"q", "quit", "q!", "qa"})  # what `:` takes as "quit", live and in replay


def split_command(text: str) -> tuple[str, list[str]] | None:
    """Split one `:` command into its lower-cased name and its arguments (None when it is empty)."""
    words = text.strip().lstrip(":").split()
    return (words[0].lower(), words[1:]) if words else None


def resolve(name: str) -> ScreenEntry | None:
    """Return the entry whose alias (or one of its aliases) is `name` (case-insensitive), else None."""
    name = name.strip().lower()
    for entry in _ENTRIES.values():
        if name in entry.names:
            return entry
    return None


def load_errors() -> dict[str, str]:
    """Return module name -> error for screen modules that failed to import."""
    return dict(_LOAD_ERRORS)


def load_screen_modules(package: str = "screens") -> list[str]:
    """Import every module of `package` so each registers itself; return the names imported.

    A module that fails to import is recorded in `load_errors()` instead of breaking the console.
    """
    pkg = importlib.import_module(package)
    loaded = []
    for info in pkgutil.iter_modules(pkg.__path__):
        name = f"{package}.{info.name}"
        try:
            importlib.import_module(name)
        except Exception as exc:  # a broken optional screen must not take the console down
            _LOAD_ERRORS[name] = f"{type(exc).__name__}: {exc}"
        else:
            loaded.append(name)
    return loaded
