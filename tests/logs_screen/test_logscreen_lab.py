"""The log screen against the lab: moto on 127.0.0.1 fed by the lab's CloudWatch agent. Events arrive by
polling (moto has no Live Tail), a killed primary's takeover shows up, and Insights says db2ops evaluated."""

import asyncio
import time

import pytest
from moto.server import ThreadedMotoServer

from lab.log_agent import LogAgent
from lab.state import LabCluster
from screens.logs import LogsScreen
from services import aws_clients
from services.inventory.model import AwsSettings, Cluster, Host
from services.logs.cloudwatch import CloudWatchLogs
from tui.backends import insights_engine_for


@pytest.fixture
def lab():
    from moto.moto_api._internal.models import moto_api_backend

    # moto's state is per process, shared by every server in it: log events an earlier test left in these
    # groups would show up here too (the store then never held exactly what this test wrote)
    moto_api_backend.reset()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    aws_clients.clear_client_cache()
    aws = AwsSettings(endpoint_url=f"http://{host}:{port}")
    state = LabCluster("lab1", failover_delay_s=0.0)
    hosts = tuple(Host(n, "127.0.0.1", instance_id=state.hosts[n].instance_id) for n in state.db_nodes)
    cluster = Cluster(name="lab1", database="HADRDB", hosts=hosts, aws=aws, lab=True)
    agent = LogAgent(state, aws, seed=9, diag_per_host_per_s=0.2, audit_per_s=0.1)
    yield state, cluster, agent
    agent.stop()
    server.stop()


async def until(pilot, predicate, timeout=15.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached"
        await pilot.pause(0.05)


async def test_lab_events_arrive_by_polling_and_the_takeover_shows(lab):
    from textual.app import App

    state, cluster, agent = lab
    written = await asyncio.to_thread(agent.backfill, 5)
    agent._unsubscribe = state.subscribe(agent._on_lab_event)

    class LabApp(App):
        def on_mount(self):
            engine = insights_engine_for(cluster)  # as the console's :logs picks it (tui/backends.py)
            self.push_screen(LogsScreen(cluster, CloudWatchLogs.for_cluster(cluster, insights_engine=engine)))

    async with LabApp().run_test(size=(160, 40)) as pilot:
        await pilot.pause()
        screen: LogsScreen = pilot.app.screen
        view = screen.view
        await until(pilot, lambda: len(view.store) == written)
        mode = str(screen.query_one("#logs-mode").render())
        assert mode.startswith("◌ polling every 1 s · lab: moto (filters and Insights evaluated by db2ops)")
        assert {e.host for e in view.store.entries} <= {"db2a", "db2b", *cluster.db_hosts[0].name}
        state.kill_primary()
        await asyncio.to_thread(agent.step)
        await until(
            pilot, lambda: any("HADR database role set to PRIMARY" in e.text for e in view.store.entries)
        )
        role = next(e for e in view.store.entries if "HADR database role set to PRIMARY" in e.text)
        assert role.host == "db2b" and role.level == "Event"
        await pilot.press("i")
        screen.query_one("#insights-preset").value = "takeover"
        await pilot.pause()
        await pilot.click("#insights-run")
        await until(pilot, lambda: "rows" in str(screen.query_one("#insights-status").render()))
        status = str(screen.query_one("#insights-status").render())
        assert "evaluated by db2ops (lab: moto lacks this)" in status
        results = screen.query_one("#insights-results")
        assert any("TAKEOVER HADR" in e.text for e in results.store.entries)
