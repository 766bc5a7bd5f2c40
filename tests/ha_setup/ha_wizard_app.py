"""A minimal app hosting the HA wizard with the console's themes and CSS, the services it uses (a runner,
a journal and progress records under tmp_path) and a fixed cluster for snapshots (tests/wizard_harness.py
holds what the monitoring wizard's tests share)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import wizard_harness
from wizard_harness import SIZE, ScreenApp

from screens.setup_ha import SetupHaScreen
from screens.setup_services import WizardServices
from services.inventory.model import AwsSettings, Cluster

__all__ = ["SIZE", "HaWizardApp", "fixed_cluster", "services_for"]


class HaWizardApp(ScreenApp):
    """The HA wizard on `cluster` at `page` (the class name is the snapshots' title)."""

    def __init__(self, cluster: Cluster, services: WizardServices, page: str = "prereq") -> None:
        super().__init__(lambda: SetupHaScreen(cluster, services, page=page))


def fixed_cluster(*, read_only: bool = False) -> Cluster:
    """The snapshots' cluster with the overlay IP's route table and address in its AWS settings."""
    aws = AwsSettings(region="us-east-1", route_table_id="rtb-0123abcd", overlay_ip="192.168.1.81")
    return wizard_harness.fixed_cluster(read_only=read_only, aws=aws)


def services_for(runner: Any, tmp_path: Path, **changes: Any) -> WizardServices:
    """WizardServices on `runner` with files under tmp_path (see wizard_harness.wizard_services)."""
    return wizard_harness.wizard_services(runner, tmp_path, **changes)
