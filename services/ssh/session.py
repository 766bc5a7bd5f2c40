"""One remote command on a new SSH session (channel) of an open asyncssh connection, collected as bytes."""

from __future__ import annotations

import asyncio

import asyncssh


class OutputTooLarge(Exception):
    """The command sent more than `limit` bytes (stdout and stderr together); its channel was closed."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"output larger than {limit} bytes")
        self.limit = limit


class CollectingSession(asyncssh.SSHClientSession[bytes]):
    """Collects one command's output as bytes and its exit status; `done` resolves when the channel closes.

    Lighter than asyncssh's SSHClientProcess (no stream readers, no per-packet decoding): a fleet refresh
    opens ~180 of these at once, and the process layer was a large share of the client's CPU.
    """

    def __init__(self, done: asyncio.Future[None], max_bytes: int | None = None) -> None:
        self.done = done
        self.stdout: list[bytes] = []
        self.stderr: list[bytes] = []
        self.exit_status: int | None = None  # stays None after a signal or a close without status
        self.max_bytes = max_bytes  # None: no cap
        self.received = 0
        self._chan: asyncssh.SSHClientChannel[bytes] | None = None

    def connection_made(self, chan: asyncssh.SSHClientChannel[bytes]) -> None:
        self._chan = chan

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
        if self.done.done():  # over the cap already: the rest is dropped while the channel closes
            return
        self.received += len(data)
        if self.max_bytes is not None and self.received > self.max_bytes:
            # fail now rather than buffer without bound (a runaway command, /dev/zero, a huge log)
            self.stdout.clear()
            self.stderr.clear()
            self.done.set_exception(OutputTooLarge(self.max_bytes))
            if self._chan is not None:
                self._chan.close()
            return
        (self.stdout if datatype is None else self.stderr).append(data)

    def exit_status_received(self, status: int) -> None:
        self.exit_status = status

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            if exc is None:
                self.done.set_result(None)
            else:
                self.done.set_exception(exc)


async def run_session(
    conn: asyncssh.SSHClientConnection,
    command: str,
    input: str | None,
    limit: float,
    max_bytes: int | None = None,
) -> CollectingSession:
    """Run `command` on a new session of `conn` and wait until its channel closes.

    Returns the session (output, exit status). Raises TimeoutError after `limit` seconds, opening the
    session included (the channel is then closed), OutputTooLarge when the command sends more than
    `max_bytes` (None: no cap; the channel is then closed), asyncssh.ChannelOpenError, or the asyncssh/OS
    error that ended the connection.
    """
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    # Made here, not in the factory, so it keeps its type: asyncssh returns it as a bare SSHClientSession.
    session = CollectingSession(done, max_bytes)
    chan: asyncssh.SSHClientChannel[bytes] | None = None
    try:
        # The limit covers opening the session too: on a stalled connection (a hung host, a black-holed
        # route) the server never confirms the channel, and nothing else would end the wait.
        async with asyncio.timeout(limit):
            chan, _ = await conn.create_session(lambda: session, command, encoding=None)
            # Like asyncssh's conn.run(input=...): send it, then EOF; no input sends no EOF. A command that
            # does not read stdin (`true`) may have ended and closed the channel already: its input goes
            # unread, as with OpenSSH, and writing it would raise BrokenPipeError (not a lost connection).
            if input and not chan.is_closing():
                chan.write(input.encode("utf-8", "replace"))
                chan.write_eof()
            await done
    except BaseException:  # timed out or cancelled: do not leave the session open (MaxSessions)
        if chan is not None:
            chan.close()
        done.cancel()  # a later connection_lost must not leave an exception nobody retrieves
        raise
    return session
