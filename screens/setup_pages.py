"""What each page of the monitoring wizard shows under its fields: the commands and AWS calls the page's
steps will run (from the plan itself, so the preview is what the dry run says), the cron script, the agent
config merge as a diff, the live pattern test and the alarm defaults with their explanation.

Pure functions returning Textual Content; the screen wires them together (the field widget, ParamField,
is screens/wizard_base.py's).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from textual.content import Content

from services.inventory.model import Cluster
from services.monitoring.agent_steps import IAM_EXPLAIN, collect_entries, merge_agent_config
from services.monitoring.aws_steps import ALARM_EXPLAIN
from services.monitoring.cron_step import cron_line, render_extract_script
from services.monitoring.params import (
    NO_EMAIL_WARNING,
    RUNBOOK_AUDIT_PATTERN,
    RUNBOOK_DIAG_PATTERN,
    MonitoringParams,
    corrected_audit_pattern,
    corrected_diag_pattern,
)
from services.monitoring.pattern_test import audit_samples, diag_samples
from services.monitoring.proof_diagnosis import summarize_event
from services.plans import Action, Plan, PlanContext

RUNBOOK_ALARM_TRAP = (
    "The runbook's alarm (Minimum, 10 seconds, threshold 0) never works on a metric-filter metric: the "
    "filter publishes a datapoint only when an event matches, once a minute, so a 10 s period is empty 5 "
    "times out of 6 and the Minimum of 'nothing happened' is no datapoint at all, not 0."
)


# ------------------------------------------------------------------ previews from the plan itself


class _NoRunner:
    """A runner for describe-only contexts: describing a step never runs anything."""

    async def run(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - never called
        raise RuntimeError("preview contexts never run commands")


def preview_context(cluster: Cluster) -> PlanContext:
    """Return a PlanContext with no facts and no runner, for describing steps before any check."""
    return PlanContext(cluster=cluster, runner=_NoRunner(), operator="preview")


def step_actions(plan: Plan, prefixes: Sequence[str], facts: dict[str, Any] | None = None) -> list[Action]:
    """Return the actions of the plan's steps whose id starts with one of `prefixes`, in plan order."""
    ctx = preview_context(plan.cluster)
    ctx.facts.update(facts or {})
    out: list[Action] = []
    for step in plan.steps:
        if step.id.startswith(tuple(prefixes)):
            out += step.describe(ctx)
    return out


def action_content(action: Action, *, stdin: bool = True) -> list[Content]:
    """Return display lines for one action: `host$ command` (+ stdin) or the AWS call with its params."""
    if action.kind == "ssh":
        lines = [Content.assemble((f"{action.host}$ ", "bold $accent"), action.command)]
        if action.note:
            lines[0] = lines[0] + Content.styled(f"   # {action.note}", "$foreground-muted")
        if stdin and action.input is not None:
            lines += [
                Content.styled(f"    | {line}", "$foreground-muted") for line in action.input.splitlines()
            ]
        return lines
    lines = [Content.styled(f"aws {action.service} {action.operation}", "bold $accent")]
    if action.note:
        lines[0] = lines[0] + Content.styled(f"   # {action.note}", "$foreground-muted")
    text = json.dumps(dict(action.params), indent=2, sort_keys=True, default=str)
    return lines + [Content(f"    {line}") for line in text.splitlines()]


def _section(title: str) -> Content:
    return Content.styled(title, "bold $primary")


def _join(lines: Sequence[Content | str]) -> Content:
    return Content("\n").join(Content(x) if isinstance(x, str) else x for x in lines)


def audit_preview(plan: Plan, params: MonitoringParams) -> Content:
    """Return the audit page preview: the db2audit / dbm cfg commands per db host and the restart note."""
    lines: list[Content | str] = [_section("What this page runs (on every db host)")]
    for action in step_actions(plan, ("audit-paths@", "audit-buf-sz@")):
        lines += action_content(action)
    lines += [
        "",
        Content.styled(
            f"⚠ AUDIT_BUF_SZ {params.audit_buf_sz} needs an instance restart to take effect: db2ops stores it "
            "but does not restart Db2 (on an HADR pair: restart the standby, take over, restart the old "
            "primary).",
            "$text-warning",
        ),
    ]
    return _join(lines)


def policies_preview(plan: Plan, params: MonitoringParams) -> Content:
    """Return the policies page preview: the CLP script run on the HADR primary and the SYSCAT check."""
    step = plan.step("audit-policies")
    lines: list[Content | str] = [
        _section("CLP script, run once on the HADR primary (the catalog replicates)")
    ]
    for action in step_actions(plan, ("audit-policies",)):
        lines += action_content(action)
    if step is not None and hasattr(step, "_query"):
        lines += ["", _section("Verified with the runbook's query"), Content(step._query())]
    lines += [
        "",
        Content.styled(
            f"Only {params.app_user.upper()} may use {params.table.upper()}: the audit metric filter "
            "(page 6) counts every other user's statements on it.",
            "$foreground-muted",
        ),
    ]
    return _join(lines)


def cron_preview(params: MonitoringParams) -> Content:
    """Return the cron page preview: the crontab line and the extract script (the runbook's, as a template)."""
    lines: list[Content | str] = [
        _section("crontab line (one, marked; replaced on a re-run, never duplicated)"),
        Content(cron_line(params)),
        "",
        _section(f"Script {params.script_path}"),
    ]
    lines += [
        Content.styled(f"  {line}", "$foreground") for line in render_extract_script(params).splitlines()
    ]
    return _join(lines)


def agent_diff(existing: str | None, params: MonitoringParams) -> list[Content]:
    """Return the unified diff of the agent config before/after the merge (colored lines)."""
    try:
        merged, changed = merge_agent_config(existing, collect_entries(params))
    except Exception as exc:  # AgentConfigError: the plan will refuse too; say why here
        return [Content.styled(f"✗ {exc}", "$text-error")]
    before = _pretty(existing)
    if not changed:
        return [Content.styled("✓ the config already has both entries: nothing to change", "$text-success")]
    diff = difflib.unified_diff(
        before.splitlines(),
        merged.splitlines(),
        "config.json (now)",
        "config.json (merged)",
        lineterm="",
        n=2,
    )
    out = []
    for line in diff:
        style = {"+": "$text-success", "-": "$text-error", "@": "$text-accent"}.get(line[:1], "")
        out.append(Content.styled(line, style) if style else Content(line))
    return out


def _pretty(text: str | None) -> str:
    if not text or not text.strip():
        return ""
    try:
        return json.dumps(json.loads(text), indent=2) + "\n"
    except json.JSONDecodeError:
        return text


def agent_preview(plan: Plan, params: MonitoringParams, existing: dict[str, str | None] | None) -> Content:
    """Return the agent page preview: the merge diff per host (read or assumed empty), commands, IAM."""
    lines: list[Content | str] = []
    hosts = [h.name for h in plan.cluster.db_hosts]
    if existing is None:
        lines += [
            _section("Merge preview (against an empty config: press Read to diff against the hosts' files)")
        ]
        lines += agent_diff(None, params)
    else:
        for host in hosts:
            label = "no config yet" if existing.get(host) is None else params.agent_config_path
            lines += [_section(f"Merge preview on {host} ({label})")]
            lines += agent_diff(existing.get(host), params)
            lines.append("")
    lines += ["", _section("Then, on every db host")]
    lines += [line for a in step_actions(plan, ("agent@",)) if a.input is None for line in action_content(a)]
    lines += ["", Content.styled(IAM_EXPLAIN, "$text-warning")]
    return _join(lines)


def sns_preview(plan: Plan, params: MonitoringParams) -> Content:
    """Return the SNS page preview: the calls and what 'pending confirmation' means."""
    lines: list[Content | str] = [_section("AWS calls")]
    for action in step_actions(plan, ("sns-topic",)):
        lines += action_content(action)
    note = (
        f"The subscription of {params.email} stays 'pending confirmation' until that person clicks the "
        "link in AWS's e-mail: until then no alarm e-mail is delivered."
        if params.email
        else NO_EMAIL_WARNING
    )
    return _join([*lines, "", Content.styled(note, "$text-warning" if params.email else "bold $text-error")])


def alarms_preview(plan: Plan, params: MonitoringParams) -> Content:
    """Return the alarm page preview: the PutMetricAlarm calls, the explanation, warnings on bad choices."""
    lines: list[Content | str] = [_section("Why these defaults"), Content(ALARM_EXPLAIN), ""]
    risky = params.alarm_period < 60 or params.alarm_statistic in ("Minimum", "Average")
    if risky:
        lines += [Content.styled(f"⚠ {RUNBOOK_ALARM_TRAP}", "bold $text-warning"), ""]
    lines.append(_section("AWS calls"))
    for action in step_actions(plan, ("alarm-",)):
        lines += action_content(action)
    return _join(lines)


# ------------------------------------------------------------------ the live pattern test


@dataclass
class PatternCheck:
    """A pattern tested on the built-in samples and recent events, next to the runbook's and the corrected."""

    kind: str  # "audit" or "diag"
    pattern: str
    runbook: str
    corrected: str
    error: str = ""
    warnings: list[str] = field(default_factory=list)
    runbook_warnings: list[str] = field(default_factory=list)
    samples: list[tuple[str, bool, bool, bool]] = field(default_factory=list)  # name, want, ours, runbook
    events: list[tuple[str, bool, bool]] | None = None  # summary, ours, runbook (None: not fetched yet)
    events_note: str = ""

    @property
    def samples_right(self) -> bool:
        return not self.error and all(want == ours for _, want, ours, _ in self.samples)


def check_pattern(
    kind: str, params: MonitoringParams, messages: Sequence[str] | None = None, note: str = ""
) -> PatternCheck:
    """Return the PatternCheck of the `kind` pattern of `params` on samples and `messages` (None: not read)."""
    from services.logs.filter_pattern import FilterPatternError, compile_pattern

    if kind == "audit":
        pattern, runbook = params.effective_audit_pattern, RUNBOOK_AUDIT_PATTERN
        corrected = corrected_audit_pattern(params.table_name, params.app_user)
        samples = audit_samples(params.table_schema, params.table_name, params.app_user)
    else:
        pattern, runbook, corrected, samples = (
            params.effective_diag_pattern,
            RUNBOOK_DIAG_PATTERN,
            corrected_diag_pattern(),
            diag_samples(),
        )
    check = PatternCheck(kind, pattern, runbook, corrected, events_note=note)
    rb = compile_pattern(runbook)
    check.runbook_warnings = list(rb.warnings)
    try:
        ours = compile_pattern(pattern)
    except FilterPatternError as exc:
        check.error = str(exc)
        return check
    check.warnings = list(ours.warnings)
    check.samples = [
        (s.name, s.should_match, ours.matches(s.message), rb.matches(s.message)) for s in samples
    ]
    if messages is not None:
        check.events = [(summarize_event(m), ours.matches(m), rb.matches(m)) for m in messages]
    return check


def _mark(hit: bool) -> tuple[str, str]:
    return ("✓ match" if hit else "· no   ", "$text-success" if hit else "$foreground-muted")


def pattern_content(check: PatternCheck, max_events: int = 12) -> Content:
    """Return the pattern test panel: verdict, samples (ours vs runbook), recent events, warnings, offer."""
    lines: list[Content | str] = []
    if check.error:
        lines.append(Content.styled(f"✗ the pattern is not valid: {check.error}", "bold $text-error"))
    elif check.samples_right:
        lines.append(Content.styled("✓ right on every built-in sample", "bold $text-success"))
    else:
        wrong = [name for name, want, ours, _ in check.samples if want != ours]
        lines.append(Content.styled(f"✗ WRONG on: {'; '.join(wrong)}", "bold $text-error"))
    if check.samples:
        lines.append(Content.styled(f"  {'sample':<46} {'want':<6} {'this':<8} runbook", "$foreground-muted"))
        for name, want, ours, runbook in check.samples:
            bad = " ← runbook wrong" if runbook != want else ""
            lines.append(
                Content.assemble(
                    f"  {name[:46]:<46} {'alert' if want else '-':<6} ",
                    _mark(ours),
                    " ",
                    _mark(runbook),
                    (bad, "$text-warning"),
                )
            )
    lines.append("")
    if check.events is None:
        lines.append(
            Content.styled("Recent events: not read yet (press t or the Test button)", "$foreground-muted")
        )
    elif not check.events:
        lines.append(
            Content.styled(f"Recent events: none in the log group. {check.events_note}", "$foreground-muted")
        )
    else:
        hits = sum(1 for _, ours, _ in check.events if ours)
        rb_hits = sum(1 for _, _, rb in check.events if rb)
        lines.append(
            _section(
                f"Recent events: this pattern matches {hits} of {len(check.events)}, the runbook's {rb_hits}"
            )
        )
        if check.events_note:
            lines.append(Content.styled(check.events_note, "$foreground-muted"))
        shown = _interesting(check.events, max_events)
        for summary, ours, runbook in shown:
            lines.append(Content.assemble("  ", _mark(ours), " ", _mark(runbook), f" {summary}"))
    if check.pattern != check.runbook:
        lines += ["", _section(f"The runbook's pattern {check.runbook!r}: its case trap")]
        lines += [Content.styled(f"  ⚠ {w}", "$text-warning") for w in check.runbook_warnings]
    elif check.warnings:
        lines += ["", Content.styled("⚠ This is the runbook's pattern: its case trap", "bold $text-warning")]
        lines += [Content.styled(f"  ⚠ {w}", "$text-warning") for w in check.warnings]
    if check.pattern != check.corrected:
        lines += [
            "",
            Content.assemble(
                ("Corrected pattern: ", "bold"),
                (check.corrected, "$text-accent"),
                ("   press u (or the button) to use it", "$foreground-muted"),
            ),
        ]
    return _join(lines)


async def aws_opinion(ctx: PlanContext, pattern: str, messages: Sequence[str]) -> str:
    """Return what AWS's TestMetricFilter says of `pattern` on the newest 50 `messages` next to db2ops'
    evaluator ("" on the lab, where moto does not implement it, or when there is nothing to test)."""
    from services.logs.filter_pattern import FilterPatternError, compile_pattern

    probe = list(messages)[-50:]
    if not probe:
        return ""
    try:
        local = sum(compile_pattern(pattern).matches(m) for m in probe)
        matched = await ctx.extras.test_metric_filter(ctx.aws_read, pattern, probe)
    except FilterPatternError:
        return ""
    except Exception as exc:  # AccessDenied etc.: the local test still stands
        return f"AWS TestMetricFilter failed: {exc}"
    if matched is None:  # the backend has no TestMetricFilter (the lab's moto)
        return ""
    verdict = "agrees" if matched == local else "DISAGREES: trust AWS and adjust the pattern"
    return f"AWS TestMetricFilter matches {matched} of the newest {len(probe)}, db2ops {local}: {verdict}"


def _last(items: list[Any], n: int) -> list[Any]:
    return items[len(items) - n :] if n > 0 else []


def _interesting(events: list[tuple[str, bool, bool]], limit: int) -> list[tuple[str, bool, bool]]:
    """Return up to `limit` recent events: disagreements with the runbook first (they teach the most),
    then matches, then non-matches, the newest of each."""
    disagree = _last([e for e in events if e[1] != e[2]], limit // 2)
    room = limit - len(disagree)
    matched = _last([e for e in events if e[1] == e[2] and e[1]], room // 2)
    missed = _last([e for e in events if e[1] == e[2] and not e[1]], room - len(matched))
    return disagree + matched + missed
