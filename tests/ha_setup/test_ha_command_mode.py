"""`:setup ha` and `:ha-setup` open the HA wizard for the current cluster; without one they say what to do."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

import screens.setup_ha  # noqa: F401  (registers :setup-ha)
import screens.setup_monitoring  # noqa: F401  (registers :setup)
from ha_setup.ha_wizard_app import fixed_cluster
from screens.setup_ha import SetupHaScreen
from services.context import ConsoleContext
from services.inventory.model import Inventory
from tui.app import Db2OpsApp


class FakeApp(SimpleNamespace):
    """What Db2OpsApp.run_command and the wizard's factory use of the app."""

    def __init__(self, cluster) -> None:
        super().__init__(current_cluster=cluster, context=ConsoleContext(Inventory(source="inv.yaml")))
        self.shown: list = []
        self.notes: list[str] = []

    def _show(self, screen) -> None:
        self.shown.append(screen)

    def notify(self, message, **kwargs) -> None:
        self.notes.append(str(message))


@pytest.mark.parametrize("command", [":setup ha", ":ha-setup", ":setup-ha"])
def test_setup_ha_opens_the_ha_wizard(command) -> None:
    app = FakeApp(fixed_cluster())
    Db2OpsApp.run_command(app, command)
    assert [type(s) for s in app.shown] == [SetupHaScreen]
    assert app.shown[0].cluster.name == "lab1"


def test_plain_setup_still_opens_the_monitoring_wizard() -> None:
    from screens.setup_monitoring import SetupMonitoringScreen

    app = FakeApp(fixed_cluster())
    Db2OpsApp.run_command(app, ":setup")
    assert [type(s) for s in app.shown] == [SetupMonitoringScreen]


def test_without_a_cluster_it_says_to_open_one_first() -> None:
    app = FakeApp(None)
    Db2OpsApp.run_command(app, ":setup ha")
    assert app.shown == []
    assert app.notes == ["no cluster selected: open one on :fleet first, then :setup ha"]
