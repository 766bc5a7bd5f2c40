"""Test doubles for plan tests: a fake HostRunner over an in-memory file system, and simple steps."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass, field

# lab_inventory_cluster: plans/ and wizard/ conftest import it from here
from in_process_lab import Result, lab_inventory_cluster, run_on_lab  # noqa: F401

from services.inventory.model import AwsSettings, Cluster, Host
from services.plans import HostCommand, HostCommandStep, PlanContext, StepState


@dataclass
class FakeRunner:
    """Understands `cat FILE`, `tee FILE` (stdin), `false`; records every argv it ran per host."""

    files: dict[tuple[str, str], str] = field(default_factory=dict)
    ran: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    fail_on: set[str] = field(default_factory=set)  # paths whose tee fails once
    drop_on: set[str] = field(default_factory=set)  # paths whose tee loses the channel once (255, no output)

    async def run(self, host: Host, argv: Sequence[str], *, timeout=None, input=None, check=False) -> Result:
        args = tuple(argv)
        self.ran.append((host.name, args))

        def result(status: int, out: str = "", err: str = "") -> Result:
            return Result(host.name, args, shlex.join(args), status, out, err)

        if args[0] == "cat":
            key = (host.name, args[1])
            if key not in self.files:
                return result(1, err=f"cat: {args[1]}: No such file or directory")
            return result(0, self.files[key])
        if args[0] == "tee":
            if args[1] in self.drop_on:  # what SshPool returns when the channel closed without a status
                self.drop_on.discard(args[1])
                return result(255)
            if args[1] in self.fail_on:
                self.fail_on.discard(args[1])
                return result(1, err=f"tee: {args[1]}: Permission denied")
            self.files[(host.name, args[1])] = input or ""
            return result(0, input or "")
        return result(127, err=f"{args[0]}: command not found")


class WriteFileStep(HostCommandStep):
    """Writes `content` to `path` on `host` with tee; done when cat shows the content."""

    def __init__(self, host: Host, path: str, content: str) -> None:
        super().__init__(id=f"write{path}@{host.name}", title=f"write {path}", host=host, explain="test step")
        self.path = path
        self.content = content
        self.apply_calls = 0

    async def check(self, ctx: PlanContext) -> StepState:
        res = await ctx.read(self.host, ["cat", self.path])
        done = res.exit_status == 0 and res.stdout == self.content
        return StepState(done, "present" if done else "missing")

    def commands(self, ctx: PlanContext) -> list[HostCommand]:
        return [HostCommand(("tee", self.path), input=self.content)]

    async def apply(self, ctx: PlanContext) -> None:
        self.apply_calls += 1
        await super().apply(ctx)

    async def verify(self, ctx: PlanContext) -> bool | str:
        state = await self.check(ctx)
        return True if state.done else f"{self.path} does not hold the content"


def make_cluster(*, read_only: bool = False, name: str = "lab1") -> Cluster:
    return Cluster(
        name=name,
        read_only=read_only,
        database="HADRDB",
        hosts=(
            Host(name="db2a", address="127.0.0.1", role="db", instance_id="i-0aaa"),
            Host(name="db2b", address="127.0.0.1", role="db", instance_id="i-0bbb"),
            Host(name="qdev", address="127.0.0.1", role="qdevice"),
        ),
        aws=AwsSettings(region="us-east-1"),
    )


class LabDirectRunner:
    """Runs argv on a lab host's command handlers in-process (no SSH): same argv round trip as the lab's
    sshd (shlex.join, then shlex.split). `fail` maps (host, command prefix) to an exception raised once."""

    def __init__(self, lab_cluster) -> None:
        self.lab = lab_cluster
        self.ran: list[tuple[str, str]] = []
        self.fail: dict[tuple[str, str], BaseException] = {}

    async def run(self, host: Host, argv: Sequence[str], *, timeout=None, input=None, check=False) -> Result:
        command = shlex.join(argv)
        for (name, prefix), exc in list(self.fail.items()):
            if name == host.name and command.startswith(prefix):
                del self.fail[(name, prefix)]
                raise exc
        self.ran.append((host.name, command))
        return run_on_lab(self.lab, host, argv, input)
