"""What the headless commands share: the user error that ends a command with its exit code, the inventory
and ConsoleContext they run on, the command deadline, and the stop on SIGTERM/SIGHUP."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from services.inventory.model import Cluster, Inventory

T = TypeVar("T")


class UserError(Exception):
    """A mistake the user can fix (bad input, a missing cluster, a deadline): `db2ops: MESSAGE`, exit `code`."""

    def __init__(self, message: str, code: int = 2):
        super().__init__(message)
        self.code = code


def cluster_named(inv: Inventory, name: str) -> Cluster:
    """The inventory's cluster `name`, or a user error that lists the known ones."""
    cluster = inv.cluster(name)
    if cluster is None:
        names = ", ".join(c.name for c in inv.clusters) or "none"
        raise UserError(f"no cluster {name!r} in {inv.source}; known: {names}")
    return cluster


def load_inventory(path: Path | None):
    """The inventory at `path` (default: the XDG config dir's), its warnings printed to stderr; a file that
    is missing or wrong is a UserError that says what to fix."""
    from services.inventory import loader
    from services.paths import default_inventory_path

    try:
        inv = loader.load_inventory(path or default_inventory_path())
    except loader.InventoryError as exc:
        raise UserError(str(exc)) from None
    for w in inv.warnings:
        print(f"db2ops: warning: {w}", file=sys.stderr)
    return inv


def console_context(inventory):
    """Return the command's one ConsoleContext over `inventory` and settings.yaml (its SSH pool has the
    settings' timeouts); use it as `async with`, which closes the pool."""
    from services.context import ConsoleContext
    from services.settings import SettingsError
    from tui.backends import extras_chooser, insights_engine_for

    try:
        # the CLI has no lab in its process: a lab cluster's CloudWatch extras are reached over SSH
        context = ConsoleContext.from_settings_file(
            inventory, extras_for=extras_chooser(None), insights_for=insights_engine_for
        )
    except SettingsError as exc:
        raise UserError(str(exc)) from None
    for w in context.settings.warnings:
        print(f"db2ops: warning: {w}", file=sys.stderr)
    return context


STOP_SIGNALS = ("SIGTERM", "SIGHUP")  # a `kill`, a dropped jump-host session: handled like Ctrl-C


def run_stoppable(command: Awaitable[int]) -> int:
    """Run a headless command that may change hosts; SIGTERM and SIGHUP cancel it as Ctrl-C does, so it
    journals an "interrupted" outcome for the step it was applying and says where it stopped. Returns the
    command's exit code, or 128 + the signal's number when a signal stopped it (130 for Ctrl-C, in main)."""
    import signal

    received: list[int] = []

    async def guarded() -> int:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        assert task is not None
        names = [getattr(signal, name) for name in STOP_SIGNALS if hasattr(signal, name)]

        def stop(signum: int) -> None:
            if not received:  # a second signal while the first one's cancellation unwinds: ignored
                received.append(signum)
                task.cancel()

        for signum in names:
            loop.add_signal_handler(signum, stop, signum)
        try:
            return await command
        finally:
            for signum in names:
                loop.remove_signal_handler(signum)

    try:
        return asyncio.run(guarded())
    except asyncio.CancelledError:
        if not received:
            raise
        name = signal.Signals(received[0]).name
        try:
            print(f"db2ops: stopped by {name}", file=sys.stderr, flush=True)
        except OSError:  # SIGHUP: the terminal may be gone
            pass
        return 128 + received[0]


async def closing(context, command: Awaitable[int]) -> int:
    """Await `command` (which runs on `context`), then close the context (its SSH pool)."""
    async with context:
        return await command


async def within_command_deadline(deadline_s: float, work: Awaitable[T], what: str) -> T:
    """Return what `work` returns, or stop with exit 2 after `deadline_s` (settings' command_deadline_s):
    a headless read never hangs on a host or endpoint that accepts connections and never answers."""
    try:
        async with asyncio.timeout(deadline_s) as budget:
            return await work
    except TimeoutError:
        if not budget.expired():
            raise
        raise UserError(
            f"{what} did not come back within {deadline_s:g} s; check that the hosts and AWS endpoints answer "
            f"from this machine (command_deadline_s in settings)"
        ) from None
