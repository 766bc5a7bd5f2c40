"""Walking every command builder: a runner that records each argv, a PlanContext with no AWS, and the
argvs a list of steps reads (check) and would send (dry-run describe). Shared by the hostile-argv tests
(tests/plans/test_hostile_argv.py) and the hostile-input fuzz (tests/hostile_targets.py, also run by
bench/hostile_report.py), so both inspect the same commands."""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from in_process_lab import Result

from services.inventory.model import Cluster, Host
from services.inventory.names import UnsafeOperand
from services.plans import Journal, PlanContext, Step, StepFailed


class RecordingRunner:
    """Answers every command with exit 0 and no output; records every argv."""

    def __init__(self) -> None:
        self.argvs: list[tuple[str, ...]] = []

    async def run(self, host: Host, argv: Sequence[str], **_: Any) -> Result:
        args = tuple(argv)
        self.argvs.append(args)
        return Result(host.name, args, shlex.join(args), 0, "", "")


async def no_aws(client: Any, method: str, **params: Any) -> Any:
    raise RuntimeError("no AWS in this walk")


def walk_context(cluster: Cluster, journal_dir: Path, runner: RecordingRunner | None = None) -> PlanContext:
    """A PlanContext over a RecordingRunner, no AWS, a journal in `journal_dir` (never written by a walk)."""
    return PlanContext(
        cluster=cluster,
        runner=runner or RecordingRunner(),
        aws_call=no_aws,
        journal=Journal(journal_dir),
        operator="t",
    )


def exposed(argv: Sequence[str], marker: str) -> list[str]:
    """Words holding `marker` that a getopt-style tool reads as options: starting with '-', before `--`."""
    end = list(argv).index("--") if "--" in argv else len(argv)
    return [w for w in argv[:end] if marker in w and w.startswith("-")]


def dry_run_argvs(steps: Sequence[Step], ctx: PlanContext) -> tuple[list[tuple[str, ...]], int]:
    """Every ssh argv the steps' dry run (describe) lists, and how many steps listed none: refused
    (UnsafeOperand) or waiting for what an earlier step's check reads (StepFailed, e.g. a media rpm list).
    Any other exception propagates: those are the typed ways a dry run may decline."""
    listed: list[tuple[str, ...]] = []
    refused = 0
    for step in steps:
        try:
            listed.extend(tuple(a.argv) for a in step.describe(ctx) if a.kind == "ssh")
        except (UnsafeOperand, StepFailed):
            refused += 1
    return listed, refused


async def walk(steps: Sequence[Step], cluster: Cluster, tmp_path: Path) -> tuple[list[tuple[str, ...]], int]:
    """Run every step's check() and describe(); return (every argv read or listed, steps refused)."""
    runner = RecordingRunner()
    ctx = walk_context(cluster, tmp_path / "j", runner)
    listed: list[tuple[str, ...]] = []
    refused = 0
    for step in steps:
        try:
            await step.check(ctx)
        except UnsafeOperand:
            refused += 1
        except Exception:  # noqa: BLE001 - canned empty output breaks many checks; the argv is what counts
            pass
        try:
            listed.extend(tuple(a.argv) for a in step.describe(ctx) if a.kind == "ssh")
        except UnsafeOperand:
            refused += 1
        except Exception:  # noqa: BLE001
            pass
    return runner.argvs + listed, refused
