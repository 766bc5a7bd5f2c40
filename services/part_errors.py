"""Why a status part (or a whole host) has no fresh answer, as a typed value: `PartError`.

The runner (services/ssh/pool.py) raises typed exceptions and returns exit statuses; services/status/service.py turns
each into a `PartError` once, and verdicts decide on its `kind`, never on the wording of its `message`
(the text shown to the user, which may change). No asyncssh or boto3 here: screens and tests import it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from services.text_safety import safe_text

EXIT_NOT_FOUND = 127  # what a POSIX shell returns when the command is not installed (not on PATH)


class ErrorKind(StrEnum):
    """What went wrong, in a word a verdict can branch on. The values appear in `status --json`."""

    UNREACHABLE = "unreachable"  # no SSH connection: refused, no route, DNS, connect timeout, lost, backoff
    HOST_KEY_UNKNOWN = "host_key_unknown"  # known_hosts has no key for the host: the user must decide
    HOST_KEY_CHANGED = "host_key_changed"  # known_hosts has another key: refused (possible MITM)
    AUTH = "auth"  # the server refused every key offered
    SSH = "ssh"  # another SSH failure: a session refused (MaxSessions), known_hosts unreadable, pool closed
    TIMEOUT = "timeout"  # the command ran longer than its timeout
    NOT_INSTALLED = "not_installed"  # the shell did not find the command (exit 127)
    EXIT_CODE = "exit_code"  # the command ran and exited with a status that carries no answer
    PARSE = "parse"  # the command answered, but its output could not be read
    OUTPUT_TOO_LARGE = "output_too_large"  # the command sent more output than ssh_max_output_mb
    AWS_DENIED = "aws_denied"  # AWS refused the call for lack of an IAM permission
    AWS_ERROR = "aws_error"  # any other failed AWS call (credentials, network, throttling, ids)
    NOT_FOUND = "not_found"  # the call worked but the fact is absent (no route for the overlay IP)
    SEVERAL = "several"  # a part read from several hosts that failed differently: see `causes`
    NO_ANSWER = "no_answer"  # no value and no error came back (or the part was not in the snapshot)
    POLL_FAILED = "poll_failed"  # the whole snapshot raised (the console's poll loop)


@dataclass(frozen=True)
class PartError:
    """Why a part has no fresh value. `str()` is the message, so text views need nothing else.

    Only the fields that apply are set: `host` (inventory name, "" for AWS-side parts), `command` (the
    line sent or the API call), `exit_status` and `output` (the tool's last line) for exit codes,
    `in_backoff` when the pool did not even try (reconnect backoff), the host key facts for key kinds,
    and `causes` (one error per host) for a part read from several hosts (Pacemaker's).
    """

    kind: ErrorKind
    message: str
    host: str = ""
    command: str = ""
    exit_status: int | None = None
    output: str = ""
    in_backoff: bool = False
    key_type: str = ""
    fingerprint: str = ""
    known_hosts: str = ""
    causes: tuple[PartError, ...] = ()

    def __str__(self) -> str:
        return self.message

    @property
    def hosts(self) -> tuple[str, ...]:
        """The hosts this error is about: every cause's host, else its own (when any)."""
        if self.causes:
            return tuple(c.host for c in self.causes)
        return (self.host,) if self.host else ()


def exit_kind(exit_status: int) -> ErrorKind:
    """NOT_INSTALLED for the shell's "command not found" (127), else EXIT_CODE."""
    return ErrorKind.NOT_INSTALLED if exit_status == EXIT_NOT_FOUND else ErrorKind.EXIT_CODE


def exit_error(host: str, command: str, exit_status: int, stdout: str, stderr: str) -> PartError:
    """The error of a command that exited with a status that carries no answer."""
    why = (stderr or stdout).strip().splitlines()
    last = why[-1] if why else ""
    message = f"`{command}` exited {exit_status}" + (f": {last}" if last else "")
    return PartError(
        exit_kind(exit_status), message, host=host, command=command, exit_status=exit_status, output=last
    )


def one_line(exc: BaseException, host: str = "") -> str:
    """The first line of an error, without a leading "host: " (the UI already says which host), without
    terminal escape sequences (services.text_safety)."""
    text = safe_text(str(exc)).strip() or type(exc).__name__  # remote stderr: no escape sequences
    line = text.splitlines()[0]
    return line[len(host) + 2 :] if host and line.startswith(f"{host}: ") else line


def runner_error(exc: BaseException, host: str, command: str = "") -> PartError:
    """The PartError of an exception a runner raised that is not an SshError (fakes, plain OSErrors)."""
    if isinstance(exc, TimeoutError):
        kind = ErrorKind.TIMEOUT
    elif isinstance(exc, OSError):
        kind = ErrorKind.UNREACHABLE
    else:
        kind = ErrorKind.SSH
    return PartError(kind, one_line(exc, host), host=host, command=command)


def combined(errors: Sequence[PartError]) -> PartError:
    """One error for a part read from several hosts: "db2a: ...; db2b: ...", each kept in `causes`.

    The kind is the hosts' common kind, or SEVERAL when they differ.
    """
    kinds = {e.kind for e in errors}
    kind = next(iter(kinds)) if len(kinds) == 1 else ErrorKind.SEVERAL
    message = "; ".join(f"{e.host}: {e.message}" for e in errors)
    return PartError(kind, message, causes=tuple(errors))
