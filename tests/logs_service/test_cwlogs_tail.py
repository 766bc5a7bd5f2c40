"""LogTail: history, polling once a second (dedup by eventId), Live Tail in a worker thread, the switch
to polling when Live Tail is refused or closes at once (moto), sampled flag, 3-hour restart."""

import asyncio
import threading
import time
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError
from cwlogs_helpers import put

from services.inventory.model import AwsSettings
from services.logs.tail import LogTail, group_arns

STREAM = "Db2 - i-0abc"


async def wait_for(predicate, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        await asyncio.sleep(0.02)


class LiveTailOverMoto:
    """The real moto client, with start_live_tail replaced by a scripted session (moto 5.2.1 has none)."""

    def __init__(self, client, sessions):
        self._client = client
        self.sessions = list(sessions)
        self.calls: list[dict] = []

    def __getattr__(self, name):
        return getattr(self._client, name)

    def start_live_tail(self, **kwargs):
        self.calls.append(kwargs)
        session = self.sessions.pop(0) if len(self.sessions) > 1 else self.sessions[0]
        if isinstance(session, Exception):
            raise session
        return {"responseStream": session()}


class ScriptedStream:
    """Yields `events`; then ends (`hold=False`) or blocks until close() (a live session)."""

    def __init__(self, events, hold=False, error=None):
        self.events = events
        self.hold = hold
        self.error = error
        self.closed = threading.Event()

    def __iter__(self):
        yield from self.events
        if self.error is not None:
            raise self.error
        if self.hold:
            self.closed.wait(30)

    def close(self):
        self.closed.set()


def collect():
    events, statuses = [], []
    return events, statuses, (lambda batch: events.extend(batch)), statuses.append


def now_ms():
    return int(time.time() * 1000)


async def test_history_then_polling_picks_up_new_events_once(aws, logs):
    put(logs, aws.diag_log_group, STREAM, [(now_ms() - 60_000, "old one"), (now_ms() - 30_000, "old two")])
    events, statuses, on_events, on_status = collect()
    tail = LogTail(
        logs, [aws.diag_log_group], on_events, on_status, prefer_live_tail=False, poll_interval_s=0.05
    )
    tail.start()
    await wait_for(lambda: len(events) == 2)
    assert tail.status.mode == "polling" and "Live Tail not requested" in tail.status.reason
    put(logs, aws.diag_log_group, STREAM, [(now_ms(), "new three")])
    await wait_for(lambda: len(events) == 3)
    await asyncio.sleep(0.3)  # several more polls re-read the 5 s lookback window
    await tail.stop()
    assert [e["message"] for e in events] == ["old one", "old two", "new three"]
    assert len({e["eventId"] for e in events}) == 3
    assert all(e["logGroupName"] == aws.diag_log_group and e["logStreamName"] == STREAM for e in events)
    assert tail.status.mode == "stopped"


async def test_live_tail_refused_with_http_500_falls_back_to_polling(aws, logs):
    put(logs, aws.audit_log_group, STREAM, [(now_ms(), "audit")])
    refused = ClientError(
        {"Error": {"Code": "500", "Message": "<html>"}, "ResponseMetadata": {"HTTPStatusCode": 500}},
        "StartLiveTail",
    )
    client = LiveTailOverMoto(logs, [refused])
    events, statuses, on_events, on_status = collect()
    tail = LogTail(client, [aws.audit_log_group], on_events, on_status, poll_interval_s=0.05)
    tail.start()
    await wait_for(lambda: "unavailable" in tail.status.reason)
    assert tail.status.mode == "polling"
    assert "HTTP 500: StartLiveTail is not implemented there" in tail.status.reason
    assert client.calls[0]["logGroupIdentifiers"] == [
        f"arn:aws:logs:us-east-1:123456789012:log-group:{aws.audit_log_group}"
    ]
    put(logs, aws.audit_log_group, STREAM, [(now_ms() + 1, "later")])
    await wait_for(lambda: len(events) == 2)
    await tail.stop()


async def test_access_denied_is_named_in_the_reason(aws, logs):
    put(logs, aws.diag_log_group, STREAM, [(now_ms(), "x")])
    denied = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, "StartLiveTail")
    tail = LogTail(
        LiveTailOverMoto(logs, [denied]), [aws.diag_log_group], lambda b: None, poll_interval_s=0.05
    )
    tail.start()
    await wait_for(lambda: "unavailable" in tail.status.reason)
    assert "needs logs:StartLiveTail" in tail.status.reason
    await tail.stop()


async def test_moto_like_stream_that_closes_at_once_switches_to_polling(aws, logs):
    ts = now_ms()
    put(logs, aws.diag_log_group, STREAM, [(ts, "stored")])
    arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{aws.diag_log_group}"
    stored = {"logGroupIdentifier": arn, "logStreamName": STREAM, "timestamp": ts, "message": "stored"}

    def session():
        update = {"sessionMetadata": {"sampled": False}, "sessionResults": [stored]}
        return ScriptedStream([{"sessionStart": {}}, {"sessionUpdate": update}])

    client = LiveTailOverMoto(logs, [session])
    events, statuses, on_events, on_status = collect()
    tail = LogTail(client, [aws.diag_log_group], on_events, on_status, poll_interval_s=0.05)
    tail.start()
    await wait_for(lambda: "closed after" in tail.status.reason)
    assert tail.status.mode == "polling"
    assert "live-tail" in [s.mode for s in statuses]  # it was live for a moment
    assert "moto does this" in tail.status.reason
    assert len(client.calls) == 1
    put(logs, aws.diag_log_group, STREAM, [(ts + 5, "after close")])
    await wait_for(lambda: len(events) == 2)
    await tail.stop()
    # the stored event arrived by history, by the Live Tail update and by polling: delivered once
    assert [e["message"] for e in events] == ["stored", "after close"]


async def test_live_session_delivers_updates_and_surfaces_sampling(aws, logs):
    put(logs, aws.diag_log_group, STREAM, [(now_ms() - 1000, "before")])
    arn = f"arn:aws:logs:us-east-1:123456789012:log-group:{aws.diag_log_group}"
    live = {"logGroupIdentifier": arn, "logStreamName": STREAM, "timestamp": now_ms(), "message": "live one"}
    stream = ScriptedStream(
        [
            {"sessionStart": {}},
            {"sessionUpdate": {"sessionMetadata": {"sampled": True}, "sessionResults": [live]}},
        ],
        hold=True,
    )
    events, statuses, on_events, on_status = collect()
    tail = LogTail(LiveTailOverMoto(logs, [lambda: stream]), [aws.diag_log_group], on_events, on_status)
    tail.start()
    await wait_for(lambda: len(events) == 2 and tail.status.sampled)
    assert tail.status.mode == "live-tail"
    assert events[1]["message"] == "live one" and events[1]["logGroupName"] == aws.diag_log_group
    await tail.stop()
    assert stream.closed.is_set() and tail.status.mode == "stopped"


async def test_session_timeout_restarts_live_tail(aws, logs):
    put(logs, aws.diag_log_group, STREAM, [(now_ms(), "x")])

    class SessionTimeout(Exception):
        code = "SessionTimeoutException"

    first = ScriptedStream([{"sessionStart": {}}], error=SessionTimeout("3 hours"))
    second = ScriptedStream([{"sessionStart": {}}], hold=True)
    client = LiveTailOverMoto(logs, [lambda: first, lambda: second])
    events, statuses, on_events, on_status = collect()
    tail = LogTail(client, [aws.diag_log_group], on_events, on_status)
    tail.start()
    await wait_for(lambda: len(client.calls) == 2 and tail.status.mode == "live-tail")
    assert any("3-hour limit" in s.reason for s in statuses)
    await tail.stop()


async def test_lab_filter_pattern_is_evaluated_by_db2ops(aws, logs):
    put(
        logs,
        aws.audit_log_group,
        STREAM,
        [(now_ms(), "object=WORKER authid=APPUSR"), (now_ms() + 1, "object=WORKER authid=DB2INST1")],
    )
    events, statuses, on_events, on_status = collect()
    tail = LogTail(
        logs,
        [aws.audit_log_group],
        on_events,
        on_status,
        prefer_live_tail=False,
        filter_pattern="WORKER -APPUSR",
        local_filter=True,
        poll_interval_s=0.05,
    )
    tail.start()
    await wait_for(lambda: len(events) == 1)
    await asyncio.sleep(0.2)
    await tail.stop()
    assert [e["message"] for e in events] == ["object=WORKER authid=DB2INST1"]
    assert tail.status.filter_by == "db2ops (lab: moto lacks this)"


def test_group_arns_names_missing_groups(aws, logs):
    put(logs, aws.diag_log_group, STREAM, [(now_ms(), "x")])
    assert group_arns(logs, [aws.diag_log_group]) == {
        aws.diag_log_group: f"arn:aws:logs:us-east-1:123456789012:log-group:{aws.diag_log_group}"
    }
    with pytest.raises(ValueError, match="db2-db-worker-audit-log not found"):
        group_arns(logs, [aws.diag_log_group, aws.audit_log_group])


def test_live_tail_takes_at_most_ten_groups():
    with pytest.raises(ValueError, match="at most 10"):
        LogTail(object(), [f"g{i}" for i in range(11)], lambda b: None)


async def test_unreadable_group_stops_with_an_error(aws, logs):
    tail = LogTail(logs, ["no-such-group"], lambda b: None, prefer_live_tail=False)
    tail.start()
    await wait_for(lambda: tail.status.error is not None)
    assert tail.status.mode == "stopped" and "could not read" in tail.status.reason
    await tail.stop()


@pytest.fixture
def missing_profile(monkeypatch, tmp_path):
    """Settings naming an AWS profile that is not configured (endpoint on 127.0.0.1: never real AWS)."""
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    from services import aws_clients

    aws_clients.clear_client_cache()
    yield AwsSettings(endpoint_url="http://127.0.0.1:9", profile="db2ops-no-such-profile")
    aws_clients.clear_client_cache()


async def test_a_missing_profile_stops_the_feed_with_the_fix_instead_of_raising(missing_profile):
    # CloudWatchLogs.tail() used to build the boto3 client on the event loop: the log screen's on_mount
    # raised ProfileNotFound (a traceback) and, with a working profile, blocked on the credential chain.
    from services.logs.cloudwatch import CloudWatchLogs

    statuses = []
    tail = CloudWatchLogs(missing_profile).tail(lambda entries: None, statuses.append)
    await asyncio.wait_for(tail.start(), 10)
    assert statuses[-1].mode == "stopped"
    assert "AWS profile 'db2ops-no-such-profile' is not configured" in statuses[-1].error
    assert "aws configure --profile db2ops-no-such-profile" in statuses[-1].error


async def test_insights_with_a_missing_profile_is_an_insights_error(missing_profile):
    from services.logs.cloudwatch import CloudWatchLogs, parse_time_range
    from services.logs.insights import InsightsError

    now = datetime.now(UTC)
    with pytest.raises(InsightsError, match="AWS profile 'db2ops-no-such-profile' is not configured"):
        await CloudWatchLogs(missing_profile).insights("fields @message", parse_time_range("1h", now))
