"""Real SSH servers (asyncssh) for the lab's simulated hosts, one per host on 127.0.0.1.

Public-key authentication only, with the lab's client key (any user name). An exec request's command line is
split as a shell would (lab/shell_line.py: words and `|` pipelines) and answered by lab/commands.py; nothing
runs on this machine. A crashed host (`LabHost.up`
False) stops listening and drops its connections, like a dead EC2 instance; when it comes back it listens
again on the same port, so known_hosts and the inventory stay valid.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

import asyncssh

from lab.commands import reads_stdin, run_pipeline
from lab.shell_line import ShellLineError, split_command, split_pipeline
from lab.state import LabCluster, LabHost

log = logging.getLogger(__name__)

STDIN_LIMIT = 1_000_000
STDIN_TIMEOUT_S = 10.0
__all__ = ["LabSshHost", "split_command"]  # split_command: re-exported for older callers


class _ServerHooks(asyncssh.SSHServer):
    """Per-connection callbacks: track connections and refuse them while the host is down."""

    def __init__(self, owner: LabSshHost) -> None:
        self._owner = owner
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._owner.connections.add(conn)
        if not self._owner.host.up:
            conn.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._owner.connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True  # authentication is required: public key only

    def password_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def session_requested(self) -> asyncssh.SSHServerSession[str]:
        return _LabSession(self._owner)


class LabSshHost:
    """The SSH endpoint of one `LabHost`. `port` is fixed after the first `start()`."""

    def __init__(
        self,
        cluster: LabCluster,
        host: LabHost,
        host_key: asyncssh.SSHKey,
        authorized_keys: asyncssh.SSHAuthorizedKeys,
    ) -> None:
        self.cluster = cluster
        self.host = host
        self.host_key = host_key
        self.authorized_keys = authorized_keys
        self.port = 0
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self._acceptor: asyncssh.SSHAcceptor | None = None
        self._sync_lock = asyncio.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._unsubscribe: Callable[[], None] | None = None

    @property
    def listening(self) -> bool:
        return self._acceptor is not None

    def public_host_key_line(self) -> str:
        """known_hosts line for this host: `[127.0.0.1]:PORT ssh-ed25519 AAAA...`."""
        key = self.host_key.export_public_key("openssh").decode().split()[:2]
        return f"[127.0.0.1]:{self.port} {' '.join(key)}"

    async def start(self) -> None:
        """Listen on 127.0.0.1 (a free port the first time, the same port afterwards) and follow the host's state."""
        self._loop = asyncio.get_running_loop()
        await self._listen()
        if self._unsubscribe is None:
            self._unsubscribe = self.cluster.subscribe(self._on_event)

    async def _listen(self) -> None:
        if self._acceptor is not None:
            return
        self._acceptor = await asyncssh.listen(
            "127.0.0.1",
            self.port,
            server_factory=lambda: _ServerHooks(self),
            server_host_keys=[self.host_key],
            authorized_client_keys=self.authorized_keys,
            password_auth=False,
            kbdint_auth=False,
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
            encoding="utf-8",
            # Input that is not UTF-8 reads as U+FFFD, as the lab's state is text. With asyncssh's default
            # ("strict") one such byte was a protocol error that cut the connection and every command on it.
            errors="replace",
            login_timeout=30,
            reuse_address=True,
        )
        self.port = self._acceptor.get_port()

    async def _stop_listening(self) -> None:
        acceptor, self._acceptor = self._acceptor, None
        if acceptor is not None:
            acceptor.close()
        for conn in list(self.connections):
            conn.close()
        self.connections.clear()
        if acceptor is not None:
            # asyncio's Server.wait_closed() also waits for the accepted connections to go away.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(acceptor.wait_closed(), 5.0)

    async def sync(self) -> None:
        """Make the listener match `host.up` (listening when up, closed with no connections when down)."""
        async with self._sync_lock:
            if self.host.up:
                await self._listen()
            else:
                await self._stop_listening()

    async def settle(self) -> None:
        """Wait until every state change seen so far has been applied to the listener."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)
        await self.sync()

    def _on_event(self, kind: str, details: dict[str, Any]) -> None:
        # Called from whichever thread changed the state; hop onto the server's loop.
        if kind in ("host_down", "host_up") and details.get("host") == self.host.name and self._loop:
            if self._loop.is_closed():
                return
            self._loop.call_soon_threadsafe(self._schedule_sync)

    def _schedule_sync(self) -> None:
        task = asyncio.ensure_future(self.sync())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def close(self) -> None:
        """Stop for good (lab shutdown)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for task in list(self._pending):
            task.cancel()
        await self._stop_listening()


class _LabSession(asyncssh.SSHServerSession[str]):
    """One exec request answered from the lab's state: stdin (if the command reads it), latency, answer.

    A bare session rather than asyncssh's process layer (no stream objects, no task per command) and a
    timer for the latency rather than a sleeping coroutine: the lab's hosts share the machine with the
    console in benchmarks, where a fleet refresh sends ~180 commands at once.
    """

    def __init__(self, owner: LabSshHost) -> None:
        self._owner = owner
        self._chan: asyncssh.SSHServerChannel[str] | None = None
        self._argv: list[str] = []  # the first stage (what reads the client's stdin)
        self._stages: list[list[str]] = []
        self._stdin: list[str] | None = None  # collecting until EOF when the command reads stdin
        self._stdin_len = 0
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, chan: asyncssh.SSHServerChannel[str]) -> None:
        self._chan = chan

    def connection_lost(self, exc: Exception | None) -> None:
        self._chan = None
        if self._timer is not None:
            self._timer.cancel()

    def shell_requested(self) -> bool:
        return True  # answered with a hint in session_started

    def exec_requested(self, command: str) -> bool:
        return True

    def subsystem_requested(self, subsystem: str) -> bool:
        return subsystem != "sftp"  # no SFTP (as before); any other subsystem gets the hint

    def session_started(self) -> None:
        chan = self._chan
        assert chan is not None
        if not self._owner.host.up:
            chan.get_connection().close()
            return
        # asyncssh calls this while it processes the exec request: an exception escaping here would be an
        # internal error that closes the whole connection, so a lab bug answers this one command instead.
        try:
            self._start(chan)
        except Exception as exc:
            self._fail(chan, exc)

    def _start(self, chan: asyncssh.SSHServerChannel[str]) -> None:
        command = chan.get_command()
        if command is None:
            chan.write_stderr("This db2ops lab host answers commands only: ssh HOST 'crm_mon -1'\n")
            chan.exit(1)
            return
        try:
            self._stages = split_pipeline(command)
        except ShellLineError as exc:
            chan.write_stderr(str(exc))
            chan.exit(exc.status)
            return
        except ValueError as exc:
            chan.write_stderr(f"bash: -c: line 1: syntax error: {exc}\n")
            chan.exit(2)
            return
        self._argv = self._stages[0]
        if reads_stdin(self._owner.host, self._argv):
            self._stdin = []
            self._timer = asyncio.get_running_loop().call_later(STDIN_TIMEOUT_S, self._stdin_timed_out)
        else:
            self._after_latency("")

    def data_received(self, data: str, datatype: asyncssh.DataType) -> None:
        if self._stdin is None or datatype is not None:
            return  # input the command does not read is dropped, as a real command would leave it unread
        self._stdin.append(data)
        self._stdin_len += len(data)
        if self._stdin_len >= STDIN_LIMIT:
            self._stdin_complete("".join(self._stdin)[:STDIN_LIMIT])

    def eof_received(self) -> bool:
        if self._stdin is not None:
            self._stdin_complete("".join(self._stdin))
        return True  # stay half-open: the answer is still to be sent

    def _stdin_timed_out(self) -> None:
        self._stdin_complete("")  # no EOF within STDIN_TIMEOUT_S: run without input

    def _stdin_complete(self, stdin: str) -> None:
        if self._stdin is None:
            return
        self._stdin = None
        if self._timer is not None:
            self._timer.cancel()
        self._after_latency(stdin)

    def _after_latency(self, stdin: str) -> None:
        latency = self._owner.cluster.latency_ms
        if latency > 0:
            self._timer = asyncio.get_running_loop().call_later(latency / 1000, self._answer, stdin)
        else:
            self._answer(stdin)

    def _answer(self, stdin: str) -> None:
        chan = self._chan
        if chan is None or chan.is_closing():  # the client went away (or the host went down) while we waited
            return
        try:
            env = {str(k): str(v) for k, v in (chan.get_environment() or {}).items()}
            status, out, err = run_pipeline(self._owner.cluster, self._owner.host, self._stages, stdin, env)
            if out:
                chan.write(out)
            if err:
                chan.write_stderr(err)
            chan.exit(status)
        except Exception as exc:  # called from a timer or the SSH packet handler: see session_started
            self._fail(chan, exc)

    def _fail(self, chan: asyncssh.SSHServerChannel[str], exc: Exception) -> None:
        """Answer the command with a lab error (exit 1); the connection and its other sessions go on."""
        # debug, not error: the lab shares its process (and terminal) with the console
        log.debug("lab SSH host %s: answering %r failed", self._owner.host.name, self._argv, exc_info=True)
        if chan.is_closing():
            return
        chan.write_stderr(
            f"db2ops lab: internal error answering this command: {type(exc).__name__}: {exc}; "
            "please report this lab bug\n"
        )
        chan.exit(1)
