"""A minimal app hosting the HA wizard with the console's themes and CSS, the services it uses (a runner,
a journal and progress records under tmp_path) and a fixed cluster for snapshots."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.app import App

from screens.setup_ha import SetupHaScreen
from screens.setup_services import WizardServices
from services.inventory_model import AwsSettings, Cluster, Host
from services.plans import Journal, PlanContext
from themes.themes import CSS_PATH, THEMES, resolve_theme

SIZE = (160, 50)


class HaWizardApp(App[None]):
    CSS_PATH = CSS_PATH

    def __init__(self, cluster: Cluster, services: WizardServices, page: str = "prereq") -> None:
        super().__init__()
        self.cluster, self.services, self.page = cluster, services, page
        for theme in THEMES:
            self.register_theme(theme)
        self.theme = resolve_theme("db2ops-dark", set(self.available_themes))

    def on_mount(self) -> None:
        self.push_screen(SetupHaScreen(self.cluster, self.services, page=self.page))


def fixed_cluster(*, read_only: bool = False) -> Cluster:
    return Cluster(
        name="lab1",
        environment="lab",
        read_only=read_only,
        instance="db2inst1",
        database="HADRDB",
        lab=True,
        hosts=(
            Host(name="db2a", address="127.0.0.1", role="db", user="db2inst1", instance_id="i-0aaa1111"),
            Host(name="db2b", address="127.0.0.1", role="db", user="db2inst1", instance_id="i-0bbb2222"),
            Host(name="qdev", address="127.0.0.1", role="qdevice", user="root"),
        ),
        aws=AwsSettings(region="us-east-1", route_table_id="rtb-0123abcd", overlay_ip="192.168.1.81"),
    )


def services_for(runner: Any, tmp_path: Path, **changes: Any) -> WizardServices:
    async def make_context(c: Cluster) -> PlanContext:
        return PlanContext(cluster=c, runner=runner, journal=Journal(tmp_path / "journal"), operator="alice")

    base: dict[str, Any] = {
        "make_context": make_context,
        "state_dir": tmp_path / "plans",
        "export_dir": tmp_path / "exports",
    }
    base.update(changes)
    return WizardServices(**base)
