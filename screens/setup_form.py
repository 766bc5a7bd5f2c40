"""The monitoring wizard's parameter form: which MonitoringParams field is edited on which page, the text
each field shows, and turning what the DBA typed back into validated MonitoringParams.

Pure (no widgets), so the rules are tested without a screen. A field the DBA never edited keeps following
the cluster and the other fields (e.g. the corrected pattern follows the table and the application user).
"""

from __future__ import annotations

from typing import Any

from screens.wizard_form import FieldSpec, WizardForm, convert_text, field_types, value_text
from services.monitoring.params import (
    COMPARISONS,
    MISSING_DATA,
    STATISTICS,
    MonitoringParamError,
    MonitoringParams,
)

PAGES: tuple[tuple[str, str], ...] = (
    ("audit", "1 Audit paths"),
    ("policies", "2 Audit policies"),
    ("cron", "3 Extract job (cron)"),
    ("agent", "4 CloudWatch agent"),
    ("sns", "5 SNS topic"),
    ("filters", "6 Metric filters"),
    ("alarms", "7 Alarms"),
    ("plan", "Plan: check · apply"),
    ("proof", "8 Prove it fires"),
)

PAGE_INTRO: dict[str, str] = {
    "audit": "Runbook: db2audit configure datapath / archivepath, then db2 update dbm cfg using "
    "audit_buf_sz 64 (audit records written asynchronously). Set on every db host, so a takeover keeps "
    "auditing.",
    "policies": "Runbook: an audit policy on the sensitive table (categories execute status both error type "
    "audit) and one on DBADM, SYSADM and SECADM, created once on the HADR primary.",
    "cron": "Runbook: a cron job flushes and archives the audit log and extracts it into a readable file "
    "for the CloudWatch agent. Installed idempotently: one marked crontab line, replaced on a re-run.",
    "agent": "Runbook: the CloudWatch agent ships the extracted audit log and db2diag.log. db2ops merges its "
    "two entries into the existing config.json instead of overwriting it, then runs fetch-config and reads "
    "the agent's status back.",
    "sns": "Runbook: a standard SNS topic and an e-mail subscription for the alarms.",
    "filters": 'Runbook: metric filters "worker -appusr" and "?Error ?Severe". Filter patterns are '
    "case-sensitive and Db2 writes names in upper case, so the runbook's patterns miss or over-match events: "
    "each pattern is tested here on samples and on recent events of its log group.",
    "alarms": "Runbook: an alarm per filter to the SNS topic. db2ops uses sound defaults instead of the "
    "runbook's 10-second Minimum alarm.",
    "plan": "Check reads every host and AWS (no change). The dry run lists every command with its host and "
    "every AWS call with its parameters. Apply asks first, then applies and verifies step by step and "
    "stops at the first failure; run it again to resume: steps already done are skipped.",
    "proof": "Runs the runbook's test statement on the HADR primary as a user other than the application "
    "user, then watches the audit record arrive, the metric tick, the alarm go to ALARM and the SNS message "
    "go out. Each link has a time-out; if one breaks, the diagnosis says where and what to check.",
}

PAGE_FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "audit": (
        FieldSpec("datapath", "Audit data path", "db2audit configure datapath: the active audit log"),
        FieldSpec("archivepath", "Audit archive path", "db2audit configure archivepath: archived logs"),
        FieldSpec(
            "audit_buf_sz",
            "AUDIT_BUF_SZ (4 KB pages)",
            "needs an instance restart to take effect (db2stop / db2start); db2ops does not restart it",
        ),
    ),
    "policies": (
        FieldSpec("table", "Sensitive table", "SCHEMA.NAME, audited with the table policy"),
        FieldSpec("app_user", "Application user", "the only user allowed to touch the table"),
        FieldSpec("table_policy", "Table audit policy", "CATEGORIES EXECUTE STATUS BOTH ERROR TYPE AUDIT"),
        FieldSpec("admin_policy", "Admin audit policy", "on DBADM, SYSADM, SECADM"),
        FieldSpec("database", "Database", "the audited database"),
    ),
    "cron": (
        FieldSpec("cron_schedule", "Schedule (cron)", "5 fields; */5 * * * * = every 5 minutes"),
        FieldSpec("script_path", "Script path", "written with tee, run by cron as the instance owner"),
        FieldSpec("output_file", "Extracted file", "in the archive path; read by the CloudWatch agent"),
        FieldSpec("instance_home", "Instance home", "where sqllib/db2profile is"),
    ),
    "agent": (
        FieldSpec("audit_log_group", "Audit log group", "the extracted audit log goes here"),
        FieldSpec("diag_log_group", "Diag log group", "db2diag.log goes here"),
        FieldSpec("log_stream_name", "Log stream name", "{instance_id} is filled in by the agent"),
        FieldSpec("diag_path", "db2diag.log path", ""),
        FieldSpec("agent_config_path", "Agent config", "merged, never overwritten (a .db2ops-bak is kept)"),
        FieldSpec("agent_mode", "Agent mode (-m)", "ec2 or onPremise", ("ec2", "onPremise")),
        FieldSpec("use_sudo", "Use sudo -n", "true: the config is root's", ("true", "false")),
    ),
    "sns": (
        FieldSpec("sns_topic_name", "SNS topic", "standard topic, created once by name"),
        FieldSpec("email", "E-mail", "empty: the topic gets no subscription; pending until confirmed"),
    ),
    "filters": (
        FieldSpec("audit_pattern", "Audit filter pattern", "sensitive table used by anyone but the app user"),
        FieldSpec("diag_pattern", "Diag filter pattern", "db2diag records of level Error or worse"),
        FieldSpec("metric_namespace", "Metric namespace", ""),
        FieldSpec("audit_metric_name", "Audit metric", ""),
        FieldSpec("diag_metric_name", "Diag metric", ""),
    ),
    "alarms": (
        FieldSpec("alarm_period", "Period (s)", "60: metric-filter metrics are per minute"),
        FieldSpec("alarm_statistic", "Statistic", "Sum counts the matching events", STATISTICS),
        FieldSpec("alarm_comparison", "Comparison", "", COMPARISONS),
        FieldSpec("alarm_threshold", "Threshold", "1: one matching event alarms"),
        FieldSpec("alarm_evaluation_periods", "Evaluation periods", ""),
        FieldSpec("alarm_treat_missing_data", "Missing data", "quiet minutes are OK", MISSING_DATA),
        FieldSpec("audit_alarm_name", "Audit alarm name", ""),
        FieldSpec("diag_alarm_name", "Diag alarm name", ""),
    ),
}

_TYPES = field_types(MonitoringParams)
_SPECS = {spec.name: spec for specs in PAGE_FIELDS.values() for spec in specs}
_PATTERNS = ("audit_pattern", "diag_pattern")


def field_spec(name: str) -> FieldSpec:
    """Return the spec of parameter `name`; raise KeyError when no page edits it."""
    return _SPECS[name]


def convert(name: str, text: str) -> Any:
    """Return `text` as the value MonitoringParams wants for `name` ("" -> None for optional fields).

    Raises MonitoringParamError naming the field when the text is not of its type or not a choice.
    """
    value = convert_text(name, text, _TYPES[name], _SPECS.get(name), MonitoringParamError)
    # a filter pattern is kept exactly as typed: CloudWatch matches its text as it is
    return text if name in _PATTERNS and value is not None else value


def shown_value(params: MonitoringParams, name: str) -> str:
    """Return the text a field shows for resolved `params` (patterns: the effective pattern)."""
    if name == "audit_pattern":
        return params.effective_audit_pattern
    if name == "diag_pattern":
        return params.effective_diag_pattern
    return value_text(getattr(params, name))


class ParamForm(WizardForm[MonitoringParams]):
    """What the DBA typed, per field, over the runbook's monitoring defaults for `cluster`."""

    params_type = MonitoringParams
    error_type = MonitoringParamError

    def convert(self, name: str, text: str) -> Any:
        """Return `text` as the value of field `name` (see convert); raise MonitoringParamError."""
        return convert(name, text)

    def shown(self, params: MonitoringParams, name: str) -> str:
        """Return the text field `name` shows for resolved `params` (see shown_value)."""
        return shown_value(params, name)
