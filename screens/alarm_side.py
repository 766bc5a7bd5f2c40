"""The alarm screen's right-hand panel: the selected alarm's SNS topics, their subscriptions (pending /
confirmed, "(lab)" when the lab's evaluator says so) and, on the lab, the last SNS message the lab sent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from rich.text import Text

from services.alarms.service import AlarmView, SubscriptionView


def sns_topics(alarm: AlarmView) -> list[str]:
    """Return the SNS topic ARNs among the alarm's actions."""
    return [arn for arn in alarm.alarm_actions if arn.startswith("arn:aws:sns:")]


def side_panel_text(
    alarm: AlarmView,
    subs_by_topic: dict[str, list[SubscriptionView] | str],
    sent: list[dict[str, Any]] | None = None,
) -> Text:
    """Return the panel for `alarm`: per topic its subscriptions (or the error reading them, a str), the
    newest of `sent` (the lab's SNS messages for this alarm, oldest first) on that topic, then MUTED."""
    text = Text()
    topics = sns_topics(alarm)
    if not topics:
        text.append("No SNS topic in this alarm's actions.", "dim")
    for topic in topics:
        text.append(f"SNS topic {topic.rsplit(':', 1)[-1]}\n", "bold")
        text.append(f"{topic}\n", "dim")
        subs = subs_by_topic.get(topic, [])
        if isinstance(subs, str):
            text.append(f"⚠ {subs}\n", "red")
            continue
        if not subs:
            text.append("no subscriptions: nobody is notified\n", "yellow")
        for s in subs:
            status = s.status.upper() + (" (lab)" if s.source == "lab" else "")
            text.append(f"  {s.endpoint} ({s.protocol}) ")
            text.append(f"{status}\n", "bold yellow" if s.status == "pending" else "green")
        if any(s.status == "pending" and s.source == "lab" for s in subs):
            text.append("  lab: confirm with db2ops-lab confirm-email all\n", "dim")
        last = next((n for n in reversed(sent or []) if n.get("TopicArn") == topic), None)
        if last is not None:
            when = last.get("Timestamp")
            at = when.strftime("%H:%M:%S UTC") if isinstance(when, datetime) else "?"
            text.append(f"  last message sent (lab): {last.get('NewStateValue', '?')} at {at}\n", "dim")
    if not alarm.actions_enabled:
        text.append("\nActions are MUTED: nobody is notified (m unmutes).\n", "bold yellow")
    return text
