"""The wizard's "prove it fires" page: options, the chain at a glance, a timestamped timeline of what was
seen (values from the lab marked "(lab)") and the verdict or the diagnosis of where the chain broke.
"""

from __future__ import annotations

from dataclasses import replace

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Input, Label, Static

from screens.setup_form import PAGE_INTRO
from services.inventory.model import Cluster
from services.monitoring.prove_it_fires import STAGES, ProofEvent, ProofOptions
from tui.widgets.yes_no_modal import YesNoModal, yes_no_css

STAGE_LABEL = {
    "statement": "test statement",
    "event": "(a) log event",
    "metric": "(b) metric",
    "alarm": "(c) alarm",
    "notification": "(d) SNS message",
    "result": "result",
}
_LOOK = {
    "running": ("…", "$text-warning"),
    "ok": ("✓", "$text-success"),
    "failed": ("✗", "bold $text-error"),
    "timeout": ("✗", "bold $text-error"),
    "info": ("i", "$foreground-muted"),
}


def chain_content(events: list[ProofEvent]) -> Content:
    """Return the chain at a glance: each stage with its latest state (pending stages dimmed)."""
    latest: dict[str, str] = {}
    for event in events:
        if event.stage in STAGES and event.status != "info":
            latest[event.stage] = event.status
    parts: list[Content] = []
    for stage in STAGES:
        status = latest.get(stage)
        icon, style = _LOOK.get(status or "", ("·", "$foreground-muted"))
        parts.append(Content.styled(f"{icon} {STAGE_LABEL[stage]}", style))
    return Content("  →  ").join(parts)


def timeline_line(event: ProofEvent) -> Content:
    """Return one timeline line: time (UTC, ms), icon, stage, what was seen (+ "(lab)")."""
    icon, style = _LOOK.get(event.status, ("?", ""))
    stamp = f"{event.at:%H:%M:%S}.{event.at.microsecond // 1000:03d}"
    return Content.assemble(
        (stamp, "$foreground-muted"),
        "  ",
        (f"{icon} {STAGE_LABEL.get(event.stage, event.stage):<16}", style),
        " ",
        event.detail,
        (" (lab)" if event.lab else "", "$text-accent"),
    )


def verdict_content(events: list[ProofEvent]) -> Content:
    """Return the verdict block: it fires, or which link broke and the diagnosis."""
    final = next((e for e in reversed(events) if e.stage == "result"), None)
    if final is None:
        return Content("")
    if final.status == "ok":
        return Content.styled(f"✔ {final.detail}", "bold $text-success")
    broke = next(
        (e.stage for e in reversed(events) if e.stage in STAGES and e.status in ("failed", "timeout")),
        None,
    ) or next((e.stage for e in reversed(events) if e.stage in STAGES and e.status == "running"), "setup")
    return Content.assemble(
        (f"✗ The chain broke at {STAGE_LABEL.get(broke, broke)}\n", "bold $text-error"), final.detail
    )


class ProofPanel(VerticalScroll):
    """The page: statement and time-out inputs, the run button, the chain, the timeline, the verdict."""

    DEFAULT_CSS = """
    ProofPanel .proof-row { height: auto; }
    ProofPanel .proof-row Label { width: 26; padding: 0 1 0 0; color: $text-muted; }
    ProofPanel .proof-row Input { width: 30; }
    ProofPanel .proof-row .proof-hint { width: 1fr; padding: 0 1; color: $text-muted; }
    ProofPanel .proof-row { margin: 0 0 1 0; }
    ProofPanel #proof-chain { margin: 1 0; }
    ProofPanel #proof-timeline { height: auto; }
    ProofPanel #proof-verdict { margin: 1 0; height: auto; }
    """

    def __init__(
        self, cluster: Cluster, defaults: ProofOptions, *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.cluster = cluster
        self.defaults = defaults
        self.events: list[ProofEvent] = []
        self.running = False

    def compose(self) -> ComposeResult:
        yield Static(PAGE_INTRO["proof"], classes="page-intro")
        with Horizontal(classes="proof-row"):
            yield Label("Statement")
            yield Input(self.defaults.statement, id="proof-statement", compact=True)
            yield Static("grant (the runbook's) or select (changes no privilege)", classes="proof-hint")
        with Horizontal(classes="proof-row"):
            yield Label("Total time-out (s)")
            yield Input(f"{self.defaults.total_timeout_s:g}", id="proof-timeout", compact=True)
            where = "lab: about 20 s" if self.cluster.lab else "AWS: metrics and alarms take minutes"
            yield Static(where, classes="proof-hint")
        with Horizontal(classes="buttons"):
            yield Button("Run the test and watch (f)", id="btn-prove", variant="primary", compact=True)
        yield Static(chain_content([]), id="proof-chain")
        yield Static(
            Content.styled("Not run yet.", "$foreground-muted")
            if not self.cluster.lab
            else Content.styled("Not run yet. Values from the lab are marked (lab).", "$foreground-muted"),
            id="proof-timeline",
        )
        yield Static("", id="proof-verdict")

    def options(self, base: ProofOptions) -> ProofOptions:
        """Return `base` with the page's statement and total time-out; raise ValueError for bad input."""
        statement = self.query_one("#proof-statement", Input).value.strip().lower()
        if statement not in ("grant", "select"):
            raise ValueError(f"statement {statement!r}: use grant or select")
        raw = self.query_one("#proof-timeout", Input).value.strip()
        try:
            total = float(raw)
        except ValueError:
            raise ValueError(f"time-out {raw!r} is not a number of seconds") from None
        if not 1 <= total <= 3600:
            raise ValueError("the time-out must be between 1 and 3600 seconds")
        return replace(base, statement=statement, total_timeout_s=total)  # type: ignore[arg-type]

    def start(self, options: ProofOptions) -> None:
        self.events = []
        self.running = True
        self.query_one("#btn-prove", Button).disabled = True
        self.query_one("#proof-verdict", Static).update("")
        self._redraw()

    def add(self, event: ProofEvent) -> None:
        self.events.append(event)
        self._redraw()
        self.scroll_end(animate=False)

    def stop(self) -> None:
        self.running = False
        self._redraw()
        self.query_one("#btn-prove", Button).disabled = False
        self.query_one("#proof-verdict", Static).update(verdict_content(self.events))

    def show_error(self, message: str) -> None:
        self.query_one("#proof-verdict", Static).update(Content.styled(f"✗ {message}", "bold $text-error"))

    def _redraw(self) -> None:
        self.query_one("#proof-chain", Static).update(chain_content(self.events))
        lines = [timeline_line(e) for e in self.events if e.stage != "result"]
        if self.running:
            lines.append(Content.styled("  watching…", "$text-warning"))
        self.query_one("#proof-timeline", Static).update(Content("\n").join(lines))


class ConfirmProve(YesNoModal):
    """Ask before "prove it fires": it runs a statement on the database and pages the alarm's subscribers.
    y: run it; n / escape: cancel (the focused, safe answer)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Run the test"),
        Binding("n,escape", "answer(False)", "Cancel"),
    ]
    DEFAULT_CSS = yes_no_css("ConfirmProve")
    BUTTONS = (("Run the test (y)", "prove-yes", "warning"), ("Cancel (n)", "prove-no", "default"))
    YES_ID, SAFE_ID = "prove-yes", "prove-no"

    def __init__(self, cluster: Cluster, statement: str) -> None:
        super().__init__(
            f"Prove it fires on {cluster.name}? This is a TEST that changes things: it runs the test "
            f"statement ({statement.upper()}) on the database, which writes an audit record; the alarm goes "
            "to ALARM and its SNS subscribers ARE NOTIFIED. An alarm already in ALARM is set to OK first. "
            "Every step is written to the operator journal."
        )
