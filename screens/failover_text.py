"""What the guided failover screen shows, as Content: the preflight checklist, the live progress, the
summary with a timeline excerpt, and the question asked before leaving a running failover.

Pure functions (plus one small modal) so tests read exactly what the DBA reads.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding
from textual.content import Content

from services.failover import EXPECTED_SECONDS, Preflight
from services.failover.run import FailoverRun
from services.timeline.model import TimelineEntry
from services.words import plural
from tui.widgets.yes_no_modal import YesNoModal, yes_no_css

_MARK = {
    "pass": ("✔", "$text-success"),
    "fail": ("✖", "bold $text-error"),
    "warn": ("⚠", "$text-warning"),
    "pending": ("…", "$foreground-muted"),
}


def checklist_content(preflight: Preflight | None, narrow: bool = False) -> Content:
    """Return the ✔/✖ preflight list: one line per check, with the reason and what to do when not passed.

    `narrow` (a terminal under 110 columns): a passed check is its title alone and a failed one has its
    reason on the next line, so no reason wraps into the title column (the detail is in the dry run)."""
    if preflight is None:
        return Content.styled("Reading the cluster status…", "$foreground-muted")
    lines: list[Content] = []
    width = max((len(c.title) for c in preflight.checks), default=0) + 2
    for check in preflight.checks:
        mark, style = _MARK[check.state]
        if narrow:
            lines.append(Content.assemble((f" {mark} ", style), (check.title, "bold")))
            if check.state != "pass":
                lines.append(Content(f"     {check.message}"))
        else:
            lines.append(
                Content.assemble((f" {mark} ", style), (f"{check.title:<{width}}", "bold"), check.message)
            )
        if check.state in ("fail", "warn") and check.hint:
            lines.append(Content.styled(f"     → {check.hint}", style))
    if preflight.already_done:
        lines.append(Content.styled(f"\n{preflight.summary()}", "bold $text-success"))
    elif not preflight.runnable:
        lines.append(
            Content.styled(
                f"\nRefused: {plural(len(preflight.failures), 'blocking check')} failed.", "bold $text-error"
            )
        )
    else:
        lines.append(Content.styled(f"\nPreflight passed: {preflight.summary()}", "$text-success"))
    return Content("\n").join(lines)


def confirm_prompt(cluster: str, target: str, kind: str) -> Content:
    """Return the line above the typed confirmation."""
    extra = ""
    if kind == "forced":
        extra = "  FORCED: the old primary is not asked to stop (split brain if it still runs)."
    return Content.assemble(
        ("To fail over, type the cluster name ", ""),
        (cluster, "bold $accent"),
        (" and the target node ", ""),
        (target, "bold $accent"),
        (extra, "bold $text-error"),
    )


def progress_content(run: FailoverRun | None, now: float) -> Content:
    """Return the live view: current step, promoted node, HADR state, route, elapsed vs the usual 1-10 s."""
    if run is None:
        return Content.styled("Not started.", "$foreground-muted")
    elapsed = (run.finished_at or now) - run.started_at
    low, high = EXPECTED_SECONDS
    state = "running" if run.running else ("finished" if not run.half_done else "STOPPED HALF-WAY")
    lines = [
        Content.assemble(
            ("Failover ", "bold"),
            (f"→ {run.target}", "bold $accent"),
            f"  {state}" + (f" · step {run.current_step}" if run.running and run.current_step else ""),
        ),
        Content.assemble(
            ("elapsed ", "$foreground-muted"),
            f"{elapsed:.1f} s",
            (f"  (usually {low:g}-{high:g} s)", "$foreground-muted"),
            ("  slower than usual" if elapsed > high and run.running else "", "$text-warning"),
        ),
    ]
    seen = run.observation
    if seen is None:
        lines.append(Content.styled("waiting for the first status read…", "$foreground-muted"))
    else:
        lines += [
            _fact("promoted node", seen.promoted or "none", seen.promoted == run.target),
            _fact("HADR primary", seen.hadr_primary or "?", seen.hadr_primary == run.target),
            _fact("HADR state", seen.hadr_state or "?", seen.hadr_state == "PEER"),
            _fact(
                "overlay route",
                (seen.route_host or "?") if seen.route_configured else "not configured",
                (not seen.route_configured) or seen.route_host == run.target,
            ),
        ]
    if run.error:
        lines.append(Content.styled(run.error, "bold $text-error"))
    return Content("\n").join(lines)


def _fact(label: str, value: str, good: bool) -> Content:
    mark, style = ("✔", "$text-success") if good else ("…", "$text-warning")
    return Content.assemble(
        (f" {mark} ", style), (f"{label:<14}", "$foreground-muted"), (value, "bold" if good else "")
    )


def summary_content(run: FailoverRun, excerpt: Sequence[TimelineEntry]) -> Content:
    """Return the end summary: outcome with what to do next, per step result, and the timeline excerpt."""
    result = run.result
    lines: list[Content] = []
    if result is not None and result.outcome == "ok":
        took = (run.finished_at or run.started_at) - run.started_at
        lines.append(
            Content.styled(
                f"✔ {run.cluster} failed over to {run.target} in {took:.1f} s.", "bold $text-success"
            )
        )
    elif run.half_done:
        lines.append(
            Content.styled(
                "✖ Stopped half-way: the cluster may be between states. Look at :status, fix the cause, "
                "then run :failover again (done steps are skipped).",
                "bold $text-error",
            )
        )
    else:
        lines.append(Content.styled("✖ The failover did not run: nothing was changed.", "bold $text-error"))
    seen = run.observation
    if seen is not None and result is not None and result.outcome == "ok":
        lines.append(Content(f"  {seen.summary()}"))
        lines.append(
            Content.styled("  Every step is in the operator journal (:journal).", "$foreground-muted")
        )
    if result is not None and result.outcome != "ok":
        if result.next_hint:
            lines.append(Content.styled(result.next_hint, "$text-error"))
        for step in result.steps:
            lines.append(Content(f"  {step.status}: {step.step_id} — {step.message}"))
    elif run.error:
        lines.append(Content.styled(run.error, "$text-error"))
    if excerpt:
        lines += [Content(""), Content.styled("Timeline (latest):", "bold")]
        for entry in excerpt:
            lines.append(
                Content.assemble(
                    (f"  {entry.stamp()[11:]} ", "$foreground-muted"),
                    (f"{entry.source:<8}", "$accent"),
                    entry.title,
                )
            )
    return Content("\n").join(lines)


class LeaveFailover(YesNoModal):
    """Asked before leaving a running or half-done failover. Returns True to leave."""

    BINDINGS = [Binding("escape", "answer(False)", "Stay"), Binding("l", "answer(True)", "Leave")]
    DEFAULT_CSS = yes_no_css("LeaveFailover", width=76, border="$error")
    BUTTONS = (("Stay (esc)", "leave-no", "primary"), ("Leave (l)", "leave-yes", "default"))
    YES_ID, SAFE_ID, QUESTION_ID = "leave-yes", "leave-no", "leave-question"


def leave_question(run: FailoverRun) -> str:
    """Return what to ask before leaving `run` (running or stopped half-way)."""
    if run.running:
        return (
            f"A failover of {run.cluster} to {run.target} is running (step {run.current_step or '?'}).\n"
            "Leaving does not stop it: it goes on, is journaled, and :failover shows it again.\n"
            "Leave this screen?"
        )
    return (
        f"The failover of {run.cluster} to {run.target} stopped half-way: the cluster may be between "
        "states.\nCheck :status and re-run :failover to finish (done steps are skipped).\nLeave anyway?"
    )
