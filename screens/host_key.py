"""Host-key dialogs: an unknown key asks Trust / Don't trust; a changed key is refused with a warning.

A changed key never gets a trust button: the fix (remove the old line with `ssh-keygen -R`) must be a
deliberate act outside the console.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from services.ssh.errors import HostKeyChanged


def is_changed_key(err: object) -> bool:
    """Return True when `err` is a HostKeyChanged (services/ssh/errors.py loads without asyncssh)."""
    return isinstance(err, HostKeyChanged)


def known_hosts_pattern(err: Any) -> str:
    """Return the known_hosts host pattern OpenSSH uses: `addr` on port 22, else `[addr]:port`."""
    return err.address if err.port == 22 else f"[{err.address}]:{err.port}"


def _facts(err: Any) -> Content:
    rows = [
        ("host", err.host),
        ("address", f"{err.address}:{err.port}"),
        ("key type", err.key_type),
        ("fingerprint", err.fingerprint),
        ("known_hosts", str(err.known_hosts)),
    ]
    return Content("\n").join(
        Content.assemble((f"{k:<12}", "$foreground-muted"), (v, "bold" if k == "fingerprint" else ""))
        for k, v in rows
    )


class HostKeyDialog(ModalScreen[bool]):
    """Unknown host key: returns True when the user trusts it (the caller writes known_hosts)."""

    BINDINGS = [
        Binding("y", "trust", "Trust", id="hostkey.trust"),
        Binding("n,escape", "refuse", "Don't trust", id="hostkey.refuse"),
    ]
    DEFAULT_CSS = """
    HostKeyDialog { align: center middle; }
    HostKeyDialog > Vertical { width: 84; max-width: 95%; height: auto; border: thick $warning;
                               background: $surface; padding: 1 2; }
    HostKeyDialog Static { height: auto; margin-bottom: 1; }
    HostKeyDialog Horizontal { height: auto; align-horizontal: right; }
    HostKeyDialog Button { margin-left: 2; }
    """

    def __init__(self, err: Any) -> None:
        super().__init__()
        self.err = err

    def compose(self) -> ComposeResult:
        with Vertical(id="hostkey-box"):
            yield Static(Content.styled(f"Unknown SSH host key for {self.err.host}", "bold $warning"))
            yield Static(_facts(self.err), id="hostkey-facts")
            yield Static(
                "Compare the fingerprint with the host's own (run `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` "
                "on it, or ask its owner) before trusting. Trusting adds the key to known_hosts; until then "
                "db2ops does not connect to this host."
            )
            with Horizontal():
                yield Button("Trust (y)", id="trust", variant="warning")
                yield Button("Don't trust (n)", id="refuse", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#refuse", Button).focus()  # the safe choice has the focus

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "trust")

    def action_trust(self) -> None:
        self.dismiss(True)

    def action_refuse(self) -> None:
        self.dismiss(False)


class HostKeyChangedDialog(ModalScreen[None]):
    """Changed host key: a warning with the fix; there is deliberately no way to trust from here."""

    BINDINGS = [Binding("escape,enter,o", "close", "OK", id="hostkey.close")]
    DEFAULT_CSS = """
    HostKeyChangedDialog { align: center middle; }
    HostKeyChangedDialog > Vertical { width: 90; max-width: 95%; height: auto; border: thick $error;
                                      background: $surface; padding: 1 2; }
    HostKeyChangedDialog Static { height: auto; margin-bottom: 1; }
    HostKeyChangedDialog Horizontal { height: auto; align-horizontal: right; }
    """

    def __init__(self, err: Any) -> None:
        super().__init__()
        self.err = err

    def compose(self) -> ComposeResult:
        pattern = known_hosts_pattern(self.err)
        with Vertical(id="hostkey-box"):
            yield Static(
                Content.styled(
                    f"WARNING: the SSH host key of {self.err.host} has CHANGED — refused", "bold $error"
                )
            )
            yield Static(_facts(self.err), id="hostkey-facts")
            yield Static(
                "The host presented a different key from the one in known_hosts. Someone may be intercepting "
                "the connection (man-in-the-middle), or the host was rebuilt. db2ops will not connect to it."
            )
            yield Static(
                Content.assemble(
                    "If the owner confirms the change, remove the old key and connect again:\n  ",
                    (f"ssh-keygen -R '{pattern}' -f {self.err.known_hosts}", "bold"),
                ),
                id="hostkey-fix",
            )
            with Horizontal():
                yield Button("OK", id="close", variant="error")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)
