"""`db2ops-lab confirm-email ARN|all` and `db2ops-lab cloudwatch`: lab verbs of the CloudWatch evaluator.

Registered as sub-verbs of `db2ops-lab` (lab/commands.py keeps the drills); they act on every running
LabCloudWatch of the process (lab/cloudwatch_eval.py). Handlers run on the SSH server's loop: no AWS call.
"""

from __future__ import annotations

import json
from typing import Any

# ---------------------------------------------------------------- lab command: db2ops-lab confirm-email
LAB_AWS_USAGE = "usage: db2ops-lab confirm-email SUBSCRIPTION_ARN|all  |  db2ops-lab cloudwatch\n"


def _lab_aws_command(ctx: Any) -> tuple[int, str, str]:
    verb, rest = ctx.args[0], ctx.args[1:]
    from lab.cloudwatch_eval import active_evaluators

    evaluators = active_evaluators()
    if not evaluators:
        return 1, "", "db2ops-lab: the lab's CloudWatch evaluator is not running (start the lab with AWS)\n"
    if verb == "cloudwatch" and not rest:
        return 0, json.dumps([e.status() for e in evaluators], indent=2, sort_keys=True) + "\n", ""
    if verb != "confirm-email" or len(rest) != 1:
        return 2, "", f"db2ops-lab: bad arguments {' '.join(ctx.args)!r}\n{LAB_AWS_USAGE}"
    confirmed: list[str] = []
    for evaluator in evaluators:
        try:  # never blocks the SSH loop: it relies on the subscriptions the last tick listed
            confirmed += evaluator.confirm_email(rest[0], refresh=False)
        except KeyError:
            continue
    if not confirmed and rest[0] != "all":
        return (
            1,
            "",
            (
                f"db2ops-lab: {rest[0]} is not a known e-mail subscription; check the ARN "
                "(sns list-subscriptions) or wait a second for the lab to see a new one\n"
            ),
        )
    lines = "".join(f"confirmed {arn}\n" for arn in confirmed) or "no pending e-mail subscription\n"
    return 0, lines, ""


def _register_lab_command() -> None:
    try:
        from lab.commands import register_command
    except ImportError:  # pragma: no cover - part of the lab package
        return
    # A sub-verb of db2ops-lab: this handler answers only its verbs and leaves the drills to lab/commands.py.
    register_command(
        "db2ops-lab", _lab_aws_command, match=lambda argv: argv[1:2] in (["confirm-email"], ["cloudwatch"])
    )


_register_lab_command()
