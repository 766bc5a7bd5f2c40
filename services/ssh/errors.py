"""Typed SSH errors. Each message says what to do next; host-key errors carry what the UI needs to ask.

Each class names its `ErrorKind`, and `part_error()` gives the PartError the status service stores (light:
no asyncssh here, so status code and tests import these without it).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from services.part_errors import ErrorKind, PartError, exit_kind, one_line


class SshError(Exception):
    """Base of every error raised by services/ssh/pool.py; `host` is the inventory host name."""

    kind = ErrorKind.SSH

    def __init__(self, message: str, host: str = "") -> None:
        super().__init__(message)
        self.host = host

    def part_error(self, host: str | None = None, command: str = "") -> PartError:
        """This error as a PartError about `host` (default self.host): its first line, host prefix off."""
        name = self.host if host is None else host
        return PartError(self.kind, one_line(self, name), host=name, command=command)


class HostUnreachable(SshError):
    """The host could not be reached (refused, no route, DNS, connect timeout, connection lost, backoff)."""

    kind = ErrorKind.UNREACHABLE

    def __init__(
        self, message: str, host: str = "", retry_in_s: float | None = None, *, in_backoff: bool = False
    ) -> None:
        super().__init__(message, host)
        self.retry_in_s = retry_in_s  # seconds until the pool tries to connect again (None: next call)
        self.in_backoff = in_backoff  # raised without trying: the host is in its reconnect backoff

    def part_error(self, host: str | None = None, command: str = "") -> PartError:
        return replace(super().part_error(host, command), in_backoff=self.in_backoff)


class AuthenticationFailed(SshError):
    """The server refused every key/agent identity offered for the user."""

    kind = ErrorKind.AUTH


class IdentityUnusable(AuthenticationFailed):
    """The identity (private key file) cannot be used as it is: passphrase-protected, not a private key
    (a .pub, another format), or missing. Nothing reached the host: not an address or sshd problem."""


def identity_error(host: str, identity: str | None, reason: str) -> IdentityUnusable:
    """Return the error for an identity asyncssh could not load (`reason`: its KeyImportError text or
    the OS error), saying what the file is and what to do. `identity` is the inventory's path, or None
    when the key came from ~/.ssh/config or the default keys."""
    where = f"the identity {identity}" if identity else "an identity from ~/.ssh/config or ~/.ssh/id_*"
    path = identity or "KEYFILE"
    lowered = reason.lower()
    if "passphrase" in lowered or "encrypt" in lowered or "bcrypt" in lowered:
        text = (
            f"{host}: {where} is passphrase-protected and db2ops never asks for passphrases: load it into "
            f"ssh-agent (`ssh-add {path}`) and remove `identity:` from this host in the inventory (with an "
            f"identity set, only that file is offered, not the agent), or point `identity:` at a key "
            f"without a passphrase kept 0600"
        )
    elif "no such file" in lowered:
        text = f"{host}: {where} does not exist; fix `identity:` in the inventory (or the IdentityFile)"
    else:
        text = (
            f"{host}: {where} is not a private key db2ops can use ({reason}); point `identity:` at the "
            f"private key file (not the .pub) in OpenSSH or PEM format: `ssh-keygen -y -f {path}` prints "
            f"its public key when it is one"
        )
    return IdentityUnusable(text, host)


class CommandTimeout(SshError):
    """A remote command ran longer than its timeout; the connection stays usable."""

    kind = ErrorKind.TIMEOUT

    def __init__(self, message: str, host: str = "", command: str = "", timeout_s: float = 0.0) -> None:
        super().__init__(message, host)
        self.command = command
        self.timeout_s = timeout_s

    def part_error(self, host: str | None = None, command: str = "") -> PartError:
        return super().part_error(host, command or self.command)


class CommandFailed(SshError):
    """run(..., check=True) got a non-zero exit status; `result` holds the CommandResult."""

    def __init__(self, message: str, host: str = "", result: object = None) -> None:
        super().__init__(message, host)
        self.result = result

    @property
    def kind(self) -> ErrorKind:  # type: ignore[override]
        return exit_kind(getattr(self.result, "exit_status", 1))

    def part_error(self, host: str | None = None, command: str = "") -> PartError:
        base = super().part_error(host, command or getattr(self.result, "command", ""))
        return replace(base, exit_status=getattr(self.result, "exit_status", None))


class HostKeyUnknown(SshError):
    """known_hosts has no key for this host. The UI may show the fingerprint and call trust_host_key().

    `address`/`port` are the name and port known_hosts is matched against (the ssh_config HostName or
    HostKeyAlias when one applies), so trust_host_key() writes the line OpenSSH itself would look up.
    """

    kind = ErrorKind.HOST_KEY_UNKNOWN

    def __init__(
        self,
        host: str,
        address: str,
        port: int,
        fingerprint: str,
        key_type: str,
        public_key_line: str,
        known_hosts: Path,
    ) -> None:
        self.address = address
        self.port = port
        self.fingerprint = fingerprint
        self.key_type = key_type
        self.public_key_line = public_key_line
        self.known_hosts = known_hosts
        super().__init__(self._message(host), host)

    def part_error(self, host: str | None = None, command: str = "") -> PartError:
        base = super().part_error(host, command)
        return replace(
            base, key_type=self.key_type, fingerprint=self.fingerprint, known_hosts=str(self.known_hosts)
        )

    def _message(self, host: str) -> str:
        ssh = f"ssh {self.address}" if self.port == 22 else f"ssh -p {self.port} {self.address}"
        return (
            f"host {host} ({self.address}:{self.port}) is not in {self.known_hosts}; its {self.key_type} key "
            f"fingerprint is {self.fingerprint}. Compare it with `ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub` "
            f"run on the host; if it matches, trust it when db2ops asks, or run `{ssh}` once and answer yes"
        )


class HostKeyChanged(HostKeyUnknown):
    """known_hosts has a different key for this host: refused (possible man-in-the-middle attack)."""

    kind = ErrorKind.HOST_KEY_CHANGED

    def _message(self, host: str) -> str:
        pattern = self.address if self.port == 22 else f"[{self.address}]:{self.port}"
        return (
            f"REFUSED: host {host} ({self.address}:{self.port}) presented a {self.key_type} key "
            f"{self.fingerprint} that differs from the one in {self.known_hosts}. Someone may be intercepting "
            f"the connection (man-in-the-middle), or the host was rebuilt. Check with the host's owner; if the "
            f"change is expected, remove the old line with `ssh-keygen -R '{pattern}' -f {self.known_hosts}` "
            f"and connect again"
        )


class CommandOutputTooLarge(SshError):
    """A remote command sent more output than the pool's cap (ssh_max_output_mb); its session was closed and
    the connection stays usable."""

    kind = ErrorKind.OUTPUT_TOO_LARGE

    def __init__(self, message: str, host: str = "", command: str = "", limit_bytes: int = 0) -> None:
        super().__init__(message, host)
        self.command = command
        self.limit_bytes = limit_bytes

    def part_error(self, host: str | None = None, command: str = "") -> PartError:
        return super().part_error(host, command or self.command)
