"""The lab's command registry: the handler context, `register_command` / `@command`, and dispatch.

Handler modules (lab/commands*.py, lab/cloudwatch_agent_ctl.py) import this module to register; lab/commands.py
imports every handler module, so importing lab.commands gives the full command set without an import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from lab.state import LabCluster, LabHost

Result = tuple[int, str, str]


@dataclass
class CommandContext:
    """Everything a handler may look at. `argv[0]` is the command name (basename, `sudo` stripped)."""

    cluster: LabCluster
    host: LabHost
    argv: list[str]
    stdin: str = ""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def args(self) -> list[str]:
        return self.argv[1:]


Handler = Callable[[CommandContext], Result]


@dataclass(frozen=True)
class _Entry:
    handler: Handler
    roles: tuple[str, ...]
    match: Callable[[list[str]], bool] | None
    reads_stdin: bool = False


_REGISTRY: dict[str, list[_Entry]] = {}


ALL_ROLES = ("db", "qdevice")


def register_command(
    name: str,
    handler: Handler,
    *,
    roles: tuple[str, ...] = ALL_ROLES,
    match: Callable[[list[str]], bool] | None = None,
    reads_stdin: bool = False,
) -> None:
    """Register `handler` for command `name` on hosts whose role is in `roles`.

    `match(argv)` returning False lets the next (earlier) handler for the same name answer instead.
    `reads_stdin` True makes the SSH server collect the client's stdin (until EOF) into `ctx.stdin`.
    """
    _REGISTRY.setdefault(name, []).insert(0, _Entry(handler, tuple(roles), match, reads_stdin))


def command(
    name: str,
    *,
    roles: tuple[str, ...] = ALL_ROLES,
    match: Callable[[list[str]], bool] | None = None,
    reads_stdin: bool = False,
) -> Callable[[Handler], Handler]:
    """Decorator form of `register_command`."""

    def wrap(handler: Handler) -> Handler:
        register_command(name, handler, roles=roles, match=match, reads_stdin=reads_stdin)
        return handler

    return wrap


def not_found(name: str) -> Result:
    return 127, "", f"bash: line 1: {name}: command not found\n"


def _split_prefixes(argv: list[str], env: dict[str, str]) -> list[str]:
    argv = list(argv)
    # `VAR=value cmd ...` and `sudo [-n] cmd ...` prefixes, as a shell would take them.
    while argv and "=" in argv[0] and not argv[0].startswith("=") and argv[0].split("=", 1)[0].isidentifier():
        key, value = argv.pop(0).split("=", 1)
        env[key] = value
    if argv and argv[0] == "sudo":
        argv.pop(0)
        while argv and argv[0].startswith("-"):
            argv.pop(0)
    return argv


def _command_name(argv0: str) -> str:
    return argv0.rsplit("/", 1)[-1] if argv0.startswith("/") else argv0


def _resolve(host: LabHost, argv: list[str]) -> _Entry | None:
    for entry in _REGISTRY.get(_command_name(argv[0]), []):
        if host.role in entry.roles and (entry.match is None or entry.match(argv)):
            return entry
    return None


def reads_stdin(host: LabHost, argv: list[str]) -> bool:
    """True when the handler that would answer `argv` on `host` wants the client's stdin."""
    argv = _split_prefixes(argv, {})
    entry = _resolve(host, argv) if argv else None
    return bool(entry and entry.reads_stdin)


def run_command(
    cluster: LabCluster, host: LabHost, argv: list[str], stdin: str = "", env: dict[str, str] | None = None
) -> Result:
    """Answer `argv` as host `host` of `cluster` would. Returns (exit_status, stdout, stderr); never raises."""
    env = dict(env or {})
    argv = _split_prefixes(argv, env)
    if not argv:
        return 0, "", ""
    cluster.tick()
    entry = _resolve(host, argv)
    if entry is None:
        return not_found(argv[0])
    name = _command_name(argv[0])
    ctx = CommandContext(cluster, host, [name, *argv[1:]], stdin, env)
    try:
        return entry.handler(ctx)
    except Exception as exc:  # a handler bug must answer, not kill the SSH session
        return 1, "", f"{name}: lab handler error: {type(exc).__name__}: {exc}\n"


def run_pipeline(
    cluster: LabCluster,
    host: LabHost,
    stages: list[list[str]],
    stdin: str = "",
    env: dict[str, str] | None = None,
) -> Result:
    """Answer `a | b | c` as bash does without pipefail: each stage reads the one before's stdout, the
    exit status is the last stage's, and every stage's stderr reaches the client. Never raises."""
    status, out, errors = 0, stdin, []
    for argv in stages:
        status, out, err = run_command(cluster, host, argv, out, env)
        errors.append(err)
    return status, out, "".join(errors)
