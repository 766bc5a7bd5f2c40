"""Lab verbs of the lab's CloudWatch evaluator and CloudWatch agent, as sub-verbs of `db2ops-lab`:

  db2ops-lab confirm-email SUBSCRIPTION_ARN|all   the person clicks the link in AWS's e-mail
  db2ops-lab cloudwatch                           the evaluator's status (JSON list, one per evaluator)
  db2ops-lab cloudwatch notifications [ALARM]     the SNS messages alarm actions published (JSON)
  db2ops-lab cloudwatch series NAMESPACE METRIC   the datapoints the lab published for a metric (JSON)
  db2ops-lab cloudwatch history ALARM             the alarm history the lab recorded (JSON)
  db2ops-lab cloudwatch view [NAMESPACE METRIC]...  what the alarm screen shows of the lab in one answer:
                                                  the metrics' datapoints, e-mail confirmations, the last
                                                  SNS messages per alarm, the evaluator's health (JSON)
  db2ops-lab audit-test                           the lab's agent ships the runbook's test audit record

They let another process (`db2ops setup monitoring --prove`, or the console's `:alarms`, against
`db2ops lab --serve`) see what the lab process's evaluator did. lab/commands.py keeps the drills. Handlers run on the SSH server's loop: no AWS
call here (audit-test hands the write to a thread and answers at once).
"""

from __future__ import annotations

import asyncio
import json
import threading
from datetime import datetime
from typing import Any

LAB_AWS_USAGE = (
    "usage: db2ops-lab confirm-email SUBSCRIPTION_ARN|all\n"
    "       db2ops-lab cloudwatch [notifications [ALARM] | series NAMESPACE METRIC | history ALARM]\n"
    "       db2ops-lab cloudwatch view [NAMESPACE METRIC]...\n"
    "       db2ops-lab audit-test\n"
)
AWS_VERBS = ("confirm-email", "cloudwatch", "audit-test")
VIEW_POINTS = 2000  # newest datapoints per metric in a view (the lab keeps 6 hours; a sparkline needs 3)
VIEW_SENT = 3  # newest SNS messages per alarm in a view
_SENT_KEYS = ("AlarmName", "MessageId", "NewStateValue", "Subject", "Timestamp", "TopicArn")


def _json(value: Any) -> str:
    def plain(item: Any) -> Any:
        return item.isoformat() if isinstance(item, datetime) else str(item)

    return json.dumps(value, indent=2, sort_keys=True, default=plain) + "\n"


def _bad(ctx: Any) -> tuple[int, str, str]:
    return 2, "", f"db2ops-lab: bad arguments {' '.join(ctx.args)!r}\n{LAB_AWS_USAGE}"


def _cloudwatch(ctx: Any, evaluators: list[Any], rest: list[str]) -> tuple[int, str, str]:
    if not rest:
        return 0, _json([e.status() for e in evaluators]), ""
    what, names = rest[0], rest[1:]
    if what == "notifications" and len(names) <= 1:
        sent = [n for e in evaluators for n in list(e.sent_notifications)]
        if names:
            sent = [n for n in sent if n.get("AlarmName") == names[0]]
        return 0, _json(sent), ""
    if what == "series" and len(names) == 2:
        points = [[when, value] for e in evaluators for when, value in e.series(names[0], names[1])]
        return 0, _json(sorted(points)), ""
    if what == "history" and len(names) == 1:
        return 0, _json([item for e in evaluators for item in e.history(names[0])]), ""
    if what == "view" and len(names) % 2 == 0:
        metrics = list(zip(names[::2], names[1::2], strict=True))
        return 0, _json([_view(e, metrics) for e in evaluators]), ""
    return _bad(ctx)


def _view(evaluator: Any, metrics: list[tuple[str, str]]) -> dict[str, Any]:
    """One evaluator's lab-only values for the alarm screen (lock-free readers: never waits for a tick)."""
    status = evaluator.status()
    sent: dict[str, list[dict[str, Any]]] = {}
    for n in list(evaluator.sent_notifications):  # the message bodies stay here: the screen shows no body
        sent.setdefault(str(n.get("AlarmName", "")), []).append({k: n.get(k) for k in _SENT_KEYS})
    return {
        **{k: status[k] for k in ("endpoint", "ticks", "last_error", "problems")},
        **{k: status[k] for k in ("pending_email", "confirmed_email")},
        "series": [
            {
                "namespace": ns,
                "metric": name,
                "points": [[w, v] for w, v in evaluator.series(ns, name)[-VIEW_POINTS:]],
            }
            for ns, name in metrics
        ],
        "notifications": {alarm: items[-VIEW_SENT:] for alarm, items in sent.items()},
    }


def _confirm_email(ctx: Any, evaluators: list[Any], rest: list[str]) -> tuple[int, str, str]:
    if len(rest) != 1:
        return _bad(ctx)
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


def _audit_test(ctx: Any) -> tuple[int, str, str]:
    from lab.log_agent import running_agent_for
    from services.parsers.db2audit import parse_db2audit

    agent = running_agent_for(ctx.cluster)
    if agent is None:
        return (
            1,
            "",
            "db2ops-lab: the lab's CloudWatch agent is not running for this cluster (start it with AWS)\n",
        )
    records = agent.take_audit_test()  # claimed here, so the answer names exactly what is shipped

    def ship() -> None:  # put_log_events is blocking: never on the SSH server's loop
        try:
            asyncio.run(agent.write_audit_test(records=records))
        except Exception as exc:  # shown by the agent's last_error, like its own failures
            agent.last_error = f"audit-test: {type(exc).__name__}: {exc}"

    threading.Thread(target=ship, name="lab-audit-test", daemon=True).start()
    shipping = {
        "cluster": ctx.cluster.name,
        "log_group": agent.aws.audit_log_group,
        "statements": [r.text for _, _, text in records for r in parse_db2audit(text)],
    }
    return 0, _json(shipping), ""


def _lab_aws_command(ctx: Any) -> tuple[int, str, str]:
    verb, rest = ctx.args[0], ctx.args[1:]
    if verb == "audit-test":
        return _audit_test(ctx) if not rest else _bad(ctx)
    from lab.cloudwatch_eval import active_evaluators

    evaluators = active_evaluators()
    if not evaluators:
        return 1, "", "db2ops-lab: the lab's CloudWatch evaluator is not running (start the lab with AWS)\n"
    if verb == "cloudwatch":
        return _cloudwatch(ctx, evaluators, rest)
    return _confirm_email(ctx, evaluators, rest)


def _register_lab_command() -> None:
    try:
        from lab.command_registry import register_command
    except ImportError:  # pragma: no cover - part of the lab package
        return
    # A sub-verb of db2ops-lab: this handler answers only its verbs and leaves the drills to lab/commands.py.
    register_command(
        "db2ops-lab", _lab_aws_command, match=lambda argv: len(argv) > 1 and argv[1] in AWS_VERBS
    )


_register_lab_command()
