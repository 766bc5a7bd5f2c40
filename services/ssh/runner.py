"""What running a command on a host looks like to its callers (status, plans, failover, drills, alarms).

Light on purpose: no asyncssh here, so a caller (and a test fake) can be typed against HostRunner without
importing SSH. services.ssh.pool.SshPool is the real implementation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from services.inventory.model import Host

__all__ = ["CommandResult", "HostRunner", "ReconnectingRunner"]


@dataclass(frozen=True)
class CommandResult:
    """What one remote command returned. `command` is exactly the line sent: shlex.join(argv)."""

    host: str
    argv: tuple[str, ...]
    command: str
    exit_status: int  # 255 when the command died from a signal or the channel closed without a status
    stdout: str
    stderr: str
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.exit_status == 0


class HostRunner(Protocol):
    """Anything that runs an argv on a Host (SshPool; fakes in tests). Status and plans type against it."""

    async def run(
        self,
        host: Host,
        argv: Sequence[str],
        *,
        timeout: float | None = None,
        input: str | None = None,
        check: bool = False,
    ) -> CommandResult: ...


@runtime_checkable
class ReconnectingRunner(HostRunner, Protocol):
    """A HostRunner that keeps connections (SshPool): a user's "refresh now" ends its reconnect backoff."""

    def reset_backoff(self, host: Host | None = None) -> int: ...
