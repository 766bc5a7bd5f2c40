"""Step 8 of the monitoring runbook, "prove it fires": run the runbook's test statement as a user other
than the application user, then watch the whole chain, each link shown as it happens:

  statement -> (a) event in the audit log group -> (b) metric datapoint -> (c) alarm in ALARM -> (d) SNS

`prove_it_fires` is an async generator of ProofEvent (the wizard's page and a CLI both consume it). Each
stage has a time-out; when one runs out the last event says where the chain broke and what to check.

The statement is a change (the runbook's GRANT), so the proof is a plan of one step (ProofStep) run by the
plan runner like every other plan: its write guard and its journal. The metric, the SNS publish and the
test record's shipping are read through the cluster's CloudWatchExtras backend (services/
cloudwatch_extras.py): AWS itself, or the lab that plays CloudWatch's evaluator and agent (lab/backends.py);
values from a lab backend are flagged `lab=True` (shown "(lab)"). On real AWS (d) can only be confirmed through the alarm's
history ("Successfully executed action"): whether the e-mail reached an inbox is not visible to AWS APIs.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, TypeVar

from services.cloudwatch_extras import CloudWatchExtras, hms
from services.inventory.model import Cluster, Host
from services.monitoring.db2_text import sql_messages
from services.monitoring.params import MonitoringParams
from services.monitoring.proof_diagnosis import (
    alarm_diagnosis,
    diag_proof_note,
    event_diagnosis,
    metric_diagnosis,
    notification_diagnosis,
    summarize_event,
)
from services.monitoring.proof_history import ProofHistory
from services.monitoring.proof_probes import alarm_in_alarm, find_event, live_setup, pending_email
from services.plans import PlanContext, StepFailed, WriteRefused, run_plan
from services.plans.step import Action, Plan, Step, StepState, aws_action, ssh_action

PLAN_NAME = "prove-it-fires"
__all__ = [
    "PLAN_NAME",
    "ProofEvent",
    "ProofHistory",
    "ProofOptions",
    "ProofStep",
    "prove_it_fires",
    "with_timeouts",
]
STAGES = ("statement", "event", "metric", "alarm", "notification")
# The runbook's test grants to "user abcuser, role trole"; a database without role TROLE answers SQL0204N,
# so the role is only named when the DBA names one. The grant is revoked in the same step.
GRANT_STATEMENT = "grant select on table {table} to {grantees}"
REVOKE_STATEMENT = "revoke select on table {table} from {grantees}"
SELECT_STATEMENT = "select count(*) from {table}"
TEST_USER = "abcuser"
ALREADY_HELD = "SQL0562W"  # the grantee held the privilege before: it is not the proof's to revoke
_AUTH_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")

Status = Literal["running", "ok", "failed", "timeout", "info"]


@dataclass(frozen=True)
class ProofEvent:
    """One thing seen while proving: `stage` (statement, event, metric, alarm, notification, result),
    `status`, when it was seen (UTC), what, and whether the value comes from the lab."""

    stage: str
    status: Status
    at: datetime
    detail: str
    lab: bool = False
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def text(self) -> str:
        """Return the detail with "(lab)" appended when the value comes from the lab."""
        return f"{self.detail} (lab)" if self.lab else self.detail


@dataclass(frozen=True)
class ProofOptions:
    """How to prove: which statement, per-stage and total time-outs (seconds), poll interval."""

    statement: Literal["grant", "select"] = "grant"
    event_timeout_s: float = 330.0  # the cron job runs every 5 minutes (unless the extract runs now)
    metric_timeout_s: float = 150.0
    alarm_timeout_s: float = 150.0
    notification_timeout_s: float = 60.0
    total_timeout_s: float = 360.0
    poll_s: float = 5.0
    reset_alarm: bool = True  # an alarm already in ALARM sends nothing new: set it to OK first
    test_user: str = TEST_USER  # the grantee of the test GRANT (revoked in the same step)
    test_role: str = ""  # a role to grant to as well (the runbook's TROLE): only when one is named
    run_extract_now: bool = True  # run the cron script right away instead of waiting for cron

    @classmethod
    def for_cluster(cls, cluster: Cluster) -> ProofOptions:
        """Return the defaults: 6 minutes in total on AWS, about 20 seconds on the lab."""
        if cluster.lab:
            return cls(
                event_timeout_s=8,
                metric_timeout_s=8,
                alarm_timeout_s=8,
                notification_timeout_s=5,
                total_timeout_s=20,
                poll_s=0.5,
                run_extract_now=False,
            )
        return cls()

    def grantees(self) -> str:
        """Return the GRANT/REVOKE grantee list ("user abcuser[, role r]"). Raises ValueError for a name
        that is not a Db2 authorization id (it goes into a CLP script)."""
        for what, name in (("test user", self.test_user), ("test role", self.test_role)):
            if name and not _AUTH_ID.match(name):
                raise ValueError(f"{what} {name!r} is not a Db2 authorization id: letters, digits and _")
        return f"user {self.test_user.lower()}" + (
            f", role {self.test_role.lower()}" if self.test_role else ""
        )

    def statement_text(self, params: MonitoringParams) -> str:
        """Return the SQL statement run as the test (a GRANT to the test user by default)."""
        if self.statement == "grant":
            return GRANT_STATEMENT.format(table=params.table.lower(), grantees=self.grantees())
        return SELECT_STATEMENT.format(table=params.table.lower())

    def revoke_text(self, params: MonitoringParams) -> str | None:
        """Return the REVOKE that undoes the test GRANT (None for the SELECT variant: nothing to undo)."""
        if self.statement != "grant":
            return None
        return REVOKE_STATEMENT.format(table=params.table.lower(), grantees=self.grantees())


class _Clock:
    def __init__(self, now: Callable[[], datetime], total_s: float) -> None:
        self.now = now
        self.started = time.monotonic()
        self.total_s = total_s

    def remaining(self) -> float:
        return self.total_s - (time.monotonic() - self.started)


async def prove_it_fires(
    ctx: PlanContext,
    params: MonitoringParams,
    *,
    extras: CloudWatchExtras,
    history: ProofHistory,
    options: ProofOptions | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    state_dir: Path | None = None,
) -> AsyncIterator[ProofEvent]:
    """Yield ProofEvents while running the test statement and watching the chain; the last event has
    stage "result" (status "ok" when an SNS notification was seen / confirmed, else "failed" with the
    diagnosis). `params` must be resolved (MonitoringParams.resolve); `extras` is the cluster's CloudWatch
    backend (AWS, or the lab that plays it), `history` this console's earlier proofs.

    The proof is a one-step plan run by the plan runner in "apply" mode: its write guard (a read-only
    cluster refuses before anything runs) and its journal (one entry with every change made: the alarm
    reset, the statement, the extract job). Never raises for expected problems (read-only cluster, host
    down, AWS errors): they end the stream with a "failed" result.
    """
    opts = options or ProofOptions.for_cluster(ctx.cluster)
    step = ProofStep(ctx.cluster.name, params, opts, extras, history, now, sleep)
    plan = Plan(
        PLAN_NAME,
        ctx.cluster,
        [step],
        title="Prove it fires",
        rerun_hint=f"db2ops setup monitoring --cluster {ctx.cluster.name} --prove",
    )
    queue: asyncio.Queue[ProofEvent | None] = asyncio.Queue()
    step.emit = queue.put_nowait
    task = asyncio.ensure_future(run_plan(plan, ctx, mode="apply", state_dir=state_dir))
    task.add_done_callback(lambda _: queue.put_nowait(None))
    try:
        while (event := await queue.get()) is not None:
            yield event
        await task
    except WriteRefused as exc:
        yield step.result(False, f"the test statement did not run: {exc}")
    finally:
        if not task.done():  # the consumer stopped listening (the wizard closed): stop the proof too
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class ProofStep(Step):
    """The whole proof as one plan step. `check` reads what is live (the filter and alarm the monitoring
    plan created); `apply` resets the alarm if needed, runs the statement and watches the chain, sending
    each ProofEvent to `emit`; `verify` is the chain's verdict (the result event's detail when it broke)."""

    id = "test-statement"
    title = "Prove it fires: the runbook's test statement, then watch the alarm chain"
    target = "primary"
    explain = (
        "Runs the runbook's test statement on the HADR primary and watches event -> metric -> ALARM -> SNS."
    )

    def __init__(
        self,
        cluster_name: str,
        params: MonitoringParams,
        opts: ProofOptions,
        extras: CloudWatchExtras,
        history: ProofHistory,
        now: Callable[[], datetime],
        sleep: Callable[[float], Awaitable[Any]],
    ) -> None:
        self.cluster_name = cluster_name
        self.params, self.opts, self.extras, self.history = params, opts, extras, history
        self.now, self.sleep = now, sleep
        self.emit: Callable[[ProofEvent], None] = lambda event: None
        self.live: dict[str, Any] = {}
        self.outcome: ProofEvent | None = None

    @property
    def from_lab(self) -> bool:
        """Whether the values read through the backend come from the lab (shown "(lab)")."""
        return self.extras.source == "lab"

    def ev(self, stage: str, status: Status, detail: str, lab: bool = False, **data: Any) -> ProofEvent:
        event = ProofEvent(stage, status, self.now(), detail, lab, data)
        self.emit(event)
        return event

    def result(self, ok: bool, detail: str) -> ProofEvent:
        """Send (and return) the last event; the runner's verify and journal take the verdict from it."""
        event = ProofEvent("result", "ok" if ok else "failed", self.now(), detail)
        self.outcome = event
        self.history.record(self.cluster_name, event.at)
        return event

    # --- the plan step ---------------------------------------------------------------------------
    async def check(self, ctx: PlanContext) -> StepState:
        """Read the live filter and alarm; never done (a proof is run to be seen). Raises StepFailed
        (after sending the failed result) when they cannot be read or are missing."""
        params = self.params
        try:
            live = await live_setup(ctx, params)
        except StepFailed as exc:
            self.emit(self.result(False, f"could not read the monitoring setup: {exc}"))
            raise
        if live.get("missing"):
            self.emit(self.result(False, live["missing"]))
            raise StepFailed(live["missing"])
        self.live = live
        self.ev(
            "statement",
            "info",
            f"watching filter {params.audit_filter_name} ({live['pattern']!r}) -> metric "
            f"{live['namespace']}/{live['metric']} -> alarm {params.audit_alarm_name} ({live['alarm_rule']})",
        )
        if not live["actions_enabled"]:
            self.ev(
                "alarm",
                "info",
                "the alarm's actions are disabled (muted): it will change state but notify nobody",
            )
        note = diag_proof_note(ctx.cluster, params.diag_alarm_name or "")
        if note:
            self.ev("alarm", "info", note)
        return StepState(False, "the test statement runs on the HADR primary, then the chain is watched")

    def describe(self, ctx: PlanContext) -> list[Action]:
        statement = self.opts.statement_text(self.params)
        host = next(iter(ctx.cluster.db_hosts), None)
        name = host.name if host is not None else "primary"
        path = _script_path(self.params)
        actions = [
            aws_action(
                "cloudwatch",
                "SetAlarmState",
                {"AlarmName": self.params.audit_alarm_name, "StateValue": "OK"},
                note="only when the alarm is already in ALARM",
            ),
            ssh_action(name, ["mkdir", "-p", posixpath.dirname(path)], note="on the HADR primary"),
            ssh_action(name, ["tee", path], input=_script(self.params, statement)),
            ssh_action(name, ["db2", "-tvf", path]),
        ]
        revoke = self.opts.revoke_text(self.params)
        if revoke is not None:
            undo = _script_path(self.params, "revoke")
            actions += [
                ssh_action(
                    name, ["tee", undo], input=_script(self.params, revoke), note="right after the grant"
                ),
                ssh_action(name, ["db2", "-tvf", undo], note="also when the proof fails or is interrupted"),
            ]
        if self.params.script_path:
            actions.append(
                ssh_action(name, [self.params.script_path], note="when the backend ships no record")
            )
        return actions

    async def apply(self, ctx: PlanContext) -> None:
        try:
            await self._prove(ctx)
        except Exception as exc:  # never crash the stream: say what broke
            self.emit(self.result(False, f"the proof stopped: {type(exc).__name__}: {exc}"))

    async def verify(self, ctx: PlanContext) -> bool | str:
        outcome = self.outcome
        if outcome is None:
            return "the proof ended without a result"
        return True if outcome.status == "ok" else outcome.detail

    async def _undo_grant(self, ctx: PlanContext, tried: list[Host], held: list[str]) -> None:
        """Revoke the test GRANT where it may have run, and say so (an event, and the journal's actions)."""
        revoke = self.opts.revoke_text(self.params)
        if revoke is None or not tried:
            return
        if held:
            self.ev(
                "statement",
                "info",
                f"{self.opts.grantees()} already held SELECT on {self.params.table.lower()} ({ALREADY_HELD}): "
                "left as it was, not revoked",
            )
            return
        for host in tried:
            try:
                codes = await _run_script(ctx, host, self.params, revoke, "revoke")
            except Exception as exc:
                self.ev(
                    "statement",
                    "failed",
                    f"could not revoke the test grant on {host.name} ({type(exc).__name__}: {exc}): run "
                    f'`db2 "{revoke}"` on the HADR primary',
                )
                continue
            errors = [c for c in codes if c.endswith(("N", "C")) and c != "SQL0556N"]
            if not errors:  # SQL0556N: the grant never took effect there, nothing to revoke
                if "SQL0556N" not in codes:
                    self.ev("statement", "info", f"revoked on {host.name}: {revoke}", host=host.name)
                return
            self.ev(
                "statement",
                "failed",
                f'the revoke failed on {host.name} ({", ".join(errors)}): run `db2 "{revoke}"` on the HADR '
                "primary",
            )

    # --- the proof ---------------------------------------------------------------------------------
    async def _prove(self, ctx: PlanContext) -> None:
        cluster, params, opts, extras, live = ctx.cluster, self.params, self.opts, self.extras, self.live
        ev, lab = self.ev, self.from_lab
        clock = _Clock(self.now, opts.total_timeout_s)
        sleep = self.sleep

        def result(ok: bool, detail: str) -> None:
            self.emit(self.result(ok, detail))

        alarm_name = params.audit_alarm_name  # MonitoringParams.resolve() always names it
        if not alarm_name:
            return result(False, "no alarm name: resolve the monitoring settings for the cluster first")
        start = self.now() - timedelta(seconds=2)  # a little slack for clock skew between here and AWS
        start = self.history.look_back(cluster.name, start)
        if live["state"] == "ALARM":
            if not opts.reset_alarm:
                return result(
                    False,
                    f"alarm {params.audit_alarm_name} is already in ALARM: a new notification is only sent on a "
                    "state change; wait until it is OK again (a quiet minute) or allow the reset",
                )
            try:
                await _reset_alarm(ctx, alarm_name)
            except (WriteRefused, StepFailed) as exc:
                return result(False, f"could not set the alarm to OK before the test: {exc}")
            ev(
                "alarm",
                "info",
                "the alarm was already in ALARM: set it to OK so the test makes a new transition",
            )

        # A lab's evaluator takes data that arrives in the tick where it first sees an alarm (or sees our
        # reset to OK) as already evaluated and then waits a minute: let it catch up before the test event.
        seen = await _poll(clock, 5.0, 0.2, sleep, lambda: _tracks(extras, alarm_name))
        if seen is None:
            ev("alarm", "info", "the lab's CloudWatch evaluator has not picked up the alarm yet", lab)

        # --- the statement ------------------------------------------------------------------------
        statement = opts.statement_text(params)
        ev("statement", "running", f"running as a user other than {params.app_user.upper()}: {statement}")
        tried: list[Host] = []  # hosts where the GRANT may have run: the revoke goes there
        held: list[str] = []
        try:
            host, user, codes = await _run_statement(ctx, params, statement, tried)
            held = [ALREADY_HELD] if ALREADY_HELD in codes else []
        except (WriteRefused, StepFailed) as exc:
            return result(False, f"the test statement did not run: {exc}")
        except Exception as exc:  # SSH errors: the host dropped, refused the key, timed out
            return result(False, f"the test statement did not run: {type(exc).__name__}: {exc}")
        finally:  # also on cancellation (the wizard closed): the test user must not keep the privilege
            await self._undo_grant(ctx, tried, held)
        self.target = host
        ev("statement", "ok", f"ran on {host} as {user} (HADR primary)", lab=lab, host=host)
        try:
            records = await extras.ship_audit_record()
        except Exception as exc:
            agent = True
            ev("statement", "info", f"the lab's log agent could not write the audit record: {exc}", True)
        else:
            agent = records is not None
            if records is not None:
                # The lab's agent ships the records of the statements that ran (the proof's own GRANT): the
                # event is looked for by the statement run, so a lab that shipped another would fail here.
                ev("statement", "info", "the lab's CloudWatch agent shipped the audit record", lab=True)
            elif opts.run_extract_now:
                ev("statement", "info", await _run_extract(ctx, params, host))

        # --- (a) the event arrives --------------------------------------------------------------
        ev("event", "running", f"waiting for the audit record in log group {params.audit_log_group}")
        found = await _poll(
            clock, opts.event_timeout_s, opts.poll_s, sleep, lambda: find_event(ctx, params, statement, start)
        )
        if isinstance(found, Exception):
            return result(False, f"could not read log group {params.audit_log_group}: {found}")
        if found is None:
            ev("event", "timeout", "no audit record of the test statement arrived")
            return result(False, event_diagnosis(params, cluster, agent))
        event_at = datetime.fromtimestamp(found["timestamp"] / 1000, UTC)
        ev(
            "event",
            "ok",
            f"arrived in {params.audit_log_group} ({found.get('logStreamName', '?')}) at {event_at:%H:%M:%S}: "
            f"{summarize_event(found['message'])}",
            lab=lab,
            event_id=found.get("eventId", ""),
        )

        # --- (b) the metric ticks ----------------------------------------------------------------
        ev("metric", "running", f"waiting for a datapoint of {live['namespace']}/{live['metric']}")
        tick = await _poll(
            clock,
            opts.metric_timeout_s,
            opts.poll_s,
            sleep,
            lambda: extras.metric_tick(ctx.aws_read, live["namespace"], live["metric"], event_at),
        )
        if isinstance(tick, Exception):
            return result(False, f"could not read the metric: {tick}")
        if tick is None:
            ev("metric", "timeout", "the metric never ticked", lab=lab)
            return result(False, metric_diagnosis(found["message"], live["pattern"], params))
        ev("metric", "ok", f"datapoint {tick[1]:g} at {tick[0]:%H:%M:%S}", lab=lab)

        # --- (c) the alarm goes to ALARM ---------------------------------------------------------
        ev("alarm", "running", f"waiting for {params.audit_alarm_name} to go to ALARM")
        alarm = await _poll(
            clock, opts.alarm_timeout_s, opts.poll_s, sleep, lambda: alarm_in_alarm(ctx, params, start)
        )
        if isinstance(alarm, Exception):
            return result(False, f"could not read the alarm: {alarm}")
        if alarm is None:
            ev("alarm", "timeout", "the alarm did not go to ALARM", lab=lab)
            return result(False, alarm_diagnosis(live, params))
        ev(
            "alarm",
            "ok",
            f"ALARM at {hms(alarm.get('StateUpdatedTimestamp'))}: {alarm.get('StateReason', '')}",
            lab=lab,
        )

        # --- (d) the SNS message -----------------------------------------------------------------
        ev("notification", "running", "waiting for the alarm action (SNS publish)")
        name = alarm_name
        sent = await _poll(
            clock,
            opts.notification_timeout_s,
            opts.poll_s,
            sleep,
            lambda: extras.alarm_action(ctx.aws_read, name, start),
        )
        if isinstance(sent, Exception):
            return result(False, f"could not read the alarm's actions: {sent}")
        if sent is None or sent.get("failed"):
            why = sent.get("failed", "") if sent else ""
            ev("notification", "timeout" if sent is None else "failed", why or "no SNS message", lab)
            return result(False, notification_diagnosis(live, params, why))
        ev("notification", "ok", sent["detail"], lab=lab)
        pending = await pending_email(ctx, live.get("topic_arn"), extras)
        if pending:
            ev("notification", "info", pending, lab=lab)
        return result(
            True,
            "it fires: statement -> log event -> metric -> ALARM -> SNS message "
            + ("recorded by the lab" if lab else "published (confirmed by the alarm history)"),
        )


# ------------------------------------------------------------------ helpers


async def _tracks(extras: CloudWatchExtras, alarm_name: str) -> bool | None:
    """Return True once the backend's evaluator tracks the alarm in a state other than ALARM, else None."""
    return True if await extras.evaluator_tracks(alarm_name) else None


_T = TypeVar("_T")


async def _poll(
    clock: _Clock,
    stage_s: float,
    every_s: float,
    sleep: Callable[[float], Awaitable[Any]],
    probe: Callable[[], Awaitable[_T | None]],
) -> _T | StepFailed | None:
    """Return the first non-None probe() within the stage time-out (and the total), None on time-out,
    or the StepFailed a probe raised (AWS refused the read)."""
    deadline = time.monotonic() + max(0.0, min(stage_s, clock.remaining()))
    while True:
        try:
            value = await probe()
        except StepFailed as exc:
            return exc
        if value is not None:
            return value
        if time.monotonic() + every_s > deadline:
            return None
        await sleep(every_s)


async def _reset_alarm(ctx: PlanContext, name: str) -> None:
    await ctx.aws_write(
        "cloudwatch",
        "SetAlarmState",
        AlarmName=name,
        StateValue="OK",
        StateReason="db2ops prove-it-fires: reset to OK before the test statement",
    )


def _script_path(params: MonitoringParams, suffix: str = "") -> str:
    name = f"db2ops_prove_it_fires_{suffix}.sql" if suffix else "db2ops_prove_it_fires.sql"
    return posixpath.join(params.instance_home or "/tmp", "dbaudit", name)


def _script(params: MonitoringParams, statement: str) -> str:
    return f"CONNECT TO {params.database};\n{statement};\nCONNECT RESET;\n"


async def _run_script(
    ctx: PlanContext, host: Host, params: MonitoringParams, statement: str, suffix: str
) -> list[str]:
    """Run `statement` in one CLP session on `host`; return the SQL message codes it printed."""
    path = _script_path(params, suffix)
    await ctx.write(host, ["mkdir", "-p", posixpath.dirname(path)])
    await ctx.write(host, ["tee", path], input=_script(params, statement))
    result = await ctx.write(host, ["db2", "-tvf", path], ok_exit=(0, 1, 2, 4, 8))
    codes = sql_messages(result.stdout)
    if result.exit_status >= 4 and not any(c.endswith(("N", "C")) for c in codes):
        codes.append(f"exit {result.exit_status}")
    return codes


async def _run_statement(
    ctx: PlanContext, params: MonitoringParams, statement: str, tried: list[Host] | None = None
) -> tuple[str, str, list[str]]:
    """Run the statement in one CLP session on the HADR primary; return (host, user, SQL codes). Each host
    is added to `tried` before its statement runs (the caller undoes a GRANT there). Raises StepFailed."""
    path = _script_path(params)
    refused: list[str] = []
    for host in ctx.cluster.db_hosts:
        user = host.user or "the ssh user"
        if (host.user or "").lower() == params.app_user.lower():
            raise StepFailed(
                f"{host.name} connects as {host.user}, the application user: its statements are excluded by "
                "design; connect as another user (e.g. the instance owner) to prove the alarm"
            )
        await ctx.write(host, ["mkdir", "-p", posixpath.dirname(path)])
        await ctx.write(host, ["tee", path], input=_script(params, statement))
        if tried is not None:
            tried.append(host)
        result = await ctx.write(host, ["db2", "-tvf", path], ok_exit=(0, 1, 2, 4, 8))
        messages = sql_messages(result.stdout)
        codes = [c for c in messages if c.endswith(("N", "C"))]
        if not codes and result.exit_status < 4:
            return host.name, user, messages
        if tried is not None:
            tried.remove(host)  # Db2 refused the statement: nothing was granted there
        refused.append(f"{host.name}: {', '.join(codes) or f'exit {result.exit_status}'}")
        if not any(c in ("SQL1776N", "SQL1032N", "SQL1024N") for c in codes):
            break  # the primary answered with a real error: do not try the standby
    raise StepFailed(
        f"no db host ran it ({'; '.join(refused)}); the statement must run on the HADR primary with the "
        f"database {params.database} active (`db2 ? SQLnnnn` explains a code)"
    )


async def _run_extract(ctx: PlanContext, params: MonitoringParams, host_name: str) -> str:
    host: Host | None = next((h for h in ctx.cluster.db_hosts if h.name == host_name), None)
    if host is None or not params.script_path:
        return "waiting for the cron job to extract the audit log"
    try:
        await ctx.write(host, [params.script_path])
    except Exception as exc:
        return f"the extract job did not run now ({exc}); waiting for cron ({params.cron_schedule})"
    return f"ran the extract job {params.script_path} on {host_name} now (no wait for cron)"


def with_timeouts(options: ProofOptions, total_s: float) -> ProofOptions:
    """Return `options` with the total time-out set to `total_s` (stage time-outs capped by it)."""
    return replace(options, total_timeout_s=total_s)
