"""MonitoringParams: the monitoring runbook's values as editable defaults, validated before any step runs.

Every value ends up either in an argv item, a file written through stdin, or an AWS parameter; the
values that also land inside the cron script / crontab line (a shell context) are restricted to safe
characters, so a hostile value is refused here with a message instead of reaching a host.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields, replace
from typing import Any

from services.alarms.model import cluster_alarm_prefix
from services.inventory.model import Cluster
from services.inventory.names import UnsafeOperand, instance_home
from services.logs.streams import SETUP_STREAM_TEMPLATE, STREAM_TEMPLATES

# The runbook's filter patterns, kept to show their case trap next to the corrected ones.
RUNBOOK_AUDIT_PATTERN = "worker -appusr"
RUNBOOK_DIAG_PATTERN = "?Error ?Severe"
DB2DIAG_START_PATTERN = r"^\d{4}-\d{2}-\d{2}-\d{2}\.\d{2}\.\d{2}\.\d{6}[+-]\d{3}"
AUDIT_RECORD_START_PATTERN = "^timestamp="
DIAG_LEVELS = ("Error", "Severe", "Critical", "Alert")

# Segments that end in "/" then an optional last one: the same paths as (?:[...]+/?)*, without its
# exponential backtracking on a near miss (a 40-character value with "=" took seconds).
_PATH = re.compile(r"^/(?:[A-Za-z0-9._+-]+/)*[A-Za-z0-9._+-]*$")
_FILE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$")
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
_DBNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,7}$")
_USER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,29}$")
_CRON_FIELD = re.compile(r"^[0-9*/,-]+$")
_EMAIL = re.compile(r"^[^@\s'\"\\;]+@[^@\s'\"\\;]+\.[A-Za-z]{2,}$")
_LOG_GROUP = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
_NAME = re.compile(r"^[A-Za-z0-9_.\-/# ]{1,255}$")  # metric/filter/alarm/topic names (printable subset)
_TOPIC = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
STATISTICS = ("SampleCount", "Average", "Sum", "Minimum", "Maximum")
COMPARISONS = (
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
)
MISSING_DATA = ("breaching", "notBreaching", "ignore", "missing")


class MonitoringParamError(ValueError):
    """A monitoring parameter is unusable; the message names it, shows the value and says what is allowed."""


# The runbook subscribes an e-mail address to the alarm topic: without one nothing reaches a person.
NO_EMAIL_WARNING = (
    "WARNING: no e-mail address: the SNS topic gets no subscription, so NOBODY WILL BE NOTIFIED when an "
    "alarm fires. Give the e-mail setting (the wizard's SNS page, or --set email=ADDRESS) to subscribe one."
)
EMAIL_REQUIRED = (
    "the runbook subscribes an e-mail address to the alarm topic: pass --set email=ADDRESS, or --no-email "
    "to go on without one (nobody will be notified when an alarm fires)"
)


@dataclass(frozen=True)
class MonitoringParams:
    """Defaults from the runbook. None means "derive from the cluster" (see `resolve`)."""

    datapath: str | None = None  # /home/<instance>/dbaudit/active/
    archivepath: str | None = None  # /home/<instance>/dbaudit/archive/
    audit_buf_sz: int = 64
    table: str = "sample.worker"
    table_policy: str = "WORKTABPOL"
    admin_policy: str = "ADMINPOL"
    app_user: str = "appusr"
    database: str | None = None  # the cluster's database
    instance_home: str | None = None  # /home/<instance>
    output_file: str = "worker_audit.log"
    script_path: str | None = None  # <instance_home>/dbaudit/db2audit_extract.sh
    cron_schedule: str = "*/5 * * * *"
    diag_path: str | None = None  # <instance_home>/sqllib/db2dump/DIAG0000/db2diag.log
    agent_config_path: str = "/opt/aws/amazon-cloudwatch-agent/bin/config.json"
    agent_ctl: str = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
    agent_mode: str = "ec2"  # "onPremise" for hosts outside EC2
    use_sudo: bool = True  # the agent config is root's: commands run with `sudo -n`
    audit_log_group: str | None = None  # cluster.aws.audit_log_group
    diag_log_group: str | None = None  # cluster.aws.diag_log_group
    log_stream_name: str = SETUP_STREAM_TEMPLATE  # "{instance_id}"; the runbook writes "Db2 - {instance_id}"
    sns_topic_name: str | None = None  # cluster.aws.sns_topic_name
    email: str | None = None  # no email: the topic is created without a subscription
    metric_namespace: str = "Db2/Monitoring"
    audit_metric_name: str = "SensitiveTableAccess"
    diag_metric_name: str = "Db2DiagErrorSevere"
    audit_filter_name: str = "db2ops-sensitive-table-access"
    diag_filter_name: str = "db2ops-db2diag-error-severe"
    audit_alarm_name: str | None = None  # db2ops-<cluster>-sensitive-table-access
    diag_alarm_name: str | None = None  # db2ops-<cluster>-db2diag-error-severe
    use_runbook_patterns: bool = False  # True: the runbook's patterns as written (case trap included)
    audit_pattern: str | None = None  # override the (corrected) audit pattern
    diag_pattern: str | None = None  # override the (corrected) diag pattern
    alarm_period: int = 60
    alarm_statistic: str = "Sum"
    alarm_threshold: float = 1.0
    alarm_comparison: str = "GreaterThanOrEqualToThreshold"
    alarm_evaluation_periods: int = 1
    alarm_treat_missing_data: str = "notBreaching"
    pattern_test_lookback_s: int = 24 * 3600
    pattern_test_max_events: int = 500

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> MonitoringParams:
        """Return params with `values` over the defaults; raise MonitoringParamError for an unknown key."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise MonitoringParamError(f"unknown monitoring parameter(s): {', '.join(unknown)}")
        return cls(**values)

    def resolve(self, cluster: Cluster) -> MonitoringParams:
        """Return a copy with every None filled from `cluster`, validated. Raises MonitoringParamError."""
        try:  # /home/<instance> only for a valid instance name: '../../tmp/evil' would move every path
            home = self.instance_home or instance_home(cluster.instance)
        except UnsafeOperand as exc:
            raise MonitoringParamError(str(exc)) from None
        prefix = cluster_alarm_prefix(cluster.name)
        filled = replace(
            self,
            instance_home=home,
            datapath=self.datapath or f"{home}/dbaudit/active/",
            archivepath=self.archivepath or f"{home}/dbaudit/archive/",
            database=(self.database or cluster.database),
            script_path=self.script_path or f"{home}/dbaudit/db2audit_extract.sh",
            diag_path=self.diag_path or f"{home}/sqllib/db2dump/DIAG0000/db2diag.log",
            audit_log_group=self.audit_log_group or cluster.aws.audit_log_group,
            diag_log_group=self.diag_log_group or cluster.aws.diag_log_group,
            sns_topic_name=self.sns_topic_name or cluster.aws.sns_topic_name,
            # the cluster's prefix: status and the alarm screen find the cluster's alarms by it
            audit_alarm_name=self.audit_alarm_name or f"{prefix}sensitive-table-access",
            diag_alarm_name=self.diag_alarm_name or f"{prefix}db2diag-error-severe",
        )
        filled.validate()
        return filled

    # --- derived values ----------------------------------------------------------------------------
    @property
    def table_schema(self) -> str:
        return self.table.split(".", 1)[0].upper()

    @property
    def table_name(self) -> str:
        return self.table.split(".", 1)[1].upper()

    @property
    def audit_output_path(self) -> str:
        return _dir(self.archivepath or "") + self.output_file

    @property
    def effective_audit_pattern(self) -> str:
        if self.audit_pattern:
            return self.audit_pattern
        if self.use_runbook_patterns:
            return RUNBOOK_AUDIT_PATTERN
        return corrected_audit_pattern(self.table_name, self.app_user)

    @property
    def effective_diag_pattern(self) -> str:
        if self.diag_pattern:
            return self.diag_pattern
        return RUNBOOK_DIAG_PATTERN if self.use_runbook_patterns else corrected_diag_pattern()

    def validate(self) -> None:
        """Return None when every value is usable; raise MonitoringParamError naming the first bad one."""
        for name in ("datapath", "archivepath", "instance_home", "script_path", "diag_path"):
            _check(name, getattr(self, name), _PATH, "an absolute path of letters, digits and . _ + - /")
            if "/../" in f"{getattr(self, name)}/" or "/./" in f"{getattr(self, name)}/":
                raise MonitoringParamError(f"{name} {getattr(self, name)!r} must not contain . or .. parts")
        for name in ("agent_config_path", "agent_ctl"):
            _check(name, getattr(self, name), _PATH, "an absolute path")
        _check("output_file", self.output_file, _FILE, "a file name of letters, digits and . _ -")
        _check(
            "database", self.database, _DBNAME, "a Db2 database name: a letter then up to 7 letters/digits/_"
        )
        if self.table.count(".") != 1 or not all(_IDENT.match(p) for p in self.table.split(".")):
            raise MonitoringParamError(
                f"table {self.table!r} is not SCHEMA.NAME made of letters, digits and _ "
                "(e.g. sample.worker); quoted or delimited identifiers are not supported"
            )
        for name in ("table_policy", "admin_policy"):
            _check(name, getattr(self, name), _IDENT, "an SQL identifier: letters, digits and _")
        _check("app_user", self.app_user, _USER, "a Db2 authorization id: letters, digits and _")
        fields_ = self.cron_schedule.split()
        if len(fields_) != 5 or not all(_CRON_FIELD.match(f) for f in fields_):
            raise MonitoringParamError(
                f"cron_schedule {self.cron_schedule!r} must be 5 cron fields of digits and * / , - "
                "(e.g. */5 * * * *)"
            )
        if not isinstance(self.audit_buf_sz, int) or not 0 <= self.audit_buf_sz <= 65000:
            raise MonitoringParamError(f"audit_buf_sz {self.audit_buf_sz!r} must be a number from 0 to 65000")
        if self.agent_mode not in ("ec2", "onPremise"):
            raise MonitoringParamError(f"agent_mode {self.agent_mode!r} must be ec2 or onPremise")
        for name in ("audit_log_group", "diag_log_group"):
            _check(name, getattr(self, name), _LOG_GROUP, "a log group name: letters, digits and . - _ / #")
        if self.log_stream_name not in STREAM_TEMPLATES:
            # the console finds a cluster's records by these names only (services/logs/streams.py): any
            # other name would hide this cluster's logs from the log view, Insights and the timeline
            raise MonitoringParamError(
                f"log_stream_name {self.log_stream_name!r}: use {' or '.join(map(repr, STREAM_TEMPLATES))}; "
                "the console reads a cluster's logs by these stream names (the agent fills in {instance_id})"
            )
        _check("sns_topic_name", self.sns_topic_name, _TOPIC, "letters, digits, - and _ (up to 256)")
        if self.email is not None:
            _check("email", self.email, _EMAIL, "an e-mail address like dba-team@example.com")
        for name in (
            "metric_namespace",
            "audit_metric_name",
            "diag_metric_name",
            "audit_filter_name",
            "diag_filter_name",
            "audit_alarm_name",
            "diag_alarm_name",
        ):
            _check(name, getattr(self, name), _NAME, "1-255 letters, digits, spaces and . - _ / #")
        if self.metric_namespace.startswith("AWS/"):
            raise MonitoringParamError(
                "metric_namespace must not start with AWS/ (reserved for AWS services)"
            )
        if self.alarm_period not in (10, 20, 30) and (self.alarm_period < 60 or self.alarm_period % 60):
            raise MonitoringParamError(
                f"alarm_period {self.alarm_period} must be 10, 20, 30 or a multiple of 60 (60 recommended)"
            )
        for name, allowed in (
            ("alarm_statistic", STATISTICS),
            ("alarm_comparison", COMPARISONS),
            ("alarm_treat_missing_data", MISSING_DATA),
        ):
            if getattr(self, name) not in allowed:
                raise MonitoringParamError(
                    f"{name} {getattr(self, name)!r} must be one of {', '.join(allowed)}"
                )
        if self.alarm_evaluation_periods < 1:
            raise MonitoringParamError("alarm_evaluation_periods must be at least 1")
        if not math.isfinite(self.alarm_threshold):  # AWS refuses NaN / infinity at apply time
            raise MonitoringParamError(
                f"alarm_threshold {self.alarm_threshold} must be a finite number (e.g. 1)"
            )
        for name in ("pattern_test_lookback_s", "pattern_test_max_events"):
            if getattr(self, name) < 1:
                raise MonitoringParamError(f"{name} {getattr(self, name)} must be at least 1")
        for name in ("audit_pattern", "diag_pattern"):
            value = getattr(self, name)
            if value is not None and (not value.strip() or len(value) > 1024):
                raise MonitoringParamError(f"{name} must be 1-1024 characters")
            if value is not None:
                _check_pattern(name, value)


def _check_pattern(name: str, value: str) -> None:
    # The same evaluator that tests the pattern and plays CloudWatch in the lab: refuse it here, on its field.
    from services.logs.filter_pattern import FilterPatternError, compile_pattern

    try:
        compile_pattern(value)
    except FilterPatternError as exc:
        raise MonitoringParamError(f"{name} {value!r} is not a valid filter pattern: {exc}") from None


def _check(name: str, value: object, pattern: re.Pattern[str], allowed: str) -> None:
    if not isinstance(value, str) or not pattern.match(value):
        raise MonitoringParamError(f"{name} {value!r} is not allowed: use {allowed}")


def _dir(path: str) -> str:
    return path if path.endswith("/") else path + "/"


def corrected_audit_pattern(table_name: str, app_user: str) -> str:
    """Return the audit filter pattern that survives the runbook's case trap.

    Filter-pattern terms are case-sensitive: the statement text says `worker`, `WORKER` or `Worker` as
    typed, and Db2 writes the authorization id in upper case (`authid=APPUSR;`). AWS regex cannot say
    "does not contain", so each casing of the table name is an alternative (`?term`) carrying the
    exclusion of the application user's authid. One event per audit record (the agent config groups
    lines with multi_line_start_pattern ^timestamp=), so both fields are in the same event.
    """
    exclude = f'-"authid={app_user.upper()};"'
    casings = dict.fromkeys((table_name.upper(), table_name.lower(), table_name.capitalize()))
    return " ".join(f'?"{casing}" {exclude}' for casing in casings)


def corrected_diag_pattern() -> str:
    """Return the diag pattern matching the record header's level field exactly: `LEVEL: Error` etc."""
    return " ".join(f'?"LEVEL: {level}"' for level in DIAG_LEVELS)


def valid_email(text: str) -> bool:
    """Return True when `text` looks like an e-mail address SNS accepts (no quotes, spaces or ';')."""
    return bool(_EMAIL.match(text))
