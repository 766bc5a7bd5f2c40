"""Steps and plans: what a change is made of.

A Step says whether it is already done (`check`, reads only), what it would run (`describe`, the dry
run: host commands as argv and AWS calls with their parameters), does it (`apply`) and proves it
(`verify`). Steps never talk to hosts or AWS directly for writes: they go through `PlanContext.write` /
`PlanContext.aws_write`, which the write guard protects.
"""

from __future__ import annotations

import re
import shlex
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from services.inventory.model import Cluster, Host
from services.words import plural

if TYPE_CHECKING:
    from services.plans.context import PlanContext

ActionKind = Literal["ssh", "aws"]

# Parameter names whose values never reach a dry run, a JSON report or the journal.
_SECRET_KEY = re.compile(r"password|secret|credential|session_?token|private_?key", re.IGNORECASE)
_MAX_INPUT_SHOWN = 20_000  # characters of stdin data kept in a report / journal entry


class StepFailed(Exception):
    """A step could not be checked, applied or verified; the message says why and what to do next."""


def redact(params: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of `params` with secret-looking values replaced by "***" (recursively)."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if _SECRET_KEY.search(str(key)):
            out[key] = "***"
        elif isinstance(value, Mapping):
            out[key] = redact(value)
        elif isinstance(value, list | tuple):
            out[key] = [redact(v) if isinstance(v, Mapping) else v for v in value]
        else:
            out[key] = value
    return out


def check_argv(argv: Sequence[str]) -> tuple[str, ...]:
    """Return argv as a tuple; raise ValueError when it is empty or an item is not text or holds NUL."""
    if isinstance(argv, str) or not argv:
        raise ValueError("a host command must be a non-empty list of arguments, never a shell line")
    for item in argv:
        if not isinstance(item, str):
            raise ValueError(f"argument {item!r} is not text")
        if "\x00" in item:
            raise ValueError("an argument contains a NUL byte")
    return tuple(argv)


@dataclass(frozen=True)
class Action:
    """One thing a step runs: a host command (kind "ssh") or an AWS API call (kind "aws")."""

    kind: ActionKind
    host: str = ""  # ssh: the inventory host name
    argv: tuple[str, ...] = ()
    input: str | None = None  # ssh: data sent on stdin (e.g. the content of a file written with tee)
    service: str = ""  # aws: boto3 service name ("logs", "sns", "cloudwatch")
    operation: str = ""  # aws: API operation name ("PutMetricFilter")
    params: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""  # why / when, e.g. "only when the file exists"

    @property
    def command(self) -> str:
        """Return the shell-quoted command line (what an operator would type), "" for AWS calls."""
        return shlex.join(self.argv) if self.kind == "ssh" else ""

    def render(self) -> str:
        """Return a one-line human form: "db2a$ db2audit describe" or "aws logs PutMetricFilter {...}"."""
        if self.kind == "ssh":
            text = f"{self.host}$ {self.command}"
            if self.input is not None:
                text += f"  (stdin: {plural(len(self.input), 'character')})"
        else:
            text = f"aws {self.service} {self.operation} {_short_json(redact(self.params))}"
        return text + (f"  # {self.note}" if self.note else "")

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (secrets redacted, long stdin data truncated)."""
        if self.kind == "ssh":
            out: dict[str, Any] = {
                "kind": "ssh",
                "host": self.host,
                "argv": list(self.argv),
                "command": self.command,
            }
            if self.input is not None:
                out["input"] = self.input[:_MAX_INPUT_SHOWN]
                if len(self.input) > _MAX_INPUT_SHOWN:
                    out["input_truncated"] = True
        else:
            out = {
                "kind": "aws",
                "service": self.service,
                "operation": self.operation,
                "params": redact(self.params),
            }
        if self.note:
            out["note"] = self.note
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Action:
        """Return the Action a `to_dict` produced; raise ValueError when `data` is not one."""
        kind = data.get("kind")
        if kind == "ssh":
            return cls(
                kind="ssh",
                host=str(data.get("host", "")),
                argv=check_argv(list(data.get("argv") or [])),
                input=data.get("input"),
                note=str(data.get("note", "")),
            )
        if kind == "aws":
            params = data.get("params") or {}
            if not isinstance(params, Mapping):
                raise ValueError("aws action params must be an object")
            return cls(
                kind="aws",
                service=str(data.get("service", "")),
                operation=str(data.get("operation", "")),
                params=dict(params),
                note=str(data.get("note", "")),
            )
        raise ValueError(f"unknown action kind {kind!r}")


def ssh_action(host: str, argv: Sequence[str], *, input: str | None = None, note: str = "") -> Action:
    """Return an ssh Action; raise ValueError when argv is not a proper argument list."""
    return Action(kind="ssh", host=host, argv=check_argv(argv), input=input, note=note)


def aws_action(service: str, operation: str, params: Mapping[str, Any], *, note: str = "") -> Action:
    """Return an aws Action for `service`.`operation`(**params)."""
    return Action(kind="aws", service=service, operation=operation, params=dict(params), note=note)


def _short_json(params: Mapping[str, Any]) -> str:
    import json

    text = json.dumps(params, sort_keys=True, default=str)
    return text if len(text) <= 160 else text[:157] + "..."


@dataclass(frozen=True)
class StepState:
    """What `check` found: done or not, and a short human detail ("datapath is /x, wanted /y")."""

    done: bool
    detail: str = ""


class Step(ABC):
    """One runbook action. Subclasses set id, title, target ("aws" or a host name) and explain."""

    id: str
    title: str
    target: str
    explain: str = ""

    @abstractmethod
    async def check(self, ctx: PlanContext) -> StepState:
        """Return whether the step is already done, by reading the host or AWS (never writes)."""

    @abstractmethod
    def describe(self, ctx: PlanContext) -> list[Action]:
        """Return the commands / API calls `apply` would run (uses what `check` stored in ctx.facts)."""

    @abstractmethod
    async def apply(self, ctx: PlanContext) -> None:
        """Make the change through ctx.write / ctx.aws_write; raise StepFailed (or any error) on failure."""

    @abstractmethod
    async def verify(self, ctx: PlanContext) -> bool | str:
        """Return True when the change is in place, else a message saying what is still wrong."""

    def journal_details(self) -> dict[str, Any]:
        """Return data written with the step's journal lines for screens to read back ({} by default)."""
        return {}


class _Checks(Protocol):
    async def check(self, ctx: PlanContext) -> StepState: ...


class VerifiedByCheck:
    """Mixin for a Step whose `verify` is its `check` run again (list it before the Step base class)."""

    async def verify(self: _Checks, ctx: PlanContext) -> bool | str:
        """Return True when `check` now finds the step done, else the check's detail."""
        state = await self.check(ctx)
        return True if state.done else state.detail


@dataclass(frozen=True)
class HostCommand:
    """One command a HostCommandStep runs: argv (never a shell line), optional stdin data."""

    argv: tuple[str, ...]
    input: str | None = None
    note: str = ""
    ok_exit: tuple[int, ...] = (0,)

    def __post_init__(self) -> None:
        object.__setattr__(self, "argv", check_argv(self.argv))


class HostCommandStep(Step):
    """A step that runs argv commands on one host. Subclasses implement `commands`, `check`, `verify`.

    Anything that needs a shell (a cron script) is written as a file through stdin (`tee PATH`) and
    run by its path; no user value is ever pasted into a shell line.
    """

    def __init__(self, *, id: str, title: str, host: Host, explain: str = "") -> None:
        self.id = id
        self.title = title
        self.host = host
        self.target = host.name
        self.explain = explain

    @abstractmethod
    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        """Return the commands `apply` runs, in order (may use ctx.facts from `check`)."""

    def describe(self, ctx: PlanContext) -> list[Action]:
        return [ssh_action(self.host.name, c.argv, input=c.input, note=c.note) for c in self.commands(ctx)]

    async def apply(self, ctx: PlanContext) -> None:
        for command in self.commands(ctx):
            await ctx.write(self.host, command.argv, input=command.input, ok_exit=command.ok_exit)


@dataclass(frozen=True)
class AwsCall:
    """One AWS API call an AwsCallStep makes."""

    service: str
    operation: str
    params: Mapping[str, Any] = field(default_factory=dict)
    note: str = ""


class AwsCallStep(Step):
    """A step made of AWS API calls. Subclasses implement `calls`, `check`, `verify`."""

    def __init__(self, *, id: str, title: str, explain: str = "") -> None:
        self.id = id
        self.title = title
        self.target = "aws"
        self.explain = explain

    @abstractmethod
    def calls(self, ctx: PlanContext) -> list[AwsCall]:
        """Return the API calls `apply` makes, in order."""

    def describe(self, ctx: PlanContext) -> list[Action]:
        return [aws_action(c.service, c.operation, c.params, note=c.note) for c in self.calls(ctx)]

    async def apply(self, ctx: PlanContext) -> None:
        for call in self.calls(ctx):
            await ctx.aws_write(call.service, call.operation, **dict(call.params))


@dataclass
class Plan:
    """An ordered list of steps for one cluster. `rerun_hint` is the command that re-runs it."""

    name: str
    cluster: Cluster
    steps: list[Step]
    title: str = ""
    rerun_hint: str = ""

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for step in self.steps:
            if step.id in seen:
                raise ValueError(f"plan {self.name} has two steps with id {step.id!r}")
            seen.add(step.id)

    def step(self, step_id: str) -> Step | None:
        """Return the step with `step_id`, or None."""
        return next((s for s in self.steps if s.id == step_id), None)
