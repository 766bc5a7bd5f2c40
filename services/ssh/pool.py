"""SSH to the cluster hosts: one persistent asyncssh connection per host, reused for every command.

Reuse semantics of SshPool:
- A connection is keyed by (address, port, user). It is opened lazily by the first run() for that host;
  concurrent first calls share that one connect (a per-host lock). Every later command opens a new SSH
  session (channel) on the same connection, so a poll costs no TCP/key-exchange/auth round trips.
- A connection found closed (server restart, network drop, keepalive failure) is dropped and the next
  run() reconnects. When a connect fails, the host goes into backoff (reconnect_backoff: first delay,
  maximum delay; doubling): until then run() fails fast with HostUnreachable giving the time of the next
  try, so a dead host is not hammered and does not slow the polls of the others.
- A global semaphore caps commands in flight over all hosts (max_concurrency), and a per-host one keeps
  the sessions open on one connection (per_host_concurrency, default 8) under OpenSSH's MaxSessions (10).
- ~/.ssh/config (or config_paths), the SSH agent and default keys are honoured by asyncssh; Host.identity,
  Host.user and Host.port override them. Host keys are always verified against Host.known_hosts, the
  pool's known_hosts, or ~/.ssh/known_hosts: an unknown key raises HostKeyUnknown, a different key
  HostKeyChanged. Nothing is ever accepted silently.
- A failed command is never retried automatically (commands may not be idempotent).
"""

from __future__ import annotations

import asyncio
import os
import shlex
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncssh

from services import paths
from services.inventory.model import Host
from services.ssh.errors import (
    AuthenticationFailed,
    CommandFailed,
    CommandOutputTooLarge,
    CommandTimeout,
    HostKeyChanged,
    HostKeyUnknown,
    HostUnreachable,
    IdentityUnusable,
    SshError,
    identity_error,
)
from services.ssh.runner import CommandResult, HostRunner
from services.ssh.session import OutputTooLarge, run_session

MB = 1024 * 1024
DEFAULT_MAX_OUTPUT_BYTES = 16 * MB  # settings' ssh_max_output_mb

__all__ = [
    "AuthenticationFailed",
    "CommandFailed",
    "CommandOutputTooLarge",
    "CommandResult",
    "CommandTimeout",
    "HostKeyChanged",
    "HostKeyUnknown",
    "HostRunner",
    "HostUnreachable",
    "IdentityUnusable",
    "SshError",
    "SshPool",
    "trust_host_key",
]


_CIPHER_PREFERENCE = (
    "aes128-gcm@openssh.com",
    "aes256-gcm@openssh.com",
    "chacha20-poly1305@openssh.com",
    "aes128-ctr",
    "aes256-ctr",
)


@dataclass
class _HostSlot:
    """Per-host connection state (guarded by `lock`)."""

    sessions: asyncio.Semaphore
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    conn: asyncssh.SSHClientConnection | None = None
    failures: int = 0
    retry_at: float = 0.0
    last_error: str = ""


class SshPool:
    """One persistent SSH connection per host, shared by every command (see the module docstring)."""

    def __init__(
        self,
        *,
        connect_timeout: float = 5.0,
        command_timeout: float = 15.0,
        keepalive_interval: float = 15.0,
        max_concurrency: int = 256,
        per_host_concurrency: int = 8,
        max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES,
        reconnect_backoff: tuple[float, float] = (0.5, 8.0),
        known_hosts: Path | None = None,
        config_paths: Sequence[str | Path] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.connect_timeout = connect_timeout
        self.command_timeout = command_timeout
        self.max_output_bytes = max_output_bytes  # stdout + stderr of one command
        self.keepalive_interval = keepalive_interval
        self.reconnect_backoff = reconnect_backoff
        self.known_hosts = known_hosts
        if config_paths is None:  # like OpenSSH: the user's config when it exists
            default = paths.ssh_config_path()
            config_paths = [default] if default.is_file() else []
        self.config_paths = [str(p) for p in config_paths]
        self._clock = clock
        self._semaphore = asyncio.Semaphore(max_concurrency)
        self.per_host_concurrency = per_host_concurrency
        self._slots: dict[tuple[str, int | None, str | None], _HostSlot] = {}
        self._closed = False

    async def __aenter__(self) -> SshPool:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    def known_hosts_for(self, host: Host) -> Path:
        """Return the known_hosts file used to verify `host`."""
        if host.known_hosts:
            return Path(host.known_hosts).expanduser()
        return self.known_hosts if self.known_hosts is not None else paths.known_hosts_path()

    async def run(
        self,
        host: Host,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        input: str | None = None,
        check: bool = False,
    ) -> CommandResult:
        """Run `argv` on `host` (joined with shlex.join, so every item arrives as one exact argument).

        Returns the CommandResult (any exit status unless check=True). Raises HostUnreachable,
        AuthenticationFailed, HostKeyUnknown, HostKeyChanged, CommandTimeout (after `timeout`, default
        the pool's command_timeout), CommandOutputTooLarge (more than max_output_bytes of stdout + stderr),
        or CommandFailed when check=True and the exit status is not 0.
        """
        if self._closed:
            raise SshError("the SSH pool is closed; start a new one", host.name)
        args = tuple(str(a) for a in argv)
        if not args:
            raise ValueError("argv must not be empty")
        command = shlex.join(args)
        limit = self.command_timeout if timeout is None else timeout
        slot = self._slot(host)
        async with self._semaphore, slot.sessions:
            conn = await self._connection(host)
            started = time.monotonic()
            try:
                session = await run_session(conn, command, input, limit, self.max_output_bytes)
            except OutputTooLarge:
                mb = self.max_output_bytes / MB
                raise CommandOutputTooLarge(
                    f"{host.name}: output of `{command}` on {host.name} larger than {mb:.3g} MB; the command "
                    f"was stopped (raise ssh_max_output_mb in settings if this output is expected)",
                    host.name,
                    command,
                    self.max_output_bytes,
                ) from None
            except TimeoutError:
                raise CommandTimeout(
                    f"{host.name}: `{command}` did not finish within {limit:g}s; the host may be overloaded "
                    f"(raise ssh_command_timeout_s in settings if this is normal)",
                    host.name,
                    command,
                    limit,
                ) from None
            except (asyncssh.Error, OSError) as exc:
                if _session_refused(exc) and not conn.is_closed():  # e.g. sshd's MaxSessions reached
                    raise SshError(
                        f"{host.name}: the server refused a new session for `{command}` ({_reason(exc)}); "
                        f"lower per-host concurrency or raise MaxSessions in its sshd_config",
                        host.name,
                    ) from None
                # the connection died under us
                self._drop(host)
                raise HostUnreachable(
                    f"{host.name}: connection lost while running `{command}` ({_reason(exc)}); "
                    f"the next call reconnects",
                    host.name,
                ) from None
        status = session.exit_status if session.exit_status is not None else 255
        result = CommandResult(
            host=host.name,
            argv=args,
            command=command,
            exit_status=status,
            stdout=_decode(session.stdout),
            stderr=_decode(session.stderr),
            duration_s=time.monotonic() - started,
        )
        if check and not result.ok:
            first_line = (result.stderr.strip() or result.stdout.strip()).splitlines()[:1]
            raise CommandFailed(
                f"{host.name}: `{command}` exited with status {status}"
                + (f": {first_line[0]}" if first_line else ""),
                host.name,
                result,
            )
        return result

    def reset_backoff(self, host: Host | None = None) -> int:
        """End the reconnect backoff of `host` (every host when None): the next run() connects at once.

        For a user's "refresh now": a host that came back is seen without waiting out the backoff. The
        failure count is kept, so a host still down returns to its (growing) backoff after one try.
        Returns the number of hosts that were in backoff.
        """
        if host is not None:
            slots = [s for s in [self._slots.get((host.address, host.port, host.user))] if s is not None]
        else:
            slots = list(self._slots.values())
        now = self._clock()
        waiting = [slot for slot in slots if slot.retry_at > now]
        for slot in waiting:
            slot.retry_at = 0.0
        return len(waiting)

    async def close(self) -> None:
        """Close every connection; run() raises SshError afterwards."""
        self._closed = True
        conns = [slot.conn for slot in self._slots.values() if slot.conn is not None]
        self._slots.clear()
        for conn in conns:
            conn.close()
        await asyncio.gather(*(c.wait_closed() for c in conns), return_exceptions=True)

    def _slot(self, host: Host) -> _HostSlot:
        key = (host.address, host.port, host.user)
        slot = self._slots.get(key)
        if slot is None:
            slot = self._slots[key] = _HostSlot(asyncio.Semaphore(self.per_host_concurrency))
        return slot

    def _drop(self, host: Host) -> None:
        slot = self._slot(host)
        if slot.conn is not None:
            slot.conn.abort()
            slot.conn = None

    async def _connection(self, host: Host) -> asyncssh.SSHClientConnection:
        slot = self._slot(host)
        async with slot.lock:  # concurrent first calls wait here for the one connect
            if slot.conn is not None and not slot.conn.is_closed():
                return slot.conn
            slot.conn = None
            now = self._clock()
            if now < slot.retry_at:
                wait = slot.retry_at - now
                raise HostUnreachable(
                    f"{host.name}: not retrying for {wait:.1f}s after: {_without_host(slot.last_error, host.name)}",
                    host.name,
                    wait,
                    in_backoff=True,
                )
            try:
                slot.conn = await self._connect(host)
            except (HostUnreachable, AuthenticationFailed) as exc:
                first, ceiling = self.reconnect_backoff
                delay = min(ceiling, first * 2**slot.failures)
                slot.failures += 1
                slot.retry_at = self._clock() + delay
                slot.last_error = str(exc)
                if isinstance(exc, HostUnreachable):
                    exc.retry_in_s = delay
                raise
            slot.failures = 0
            slot.retry_at = 0.0
            return slot.conn

    def _connect_options(self, host: Host) -> dict[str, Any]:
        options: dict[str, Any] = {
            "config": self.config_paths,
            "connect_timeout": self.connect_timeout,
            "keepalive_interval": self.keepalive_interval,
            "keepalive_count_max": 3,
            # AES-GCM first: as strong as chacha20-poly1305, and asyncssh's chacha builds a cipher context per
            # packet, which made a 20-cluster refresh CPU-bound. The server still picks from what it offers.
            "encryption_algs": _CIPHER_PREFERENCE,
        }
        if host.port is not None:
            options["port"] = host.port
        if host.user is not None:
            options["username"] = host.user
        if host.identity:
            options["client_keys"] = [os.path.expanduser(host.identity)]
        return options

    async def _connect(self, host: Host) -> asyncssh.SSHClientConnection:
        matcher = _KnownHostsMatcher(self.known_hosts_for(host), host.name)
        options = self._connect_options(host)
        try:
            return await asyncssh.connect(host.address, known_hosts=matcher, **options)
        except asyncssh.HostKeyNotVerifiable as exc:
            raise await _host_key_error(host, matcher, options, exc) from None
        except asyncssh.PermissionDenied:
            user = host.user or "the user from ~/.ssh/config or your login"
            raise AuthenticationFailed(
                f"{host.name}: the server refused the SSH keys offered for {user}; check the user and "
                f"identity in the inventory, that the key is loaded in the agent (`ssh-add -l`), and "
                f"authorized_keys on the host",
                host.name,
            ) from None
        except asyncssh.KeyImportError as exc:  # the key file, not the host: say what it is
            raise identity_error(host.name, host.identity, str(exc)) from None
        except SshError:
            raise
        except TimeoutError:
            raise HostUnreachable(
                f"{host.name}: no SSH answer from {host.address} within {self.connect_timeout:g}s; check the "
                f"host is up and port {host.port or 22} is open from here",
                host.name,
            ) from None
        except (asyncssh.Error, OSError, ValueError) as exc:
            if (
                isinstance(exc, FileNotFoundError)
                and host.identity
                and exc.filename == os.path.expanduser(host.identity)
            ):
                raise identity_error(host.name, host.identity, "No such file") from None
            raise HostUnreachable(
                f"{host.name}: cannot connect to {host.address}:{host.port or 22} ({_reason(exc)}); check the "
                f"address in the inventory and that sshd runs there",
                host.name,
            ) from None


class _KnownHostsMatcher:
    """known_hosts callback for asyncssh: returns the trusted keys, and remembers what was matched.

    Verification stays asyncssh's: this only serves the parsed file (a missing file trusts nothing) and
    records the name/port asyncssh looked up and the keys found, so a failure can be classified.
    """

    def __init__(self, path: Path, host_name: str) -> None:
        self.path = path
        self.matched_name = ""
        self.matched_port: int | None = None
        self.known_keys: tuple[asyncssh.SSHKey, ...] = ()
        # Read before connecting: an error raised inside asyncssh's callback would be hard to report.
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        except (OSError, UnicodeDecodeError) as exc:
            raise SshError(f"cannot read known_hosts {path}: {exc}; fix its permissions", host_name) from None
        try:
            self._known = asyncssh.import_known_hosts(text)
        except (ValueError, asyncssh.KeyImportError) as exc:
            raise SshError(
                f"known_hosts {path} has a line that cannot be read ({exc}); fix or remove that line",
                host_name,
            ) from None

    def __call__(self, host: str, addr: str, port: int | None) -> Any:
        result = self._known.match(host, addr, port)
        self.matched_name, self.matched_port = host, port
        self.known_keys = tuple(result[0])
        return result


async def _host_key_error(
    host: Host, matcher: _KnownHostsMatcher, options: dict[str, Any], exc: Exception
) -> SshError:
    """Fetch the key the server presents (key exchange only, no authentication) and classify the failure."""
    algs: list[str] = []
    for known in matcher.known_keys:  # ask for the same key type as the remembered one
        algs.extend(alg.decode() for alg in known.sig_algorithms if alg.decode() not in algs)
    try:
        key = await asyncio.wait_for(
            asyncssh.get_server_host_key(
                host.address,
                options.get("port", ()),
                config=options["config"],
                server_host_key_algs=algs or (),
            ),
            options["connect_timeout"],
        )
    except (TimeoutError, asyncssh.Error, OSError, ValueError) as fetch_exc:
        return HostUnreachable(f"{host.name}: host key not verifiable ({exc}) and {fetch_exc}", host.name)
    if key is None:
        return SshError(f"{host.name}: host key not verifiable ({exc}); check known_hosts", host.name)
    if key.public_data in {k.public_data for k in matcher.known_keys}:  # e.g. also marked @revoked
        return SshError(f"{host.name}: host key refused ({exc}); check {matcher.path}", host.name)
    error_type = HostKeyChanged if matcher.known_keys else HostKeyUnknown
    return error_type(
        host=host.name,
        address=matcher.matched_name or host.address,
        port=matcher.matched_port or 22,
        fingerprint=key.get_fingerprint("sha256"),
        key_type=key.get_algorithm(),
        public_key_line=key.export_public_key("openssh").decode().strip(),
        known_hosts=matcher.path,
    )


def trust_host_key(err: HostKeyUnknown, known_hosts: Path | None = None) -> Path:
    """Append the key from `err` to known_hosts (default err.known_hosts) as OpenSSH would; return the path.

    The host pattern is `[address]:port` when the port is not 22. Creates the file 0600 (its directory 0700)
    when missing. Raises SshError for a HostKeyChanged: the old line must be removed deliberately first.
    """
    if isinstance(err, HostKeyChanged):
        raise SshError(f"refusing to trust a changed key automatically: {err}", err.host)
    path = known_hosts if known_hosts is not None else err.known_hosts
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    pattern = err.address if err.port == 22 else f"[{err.address}]:{err.port}"
    key_fields = err.public_key_line.split()[:2]  # drop any comment: the pattern names the host
    line = f"{pattern} {' '.join(key_fields)}\n"
    needs_newline = path.is_file() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(("\n" if needs_newline else "") + line)
    return path


def _without_host(message: object, host: str) -> str:
    text = str(message)
    return text[len(host) + 2 :] if text.startswith(f"{host}: ") else text


def _session_refused(exc: BaseException) -> bool:
    return (
        isinstance(exc, asyncssh.ChannelOpenError) and exc.code == asyncssh.OPEN_ADMINISTRATIVELY_PROHIBITED
    )


def _decode(chunks: list[bytes]) -> str:
    # One decode of the whole output (not one per SSH packet); "replace" as OpenSSH's client would show it.
    return b"".join(chunks).decode("utf-8", "replace") if chunks else ""


def _reason(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
