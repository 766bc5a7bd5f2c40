"""MonitoringParams: runbook defaults, hostile values refused with a clear message, values stay argv data."""

from __future__ import annotations

import json
import re
import shlex
import time

import pytest
from corpus import read

from plans.fakes import make_cluster
from services.logs.filter_pattern import compile_pattern
from services.monitoring.agent_steps import AgentConfigError, collect_entries
from services.monitoring.plan import (
    MonitoringParamError,
    MonitoringParams,
    build_monitoring_plan,
    corrected_audit_pattern,
    merge_agent_config,
    render_extract_script,
)


def test_defaults_come_from_the_runbook_and_the_cluster() -> None:
    p = MonitoringParams().resolve(make_cluster())
    assert (p.datapath, p.archivepath) == (
        "/home/db2inst1/dbaudit/active/",
        "/home/db2inst1/dbaudit/archive/",
    )
    assert (p.audit_buf_sz, p.table, p.table_policy, p.admin_policy, p.app_user) == (
        64,
        "sample.worker",
        "WORKTABPOL",
        "ADMINPOL",
        "appusr",
    )
    assert p.database == "HADRDB" and p.output_file == "worker_audit.log"
    assert (p.audit_log_group, p.diag_log_group, p.sns_topic_name) == (
        "db2-db-worker-audit-log",
        "db2-diagnostics-logs",
        "db2-alerts",
    )
    assert (p.alarm_period, p.alarm_statistic, p.alarm_threshold, p.alarm_treat_missing_data) == (
        60,
        "Sum",
        1.0,
        "notBreaching",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("table", "x; rm -rf /", "table 'x; rm -rf /' is not SCHEMA.NAME"),
        ("table", "sample.worker; drop table x", "is not SCHEMA.NAME"),
        ("app_user", "appusr' or '1'='1", "app_user"),
        ("database", "$(reboot)", "database '$(reboot)' is not allowed"),
        ("datapath", "/home/db2inst1/a b/", "datapath"),
        ("archivepath", "/home/db2inst1/../../etc/", "must not contain . or .. parts"),
        ("output_file", "../worker.log", "output_file"),
        ("cron_schedule", "* * * * * ; curl evil", "5 cron fields"),
        ("email", "a@b.com; rm -rf /", "email"),
        ("table_policy", "POL;DROP", "table_policy"),
        ("audit_buf_sz", 70000, "from 0 to 65000"),
        ("alarm_period", 45, "multiple of 60"),
        ("metric_namespace", "AWS/Logs", "reserved"),
        ("alarm_threshold", float("nan"), "alarm_threshold nan must be a finite number"),
        ("alarm_threshold", float("inf"), "alarm_threshold inf must be a finite number"),
        ("audit_pattern", "%bad(", "audit_pattern '%bad(' is not a valid filter pattern: unterminated regex"),
        ("diag_pattern", "[a,b", "diag_pattern '[a,b' is not a valid filter pattern"),
        ("pattern_test_max_events", -1, "pattern_test_max_events"),
    ],
)
def test_hostile_or_bad_values_are_refused_before_any_step(field, value, message) -> None:
    with pytest.raises(MonitoringParamError, match=re.escape(message)):
        build_monitoring_plan(make_cluster(), MonitoringParams(**{field: value}))


@pytest.mark.parametrize("field", ["datapath", "archivepath", "instance_home", "diag_path", "agent_ctl"])
def test_a_near_miss_path_is_refused_at_once(field) -> None:
    # found by bench/hostile_report.py: the path rule backtracked exponentially (20 s and more for a
    # value of this length), on a value typed in the wizard or passed with --set
    started = time.process_time()
    with pytest.raises(MonitoringParamError, match="is not allowed: use an absolute path"):
        build_monitoring_plan(
            make_cluster(), MonitoringParams(**{field: "/home/db2inst1/dbaudit-oProxyCommand=x y"})
        )
    assert time.process_time() - started < 0.1


def test_unknown_parameter_is_named() -> None:
    with pytest.raises(MonitoringParamError, match="unknown monitoring parameter\\(s\\): emial"):
        MonitoringParams.from_mapping({"emial": "x@example.com"})


def test_values_reach_hosts_as_argv_items_and_quoted_script_text() -> None:
    p = MonitoringParams(database="TESTDB", output_file="w-audit.log").resolve(make_cluster())
    script = render_extract_script(p)
    assert "db2audit archive database TESTDB\n" in script
    assert 'db2audit extract file w-audit.log from files "$f" && rm -f "$f"' in script
    plan = build_monitoring_plan(make_cluster(), MonitoringParams(datapath="/data/audit/"))
    commands = plan.steps[0].commands(None)  # type: ignore[arg-type]
    assert commands[1].argv == ("db2audit", "configure", "datapath", "/data/audit/")
    assert shlex.split(shlex.join(commands[1].argv)) == list(commands[1].argv)


def test_corrected_audit_pattern_fixes_the_case_trap() -> None:
    pattern = compile_pattern(corrected_audit_pattern("WORKER", "appusr"))
    runbook = compile_pattern("worker -appusr")
    upper = "statement text=SELECT * FROM SAMPLE.WORKER;\n  authid=BOB;"
    own = "userid=appusr;\n  authid=APPUSR;\n  statement text=select * from sample.worker;"
    assert pattern.matches(upper) and not runbook.matches(upper)
    assert not pattern.matches(own)
    assert pattern.matches(
        "authid=DB2INST1;\n  statement text=grant select on table sample.worker to user abcuser"
    )


def test_agent_merge_on_the_corpus_config_keeps_everything_else() -> None:
    original = read("cloudwatch/agent-complete_linux_config.json")
    entries = collect_entries(MonitoringParams().resolve(make_cluster()))
    merged_text, changed = merge_agent_config(original, entries)
    merged, before = json.loads(merged_text), json.loads(original)
    assert changed
    assert merged["metrics"] == before["metrics"] and merged["traces"] == before["traces"]
    assert merged["logs"]["logs_collected"]["journald"] == before["logs"]["logs_collected"]["journald"]
    paths = [i["file_path"] for i in merged["logs"]["logs_collected"]["files"]["collect_list"]]
    assert paths == [
        "/opt/aws/amazon-cloudwatch-agent/logs/amazon-cloudwatch-agent.log",
        "/opt/aws/amazon-cloudwatch-agent/logs/test.log",
        "/home/db2inst1/dbaudit/archive/worker_audit.log",
        "/home/db2inst1/sqllib/db2dump/DIAG0000/db2diag.log",
    ]
    assert merge_agent_config(merged_text, entries) == (merged_text, False)  # idempotent
    with pytest.raises(AgentConfigError, match="is not a list"):
        merge_agent_config('{"logs": {"logs_collected": {"files": {"collect_list": {}}}}}', entries)
