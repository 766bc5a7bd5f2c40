"""Real SSH servers (asyncssh) for the lab's simulated hosts, one per host on 127.0.0.1.

Public-key authentication only, with the lab's client key (any user name). An exec request's command line is
shlex-split and answered by lab/commands.py; nothing runs on this machine. A crashed host (`LabHost.up`
False) stops listening and drops its connections, like a dead EC2 instance; when it comes back it listens
again on the same port, so known_hosts and the inventory stay valid.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex

import asyncssh

from lab.commands import reads_stdin, run_command
from lab.state import LabCluster, LabHost

log = logging.getLogger(__name__)

STDIN_LIMIT = 1_000_000
STDIN_TIMEOUT_S = 10.0


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
        self._pending: set[asyncio.Task] = set()
        self._unsubscribe = None

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
            process_factory=self._handle,
            encoding="utf-8",
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

    def _on_event(self, kind: str, details: dict) -> None:
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

    async def _handle(self, process: asyncssh.SSHServerProcess) -> None:
        if not self.host.up:
            process.channel.get_connection().close()
            return
        command = process.command
        if command is None:
            process.stderr.write("This db2ops lab host answers commands only: ssh HOST 'crm_mon -1'\n")
            process.exit(1)
            return
        try:
            argv = shlex.split(command)
        except ValueError as exc:
            process.stderr.write(f"bash: -c: line 1: syntax error: {exc}\n")
            process.exit(2)
            return
        stdin = ""
        if reads_stdin(self.host, argv):
            try:
                stdin = await asyncio.wait_for(process.stdin.read(STDIN_LIMIT), STDIN_TIMEOUT_S)
            except (TimeoutError, asyncssh.Error):
                stdin = ""
        latency = self.cluster.latency_ms
        if latency > 0:
            await asyncio.sleep(latency / 1000)
        env = {str(k): str(v) for k, v in (process.env or {}).items()}
        status, out, err = run_command(self.cluster, self.host, argv, stdin, env)
        if out:
            process.stdout.write(out)
        if err:
            process.stderr.write(err)
        process.exit(status)
