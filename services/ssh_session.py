"""One remote command on a new SSH session (channel) of an open asyncssh connection, collected as bytes."""

from __future__ import annotations

import asyncio

import asyncssh


class CollectingSession(asyncssh.SSHClientSession[bytes]):
    """Collects one command's output as bytes and its exit status; `done` resolves when the channel closes.

    Lighter than asyncssh's SSHClientProcess (no stream readers, no per-packet decoding): a fleet refresh
    opens ~180 of these at once, and the process layer was a large share of the client's CPU.
    """

    def __init__(self, done: asyncio.Future[None]) -> None:
        self.done = done
        self.stdout: list[bytes] = []
        self.stderr: list[bytes] = []
        self.exit_status: int | None = None  # stays None after a signal or a close without status

    def data_received(self, data: bytes, datatype: asyncssh.DataType) -> None:
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
    conn: asyncssh.SSHClientConnection, command: str, input: str | None, limit: float
) -> CollectingSession:
    """Run `command` on a new session of `conn` and wait until its channel closes.

    Returns the session (output, exit status). Raises TimeoutError after `limit` seconds (the channel is
    then closed), asyncssh.ChannelOpenError, or the asyncssh/OS error that ended the connection.
    """
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    # Made here, not in the factory, so it keeps its type: asyncssh returns it as a bare SSHClientSession.
    session = CollectingSession(done)
    chan, _ = await conn.create_session(lambda: session, command, encoding=None)
    # Like asyncssh's conn.run(input=...): send it, then EOF; no input sends no EOF. A command that does not
    # read stdin (`true`) may have ended and closed the channel already: its input goes unread, as with
    # OpenSSH, and writing it would raise BrokenPipeError, which is not a lost connection.
    if input and not chan.is_closing():
        chan.write(input.encode("utf-8", "replace"))
        chan.write_eof()
    try:
        async with asyncio.timeout(limit):
            await done
    except BaseException:  # timed out or cancelled: do not leave the session open (MaxSessions)
        chan.close()
        done.cancel()  # a later connection_lost must not leave an exception nobody retrieves
        raise
    return session
