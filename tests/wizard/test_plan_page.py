"""PlanPage runs any plan (the HA setup reuses it): its confirmation and export name the plan it runs."""

from __future__ import annotations

from plans.fakes import FakeRunner, WriteFileStep, make_cluster
from textual.app import App, ComposeResult
from textual.widgets import Static

from services.plans import Journal, Plan, PlanContext, run_plan
from tui.widgets.plan_page import PlanPage
from tui.widgets.plan_view import ConfirmApply


class PageApp(App[None]):
    def __init__(self, page: PlanPage) -> None:
        super().__init__()
        self.page = page

    def compose(self) -> ComposeResult:
        yield self.page


async def test_confirmation_and_export_name_the_plan_being_run(tmp_path) -> None:
    cluster = make_cluster()
    runner = FakeRunner()

    def build() -> Plan:
        step = WriteFileStep(cluster.db_hosts[0], "/etc/corosync/corosync.conf", "totem {}\n")
        return Plan(name="ha-setup", cluster=cluster, steps=[step], title="HA setup (lab1)")

    async def make_context(c) -> PlanContext:
        return PlanContext(cluster=c, runner=runner, journal=Journal(tmp_path / "journal"))

    page = PlanPage(
        cluster,
        intro="",
        build_plan=build,
        make_context=make_context,
        run_plan=run_plan,
        state_dir=tmp_path / "plans",
        export_dir=tmp_path / "exports",
    )
    app = PageApp(page)
    async with app.run_test(size=(160, 50)) as pilot:
        page.run_mode("apply")
        for _ in range(200):
            await pilot.pause(0.02)
            if isinstance(app.screen, ConfirmApply):
                break
        assert isinstance(app.screen, ConfirmApply)
        question = str(app.screen.query_one(Static).render())
        assert question.startswith("Apply the ha-setup plan to lab1")
        assert "monitoring" not in question
        await pilot.press("n")
        await app.workers.wait_for_complete()
        page.run_mode("dry-run")
        await app.workers.wait_for_complete()
        page.export()
        await app.workers.wait_for_complete()
    [exported] = (tmp_path / "exports").iterdir()
    assert exported.name.startswith("ha-setup-lab1-") and exported.suffix == ".txt"
    assert exported.stat().st_mode & 0o777 == 0o600  # like the journal: only the operator reads it
    assert "write /etc/corosync/corosync.conf" in exported.read_text(encoding="utf-8")
