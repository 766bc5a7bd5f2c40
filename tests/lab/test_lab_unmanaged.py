"""An unmanaged resource (the overlay-IP resource the HA plan loads while rsc_defaults is-managed=false) is
shown as Pacemaker 2.0.x and 2.1.x show it, "Stopped (unmanaged)", in crm status and crm_mon XML alike, and
the console's resource panel says so instead of calling it a resource that runs nowhere."""

from __future__ import annotations

import pytest

from lab.commands import run_command
from lab.ha_state import PACKAGES, start_fresh
from lab.state import LabCluster
from services.parsers.crm_mon_xml import parse_crm_mon_xml
from tui.widgets.panel_text import render_resources


def _loaded_not_managed(db2: str) -> LabCluster:
    """A fresh lab cluster after db2cm and `crm configure load update` of the overlay IP, before
    `crm resource manage`."""
    cluster = LabCluster("lab1", db2=db2)
    state = start_fresh(cluster)
    for host in state.hosts.values():
        host.packages |= set(PACKAGES)
    state.domain, state.instances, state.database = cluster.name, set(cluster.db_nodes), True
    state.oip_name, state.oip_managed = cluster.oip_rsc, False
    return cluster


@pytest.mark.parametrize(("db2", "agent"), [("11.5.5", "ocf::heartbeat"), ("11.5.8", "ocf::heartbeat")])
def test_crm_status_prints_the_unmanaged_resource_stopped_unmanaged(db2, agent):
    cluster = _loaded_not_managed(db2)
    host = cluster.hosts[cluster.db_nodes[0]]
    status, out, err = run_command(cluster, host, ["crm", "status"])
    assert (status, err) == (0, "")
    assert f"  * {cluster.oip_rsc}\t({agent}:aws-vpc-move-ip):\t Stopped (unmanaged)\n" in out
    assert cluster.release.pacemaker_upstream in out  # 2.0.4 / 2.1.2: both print the flag this way


def test_managing_it_drops_the_flag():
    cluster = _loaded_not_managed("11.5.8")
    host = cluster.hosts[cluster.db_nodes[0]]
    assert run_command(cluster, host, ["crm", "resource", "manage", cluster.oip_rsc])[0] == 0
    out = run_command(cluster, host, ["crm", "status"])[1]
    assert "(unmanaged)" not in out and f"{cluster.oip_rsc}\t" in out


def test_the_console_panel_shows_it_unmanaged_not_as_running_nowhere():
    cluster = _loaded_not_managed("11.5.8")
    host = cluster.hosts[cluster.db_nodes[0]]
    xml = run_command(cluster, host, ["crm_mon", "-1", "--output-as=xml"])[1]
    crm = parse_crm_mon_xml(xml)
    (oip,) = [r for r in crm.resources if r.id == cluster.oip_rsc]
    assert (oip.role, oip.managed, oip.nodes) == ("Stopped", False, ())
    plain = render_resources(crm, list(cluster.db_nodes)).plain
    row = next(line for line in plain.splitlines() if line.startswith(cluster.oip_rsc))
    assert "Stopped (unmanaged): Pacemaker will not start it (crm resource manage)" in row
    assert "not running on any node" not in row
