"""`db2ops journal` as text: one block per record (intent, outcome, interrupted), what was sent indented
under it, and the unfinished intents (a step whose process was killed before its outcome) at the end.

Everything printed goes through services.text_safety: names and messages come from the inventory and from
remote hosts, and must not drive the operator's terminal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from services.plans.journal import JournalEntry, unfinished_line
from services.text_safety import safe_line, safe_text
from services.words import plural

_WORD = {
    "intent": "INTENT      about to send",
    "verified": "VERIFIED    applied and verified",
    "applied": "APPLIED",
    "failed": "FAILED",
    "interrupted": "INTERRUPTED",
}


def action_line(action: Mapping[str, Any]) -> str:
    """Return one line for a journaled command or AWS call (secrets were redacted when it was written)."""
    if action.get("kind") == "ssh":
        text = f"{action.get('host', '?')}$ {action.get('command', '')}"
        if action.get("input") is not None:
            text += f"  (stdin: {plural(len(str(action['input'])), 'character')})"
    else:
        params = json.dumps(action.get("params", {}), sort_keys=True, default=str)
        text = f"aws {action.get('service', '?')} {action.get('operation', '?')} {params}"
    return safe_line(text + (f"  # {action['note']}" if action.get("note") else ""))


def verify_hint(plan: str, cluster: str) -> str:
    """Return the read-only command that shows whether an unfinished step of `plan` is in place."""
    if plan in ("monitoring", "ha"):
        return f"db2ops setup {plan} --cluster {cluster} --dry-run shows its state"
    if plan == "failover":
        return f"db2ops status --cluster {cluster} and db2ops failover --cluster {cluster} --dry-run show it"
    return f"db2ops status --cluster {cluster} shows the cluster's state"


def render_journal_text(records: Sequence[JournalEntry], unfinished: Sequence[JournalEntry] = ()) -> str:
    """Return the journal as text: per record its time, who, cluster, plan, step, target and result, the
    message, and the commands / calls (sent, or about to be sent for an intent); then the unfinished ones."""
    if not records:
        return "No changes recorded."
    lines: list[str] = []
    for e in records:
        word = _WORD.get(e.result, e.result.upper())
        head = f"{e.when}  {e.who}  {e.cluster}  {e.plan}  step {e.step_id} on {e.target or '?'}"
        lines.append(safe_line(head))
        link = f"  (intent {e.intent_id})" if e.intent_id else ""
        lines.append(safe_line(f"  {word}{link}"))
        if e.message and e.result != "intent":
            lines += [f"  {safe_line(line)}" for line in safe_text(e.message).splitlines()]
        lines += [f"    {action_line(a)}" for a in e.actions]
    for intent in unfinished:
        lines.append(safe_line(unfinished_line(intent, verify_hint(intent.plan, intent.cluster))))
    return "\n".join(lines)
