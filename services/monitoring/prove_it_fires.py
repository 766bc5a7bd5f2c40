"""Step 8 of the monitoring runbook, "prove it fires": run the runbook's test statement as a user other
than the application user, then watch the whole chain, each link shown as it happens:

  statement -> (a) event in the audit log group -> (b) metric datapoint -> (c) alarm in ALARM -> (d) SNS

`prove_it_fires` is an async generator of ProofEvent (the wizard's page and a CLI both consume it). Each
stage has a time-out; when one runs out the last event says where the chain broke and what to check.

The statement is a change (the runbook's GRANT), so it goes through the write guard like any plan step
and is journaled. On the embedded lab the simulated host answers the CLP script and the lab's CloudWatch
agent writes the audit record; the lab's CloudWatch evaluator plays AWS for (b)-(d). Values read from
the lab are flagged `lab=True` (shown "(lab)"). On real AWS (d) can only be confirmed through the alarm's
history ("Successfully executed action"): whether the e-mail reached an inbox is not visible to AWS APIs.
"""

from __future__ import annotations

import asyncio
import posixpath
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from services.inventory_model import Cluster, Host
from services.monitoring.db2_text import sql_messages
from services.monitoring.params import MonitoringParams
from services.monitoring.proof_diagnosis import (
    alarm_diagnosis,
    event_diagnosis,
    metric_diagnosis,
    notification_diagnosis,
    summarize_event,
)
from services.monitoring.proof_probes import (
    alarm_in_alarm,
    find_event,
    hms,
    live_setup,
    metric_tick,
    notification,
    pending_email,
)
from services.plans import PlanContext, StepFailed, WriteRefused, guarded_run
from services.plans.journal import utc_now_iso

PLAN_NAME = "prove-it-fires"
STAGES = ("statement", "event", "metric", "alarm", "notification")
GRANT_STATEMENT = "grant select on table {table} to user abcuser, role trole"
SELECT_STATEMENT = "select count(*) from {table}"

# cluster name -> when this process's last proof on it ended. The next proof looks back a little before its
# own start (clock skew): never past this, or it takes the previous proof's event and SNS message for its own.
_LAST_PROOF_END: dict[str, datetime] = {}
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

    def statement_text(self, params: MonitoringParams) -> str:
        """Return the SQL statement run as the test (the runbook's GRANT by default)."""
        template = GRANT_STATEMENT if self.statement == "grant" else SELECT_STATEMENT
        return template.format(table=params.table.lower())


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
    options: ProofOptions | None = None,
    lab_session: Any = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
) -> AsyncIterator[ProofEvent]:
    """Yield ProofEvents while running the test statement and watching the chain; the last event has
    stage "result" (status "ok" when an SNS notification was seen / confirmed, else "failed" with the
    diagnosis). `params` must be resolved (MonitoringParams.resolve). Never raises for expected problems
    (read-only cluster, host down, AWS errors): they end the stream with a "failed" result."""
    cluster = ctx.cluster
    opts = options or ProofOptions.for_cluster(cluster)
    clock = _Clock(now, opts.total_timeout_s)
    lab_cw = _lab_cloudwatch(cluster, lab_session)
    state: dict[str, Any] = {"trail": []}

    def ev(stage: str, status: Status, detail: str, lab: bool = False, **data: Any) -> ProofEvent:
        event = ProofEvent(stage, status, now(), detail, lab, data)
        state["trail"].append(event)
        return event

    def result(ok: bool, detail: str) -> ProofEvent:
        event = ev("result", "ok" if ok else "failed", detail)
        _LAST_PROOF_END[cluster.name] = event.at
        _journal(ctx, ok, detail, state)
        return event

    # --- what is live: the filter and alarm the plan created ------------------------------------
    try:
        live = await live_setup(ctx, params)
    except StepFailed as exc:
        yield result(False, f"could not read the monitoring setup: {exc}")
        return
    if live.get("missing"):
        yield result(False, live["missing"])
        return
    yield ev(
        "statement",
        "info",
        f"watching filter {params.audit_filter_name} ({live['pattern']!r}) -> metric "
        f"{live['namespace']}/{live['metric']} -> alarm {params.audit_alarm_name} ({live['alarm_rule']})",
    )
    if not live["actions_enabled"]:
        yield ev(
            "alarm",
            "info",
            "the alarm's actions are disabled (muted): it will change state but notify nobody",
        )
    start = now() - timedelta(seconds=2)  # a little slack for clock skew between here and AWS
    start = max(start, _LAST_PROOF_END.get(cluster.name, start))
    if live["state"] == "ALARM":
        if not opts.reset_alarm:
            yield result(
                False,
                f"alarm {params.audit_alarm_name} is already in ALARM: a new notification is only sent on a "
                "state change; wait until it is OK again (a quiet minute) or allow the reset",
            )
            return
        try:
            await _guarded(ctx, PLAN_NAME, _reset_alarm(ctx, params.audit_alarm_name), state)
        except (WriteRefused, StepFailed) as exc:
            yield result(False, f"could not set the alarm to OK before the test: {exc}")
            return
        yield ev(
            "alarm", "info", "the alarm was already in ALARM: set it to OK so the test makes a new transition"
        )

    if lab_cw is not None:
        # The lab's evaluator takes data that arrives in the tick where it first sees an alarm (or sees our
        # reset to OK) as already evaluated and then waits a minute: let it catch up before the test event.
        seen = await _poll(clock, 5.0, 0.2, sleep, lambda: _lab_tracks(lab_cw, params.audit_alarm_name))
        if seen is None:
            yield ev("alarm", "info", "the lab's CloudWatch evaluator has not picked up the alarm yet", True)

    # --- the statement ----------------------------------------------------------------------------
    statement = opts.statement_text(params)
    yield ev("statement", "running", f"running as a user other than {params.app_user.upper()}: {statement}")
    try:
        host, user = await _guarded(ctx, PLAN_NAME, _run_statement(ctx, params, statement), state)
    except (WriteRefused, StepFailed) as exc:
        yield result(False, f"the test statement did not run: {exc}")
        return
    except Exception as exc:  # SSH errors: the host dropped, refused the key, timed out
        yield result(False, f"the test statement did not run: {type(exc).__name__}: {exc}")
        return
    state["host"] = host
    yield ev("statement", "ok", f"ran on {host} as {user} (HADR primary)", lab=cluster.lab, host=host)
    agent = _lab_agent(cluster, lab_session)
    if agent is not None:
        try:
            records = await agent.write_audit_test()
        except Exception as exc:
            yield ev(
                "statement", "info", f"the lab's log agent could not write the audit record: {exc}", True
            )
        else:
            shipped = _statement_of(records[0]) if records else ""
            if shipped and _normal(shipped) != _normal(statement):
                statement = shipped  # the lab's agent writes the runbook's GRANT record: watch for that one
            yield ev("statement", "info", "the lab's CloudWatch agent shipped the audit record", lab=True)
    elif opts.run_extract_now and not cluster.lab:
        note = await _run_extract(ctx, params, host, state)
        yield ev("statement", "info", note)

    # --- (a) the event arrives ----------------------------------------------------------------
    yield ev("event", "running", f"waiting for the audit record in log group {params.audit_log_group}")
    found = await _poll(
        clock, opts.event_timeout_s, opts.poll_s, sleep, lambda: find_event(ctx, params, statement, start)
    )
    if isinstance(found, Exception):
        yield result(False, f"could not read log group {params.audit_log_group}: {found}")
        return
    if found is None:
        yield ev("event", "timeout", "no audit record of the test statement arrived")
        yield result(False, event_diagnosis(params, cluster, agent is not None))
        return
    event_at = datetime.fromtimestamp(found["timestamp"] / 1000, UTC)
    yield ev(
        "event",
        "ok",
        f"arrived in {params.audit_log_group} ({found.get('logStreamName', '?')}) at {event_at:%H:%M:%S}: "
        f"{summarize_event(found['message'])}",
        lab=cluster.lab,
        event_id=found.get("eventId", ""),
    )

    # --- (b) the metric ticks ------------------------------------------------------------------
    yield ev("metric", "running", f"waiting for a datapoint of {live['namespace']}/{live['metric']}")
    tick = await _poll(
        clock, opts.metric_timeout_s, opts.poll_s, sleep, lambda: metric_tick(ctx, live, event_at, lab_cw)
    )
    if isinstance(tick, Exception):
        yield result(False, f"could not read the metric: {tick}")
        return
    if tick is None:
        yield ev("metric", "timeout", "the metric never ticked", lab=lab_cw is not None)
        yield result(False, metric_diagnosis(found["message"], live["pattern"], params))
        return
    yield ev("metric", "ok", f"datapoint {tick[1]:g} at {tick[0]:%H:%M:%S}", lab=lab_cw is not None)

    # --- (c) the alarm goes to ALARM -----------------------------------------------------------
    yield ev("alarm", "running", f"waiting for {params.audit_alarm_name} to go to ALARM")
    alarm = await _poll(
        clock, opts.alarm_timeout_s, opts.poll_s, sleep, lambda: alarm_in_alarm(ctx, params, start)
    )
    if isinstance(alarm, Exception):
        yield result(False, f"could not read the alarm: {alarm}")
        return
    if alarm is None:
        yield ev("alarm", "timeout", "the alarm did not go to ALARM", lab=lab_cw is not None)
        yield result(False, alarm_diagnosis(live, params))
        return
    alarm_at = alarm.get("StateUpdatedTimestamp")
    yield ev(
        "alarm",
        "ok",
        f"ALARM at {hms(alarm_at)}: {alarm.get('StateReason', '')}",
        lab=lab_cw is not None,
    )

    # --- (d) the SNS message -------------------------------------------------------------------
    yield ev("notification", "running", "waiting for the alarm action (SNS publish)")
    sent = await _poll(
        clock,
        opts.notification_timeout_s,
        opts.poll_s,
        sleep,
        lambda: notification(ctx, params, start, lab_cw),
    )
    if isinstance(sent, Exception):
        yield result(False, f"could not read the alarm's actions: {sent}")
        return
    if sent is None or sent.get("failed"):
        why = sent.get("failed") if sent else ""
        yield ev(
            "notification",
            "timeout" if sent is None else "failed",
            why or "no SNS message",
            lab_cw is not None,
        )
        yield result(False, notification_diagnosis(live, params, why))
        return
    yield ev("notification", "ok", sent["detail"], lab=lab_cw is not None)
    pending = await pending_email(ctx, live.get("topic_arn"), lab_cw)
    if pending:
        yield ev("notification", "info", pending, lab=lab_cw is not None)
    yield result(
        True,
        "it fires: statement -> log event -> metric -> ALARM -> SNS message "
        + ("recorded by the lab" if lab_cw is not None else "published (confirmed by the alarm history)"),
    )


# ------------------------------------------------------------------ helpers


_STATEMENT_TEXT = re.compile(r"^\s*statement text=(.*?);?\s*$", re.MULTILINE)


def _statement_of(record: str) -> str:
    """Return the `statement text=` of an extracted audit record ("" when it has none)."""
    found = _STATEMENT_TEXT.search(record)
    return found.group(1) if found else ""


def _normal(text: str) -> str:
    return " ".join(text.lower().split())


def _lab_cloudwatch(cluster: Cluster, lab_session: Any) -> Any:
    if not cluster.lab or lab_session is None:
        return None
    return getattr(lab_session, "cloudwatch", None)


def _lab_agent(cluster: Cluster, lab_session: Any) -> Any:
    if not cluster.lab or lab_session is None:
        return None
    return (getattr(lab_session, "log_agents", None) or {}).get(cluster.name)


async def _lab_tracks(lab_cw: Any, alarm_name: str | None) -> bool | None:
    """Return True once the lab's evaluator tracks the alarm in a state other than ALARM, else None."""
    status = await asyncio.to_thread(lab_cw.status)
    state = status.get("alarms", {}).get(alarm_name)
    return True if state is not None and state != "ALARM" else None


async def _poll(clock: _Clock, stage_s: float, every_s: float, sleep, probe) -> Any:
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


async def _guarded(ctx: PlanContext, plan: str, work: Awaitable[Any], state: dict[str, Any]) -> Any:
    """Await `work` inside the write guard's scope (refused for a read-only cluster); keep its actions."""
    ctx.performed = []
    try:
        with guarded_run(ctx.cluster, plan, inventory_source=ctx.inventory_source):
            return await work
    except WriteRefused:
        if asyncio.iscoroutine(work):
            work.close()
        raise
    finally:
        state.setdefault("actions", []).extend(ctx.performed)


async def _reset_alarm(ctx: PlanContext, name: str) -> None:
    await ctx.aws_write(
        "cloudwatch",
        "SetAlarmState",
        AlarmName=name,
        StateValue="OK",
        StateReason="db2ops prove-it-fires: reset to OK before the test statement",
    )


def _script(params: MonitoringParams, statement: str) -> str:
    return f"CONNECT TO {params.database};\n{statement};\nCONNECT RESET;\n"


async def _run_statement(ctx: PlanContext, params: MonitoringParams, statement: str) -> tuple[str, str]:
    """Run the statement in one CLP session on the HADR primary; return (host, user). Raises StepFailed."""
    path = posixpath.join(params.instance_home or "/tmp", "dbaudit", "db2ops_prove_it_fires.sql")
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
        result = await ctx.write(host, ["db2", "-tvf", path], ok_exit=(0, 1, 2, 4, 8))
        codes = [c for c in sql_messages(result.stdout) if c.endswith(("N", "C"))]
        if not codes and result.exit_status < 4:
            return host.name, user
        refused.append(f"{host.name}: {', '.join(codes) or f'exit {result.exit_status}'}")
        if not any(c in ("SQL1776N", "SQL1032N", "SQL1024N") for c in codes):
            break  # the primary answered with a real error: do not try the standby
    raise StepFailed(
        f"no db host ran it ({'; '.join(refused)}); the statement must run on the HADR primary with the "
        f"database {params.database} active (`db2 ? SQLnnnn` explains a code)"
    )


async def _run_extract(ctx: PlanContext, params: MonitoringParams, host_name: str, state: dict) -> str:
    host: Host | None = next((h for h in ctx.cluster.db_hosts if h.name == host_name), None)
    if host is None or not params.script_path:
        return "waiting for the cron job to extract the audit log"
    try:
        await _guarded(ctx, PLAN_NAME, ctx.write(host, [params.script_path]), state)
    except Exception as exc:
        return f"the extract job did not run now ({exc}); waiting for cron ({params.cron_schedule})"
    return f"ran the extract job {params.script_path} on {host_name} now (no wait for cron)"


def _journal(ctx: PlanContext, ok: bool, detail: str, state: dict[str, Any]) -> None:
    actions = state.get("actions", [])
    if ctx.journal is None or not actions:
        return  # nothing was changed: nothing to journal
    try:
        ctx.journal.record(
            who=ctx.operator,
            cluster=ctx.cluster.name,
            plan=PLAN_NAME,
            run_id=utc_now_iso().replace(":", "").replace("-", "") + "-proof",
            step_id="test-statement",
            step_title="Prove it fires: the runbook's test statement, then watch the alarm chain",
            target=state.get("host", "primary"),
            result="verified" if ok else "failed",
            message=detail,
            actions=actions,
        )
    except OSError:
        pass  # the proof's outcome is on screen; a journal that cannot be written must not hide it


def with_timeouts(options: ProofOptions, total_s: float) -> ProofOptions:
    """Return `options` with the total time-out set to `total_s` (stage time-outs capped by it)."""
    return replace(options, total_timeout_s=total_s)
