"""A real asyncssh server on 127.0.0.1 for the SshPool tests; its commands echo what they received."""

from __future__ import annotations

import asyncio
import json
import shlex
from pathlib import Path

import asyncssh


class _CountingServer(asyncssh.SSHServer):
    def __init__(self, sshd: TestSshd) -> None:
        self._sshd = sshd

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._sshd.connections += 1
        self._sshd.live.append(conn)

    def begin_auth(self, username: str) -> bool:
        return True  # authentication required (public key, checked against authorized_client_keys)

    def auth_completed(self) -> None:
        self._sshd.auths += 1


class TestSshd:
    """Commands: `argv ...` prints its arguments as JSON, `bytes N [stderr]` sends N bytes, `cat` echoes
    stdin, `exit N`, `sleep S`, `gate` waits for `release` (counting how many run at once)."""

    __test__ = False  # not a pytest test class

    def __init__(self, tmp_path: Path) -> None:
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.identity = tmp_path / "id_test"
        self.client_key.write_private_key(str(self.identity))
        self.identity.chmod(0o600)
        self.connections = 0
        self.auths = 0
        self.active = 0
        self.max_active = 0
        self.cut_short = 0  # `bytes` commands whose channel the client closed before all was sent
        self.release = asyncio.Event()
        self.live: list[asyncssh.SSHServerConnection] = []
        self.port = 0
        self._server: asyncssh.SSHAcceptor | None = None

    def known_hosts_line(self) -> str:
        return f"[127.0.0.1]:{self.port} {self.host_key.export_public_key().decode().strip()}\n"

    async def start(self, port: int = 0) -> None:
        self._server = await asyncssh.create_server(
            lambda: _CountingServer(self),
            "127.0.0.1",
            port,
            server_host_keys=[self.host_key],
            authorized_client_keys=asyncssh.import_authorized_keys(
                self.client_key.export_public_key().decode()
            ),
            process_factory=self._handle,
            reuse_address=True,
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and cut every open connection (like a host going down)."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for conn in self.live:
            conn.abort()
        self.live.clear()
        self.release.set()

    async def _handle(self, process: asyncssh.SSHServerProcess) -> None:
        argv = shlex.split(process.command or "")
        name, args = (argv[0], argv[1:]) if argv else ("", [])
        status = 0
        if name == "argv":
            process.stdout.write(json.dumps(args))
        elif name == "bytes":  # `bytes N [stderr]`: N bytes on stdout (or stderr), in 64 KiB writes
            stream = process.stderr if args[1:] == ["stderr"] else process.stdout
            left = int(args[0])
            try:
                while left > 0:
                    chunk = min(left, 1 << 16)
                    stream.write("x" * chunk)
                    left -= chunk
                    await stream.drain()
            except (OSError, asyncssh.Error):  # the client closed the channel (its output cap)
                self.cut_short += 1
                return
        elif name == "cat":
            process.stdout.write(await process.stdin.read())
        elif name == "exit":
            process.stderr.write(f"failing with {args[0]}\n")
            status = int(args[0])
        elif name == "sleep":
            try:
                await asyncio.wait_for(self.release.wait(), float(args[0]))
            except TimeoutError:
                pass
        elif name == "gate":
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            await self.release.wait()
            self.active -= 1
        else:
            process.stderr.write(f"{name}: command not found\n")
            status = 127
        process.exit(status)
