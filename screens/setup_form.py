"""The monitoring wizard's parameter form: which MonitoringParams field is edited on which page, the text
each field shows, and turning what the DBA typed back into validated MonitoringParams.

Pure (no widgets), so the rules are tested without a screen. A field the DBA never edited keeps following
the cluster and the other fields (e.g. the corrected pattern follows the table and the application user).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from services.inventory_model import Cluster
from services.monitoring.params import (
    COMPARISONS,
    MISSING_DATA,
    STATISTICS,
    MonitoringParamError,
    MonitoringParams,
)


@dataclass(frozen=True)
class FieldSpec:
    """One editable parameter: its MonitoringParams name, label and a hint shown under it."""

    name: str
    label: str
    hint: str = ""
    choices: tuple[str, ...] = ()


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

_TYPES = {f.name: str(f.type) for f in fields(MonitoringParams)}
_SPECS = {spec.name: spec for specs in PAGE_FIELDS.values() for spec in specs}


def field_spec(name: str) -> FieldSpec:
    """Return the spec of parameter `name`; raise KeyError when no page edits it."""
    return _SPECS[name]


def convert(name: str, text: str) -> Any:
    """Return `text` as the value MonitoringParams wants for `name` ("" -> None for optional fields).

    Raises MonitoringParamError naming the field when the text is not of its type or not a choice.
    """
    kind = _TYPES[name]
    raw = text.strip()
    spec = _SPECS.get(name)
    if spec is not None and spec.choices and raw not in spec.choices:
        raise MonitoringParamError(f"{name} {raw!r} must be one of {', '.join(spec.choices)}")
    if raw == "" and "None" in kind:
        return None
    try:
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
    except ValueError:
        raise MonitoringParamError(f"{name} {raw!r} is not a number") from None
    if kind.startswith("bool"):
        return raw.lower() == "true"
    return text if name in ("audit_pattern", "diag_pattern") else raw


def shown_value(params: MonitoringParams, name: str) -> str:
    """Return the text a field shows for resolved `params` (patterns: the effective pattern)."""
    if name == "audit_pattern":
        return params.effective_audit_pattern
    if name == "diag_pattern":
        return params.effective_diag_pattern
    value = getattr(params, name)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class ParamForm:
    """What the DBA typed, per field, over the runbook's defaults for `cluster`."""

    def __init__(self, cluster: Cluster, overrides: dict[str, Any] | None = None) -> None:
        self.cluster = cluster
        self.overrides: dict[str, Any] = dict(overrides or {})
        self.errors: dict[str, str] = {}  # field -> why its text is not a value of its type

    def set_text(self, name: str, text: str) -> None:
        """Record the text typed in field `name` (a conversion error is kept in `errors`, never raised)."""
        self.errors.pop(name, None)
        try:
            value = convert(name, text)
        except MonitoringParamError as exc:
            self.errors[name] = str(exc)
            return
        if value is None:
            self.overrides.pop(name, None)  # empty optional field: back to the derived default
        else:
            self.overrides[name] = value

    def reset(self, name: str) -> None:
        """Forget the DBA's value for `name` (the field follows the defaults again)."""
        self.overrides.pop(name, None)
        self.errors.pop(name, None)

    def defaults(self) -> MonitoringParams:
        """Return the runbook's defaults resolved for the cluster (never the DBA's values)."""
        return MonitoringParams().resolve(self.cluster)

    def params(self) -> MonitoringParams:
        """Return the resolved, validated params; raise MonitoringParamError for the first bad field."""
        if self.errors:
            raise MonitoringParamError(next(iter(self.errors.values())))
        return MonitoringParams.from_mapping(dict(self.overrides)).resolve(self.cluster)

    def problems(self) -> dict[str, str]:
        """Return field -> message for every field that cannot be used now: the values that are not of
        their type, and the first value the validation refuses ("" key when it names no field)."""
        out = dict(self.errors)
        try:
            MonitoringParams.from_mapping(dict(self.overrides)).resolve(self.cluster)
        except MonitoringParamError as exc:
            out.setdefault(self.error_field(str(exc)) or "", str(exc))
        return out

    def error_field(self, message: str) -> str | None:
        """Return the field a MonitoringParamError message is about (it starts with the name), else None."""
        first = message.split(" ", 1)[0].rstrip(":")
        return first if first in _TYPES else None
