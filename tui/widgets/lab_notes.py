"""What the embedded lab says when it starts (lab.session.LabSession.warnings), shown in the console.

`db2ops lab --serve` prints these warnings on stderr; the console started by `db2ops lab` used to drop
them, so a DBA trying the lab did not learn that a part was not running. Now each shows once as a toast
when the lab has started (the release note, then the parts that did not start, long enough to read), and a
part that did not start also stays on the home screens (fleet, status) as a line under the banner: a burst
of state-change toasts can push a toast out of the rack, not that line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.app import App
from textual.content import Content
from textual.widgets import Static

from tui.app import Db2OpsApp

NOTE_SECONDS = 20.0  # the release note: one long line to read
NOT_RUNNING_SECONDS = 60.0  # a part not running matters more (and the line under the banner stays)
RETRY_HINT = "The rest of the lab runs; quit and start `db2ops lab` again to retry."


def lab_warnings(lab: object) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Return (every warning, those of parts that did not start) of a started lab; empty for a lab
    handle without them (test fakes)."""
    not_running = tuple(getattr(lab, "not_running", ()))
    notes = tuple(w for w in getattr(lab, "warnings", ()) if w not in not_running)
    return notes + not_running, not_running


def toast_lab_warnings(app: App[Any], warnings: Sequence[str], not_running: Sequence[str]) -> None:
    """Toast each warning once: notes first, then the parts not running, so those are the newest toasts
    (the rack shows the newest at its bottom)."""
    for warning in warnings:
        if warning in not_running:
            app.notify(
                f"{warning}. {RETRY_HINT}",
                title="lab: a part is not running",
                severity="warning",
                timeout=NOT_RUNNING_SECONDS,
            )
        else:
            app.notify(warning, title="lab", timeout=NOTE_SECONDS)


def lab_notes_content(not_running: Sequence[str]) -> Content:
    lines = [Content.assemble(("⚠ not running: ", "bold"), warning) for warning in not_running]
    lines.append(Content.styled(RETRY_HINT, "$foreground-muted"))
    return Content("\n").join(lines)


class LabNotes(Static):
    """The lab's parts that did not start (the app's `lab_not_running`); hidden when all started."""

    DEFAULT_CSS = """
    LabNotes { height: auto; padding: 0 1; color: $text-warning; display: none; }
    """

    def on_mount(self) -> None:
        app = self.app  # a bare App (screen tests) has no lab
        not_running = app.lab_not_running if isinstance(app, Db2OpsApp) else ()
        if not_running:
            self.update(lab_notes_content(not_running))
            self.display = True
