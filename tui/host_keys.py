"""Asks the user about SSH host keys the status service could not verify, one dialog at a time.

Unknown keys: Trust (written to known_hosts by services.ssh.pool.trust_host_key) or Don't trust.
Changed keys: a warning only; the console never trusts a changed key.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.ssh.errors import HostKeyChanged, HostKeyUnknown
    from tui.app import Db2OpsApp


class HostKeyQuestions:
    """Tracks which keys were asked about; `ask()` opens the next dialog when none is open."""

    def __init__(self, app: Db2OpsApp) -> None:
        self.app = app
        self._asked: set[tuple[str, str]] = set()
        self.dialog_open = False

    def pending(self) -> list[HostKeyUnknown | HostKeyChanged]:
        """Return the unknown then changed keys the status source holds (none before it exists)."""
        return self.app.context.unverified_host_keys()

    def ask(self, again: bool = False) -> None:
        """Open a dialog for the first key not asked about yet (or any key when `again`)."""
        from screens.host_key import HostKeyChangedDialog, HostKeyDialog, is_changed_key

        if self.dialog_open:
            return
        for err in self.pending():
            ident = (err.host, err.fingerprint)
            if ident in self._asked and not again:
                continue
            self._asked.add(ident)
            self.dialog_open = True
            if is_changed_key(err):
                self.app.push_screen(HostKeyChangedDialog(err), lambda _r: self._closed())
            else:
                self.app.push_screen(
                    HostKeyDialog(err), lambda trusted, e=err: self._answered(e, bool(trusted))
                )
            return

    def _closed(self) -> None:
        self.dialog_open = False
        self.ask()

    def _answered(self, err: HostKeyUnknown, trusted: bool) -> None:
        self.dialog_open = False
        if trusted:
            self.app.run_worker(self._trust(err), group="hostkeys", exit_on_error=False)
        else:
            self.app.notify(
                f"Not trusted: db2ops will not connect to {err.host}. Check the fingerprint with the host's "
                "owner, then trust it from the palette (ctrl+p → Review host keys).",
                severity="warning",
            )
        self.ask()

    async def _trust(self, err: HostKeyUnknown) -> None:
        ssh = await asyncio.to_thread(importlib.import_module, "services.ssh.pool")
        try:
            path = await asyncio.to_thread(ssh.trust_host_key, err)
        except Exception as exc:  # show it: the user asked for this write
            self.app.notify(f"Could not write the key of {err.host}: {exc}", severity="error", markup=False)
            return
        self.app.context.forget_host_key(err)
        self.app.notify(f"Trusted the {err.key_type} key of {err.host}: written to {path}")
        self.app.poller.refresh_now()
