"""The configuration audit (`:check`): the findings of services/check for the current cluster, one row
each (severity, code, summary), and the selected one's why and fix in the detail panel. Nothing is read
until `r` (the audit reads the hosts and, on EC2, the account's EC2 and IAM settings); nothing is changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Static

from services.check.finding import Finding, Severity
from services.check.service import CheckReport
from services.words import plural
from tui.screen_registry import ScreenUnavailable, register_screen
from tui.widgets.fit_size import fit_size
from tui.widgets.fitted_footer import FittedFooter
from tui.widgets.header import ConsoleHeader
from tui.widgets.plain_text import plain, plain_cells

_SEVERITY = {
    Severity.ERROR: Content.styled("✗ error", "bold $text-error"),
    Severity.WARNING: Content.styled("! warning", "$text-warning"),
}
_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1}
IDLE = "press r to run the read-only audit of {name}: db2 get db cfg and crm configure show on the db hosts, and EC2/IAM Describe calls on AWS"


def finding_detail(finding: Finding | None) -> Content:
    if finding is None:
        return Content("")
    return Content.assemble(
        Content.styled(finding.code, "bold"),
        "\n\n",
        plain(finding.summary),
        "\n\n",
        Content.styled("Why it matters", "bold"),
        "\n",
        plain(finding.why),
        "\n\n",
        Content.styled("Fix", "bold"),
        "\n",
        plain(finding.fix),
    )


class CheckScreen(Screen):
    """`run()` returns the report of the cluster (the factory passes services.check.run_check over the
    app's runner; tests pass a canned one)."""

    BINDINGS = [Binding("r", "run_check", "Run the check")]

    DEFAULT_CSS = """
    CheckScreen #check-summary { height: auto; padding: 0 1; color: $text-muted; }
    CheckScreen #check-body { height: 1fr; }
    CheckScreen #check-table { width: 3fr; height: 1fr; }
    CheckScreen #check-detail-scroll { width: 2fr; height: 1fr; border-left: vkey $primary 50%; padding: 0 1; }
    CheckScreen.-narrow #check-body { layout: vertical; }
    CheckScreen.-narrow #check-table { width: 1fr; }
    CheckScreen.-narrow #check-detail-scroll {
        width: 1fr; height: 45%; border-left: none; border-top: hkey $primary 50%;
    }
    """

    def __init__(self, cluster_name: str, run: Callable[[], Awaitable[CheckReport]]) -> None:
        super().__init__(name="check")
        self.cluster_name = cluster_name
        self.run = run
        self.report: CheckReport | None = None
        self.shown: list[Finding] = []

    def compose(self) -> ComposeResult:
        yield ConsoleHeader("check")
        yield Static(plain(IDLE.format(name=self.cluster_name)), id="check-summary")
        with Horizontal(id="check-body"):
            yield DataTable(id="check-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="check-detail-scroll"):
                yield Static("", id="check-detail")
        yield FittedFooter()

    def on_resize(self, event: events.Resize) -> None:
        fit_size(self, event.size.width, event.size.height)

    def on_mount(self) -> None:
        fit_size(self, self.app.size.width, self.app.size.height)
        table = self.query_one("#check-table", DataTable)
        table.add_column("Severity", width=9)
        table.add_columns("Code", "Layer", "Finding")
        table.focus()

    def action_run_check(self) -> None:
        self.query_one("#check-summary", Static).update(plain(f"checking {self.cluster_name}…"))
        self.load()

    @work(exclusive=True, group="check-run", exit_on_error=False)
    async def load(self) -> None:
        try:
            report = await self.run()
        except (
            Exception
        ) as exc:  # the audit reports what it could not read; anything else is shown, not raised
            self.query_one("#check-summary", Static).update(plain(f"the check failed: {exc}"))
            return
        self.show_report(report)

    def show_report(self, report: CheckReport) -> None:
        self.report = report
        self.shown = sorted(report.findings, key=lambda f: (_ORDER[f.severity], f.code))
        table = self.query_one("#check-table", DataTable)
        table.clear()
        for index, f in enumerate(self.shown):
            table.add_row(*plain_cells(_SEVERITY[f.severity], f.code, f.layer, f.summary), key=str(index))
        bits = [
            f"{self.cluster_name}: " + (plural(len(self.shown), "finding") if self.shown else "no findings")
        ]
        if report.checked:
            bits.append("checked " + ", ".join(report.checked))
        for u in report.unreadable:
            bits.append(f"⚠ not checked: {u}")
        self.query_one("#check-summary", Static).update(plain("\n".join(bits)))
        self.query_one("#check-detail", Static).update(finding_detail(self.shown[0] if self.shown else None))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "check-table" and event.row_key.value is not None:
            index = int(event.row_key.value)
            if 0 <= index < len(self.shown):
                self.query_one("#check-detail", Static).update(finding_detail(self.shown[index]))


def _open_check(app: Any) -> CheckScreen:
    cluster = app.current_cluster
    if cluster is None:
        raise ScreenUnavailable("open a cluster first (Enter on the fleet), then :check")
    context = app.context

    async def run() -> CheckReport:
        from services.check.service import run_check

        runner = await context.host_runner()
        return await run_check(cluster, runner, timeout_s=context.settings.status_deadline_s)

    return CheckScreen(cluster.name, run)


register_screen("check", _open_check, "Configuration check: read-only findings across Db2, Pacemaker and AWS")
