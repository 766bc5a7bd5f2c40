"""Where the "prove it fires" chain broke, in words a DBA can act on: one function per link.

Each returns a paragraph: what was seen, the likely causes in the order worth checking, and the command
or setting to look at. Kept apart from prove_it_fires.py so the wording is tested on its own.
"""

from __future__ import annotations

import re
from typing import Any

from services.inventory.model import Cluster
from services.logs.summary import visible_controls
from services.monitoring.params import MonitoringParams
from services.parsers.db2audit import parse_db2audit

_AUDIT_FIELD = re.compile(r"^\s*(userid|authid|statement text)=(.*?);?\s*$", re.MULTILINE)
_DIAG_LEVEL = re.compile(r"LEVEL:\s*(\w+)")
_DIAG_MESSAGE = re.compile(r"^MESSAGE\s*:\s*(.*)$", re.MULTILINE)


def summarize_event(message: str, width: int = 90) -> str:
    """Return a one-line summary of a log event: audit `userid: statement`, db2diag `Level: MESSAGE`,
    else its first line (cut to `width` characters)."""
    fields = dict(_AUDIT_FIELD.findall(message))
    if "statement text" in fields:
        records = parse_db2audit(message)  # the statement may be wrapped over several lines
        statement = records[0].text if records and records[0].text else fields["statement text"]
        text = f"{fields.get('userid', '?')}: {statement}"
    elif (level := _DIAG_LEVEL.search(message)) is not None:
        found = _DIAG_MESSAGE.search(message)
        text = f"{level.group(1)}: {found.group(1) if found else message.splitlines()[0]}"
    else:
        text = message.strip().splitlines()[0] if message.strip() else "(empty event)"
    text = visible_controls(" ".join(text.split()))  # the event text is user data: show, never obey
    return text if len(text) <= width else text[: width - 1] + "…"


def event_diagnosis(params: MonitoringParams, cluster: Cluster, lab_agent: bool) -> str:
    """Return why no audit record arrived in the log group, and what to check."""
    if cluster.lab and not lab_agent:
        return (
            "The chain broke before CloudWatch Logs: no audit record of the test statement arrived in "
            f"{params.audit_log_group}. This lab cluster has no lab log agent in this process (run the "
            "console with `db2ops lab` so the lab's CloudWatch agent ships the record)."
        )
    if cluster.lab:
        return (
            "The chain broke before CloudWatch Logs: the lab's log agent wrote no record into "
            f"{params.audit_log_group} (lab); look at `db2ops-lab cloudwatch` and the lab's log."
        )
    return (
        "The chain broke before CloudWatch Logs: no audit record of the test statement arrived in "
        f"{params.audit_log_group}. Check, in this order: (1) is the cron job extracting? `crontab -l` must "
        f"show the db2ops line ({params.cron_schedule}) and {params.audit_output_path} must grow (the job's "
        "log is next to the script: db2audit_extract.cron.log); (2) is the CloudWatch agent running? "
        "`sudo amazon-cloudwatch-agent-ctl -a status` (its log: /opt/aws/amazon-cloudwatch-agent/logs/"
        "amazon-cloudwatch-agent.log); (3) may the instance role write logs (CloudWatchAgentServerPolicy)? "
        "(4) is the table audited (page 2: the policy must be attached to the table)?"
    )


def metric_diagnosis(message: str, pattern: str, params: MonitoringParams) -> str:
    """Return why the event arrived but the metric never ticked (the filter did not match it)."""
    from services.logs.filter_pattern import FilterPatternError, compile_pattern

    try:
        compiled = compile_pattern(pattern)
        local = compiled.matches(message)
        warnings = compiled.warnings
    except FilterPatternError as exc:
        local, warnings = None, [str(exc)]
    head = (
        "The event arrived but the metric never ticked: the filter pattern did not match it. "
        f"Pattern: {pattern!r}. Event: {summarize_event(message, 200)}."
    )
    if local is False:
        why = " db2ops' evaluator agrees the pattern does not match this event"
        if warnings:
            why += f" ({warnings[0]})"
        fix = (
            f". Use the corrected pattern on page 6 (it matches {params.table_name} in any common casing and "
            f"excludes only authid={params.app_user.upper()}), apply the plan again, then re-run this proof."
        )
        return head + why + fix
    if local is True:
        return head + (
            " db2ops' evaluator says the pattern DOES match, so look elsewhere: a metric filter only sees "
            "events ingested after it was created, and the metric name/namespace of the filter must be the "
            "one the alarm watches; AWS can take a minute or two to publish the datapoint."
        )
    return head + f" The pattern cannot be read: {warnings[0]}"


def alarm_diagnosis(live: dict[str, Any], params: MonitoringParams) -> str:
    """Return why the metric ticked but the alarm did not go to ALARM."""
    alarm = live.get("alarm") or {}
    parts = [
        "The metric ticked but the alarm did not go to ALARM. Its rule: "
        f"{live.get('alarm_rule', '?')}, on {alarm.get('Namespace')}/{alarm.get('MetricName')}."
    ]
    if (alarm.get("Namespace"), alarm.get("MetricName")) != (live.get("namespace"), live.get("metric")):
        parts.append(
            f" The filter publishes {live.get('namespace')}/{live.get('metric')}: the alarm watches another "
            "metric. Fix the names on page 6/7 and apply the plan again."
        )
    if alarm.get("Statistic") in ("Minimum", "Average") or int(alarm.get("Period") or 60) < 60:
        parts.append(
            " This is the runbook's trap: a Minimum/short-period alarm on a metric-filter metric never "
            "fires. Use Sum over 60 s >= 1 (page 7) and apply the plan again."
        )
    else:
        parts.append(
            " CloudWatch evaluates alarms about once a minute; if the rule is right, run the proof again "
            "with a longer time-out."
        )
    return "".join(parts)


def notification_diagnosis(live: dict[str, Any], params: MonitoringParams, why: str) -> str:
    """Return why the alarm went to ALARM but no SNS message was seen."""
    if why:
        return (
            f"The alarm went to ALARM but its action failed: {why}. Check that topic "
            f"{params.sns_topic_name} exists and its access policy lets CloudWatch (cloudwatch.amazonaws.com) "
            "publish to it."
        )
    if not live.get("actions_enabled", True):
        return (
            "The alarm went to ALARM but its actions are disabled (muted), so nothing was sent. Unmute it on "
            "the alarm screen (:alarms) and run the proof again."
        )
    if not live.get("topic_arn"):
        return (
            f"The alarm went to ALARM but it has no SNS action: apply the plan again so alarm "
            f"{params.audit_alarm_name} notifies topic {params.sns_topic_name}."
        )
    return (
        f"The alarm went to ALARM but no SNS publish to {live.get('topic_arn')} was seen in its history in time. "
        "Look at the alarm history (:alarms, h) for an Action item; run the proof again with a longer time-out."
    )


def diag_proof_note(cluster: Cluster, diag_alarm: str) -> str:
    """Return why the diag alarm is not proven on this cluster and how to test it safely ("" when the
    cluster is not a Pacemaker pair). The runbook's diag test stops Db2 (`db2_kill`): on a Pacemaker pair
    the cluster manager takes that for a failure and fails over."""
    if len(cluster.db_hosts) < 2:
        return ""
    return (
        f"the diag alarm {diag_alarm} is not proven here: the runbook's test (db2_kill) stops Db2, and on a "
        "Pacemaker pair that makes the cluster fail over. Test it safely in a maintenance window with the "
        "cluster in maintenance mode (crm configure property maintenance-mode=true, then db2_kill, db2start, "
        "and maintenance-mode=false), or on a lab cluster (db2ops lab)"
    )
