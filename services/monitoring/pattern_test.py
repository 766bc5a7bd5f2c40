"""Test a metric-filter pattern before creating it: on built-in Db2 sample records (so the runbook's case
trap shows even on an empty log group), on recent real events of the log group, and on real AWS with
TestMetricFilter (moto does not implement it, so the lab skips that part).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from services.plans import PlanContext, StepFailed


@dataclass(frozen=True)
class Sample:
    """A built-in event and whether an alert should fire for it."""

    name: str
    message: str
    should_match: bool


def audit_samples(schema: str, table: str, app_user: str) -> list[Sample]:
    """Return Db2 audit EXECUTE records (one event per record, as the agent config groups them)."""

    def record(userid: str, authid: str, text: str) -> str:
        return (
            "timestamp=2025-09-01-05.12.07.118212;\n  category=EXECUTE;\n  audit event=STATEMENT;\n"
            "  event correlator=3;\n  event status=0;\n  database=SAMPLE;\n"
            f"  userid={userid};\n  authid={authid};\n  session authid={authid};\n"
            f"  application id=*LOCAL.{userid}.250901051207;\n  application name=db2bp;\n"
            f"  statement text={text};\n  statement isolation level=CS;\n  local_start_time=2025-09-01-05.12.07.110000"
        )

    s, t, u = schema.lower(), table.lower(), app_user.lower()
    return [
        Sample("application user reads the table", record(u, u.upper(), f"select * from {s}.{t}"), False),
        Sample(
            "runbook test: grant by db2inst1 (lower case)",
            record("db2inst1", "DB2INST1", f"grant select on table {s}.{t} to user abcuser, role trole"),
            True,
        ),
        Sample(
            "another user, statement in upper case",
            record("bob", "BOB", f"SELECT * FROM {s.upper()}.{t.upper()}"),
            True,
        ),
        Sample("unrelated table", record("bob", "BOB", f"select * from {s}.department"), False),
    ]


def diag_samples() -> list[Sample]:
    """Return db2diag records of several levels (header line format of the corpus)."""

    def record(level: str, message: str) -> str:
        return (
            f"2025-09-01-04.01.42.935663+000 I465616E393           LEVEL: {level}\n"
            "PID     : 20648                TID : 140736993265536 PROC : db2sysc 0\n"
            "INSTANCE: db2inst1             NODE : 000\n"
            f"FUNCTION: DB2 UDB, base sys utilities, sqleDoWork, probe:100\nMESSAGE : {message}"
        )

    return [
        Sample("LEVEL: Error", record("Error", "ZRC=0x8005006D=-2147155859=SQLE_CA_BUILT"), True),
        Sample("LEVEL: Severe", record("Severe", "ADM7519W  Db2 could not allocate an agent."), True),
        Sample("LEVEL: Critical", record("Critical", "Db2 is shutting down: db2_kill"), True),
        Sample("Info record mentioning Error", record("Info", "Error log rotated, no action needed"), False),
        Sample("LEVEL: Warning", record("Warning", "Released lock on the file"), False),
    ]


@dataclass
class PatternReport:
    """What a pattern (and the runbook's) would match. Shown in the step's detail and the wizard."""

    pattern: str
    runbook_pattern: str
    warnings: list[str] = field(default_factory=list)
    runbook_warnings: list[str] = field(default_factory=list)
    sample_results: list[tuple[str, bool, bool, bool]] = field(
        default_factory=list
    )  # name, want, ours, runbook
    events_tested: int = 0
    events_matched: int = 0
    runbook_matched: int = 0
    only_runbook: list[str] = field(default_factory=list)
    only_ours: list[str] = field(default_factory=list)
    aws_matched: int | None = None  # TestMetricFilter on real AWS
    note: str = ""

    @property
    def samples_right(self) -> bool:
        return all(want == ours for _, want, ours, _ in self.sample_results)

    def summary(self) -> str:
        """Return one paragraph: samples right/wrong for both patterns, real events, AWS's opinion."""
        wrong = [name for name, want, ours, _ in self.sample_results if want != ours]
        rb_wrong = [name for name, want, _, rb in self.sample_results if want != rb]
        parts = [
            f"pattern {self.pattern!r}: "
            + ("right on every sample" if not wrong else "WRONG on samples: " + "; ".join(wrong))
        ]
        if self.runbook_pattern != self.pattern:
            parts.append(
                f"runbook pattern {self.runbook_pattern!r}: "
                + ("right on every sample" if not rb_wrong else "wrong on: " + "; ".join(rb_wrong))
            )
        if self.events_tested:
            parts.append(
                f"recent events: {self.events_matched} of {self.events_tested} match "
                f"(runbook pattern: {self.runbook_matched})"
            )
        else:
            parts.append("no recent events in the log group to test on")
        if self.aws_matched is not None and not self.note:  # the note says when AWS disagrees
            parts.append(f"AWS TestMetricFilter agrees on {self.aws_matched} match(es)")
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)


_SECOND_OPINION_UNAVAILABLE = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
}


def _aws_code(exc: BaseException | None) -> str:
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


async def recent_messages(ctx: PlanContext, group: str, lookback_s: int, limit: int) -> list[str]:
    """Return up to `limit` messages of the last `lookback_s` seconds of `group` ([] when it is empty)."""
    start = int((time.time() - lookback_s) * 1000)
    messages: list[str] = []
    token: str | None = None
    while len(messages) < limit:
        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": start, "limit": min(10_000, limit)}
        if token:
            kwargs["nextToken"] = token
        page = await ctx.aws_read("logs", "FilterLogEvents", **kwargs)
        messages += [str(e.get("message", "")) for e in page.get("events", [])]
        token = page.get("nextToken")
        if not token:
            break
    return messages[-limit:]


async def test_pattern(
    ctx: PlanContext,
    pattern: str,
    runbook_pattern: str,
    samples: list[Sample],
    messages: list[str],
) -> PatternReport:
    """Return the PatternReport of `pattern` on samples + messages. Raises StepFailed when the pattern is
    invalid (locally, or for AWS's TestMetricFilter on real AWS)."""
    from services.logs.filter_pattern import FilterPatternError, compile_pattern

    try:
        ours = compile_pattern(pattern)
    except FilterPatternError as exc:
        raise StepFailed(f"filter pattern {pattern!r} is not valid: {exc}") from None
    try:
        runbook = compile_pattern(runbook_pattern)
    except FilterPatternError:
        runbook = ours
    report = PatternReport(pattern, runbook_pattern, list(ours.warnings), list(runbook.warnings))
    for sample in samples:
        report.sample_results.append(
            (sample.name, sample.should_match, ours.matches(sample.message), runbook.matches(sample.message))
        )
    report.events_tested = len(messages)
    for message in messages:
        a, b = ours.matches(message), runbook.matches(message)
        report.events_matched += a
        report.runbook_matched += b
        if b and not a and len(report.only_runbook) < 3:
            report.only_runbook.append(message[:1000])
        if a and not b and len(report.only_ours) < 3:
            report.only_ours.append(message[:1000])
    probe = (messages[-40:] if messages else []) + [s.message for s in samples][: 50 - min(40, len(messages))]
    try:
        matched = await ctx.extras.test_metric_filter(ctx.aws_read, pattern, probe)
    except StepFailed as exc:
        code = _aws_code(exc.__cause__)
        if code not in _SECOND_OPINION_UNAVAILABLE:
            raise  # e.g. InvalidParameterException: AWS refuses the pattern itself
        # A second opinion only: a role without logs:TestMetricFilter (or throttling) must not block.
        report.note = (
            f"AWS TestMetricFilter could not run ({code}): tested with db2ops' evaluator only; allow "
            "logs:TestMetricFilter to have AWS check the pattern too"
        )
        return report
    if matched is None:
        report.note = f"{ctx.extras.source} endpoint: TestMetricFilter is not emulated, tested with db2ops' evaluator only"
        return report
    report.aws_matched = matched
    local = sum(ours.matches(m) for m in probe)
    if report.aws_matched != local:
        report.note = (
            f"AWS matched {report.aws_matched} of the {len(probe)} test events, db2ops' evaluator {local}: "
            "trust AWS; adjust the pattern parameter before relying on the alarm"
        )
    return report
