"""Three lab clusters whose CloudWatch agents write into the SAME two log groups (the runbook's names, as a
real account does), each host's stream named in one of the two styles: "Db2 - {instance_id}" (the runbook's
agent config, the lab agent's default) or "{instance_id}" (what `setup monitoring` writes, put in the host's
agent config here). The fixture of the "this cluster only" tests: the log service, `db2ops logs`, the log
and timeline screens of lab2 must show none of lab1's or lab3's records.

moto runs in this process (tests/moto_server.py); the lab's moto fixes are applied, so FilterLogEvents
refuses unknown stream names and honours prefixes as AWS does.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from in_process_lab import lab_inventory_cluster

from lab.db2admin_state import host_state
from lab.log_agent import LogAgent
from lab.moto_patches import patch_moto_filter_log_streams
from lab.state import LabCluster
from services.inventory.loader import dump_inventory
from services.inventory.model import AwsSettings, Cluster, Inventory
from services.logs.streams import RUNBOOK_STREAM_TEMPLATE, SETUP_STREAM_TEMPLATE

NAMES = ("lab1", "lab2", "lab3")
# lab1: the runbook's style everywhere; lab2: one host each style (db2b after setup monitoring's fetch-config);
# lab3: setup monitoring's style everywhere, so another cluster's `{instance_id}` streams sit beside lab2's.
TEMPLATES = {"lab1": RUNBOOK_STREAM_TEMPLATE, "lab2": RUNBOOK_STREAM_TEMPLATE, "lab3": SETUP_STREAM_TEMPLATE}


@dataclass
class SharedGroups:
    aws: AwsSettings
    states: dict[str, LabCluster] = field(default_factory=dict)
    clusters: dict[str, Cluster] = field(default_factory=dict)
    agents: dict[str, LogAgent] = field(default_factory=dict)

    def hosts_of(self, name: str) -> set[str]:
        return set(self.states[name].db_nodes)

    def streams_of(self, name: str) -> set[str]:
        """The streams the agent of cluster `name` wrote to (both groups)."""
        agent, state = self.agents[name], self.states[name]
        groups = (self.aws.diag_log_group, self.aws.audit_log_group)
        return {agent.stream_name(g, h) for g in groups for h in state.db_nodes}

    def inventory_file(self, directory: Path) -> Path:
        path = directory / "inventory.yaml"
        path.write_text(dump_inventory(Inventory(clusters=tuple(self.clusters.values()))))
        return path

    def stop(self) -> None:
        for agent in self.agents.values():
            agent.stop()

    async def kill_primaries(self) -> None:
        """Every cluster fails over: each writes its takeover records (HADR, Severe) into the shared groups."""
        for name, state in self.states.items():
            agent = self.agents[name]
            state.kill_primary()
            await asyncio.to_thread(agent.step, datetime.now(UTC))


def shared_groups(aws: AwsSettings, *, backfill_minutes: int = 40) -> SharedGroups:
    """Return the three clusters, their agents subscribed to their lab state (not ticking by themselves) and
    `backfill_minutes` of routine records of each already written."""
    patch_moto_filter_log_streams()
    shared = SharedGroups(aws)
    for index, name in enumerate(NAMES, start=1):
        state = LabCluster(name, index=index, prefix_hosts=True, failover_delay_s=0.0)
        if name == "lab2":  # db2b's agent was configured by setup monitoring: stream "{instance_id}"
            host = state.hosts[state.db_nodes[1]]
            entries = [
                {"file_path": f"/x/{g}", "log_group_name": g, "log_stream_name": SETUP_STREAM_TEMPLATE}
                for g in (aws.diag_log_group, aws.audit_log_group)
            ]
            host_state(state, host).agent_config = {
                "logs": {"logs_collected": {"files": {"collect_list": entries}}}
            }
        agent = LogAgent(
            state,
            aws,
            interval_s=3600,
            seed=index,
            backfill_minutes=0,
            stream_template=TEMPLATES[name],
        )
        shared.states[name] = state
        shared.clusters[name] = lab_inventory_cluster(state, endpoint_url=aws.endpoint_url)
        shared.agents[name] = agent
        if backfill_minutes:
            agent.backfill(backfill_minutes)
        agent._unsubscribe = state.subscribe(agent._on_lab_event)
    return shared
