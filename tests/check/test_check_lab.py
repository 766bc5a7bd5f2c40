"""`db2ops check` against in-process lab clusters: a correct cluster gives no finding, and each cluster
seeded wrong in exactly one way (lab/check_seeds.py) gives exactly that finding."""

from __future__ import annotations

import dataclasses

import pytest
from in_process_lab import lab_inventory_cluster, run_on_lab

from lab.check_seeds import SEEDS, seed_wrong
from lab.ha_state import cluster_ha
from lab.state import LabCluster
from services.check.service import run_check


class LabRunner:
    """Runs argv on the lab's command handlers (no SSH); `down` hosts raise as an unreachable host does."""

    def __init__(self, lab_cluster, down: tuple[str, ...] = ()) -> None:
        self.lab, self.down = lab_cluster, down

    async def run(self, host, argv, *, timeout=None, input=None, check=False):
        if host.name in self.down:
            raise OSError(f"connect to {host.name}: connection refused")
        return run_on_lab(self.lab, host, argv, input)


def _lab(overlay_ip: bool = True, db2: str | None = None):
    lab = LabCluster("lab1", db2=db2)
    cluster = lab_inventory_cluster(lab, endpoint_url=None)
    if overlay_ip:
        cluster = dataclasses.replace(
            cluster, aws=dataclasses.replace(cluster.aws, overlay_ip=lab.overlay_ip)
        )
    return lab, cluster


async def test_a_correct_lab_cluster_has_no_finding():
    lab, cluster = _lab()
    report = await run_check(cluster, LabRunner(lab))
    assert report.findings == []
    assert report.unreadable == []
    assert report.exit_code == 0
    assert report.checked == [
        "hadr-cfg-consistency",
        "hadr-vs-pacemaker-timing",
        "overlay-ip-resource",
        "pacemaker-build",
    ]


# Seeds whose wrong value also breaks a weaker rule: the extra code they bring is part of the expectation.
ALSO = {"HADR-PEER-WINDOW-SHORT": {"HADR-PEER-WINDOW-BELOW-MINIMUM"}}


# Seeds found only on a release whose db2cm leaves that property (lab/release.py): OIP-NO-LOCATION needs an
# opt-in cluster (symmetric-cluster=false), which only 11.5.5's capture has.
RELEASE_OF = {"OIP-NO-LOCATION": "11.5.5"}


@pytest.mark.parametrize("code", sorted(SEEDS))
async def test_each_seeded_misconfiguration_gives_exactly_its_finding(code):
    lab, cluster = _lab(db2=RELEASE_OF.get(code))
    seed_wrong(lab, code)
    report = await run_check(cluster, LabRunner(lab))
    assert {f.code for f in report.findings} == {code} | ALSO.get(code, set())
    assert report.exit_code == 1
    finding = next(f for f in report.findings if f.code == code)
    assert finding.why and finding.fix and finding.summary


async def test_the_short_peer_window_names_the_monitor_arithmetic():
    lab, cluster = _lab()
    seed_wrong(lab, "HADR-PEER-WINDOW-SHORT")
    report = await run_check(cluster, LabRunner(lab))
    short = next(f for f in report.findings if f.code == "HADR-PEER-WINDOW-SHORT")
    assert "65 s" in short.summary and "9 s + 60 s = 69 s" in short.summary
    assert short.severity.value == "error"


async def test_an_overlay_ip_in_the_inventory_without_its_resource_is_found():
    lab, cluster = _lab()
    cluster_ha(lab).oip_name = None  # the resource was never created (or deleted)
    report = await run_check(cluster, LabRunner(lab))
    assert [f.code for f in report.findings] == ["OIP-RESOURCE-MISSING"]


async def test_no_overlay_ip_and_no_resource_is_not_a_finding():
    lab, cluster = _lab(overlay_ip=False)
    cluster_ha(lab).oip_name = None
    report = await run_check(cluster, LabRunner(lab))
    assert report.findings == []


async def test_a_symmetric_cluster_needs_no_overlay_location_constraint():
    """11.5.7's db2cm leaves symmetric-cluster=true: the resource may run on any host the colocation with the
    primary allows, so no location constraint is missing."""
    lab, cluster = _lab(db2="11.5.7")
    seed_wrong(lab, "OIP-NO-LOCATION")
    assert not any(
        lab.oip_rsc in line and line.startswith("location") for line in cluster_ha(lab).constraints.values()
    )
    report = await run_check(cluster, LabRunner(lab))
    assert report.findings == []


async def test_location_constraints_satisfy_an_opt_in_cluster():
    lab, cluster = _lab(db2="11.5.5")
    seed_wrong(lab, "OIP-NO-LOCATION")
    state = cluster_ha(lab)
    for node in lab.db_nodes:
        state.constraints[f"prefer-{node}"] = f"location prefer-{node} {lab.oip_rsc} 100: {node}"
    report = await run_check(cluster, LabRunner(lab))
    assert report.findings == []


async def test_one_db_host_down_is_reported_not_checked_and_the_rest_still_runs():
    lab, cluster = _lab()
    seed_wrong(lab, "OIP-NO-COLOCATION")
    report = await run_check(cluster, LabRunner(lab, down=(lab.db_nodes[0],)))
    assert [f.code for f in report.findings] == ["OIP-NO-COLOCATION"]
    assert any(u.startswith(f"{lab.db_nodes[0]}: db2 get db cfg") for u in report.unreadable)
    assert "hadr-cfg-consistency" not in report.checked  # one host's values: nothing to compare
    assert report.exit_code == 1


async def test_no_host_answering_is_exit_2():
    lab, cluster = _lab()
    report = await run_check(cluster, LabRunner(lab, down=tuple(lab.db_nodes)))
    assert report.exit_code == 2
    assert report.findings == []
    assert report.to_dict()["exit_code"] == 2
