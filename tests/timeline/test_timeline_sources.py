"""The timeline's own sources (services/timeline/sources.py): what is asked of CloudWatch on real AWS
(stubbed botocore clients: no network), incremental non-overlapping polls, the window reaching back to an
older journal step, and AWS errors (AccessDenied, a missing log group, no alarm history) as notes on the
header line while the other sources still show."""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import UTC, datetime
from types import SimpleNamespace

import boto3
from alarms.alarm_fixtures import client
from botocore.stub import Stubber
from corpus import CORPUS
from failover.screen_fixtures import ScreenApp
from textual.widgets import DataTable, Static

from screens.timeline import TimelineScreen, collect_from_app
from services.alarms.service import AlarmService, AlarmServiceError, AlarmView
from services.inventory.model import Cluster, Host
from services.logs.cloudwatch import CloudWatchLogs
from services.plans.journal import Journal
from services.status.events import StatusEvent
from services.status.model import Severity
from services.timeline.model import Timeline
from services.timeline.sources import DEFAULT_WINDOW_S, LATE_MS, LOG_PATTERN, TimelineSources
from timeline.lab_drill import ALARM, kill_primary, lab_alarms
from tui.widgets.header import ConsoleHeader

GROUP = "db2-diagnostics-logs"
STREAM = "Db2 - i-0aaa00000000000001"
TAKEOVER = (CORPUS / "db2diag" / "pcmk-takeover-01-info-nonforced.txt").read_text()
ERROR = (CORPUS / "db2diag" / "container-db2start-warning-event-error.txt").read_text().split("\n\n")[-1]
T_TAKEOVER = datetime(2023, 6, 10, 3, 26, 8, 204400, tzinfo=UTC).timestamp()  # -420 in the header
NOW = T_TAKEOVER + 60
PROD = Cluster(name="prod1", hosts=(Host("pcmk1", "10.0.0.1", instance_id="i-0aaa00000000000001"),))


def stubbed(service: str):
    c = boto3.client(
        service, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret"
    )
    return c, Stubber(c)


def event(message: str, ms: int, n: int) -> dict:
    return {"logStreamName": STREAM, "timestamp": ms, "message": message, "eventId": f"e{n}"}


class NoAlarms:
    calls = 0

    async def list_alarms(self):
        self.calls += 1
        return []


def reads(start_ms: int, **extra) -> dict:
    """FilterLogEvents as asked on AWS: the pattern, and only the cluster's stream that exists."""
    return {
        "logGroupName": GROUP,
        "filterPattern": LOG_PATTERN,
        "startTime": start_ms,
        "logStreamNames": [STREAM],
        **extra,
    }


def lists_streams(stub: Stubber, cluster: Cluster = PROD, existing: tuple[str, ...] = (STREAM,)) -> None:
    """DescribeLogStreams by prefix for each candidate stream of `cluster` (both styles), `existing` found:
    FilterLogEvents refuses a logStreamNames entry that does not exist, so the timeline asks first."""
    from services.logs.streams import stream_map

    for name in stream_map(cluster).names:
        found = [{"logStreamName": name}] if name in existing else []
        expected = {"logGroupName": GROUP, "logStreamNamePrefix": name, "limit": 50}
        stub.add_response("describe_log_streams", {"logStreams": found}, expected)


async def test_on_aws_the_pattern_narrows_pages_are_followed_and_polls_neither_overlap_nor_repeat():
    logs, stub = stubbed("logs")
    start = int((NOW - DEFAULT_WINDOW_S) * 1000)
    ms = int(T_TAKEOVER * 1000)
    lists_streams(stub)
    stub.add_response(
        "filter_log_events", {"events": [event(TAKEOVER, ms, 1)], "nextToken": "page2"}, reads(start)
    )
    stub.add_response(
        "filter_log_events", {"events": [event(ERROR, ms + 5, 2)]}, reads(start, nextToken="page2")
    )
    # Later polls start LATE_MS before the previous poll's time: the same record again is no new entry.
    stub.add_response(
        "filter_log_events", {"events": [event(TAKEOVER, ms, 1)]}, reads(int(NOW * 1000) - LATE_MS)
    )
    now = [NOW]
    tl = Timeline("prod1")
    alarms = NoAlarms()
    sources = TimelineSources(
        PROD,
        tl,
        logs=CloudWatchLogs.for_cluster(PROD, client=logs),
        alarms=alarms,  # type: ignore[arg-type]
        clock=lambda: now[0],
    )
    with stub:
        first, second = await asyncio.gather(sources.poll(), sources.poll())  # asked twice at once: one read
        assert first == second == 2 and alarms.calls == 1
        now[0] = NOW + 2
        assert await sources.poll() == 0  # not due yet: nothing is asked of AWS
        now[0] = NOW + 10
        assert await sources.poll() == 0
        stub.assert_no_pending_responses()
    assert [e.title for e in tl.entries()] == [
        "db2diag Info on pcmk1: db2hadrp.0.1 hdrPriTkHandleInitialRequest: Primary has started non-forced "
        "takeover request.",
        "db2diag Error on pcmk1: db2bp sqleriar_database: ZRC=0x8005006D=-2147155859=SQLE_CA_BUILT "
        '"SQLCA has been built and saved in component specific control block."',
    ]
    assert sources.notes == {}


async def test_an_older_journal_step_makes_the_next_poll_read_back_to_it_once():
    logs, stub = stubbed("logs")
    start = int((NOW - DEFAULT_WINDOW_S) * 1000)
    lists_streams(stub)
    stub.add_response("filter_log_events", {"events": []}, reads(start))
    older = float(int(NOW - 5 * 3600))  # the journal stamps whole seconds
    back = {"startTime": int(older * 1000), "endTime": start + LATE_MS}
    stub.add_response("filter_log_events", {"events": []}, {**reads(0), **back})
    stub.add_response("filter_log_events", {"events": []}, reads(int(NOW * 1000) - LATE_MS))
    stub.add_response("filter_log_events", {"events": []}, reads(int((NOW + 10) * 1000) - LATE_MS))
    now = [NOW]
    tl = Timeline("prod1")
    sources = TimelineSources(
        PROD,
        tl,
        logs=CloudWatchLogs.for_cluster(PROD, client=logs),
        alarms=NoAlarms(),  # type: ignore[arg-type]
        clock=lambda: now[0],
    )
    with stub:
        await sources.poll(force=True)
        stamp = datetime.fromtimestamp(older, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        tl.add_journal([SimpleNamespace(**_journal_step(stamp))])
        now[0] = NOW + 10
        await sources.poll(force=True)  # back to the step, then on from the last poll
        now[0] = NOW + 20
        await sources.poll(force=True)  # the back read is not repeated
        stub.assert_no_pending_responses()
    assert sources.notes == {}


def _journal_step(when: str) -> dict:
    return dict(
        cluster="prod1",
        when=when,
        plan="failover",
        run_id="R1",
        step_id="takeover",
        step_title="Takeover HADR on db2b",
        target="db2b",
        result="verified",
        who="dba",
        message="",
        actions=(),
    )


async def test_access_denied_on_the_log_group_is_a_note_and_the_labs_alarm_still_shows(drill_lab):
    state, cluster, agent, evaluator = drill_lab
    await kill_primary(state, agent, evaluator)
    logs, stub = stubbed("logs")
    lists_streams(stub, cluster, existing=tuple(f"Db2 - {h.instance_id}" for h in cluster.db_hosts))
    stub.add_client_error(
        "filter_log_events",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:iam::123456789012:user/dba is not authorized to perform: "
        "logs:FilterLogEvents on resource: arn:aws:logs:us-east-1:123456789012:log-group:db2-diagnostics-logs",
        http_status_code=400,
    )
    tl = Timeline("lab1")
    logs_service = CloudWatchLogs.for_cluster(cluster, client=logs)
    sources = TimelineSources(cluster, tl, logs=logs_service, alarms=lab_alarms(cluster, evaluator))
    with stub:
        await sources.poll(force=True)
    assert sources.notes == {
        "logs": "AWS denied logs:FilterLogEvents (AccessDeniedException): the IAM identity in use is missing the "
        "permission logs:FilterLogEvents; add it to its policy (scoped to the resource) or use a profile that has it"
    }
    assert [e.title for e in tl.entries()] == [
        f"alarm {ALARM}: Alarm updated from INSUFFICIENT_DATA to ALARM"
    ]


async def test_missing_log_group_and_denied_alarms_show_on_the_header_and_the_rest_still_shows(aws, tmp_path):
    cluster = Cluster(name="lab1", hosts=(Host("db2a", "127.0.0.1"),), aws=aws, lab=True)  # moto: no groups
    cw, stub = stubbed("cloudwatch")
    stub.add_client_error(
        "describe_alarms",
        service_error_code="AccessDenied",
        service_message="User: arn:aws:iam::123456789012:user/dba is not authorized to perform: "
        "cloudwatch:DescribeAlarms",
        http_status_code=403,
    )
    alarms = AlarmService(cluster, client_factory=lambda s: cw if s == "cloudwatch" else client(aws, s))
    tl = Timeline("lab1")
    sources = TimelineSources(cluster, tl, alarms=alarms)
    journal = Journal(tmp_path / "journal")
    journal.record(
        who="dba", cluster="lab1", plan="failover", run_id="R1", step_id="takeover",
        step_title="Takeover HADR on db2b", target="db2b", result="verified",
    )  # fmt: skip
    event = StatusEvent(
        NOW, "lab1", "promoted_changed", "promoted node changed: db2a -> db2b", Severity.WARNING
    )
    app = SimpleNamespace(feed=lambda name: SimpleNamespace(events=deque([event])), screen_stack=[])

    async def collect(logs: bool) -> None:
        await collect_from_app(app, cluster, tl, logs=logs, journal=journal, sources=sources)

    screen = TimelineScreen(cluster, tl, collect=collect, notes=lambda: sources.notes, poll_interval=0)
    with stub:
        async with ScreenApp(screen).run_test(size=(200, 30)) as pilot:
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            header = str(screen.query_one(ConsoleHeader).render())
            notes = screen.query_one("#tl-notes", Static)
            shown = notes.display and notes.region.height
            text = str(notes.render())
            table = screen.query_one(DataTable)
            rows = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
    # the header names the incomplete sources within its width; each hint is in full above the table
    assert "⚠ incomplete: alarms, logs" in header and "READ-ONLY" in header
    assert shown >= 2  # each on its own line (a long one wraps)
    assert text.splitlines() == [
        "⚠ alarms: AWS denied cloudwatch:DescribeAlarms (AccessDenied): the IAM identity in use is missing "
        "the permission cloudwatch:DescribeAlarms; add it to its policy (scoped to the resource) or use a "
        "profile that has it",
        "⚠ logs: log group db2-diagnostics-logs not found: check aws.diag_log_group in the inventory, or run "
        "the monitoring setup that creates it",
    ]
    assert sorted(rows) == ["journal", "status"]


async def test_without_alarm_history_the_states_seen_show_and_other_clusters_alarms_do_not():
    def view(name: str, state: str, group: str = "") -> AlarmView:
        return AlarmView(
            name, state, datetime.fromtimestamp(NOW - 30, UTC), "Threshold Crossed", True, "Db2ops/Diag",
            "DiagSevere", 60, "Sum", 1.0, "GreaterThanOrEqualToThreshold", "notBreaching", log_group=group,
        )  # fmt: skip

    class NoHistory:
        history_calls = 0

        async def list_alarms(self):
            return [
                view("db2ops-prod1-diag-severe", "ALARM"),
                view("runbook-diag-severe", "ALARM", GROUP),  # not named for us, but on our log group
                view("db2ops-lab2-diag-severe", "ALARM", "lab2-diag"),
            ]

        async def alarm_history(self, name):
            self.history_calls += 1
            raise AlarmServiceError(
                "this AWS endpoint (moto) does not implement DescribeAlarmHistory (HTTP 500)"
            )

    logs, stub = stubbed("logs")
    lists_streams(stub)
    stub.add_response("filter_log_events", {"events": []})
    stub.add_response("filter_log_events", {"events": []})
    alarms = NoHistory()
    tl = Timeline("prod1")
    sources = TimelineSources(
        PROD,
        tl,
        logs=CloudWatchLogs.for_cluster(PROD, client=logs),
        alarms=alarms,
        clock=lambda: NOW,  # type: ignore[arg-type]
    )
    with stub:
        await sources.poll(force=True)
        await sources.poll(force=True)  # unchanged alarms: no history asked again
    assert [e.title for e in tl.entries()] == [
        "alarm db2ops-prod1-diag-severe: ALARM",
        "alarm runbook-diag-severe: ALARM",
    ]
    assert alarms.history_calls == 1  # after a failure the alarm list's states stand in for a while
    assert sources.note_text() == (
        "alarms: no alarm history, showing the state changes seen (this AWS endpoint (moto) does not "
        "implement DescribeAlarmHistory (HTTP 500))"
    )


async def test_before_the_agent_made_a_stream_nothing_is_read_and_the_window_waits_for_it():
    logs, stub = stubbed("logs")
    start = int((NOW - DEFAULT_WINDOW_S) * 1000)
    lists_streams(stub, existing=())  # neither name exists yet: FilterLogEvents is not called at all
    lists_streams(stub)  # a minute later the agent's stream is there
    ms = int(T_TAKEOVER * 1000)
    stub.add_response("filter_log_events", {"events": [event(TAKEOVER, ms, 1)]}, reads(start))
    now = [NOW]
    tl = Timeline("prod1")
    service = CloudWatchLogs.for_cluster(PROD, client=logs)
    sources = TimelineSources(PROD, tl, logs=service, alarms=NoAlarms(), clock=lambda: now[0])  # type: ignore[arg-type]
    with stub:
        assert await sources.poll(force=True) == 0
        assert sources.notes["logs"] == (
            "no log stream of pcmk1 in db2-diagnostics-logs yet (looked for Db2 - i-0aaa00000000000001, "
            "i-0aaa00000000000001): check the CloudWatch agent on the hosts, or run setup monitoring"
        )
        service.scope.forget()  # the scope's minute is up
        now[0] = NOW + 60
        assert await sources.poll(force=True) == 1  # read from the window's start, not from a minute ago
        stub.assert_no_pending_responses()
    assert "logs" not in sources.notes
