"""The monitoring runbook as a plan, against the lab's host answers (in-process) and moto."""

from __future__ import annotations

import json

import pytest
from plan_fixtures import lab_extras

from lab.db2admin_state import catalog, host_state
from services.monitoring.plan import CRON_MARKER, MonitoringParams, build_monitoring_plan, cron_line
from services.plans import Journal, PlanContext, WriteRefused, run_plan
from services.ssh.errors import HostUnreachable

EMAIL = "dba-team@example.com"


def _ctx(cluster, runner, tmp_path) -> PlanContext:
    return PlanContext(
        cluster=cluster,
        runner=runner,
        journal=Journal(tmp_path / "journal"),
        operator="alice",
        extras=lab_extras(cluster, runner),
    )


async def test_dry_run_lists_every_command_and_api_call(lab, tmp_path) -> None:
    cluster, runner, lab_cluster = lab
    plan = build_monitoring_plan(cluster, MonitoringParams(email=EMAIL))
    result = await run_plan(plan, _ctx(cluster, runner, tmp_path), mode="dry-run")
    assert result.ok
    assert all(s.status == "planned" for s in result.steps)
    commands = [(a.host, a.command) for s in result.steps for a in s.actions if a.kind == "ssh"]
    assert ("db2a", "db2audit configure datapath /home/db2inst1/dbaudit/active/") in commands
    assert ("db2b", "db2audit configure archivepath /home/db2inst1/dbaudit/archive/") in commands
    assert ("db2b", "db2 update dbm cfg using audit_buf_sz 64") in commands
    assert (
        "db2a",
        "db2 -tvf /home/db2inst1/dbaudit/db2ops_audit_policies.sql",
    ) in commands  # db2a is primary
    assert ("db2b", "crontab -") in commands
    assert (
        "db2a",
        "sudo -n /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 "
        "-c file:/opt/aws/amazon-cloudwatch-agent/bin/config.json -s",
    ) in commands
    calls = [(a.service, a.operation) for s in result.steps for a in s.actions if a.kind == "aws"]
    assert calls == [
        ("sns", "CreateTopic"),
        ("sns", "Subscribe"),
        ("logs", "CreateLogGroup"),
        ("logs", "PutMetricFilter"),
        ("logs", "CreateLogGroup"),
        ("logs", "PutMetricFilter"),
        ("cloudwatch", "PutMetricAlarm"),
        ("cloudwatch", "PutMetricAlarm"),
    ]
    alarm = result.by_id("alarm-audit").actions[0].params
    assert (alarm["Period"], alarm["Statistic"], alarm["Threshold"]) == (60, "Sum", 1.0)
    assert (alarm["ComparisonOperator"], alarm["TreatMissingData"]) == (
        "GreaterThanOrEqualToThreshold",
        "notBreaching",
    )
    policies = result.by_id("audit-policies").actions[1].input
    assert "CREATE AUDIT POLICY WORKTABPOL CATEGORIES EXECUTE STATUS BOTH ERROR TYPE AUDIT;" in policies
    assert "AUDIT DBADM,SYSADM,SECADM USING POLICY ADMINPOL;" in policies
    # nothing changed anywhere
    assert host_state(lab_cluster, lab_cluster.hosts["db2a"]).audit_buf_sz == 0
    assert catalog(lab_cluster).policies == {}
    assert not any(
        cmd.startswith(("tee", "db2audit configure")) or cmd == "crontab -" for _, cmd in runner.ran
    )


async def test_apply_completes_and_second_run_is_all_already_done(lab, tmp_path) -> None:
    cluster, runner, lab_cluster = lab
    ctx = _ctx(cluster, runner, tmp_path)
    first = await run_plan(build_monitoring_plan(cluster, MonitoringParams(email=EMAIL)), ctx, mode="apply")
    assert first.ok, first.next_hint
    assert {s.status for s in first.steps} == {"applied"}
    db2b = host_state(lab_cluster, lab_cluster.hosts["db2b"])
    assert (db2b.datapath, db2b.archivepath, db2b.audit_buf_sz) == (
        "/home/db2inst1/dbaudit/active/",
        "/home/db2inst1/dbaudit/archive/",
        64,
    )
    assert sorted(catalog(lab_cluster).uses) == [
        ("ADMINPOL", "-", "DBADM"),
        ("ADMINPOL", "-", "SECADM"),
        ("ADMINPOL", "-", "SYSADM"),
        ("WORKTABPOL", "SAMPLE", "WORKER"),
    ]
    assert db2b.crontab == cron_line(MonitoringParams().resolve(cluster)) + "\n"
    assert (db2b.agent_status, db2b.agent_config_status) == ("running", "configured")

    ran_before = len(runner.ran)
    second = await run_plan(build_monitoring_plan(cluster, MonitoringParams(email=EMAIL)), ctx, mode="apply")
    assert [s.status for s in second.steps] == ["already_done"] * len(second.steps)
    assert second.by_id("alarm-audit").message.endswith("(state set by the lab's evaluator)")
    later = runner.ran[ran_before:]
    assert not any(cmd.startswith(("tee", "db2 -tvf /home")) or cmd == "crontab -" for _, cmd in later)
    entries = Journal(tmp_path / "journal").read().entries
    assert len(entries) == len(first.steps) and {e.result for e in entries} == {"verified"}

    sns = ctx.client("sns")
    assert len(sns.list_topics()["Topics"]) == 1
    logs = ctx.client("logs")
    assert len(logs.describe_metric_filters(logGroupName=cluster.aws.audit_log_group)["metricFilters"]) == 1


async def test_read_only_cluster_refuses_and_no_apply_runs(lab, tmp_path, monkeypatch) -> None:
    cluster, runner, _ = lab
    from dataclasses import replace

    prod = replace(cluster, name="prod", read_only=True)
    plan = build_monitoring_plan(prod, MonitoringParams(email=EMAIL))
    called = []
    for step in plan.steps:
        monkeypatch.setattr(step, "apply", lambda ctx, _id=step.id: called.append(_id))
    with pytest.raises(WriteRefused, match="cluster prod is read-only"):
        await run_plan(plan, _ctx(prod, runner, tmp_path), mode="apply")
    assert called == [] and runner.ran == []


async def test_host_dropping_mid_step_leaves_a_resumable_run(lab, tmp_path) -> None:
    cluster, runner, lab_cluster = lab
    ctx = _ctx(cluster, runner, tmp_path)
    runner.fail[("db2b", "crontab -")] = HostUnreachable(
        "db2b: connection lost while running `crontab -`", "db2b"
    )
    first = await run_plan(build_monitoring_plan(cluster), ctx, mode="apply")
    assert first.outcome == "failed" and first.failed_step == "cron@db2b"
    assert "connection lost" in first.by_id("cron@db2b").message
    assert first.by_id("agent@db2a").status == "skipped"
    assert "--cluster lab1 --apply" in first.next_hint

    second = await run_plan(build_monitoring_plan(cluster), ctx, mode="apply")
    assert second.ok
    assert second.previous is not None and second.previous.current_step == "cron@db2b"
    assert second.by_id("cron@db2a").status == "already_done"
    assert second.by_id("cron@db2b").status == "applied"
    assert host_state(lab_cluster, lab_cluster.hosts["db2b"]).crontab.count(CRON_MARKER) == 1


async def test_cron_install_keeps_foreign_lines_and_replaces_an_old_marked_line(lab, tmp_path) -> None:
    cluster, runner, lab_cluster = lab
    state = host_state(lab_cluster, lab_cluster.hosts["db2a"])
    state.crontab = (
        "MAILTO=dba@example.com\n"
        "0 2 * * * /home/db2inst1/backup.sh\n"
        f"*/10 * * * * /old/path.sh {CRON_MARKER}\n"
    )
    plan = build_monitoring_plan(cluster)
    plan.steps = [s for s in plan.steps if s.id in ("audit-paths@db2a", "cron@db2a")]
    ctx = _ctx(cluster, runner, tmp_path)
    assert (await run_plan(plan, ctx, mode="apply")).ok
    lines = state.crontab.splitlines()
    assert lines[:2] == ["MAILTO=dba@example.com", "0 2 * * * /home/db2inst1/backup.sh"]
    assert [line for line in lines if CRON_MARKER in line] == [
        "*/5 * * * * /home/db2inst1/dbaudit/db2audit_extract.sh >> "
        "/home/db2inst1/dbaudit/db2audit_extract.cron.log 2>&1 # db2ops:audit-extract"
    ]
    script = lab_cluster.hosts["db2a"].files["/home/db2inst1/dbaudit/db2audit_extract.sh"]
    assert "db2audit archive database HADRDB\n" in script
    assert "for f in db2audit.db.HADRDB.log*; do" in script
    before = state.crontab
    again = await run_plan(build_monitoring_plan(cluster), ctx, mode="check")
    assert again.by_id("cron@db2a").status == "already_done"
    assert state.crontab == before


async def test_agent_config_merge_keeps_the_hosts_other_entries(lab, tmp_path) -> None:
    cluster, runner, lab_cluster = lab
    host = lab_cluster.hosts["db2a"]
    host_state(lab_cluster, host)
    path = "/opt/aws/amazon-cloudwatch-agent/bin/config.json"
    foreign = {
        "agent": {"run_as_user": "cwagent", "metrics_collection_interval": 60},
        "logs": {
            "logs_collected": {
                "files": {
                    "collect_list": [{"file_path": "/var/log/messages", "log_group_name": "system-messages"}]
                }
            }
        },
        "metrics": {"metrics_collected": {"mem": {"measurement": ["mem_used_percent"]}}},
    }
    host.files[path] = json.dumps(foreign)
    plan = build_monitoring_plan(cluster)
    plan.steps = [s for s in plan.steps if s.id == "agent@db2a"]
    assert (await run_plan(plan, _ctx(cluster, runner, tmp_path), mode="apply")).ok
    merged = json.loads(host.files[path])
    assert merged["agent"] == {"run_as_user": "cwagent", "metrics_collection_interval": 60}
    assert merged["metrics"] == foreign["metrics"]
    files = merged["logs"]["logs_collected"]["files"]["collect_list"]
    assert [f["file_path"] for f in files] == [
        "/var/log/messages",
        "/home/db2inst1/dbaudit/archive/worker_audit.log",
        "/home/db2inst1/sqllib/db2dump/DIAG0000/db2diag.log",
    ]
    assert files[2]["multi_line_start_pattern"] == r"^\d{4}-\d{2}-\d{2}-\d{2}\.\d{2}\.\d{2}\.\d{6}[+-]\d{3}"
    assert files[1]["log_stream_name"] == "{instance_id}"
    assert host.files[path + ".db2ops-bak"] == json.dumps(foreign)


async def test_broken_agent_config_is_never_overwritten(lab, tmp_path) -> None:
    cluster, runner, lab_cluster = lab
    host = lab_cluster.hosts["db2b"]
    host_state(lab_cluster, host)
    path = "/opt/aws/amazon-cloudwatch-agent/bin/config.json"
    host.files[path] = '{"logs": {"logs_collected": '
    plan = build_monitoring_plan(cluster)
    plan.steps = [s for s in plan.steps if s.id == "agent@db2b"]
    result = await run_plan(plan, _ctx(cluster, runner, tmp_path), mode="apply")
    assert result.outcome == "failed"
    assert "not valid JSON (line 1 column 29" in result.steps[0].message
    assert host.files[path] == '{"logs": {"logs_collected": '


async def test_policies_go_to_the_hadr_primary_after_a_takeover(lab, tmp_path) -> None:
    cluster, runner, lab_cluster = lab
    lab_cluster.hadr_primary = "db2b"
    plan = build_monitoring_plan(cluster)
    plan.steps = [s for s in plan.steps if s.id == "audit-policies"]
    result = await run_plan(plan, _ctx(cluster, runner, tmp_path), mode="apply")
    assert result.ok, result.steps[0].message
    assert result.steps[0].target == "db2b"
    assert [a.host for a in result.steps[0].performed] == ["db2b", "db2b", "db2b"]
    assert ("db2a", "db2 -tvf /dev/stdin") in runner.ran  # asked first, answered SQL1776N


async def test_policies_reach_the_new_primary_while_the_old_one_is_down(lab, tmp_path) -> None:
    # db2a is down after a takeover: the policies step must not stop at it when db2b is the primary.
    cluster, runner, lab_cluster = lab
    lab_cluster.hadr_primary = "db2b"
    runner.fail[("db2a", "db2 -tvf /dev/stdin")] = HostUnreachable(
        "db2a: cannot connect to 127.0.0.1:22 (Connection refused)", "db2a"
    )
    plan = build_monitoring_plan(cluster)
    plan.steps = [s for s in plan.steps if s.id == "audit-policies"]
    result = await run_plan(plan, _ctx(cluster, runner, tmp_path), mode="dry-run")
    assert result.steps[0].status == "planned", result.steps[0].message
    assert result.steps[0].target == "db2b"
    assert result.steps[0].message.startswith("on primary db2b, missing: ")


async def test_an_alarm_muted_or_edited_on_the_alarm_screen_shows_what_apply_changes(lab, tmp_path) -> None:
    from lab.moto_patches import patch_moto_alarm_actions

    assert patch_moto_alarm_actions()  # this process's moto answers DisableAlarmActions (as the lab's does)
    cluster, runner, _ = lab
    ctx = _ctx(cluster, runner, tmp_path)
    assert (await run_plan(build_monitoring_plan(cluster), ctx, mode="apply")).ok
    cw = ctx.client("cloudwatch")
    name = "db2ops-lab1-sensitive-table-access"
    alarm = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]
    keep = ("AlarmName", "MetricName", "Namespace", "Statistic", "EvaluationPeriods", "Threshold")
    cw.put_metric_alarm(
        **{k: alarm[k] for k in keep},
        ComparisonOperator=alarm["ComparisonOperator"],
        TreatMissingData=alarm["TreatMissingData"],
        AlarmActions=alarm["AlarmActions"],
        Period=300,
    )
    cw.disable_alarm_actions(AlarmNames=[name])
    result = await run_plan(build_monitoring_plan(cluster), ctx, mode="dry-run")
    assert result.by_id("alarm-audit").message == (
        f"alarm {name} differs in Period (300 -> 60), ActionsEnabled (False -> True: apply unmutes its actions)"
    )


async def test_a_script_cron_cannot_execute_is_not_done(lab, tmp_path) -> None:
    # cron runs the script by its path: without the x bit every run fails, so the step is not done.
    cluster, runner, lab_cluster = lab
    ctx = _ctx(cluster, runner, tmp_path)
    assert (await run_plan(build_monitoring_plan(cluster), ctx, mode="apply")).ok
    script = MonitoringParams().resolve(cluster).script_path
    host_state(lab_cluster, lab_cluster.hosts["db2a"]).modes[script] = "0644"  # someone ran chmod -x
    result = await run_plan(build_monitoring_plan(cluster), ctx, mode="dry-run")
    assert result.by_id("cron@db2a").status == "planned"
    assert result.by_id("cron@db2a").message == "script not executable"
    assert result.by_id("cron@db2b").status == "already_done"
    again = await run_plan(build_monitoring_plan(cluster), ctx, mode="apply")
    assert again.ok and again.by_id("cron@db2a").status == "applied"


async def test_without_secadm_the_policies_are_not_applied_and_the_plan_says_why(lab, tmp_path) -> None:
    # CREATE AUDIT POLICY and AUDIT need SECADM: the step checks it (a read, Db2's
    # AUTH_LIST_AUTHORITIES_FOR_AUTHID) before writing anything, in the dry run and again on apply.
    cluster, runner, lab_cluster = lab
    catalog(lab_cluster).secadm.clear()
    plan = build_monitoring_plan(cluster, MonitoringParams(email=EMAIL))
    dry = await run_plan(plan, _ctx(cluster, runner, tmp_path), mode="dry-run")
    message = dry.by_id("audit-policies").message
    assert "DB2INST1 does not hold SECADM" in message
    assert "`db2 grant secadm on database to user DB2INST1`" in message
    result = await run_plan(
        build_monitoring_plan(cluster, MonitoringParams(email=EMAIL)),
        _ctx(cluster, runner, tmp_path),
        mode="apply",
    )
    step = result.by_id("audit-policies")
    assert not result.ok and step.status == "failed"
    assert "DB2INST1 does not hold SECADM" in step.message and "nothing was run" in step.message
    assert not any(cmd.endswith("db2ops_audit_policies.sql") for _, cmd in runner.ran)
    assert catalog(lab_cluster).policies == {}
    # with SECADM granted, the same plan applies them
    catalog(lab_cluster).secadm.add("DB2INST1")
    again = await run_plan(
        build_monitoring_plan(cluster, MonitoringParams(email=EMAIL)),
        _ctx(cluster, runner, tmp_path),
        mode="apply",
    )
    assert again.by_id("audit-policies").status == "applied", again.by_id("audit-policies").message
    assert set(catalog(lab_cluster).policies) == {"WORKTABPOL", "ADMINPOL"}
