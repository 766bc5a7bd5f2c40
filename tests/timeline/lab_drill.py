"""A lab cluster for the timeline's own sources: lab1's simulated state, its inventory Cluster, the lab's
CloudWatch agent and evaluator (started, but stepped by the test) and an alarm on db2diag Severe records."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from alarms.alarm_fixtures import client, put_alarm

from lab.cloudwatch_eval import LabCloudWatch
from lab.log_agent import LogAgent
from lab.state import LabCluster
from services.inventory.model import Cluster, Host

ALARM = "db2ops-lab1-diag-severe"


@pytest.fixture
def drill_lab(aws):
    """lab1's state, its inventory Cluster, a started log agent and evaluator (neither ticks by itself:
    the test steps them), and an alarm on db2diag Severe records."""
    state = LabCluster("lab1", failover_delay_s=0.0)
    hosts = tuple(Host(n, "127.0.0.1", instance_id=state.hosts[n].instance_id) for n in state.db_nodes)
    cluster = Cluster(name="lab1", database="HADRDB", hosts=hosts, aws=aws, lab=True)
    logs = client(aws, "logs")
    logs.create_log_group(logGroupName=aws.diag_log_group)
    logs.put_metric_filter(
        logGroupName=aws.diag_log_group,
        filterName=ALARM,
        filterPattern='"LEVEL: Severe"',
        metricTransformations=[
            {"metricName": "DiagSevere", "metricNamespace": "Db2ops/Diag", "metricValue": "1"}
        ],
    )
    put_alarm(
        aws,
        "",
        name=ALARM,
        AlarmDescription="db2diag Severe records",
        MetricName="DiagSevere",
        Namespace="Db2ops/Diag",
        AlarmActions=[],
    )
    agent = LogAgent(
        state, aws, interval_s=3600, diag_per_host_per_s=0, audit_per_s=0, backfill_minutes=0, seed=5
    )
    evaluator = LabCloudWatch(aws.endpoint_url, "us-east-1", interval_s=3600)
    agent.start()
    evaluator.start()  # registers with services.alarms.service: the timeline's AlarmService finds it
    yield state, cluster, agent, evaluator
    agent.stop()
    evaluator.stop()


async def kill_primary(state, agent, evaluator) -> None:
    await asyncio.to_thread(evaluator.tick)  # the lab sees the filter and the alarm before the drill
    state.kill_primary()
    # The CloudWatch agent ships the takeover's records, stamped a few ms apart from the step's `now` on.
    # Stepped a second back, every record precedes the one evaluator tick below (a record stamped after
    # that tick's `now`, across a minute boundary, is only evaluated by the next tick: never, here).
    await asyncio.to_thread(agent.step, datetime.now(UTC) - timedelta(seconds=1))
    await asyncio.to_thread(evaluator.tick)  # the Severe record fires the alarm


def lab_alarms(cluster, evaluator):
    """The alarm service as the console's composition root makes it on `db2ops lab`: the lab's evaluator in
    this process answers the alarm history moto lacks (tui/backends.py)."""
    from types import SimpleNamespace

    from services.alarms.service import AlarmService
    from tui.backends import extras_for

    return AlarmService(
        cluster, extras=extras_for(cluster, SimpleNamespace(cloudwatch=evaluator, log_agents={}))
    )
