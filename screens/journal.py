"""The operator journal (`:journal`): every applied or failed plan step (who, when, cluster, plan, step,
the exact commands / API calls, result) in a table with a detail panel. `f` filters by cluster, `e`
exports what is shown as a Markdown runbook under the data dir (the path is shown in a toast).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Static

from services.plans.journal import Journal, JournalEntry, JournalRead, export_markdown, journal_for
from services.private_file import write_private_text
from services.words import plural
from tui.screen_registry import register_screen
from tui.widgets.fit_size import fit_size
from tui.widgets.fitted_footer import FittedFooter
from tui.widgets.header import ConsoleHeader
from tui.widgets.plain_text import plain, plain_cells

_RESULT_STYLE = {"verified": "$text-success", "applied": "$text-success", "failed": "bold $text-error"}
_RESULT_WORD = {"verified": "✓ verified", "applied": "✓ applied", "failed": "✗ failed"}


def default_export_dir() -> Path:
    """Return data_dir()/journal-exports, where `e` writes Markdown runbooks."""
    from services.paths import data_dir

    return data_dir() / "journal-exports"


def export_file_name(cluster: str | None, now: datetime) -> str:
    """Return the export file name: db2ops-journal-<cluster|all>-<UTC stamp>.md (safe characters only)."""
    label = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in (cluster or "all")).strip(".")
    return f"db2ops-journal-{label or 'all'}-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.md"


def _short(path: Path) -> str:
    """Return `path` with the home directory written as ~ (shorter, and the same on every machine)."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def action_lines(action: Mapping[str, Any]) -> list[Content]:
    """Return the detail-panel lines of one journal action: `host$ command` (+ stdin) or the AWS call."""
    if action.get("kind") == "ssh":
        lines = [
            Content.assemble((f"{action.get('host', '?')}$ ", "bold $accent"), str(action.get("command", "")))
        ]
        data = action.get("input")
        if data is not None:
            lines += [Content.styled(f"    | {line}", "$foreground-muted") for line in str(data).splitlines()]
        if action.get("input_truncated"):
            lines.append(Content.styled("    | … (stdin truncated in the journal)", "$text-warning"))
    else:
        head = f"aws {action.get('service', '?')} {action.get('operation', '?')}"
        lines = [Content.styled(head, "bold $accent")]
        params = json.dumps(action.get("params", {}), indent=2, sort_keys=True, default=str)
        lines += [Content(f"    {line}") for line in params.splitlines()]
    if action.get("note"):
        lines.append(Content.styled(f"    # {action['note']}", "$foreground-muted"))
    return lines


def entry_detail(entry: JournalEntry | None) -> Content:
    """Return the detail panel text for `entry` (a hint when None)."""
    if entry is None:
        return Content.styled("No entry selected.", "$foreground-muted")
    lines = [
        Content.styled(entry.step_title, "bold"),
        Content.assemble(
            ("result ", "$foreground-muted"),
            (_RESULT_WORD.get(entry.result, entry.result), _RESULT_STYLE.get(entry.result, "")),
        ),
        Content.assemble(("when   ", "$foreground-muted"), f"{entry.when} (UTC) by {entry.who}"),
        Content.assemble(("where  ", "$foreground-muted"), f"cluster {entry.cluster}, target {entry.target}"),
        Content.assemble(("plan   ", "$foreground-muted"), f"{entry.plan}, step {entry.step_id}"),
        Content.assemble(("run    ", "$foreground-muted"), entry.run_id),
    ]
    if entry.message:
        lines += [Content(""), Content(entry.message)]
    lines += [Content(""), Content.styled(f"Commands and API calls ({len(entry.actions)})", "bold $primary")]
    if not entry.actions:
        lines.append(Content.styled("none recorded", "$foreground-muted"))
    for action in entry.actions:
        lines += action_lines(action)
    return Content("\n").join(lines)


class JournalScreen(Screen[None]):
    """The operator journal, newest first. `f` cycles the cluster filter, `e` exports, `r` reloads."""

    HELP = (
        "Every change db2ops made: who, when (UTC), cluster, plan, step, the exact commands and AWS calls, "
        "and the result. f filters by cluster, e exports what is shown as a Markdown runbook, r reloads."
    )

    BINDINGS = [
        Binding("f", "cycle_cluster", "Filter cluster"),
        Binding("e", "export", "Export Markdown"),
        Binding("r", "reload", "Reload"),
    ]

    DEFAULT_CSS = """
    JournalScreen #journal-summary { height: 1; padding: 0 1; color: $text-muted; }
    JournalScreen #journal-body { height: 1fr; }
    JournalScreen #journal-table { width: 3fr; height: 1fr; }
    JournalScreen #journal-detail-scroll { width: 2fr; height: 1fr; border-left: vkey $primary 50%; padding: 0 1; }
    /* narrow terminals: the detail goes under the table, which keeps the full width */
    JournalScreen.-narrow #journal-body { layout: vertical; }
    JournalScreen.-narrow #journal-table { width: 1fr; }
    JournalScreen.-narrow #journal-detail-scroll {
        width: 1fr; height: 45%; border-left: none; border-top: hkey $primary 50%;
    }
    """

    def __init__(
        self,
        *,
        journal: Journal | None = None,
        cluster: str | None = None,
        clusters: Sequence[str] = (),
        export_dir: Path | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        super().__init__(name="journal")
        self.journal = journal if journal is not None else Journal()
        self.cluster_filter = cluster
        self.known_clusters = list(clusters)
        self.export_dir = export_dir
        self.clock = clock
        self.all_entries: list[JournalEntry] = []
        self.problems: list[str] = []
        self.shown: list[JournalEntry] = []  # newest first, as in the table
        self.last_export: Path | None = None

    def compose(self) -> ComposeResult:
        yield ConsoleHeader("journal")
        yield Static("loading the journal…", id="journal-summary", markup=False)
        with Horizontal(id="journal-body"):
            yield DataTable(id="journal-table", cursor_type="row", zebra_stripes=True)
            with VerticalScroll(id="journal-detail-scroll"):
                yield Static(entry_detail(None), id="journal-detail")
        yield FittedFooter()

    def on_resize(self, event: events.Resize) -> None:
        fit_size(self, event.size.width, event.size.height)

    def on_mount(self) -> None:
        fit_size(self, self.app.size.width, self.app.size.height)
        table = self.query_one("#journal-table", DataTable)
        table.add_columns("When (UTC)", "Who", "Cluster", "Plan", "Step", "Target")
        table.add_column("Result", width=11)
        table.focus()
        self.load()

    # ------------------------------------------------------------------ data
    @work(exclusive=True, group="journal-load", exit_on_error=False)
    async def load(self) -> None:
        """Read the journal file in a thread (it can be large), then show it."""
        read: JournalRead = await asyncio.to_thread(self.journal.read)
        self.show_entries(read.entries, read.problems)

    def show_entries(self, entries: Sequence[JournalEntry], problems: Sequence[str] = ()) -> None:
        """Show `entries` (file order) newest first, filtered by the current cluster filter."""
        self.all_entries = list(entries)
        self.problems = list(problems)
        for entry in self.all_entries:
            if entry.cluster not in self.known_clusters:
                self.known_clusters.append(entry.cluster)
        self._fill()

    def _fill(self) -> None:
        table = self.query_one("#journal-table", DataTable)
        table.clear()
        wanted = self.cluster_filter
        self.shown = [e for e in reversed(self.all_entries) if wanted is None or e.cluster == wanted]
        for index, e in enumerate(self.shown):
            result = Content.styled(_RESULT_WORD.get(e.result, e.result), _RESULT_STYLE.get(e.result, ""))
            when = e.when.replace("T", " ").rstrip("Z")
            table.add_row(
                *plain_cells(when, e.who, e.cluster, e.plan, e.step_id, e.target, result), key=str(index)
            )
        self._summary()
        self._show_detail(self.shown[0] if self.shown else None)

    def _summary(self) -> None:
        where = f"cluster {self.cluster_filter}" if self.cluster_filter else "all clusters"
        bits = [
            f"{len(self.shown)} of {plural(len(self.all_entries), 'entry', 'entries')}",
            where,
            f"file {_short(self.journal.path)}",
        ]
        if self.problems:
            bits.append(f"⚠ {plural(len(self.problems), 'unreadable line')} skipped: {self.problems[0]}")
        self.query_one("#journal-summary", Static).update(plain(" · ".join(bits)))

    def _show_detail(self, entry: JournalEntry | None) -> None:
        self.query_one("#journal-detail", Static).update(entry_detail(entry))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "journal-table" and event.row_key.value is not None:
            index = int(event.row_key.value)
            if 0 <= index < len(self.shown):
                self._show_detail(self.shown[index])

    # ------------------------------------------------------------------ actions
    def action_reload(self) -> None:
        self.load()

    def action_cycle_cluster(self) -> None:
        choices: list[str | None] = [None, *self.known_clusters]
        at = choices.index(self.cluster_filter) if self.cluster_filter in choices else 0
        self.cluster_filter = choices[(at + 1) % len(choices)]
        self._fill()
        self.notify(f"Journal: {self.cluster_filter or 'all clusters'}", timeout=2)

    def action_export(self) -> None:
        self.export()

    @work(exclusive=True, group="journal-export", exit_on_error=False)
    async def export(self) -> None:
        """Write the shown entries (oldest first) as a Markdown runbook; toast the path or the error."""
        entries = list(reversed(self.shown))
        if not entries:  # an empty runbook is no runbook: say why instead of writing one
            where = f" for {self.cluster_filter} (f changes the filter)" if self.cluster_filter else ""
            self.notify(
                f"Nothing to export: the journal has no steps{where}.", title="Journal", severity="warning"
            )
            return
        title = f"db2ops operator journal: {self.cluster_filter or 'all clusters'}"
        directory = self.export_dir if self.export_dir is not None else default_export_dir()
        path = directory / export_file_name(self.cluster_filter, self.clock())

        def write() -> None:
            write_private_text(path, export_markdown(entries, title=title))  # 0600, like the journal

        try:
            await asyncio.to_thread(write)
        except OSError as exc:
            self.notify(
                f"Could not write {path}: {exc}. Check the permissions of {directory}.", severity="error"
            )
            return
        self.last_export = path
        self.notify(f"Exported {plural(len(entries), 'step')} to {path}", title="Journal", timeout=10)


def _open_journal(app: Any) -> JournalScreen:
    cluster = app.current_cluster
    # A lab cluster's steps are in its lab's own journal (services.plans.journal.journal_for).
    owner = cluster if cluster is not None else next(iter(app.inventory.clusters), None)
    return JournalScreen(
        journal=journal_for(owner) if owner is not None else None,
        cluster=cluster.name if cluster is not None else None,
        clusters=[c.name for c in app.inventory.clusters],
    )


register_screen("journal", _open_journal, "Operator journal: every change, with its commands; export")
