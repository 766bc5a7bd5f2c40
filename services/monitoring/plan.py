"""The monitoring runbook (Db2 audit + db2diag -> CloudWatch Logs -> metric filters -> alarms -> SNS) as
one plan, run by services/plans (check, dry run, apply through the write guard, journal).

Steps, in runbook order (host steps on EACH db host, so the setup survives a takeover):
  1 audit-paths@H, audit-buf-sz@H   2 audit-policies (on the HADR primary)   3 cron@H   4 agent@H
  5 sns-topic   6 metric-filter-audit, metric-filter-diag   7 alarm-audit, alarm-diag
Step 8, "prove it fires", is a later plug-in: pass it as `extra_steps` (it runs after the alarms).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.inventory.model import Cluster
from services.monitoring.agent_steps import AgentConfigStep, collect_entries, merge_agent_config
from services.monitoring.audit_steps import AuditBufSzStep, AuditPathsStep, AuditPoliciesStep
from services.monitoring.aws_steps import SnsTopicStep, alarm_steps, find_topic_arn, metric_filter_steps
from services.monitoring.cron_step import (
    CRON_MARKER,
    CronJobStep,
    cron_line,
    merge_crontab,
    render_extract_script,
)
from services.monitoring.params import (
    RUNBOOK_AUDIT_PATTERN,
    RUNBOOK_DIAG_PATTERN,
    MonitoringParamError,
    MonitoringParams,
    corrected_audit_pattern,
    corrected_diag_pattern,
)
from services.plans import Plan, Step

PLAN_NAME = "monitoring"

__all__ = [
    "CRON_MARKER",
    "PLAN_NAME",
    "RUNBOOK_AUDIT_PATTERN",
    "RUNBOOK_DIAG_PATTERN",
    "MonitoringParamError",
    "MonitoringParams",
    "build_monitoring_plan",
    "collect_entries",
    "corrected_audit_pattern",
    "corrected_diag_pattern",
    "cron_line",
    "find_topic_arn",
    "merge_agent_config",
    "merge_crontab",
    "render_extract_script",
]


def build_monitoring_plan(
    cluster: Cluster,
    params: MonitoringParams | None = None,
    *,
    extra_steps: Sequence[Step] = (),
) -> Plan:
    """Return the monitoring plan for `cluster` (params resolved against it and validated).

    `extra_steps` run after the alarms (the "prove it fires" step plugs in here). Raises
    MonitoringParamError for a bad parameter, ValueError when the cluster has no db host.
    """
    p = (params or MonitoringParams()).resolve(cluster)
    hosts = cluster.db_hosts
    if not hosts:
        raise ValueError(f"cluster {cluster.name} has no db hosts in the inventory (role: db)")
    steps: list[Step] = []
    steps += [AuditPathsStep(h, p) for h in hosts]
    steps += [AuditBufSzStep(h, p) for h in hosts]
    steps.append(AuditPoliciesStep(hosts, p))
    steps += [CronJobStep(h, p) for h in hosts]
    steps += [AgentConfigStep(h, p) for h in hosts]
    steps.append(SnsTopicStep(p))
    steps += metric_filter_steps(p)
    steps += alarm_steps(p)
    steps += list(extra_steps)
    return Plan(
        name=PLAN_NAME,
        cluster=cluster,
        steps=steps,
        title=f"Monitoring: Db2 audit + db2diag to CloudWatch, alarms to SNS ({cluster.name})",
        rerun_hint=f"db2ops setup monitoring --cluster {cluster.name} --apply",
    )
