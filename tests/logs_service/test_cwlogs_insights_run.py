"""Logs Insights runs: statuses, backoff, failures and errors (fake client where moto cannot produce
them), and the lab path against moto where db2ops evaluates the query itself."""

import asyncio
import time
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError
from cwlogs_helpers import put

from lab.insights_local import LAB_EVALUATOR, LabInsights
from services.inventory.model import Cluster
from services.logs.cloudwatch import CloudWatchLogs
from services.logs.insights import InsightsError, TimeRange, preset, run_query
from tui.backends import insights_engine_for

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
RANGE = TimeRange(NOW - timedelta(hours=1), NOW, "last 1h")


def client_error(code: str, message: str = "", op: str = "StartQuery") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, op)


class FakeInsights:
    """start_query/get_query_results/stop_query with scripted statuses."""

    def __init__(self, statuses, rows=(), start_error=None, stop_error=None):
        self.statuses = list(statuses)
        self.rows = rows
        self.start_error = start_error
        self.stop_error = stop_error
        self.started: dict = {}
        self.stopped: list[str] = []
        self.polls = 0

    def start_query(self, **kwargs):
        if self.start_error:
            raise self.start_error
        self.started = kwargs
        return {"queryId": "q-1"}

    def get_query_results(self, queryId):
        self.polls += 1
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        results = (
            [[{"field": k, "value": v} for k, v in row.items()] for row in self.rows]
            if status == "Complete"
            else []
        )
        return {"status": status, "results": results, "statistics": {"recordsMatched": float(len(self.rows))}}

    def stop_query(self, queryId):
        self.stopped.append(queryId)
        if self.stop_error:
            raise self.stop_error
        return {"success": True}


async def test_statuses_are_reported_in_order_and_polling_backs_off():
    client = FakeInsights(
        ["Scheduled", "Running", "Running", "Complete"],
        rows=[{"@timestamp": "2026-11-26 11:59:00.000", "@message": "m", "@ptr": "p"}],
    )
    sleeps: list[float] = []
    seen: list[str] = []

    async def fake_sleep(s):
        sleeps.append(s)

    result = await run_query(client, ["g"], "fields @message", RANGE, on_status=seen.append, sleep=fake_sleep)
    assert seen == ["Scheduled", "Running", "Complete"]
    assert sleeps == [0.5, 0.75, 1.125]
    assert result.status == "Complete" and result.evaluated_by is None
    assert result.rows == ({"@timestamp": "2026-11-26 11:59:00.000", "@message": "m"},)  # @ptr dropped
    assert client.started["queryString"] == "fields @message" and client.started["limit"] == 10_000
    assert client.started["startTime"] == int(RANGE.start.timestamp())


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("Failed", "query failed"),
        ("Cancelled", "cancelled"),
        ("Timeout", "60 minutes"),
        ("Unknown", "unknown status"),
    ],
)
async def test_failure_statuses_end_with_a_message(status, words):
    client = FakeInsights(["Running", status])
    result = await run_query(client, ["g"], "fields @message", RANGE, sleep=lambda s: asyncio.sleep(0))
    assert result.status == status and words in result.message and result.rows == ()


async def test_malformed_query_is_explained():
    client = FakeInsights(
        ["Complete"],
        start_error=client_error("MalformedQueryException", "unexpected symbol found | at line 1"),
    )
    with pytest.raises(InsightsError, match="rejected the query: unexpected symbol.*Fix the syntax"):
        await run_query(client, ["g"], "fields | |", RANGE)


async def test_concurrency_limit_is_explained():
    client = FakeInsights(["Complete"], start_error=client_error("LimitExceededException", "too many"))
    with pytest.raises(
        InsightsError, match="too many Logs Insights queries are running.*then run this one again"
    ):
        await run_query(client, ["g"], "fields @message", RANGE)


async def test_missing_log_group_is_explained():
    client = FakeInsights(
        ["Complete"], start_error=client_error("ResourceNotFoundException", "Log group 'x' does not exist")
    )
    with pytest.raises(InsightsError, match="log group not found"):
        await run_query(client, ["x"], "fields @message", RANGE)


async def test_cancel_sends_stop_query_even_when_the_endpoint_lacks_it():
    client = FakeInsights(["Running"], stop_error=client_error("500", "not implemented", "StopQuery"))
    task = asyncio.create_task(
        run_query(client, ["g"], "fields @message", RANGE, sleep=lambda s: asyncio.sleep(10))
    )
    while client.polls == 0:
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert client.stopped == ["q-1"]


async def test_client_side_timeout_stops_the_query():
    client = FakeInsights(["Running"])
    result = await run_query(client, ["g"], "x", RANGE, timeout_s=1.0, sleep=lambda s: asyncio.sleep(0))
    assert result.status == "Timeout" and client.stopped == ["q-1"]


async def test_lab_rejects_a_malformed_query_before_calling_moto():
    client = FakeInsights(["Complete"])
    with pytest.raises(InsightsError, match="cannot run"):
        await run_query(client, ["g"], "filter @message like /x", RANGE, engine=LabInsights())
    assert client.started == {}


async def test_the_lab_evaluation_of_10k_rows_runs_off_the_event_loop(monkeypatch):
    # db2ops' own Insights evaluator (lab) ran on the event loop: a slow regex over 10,000 rows froze the UI.
    import threading

    from lab import insights_local

    threads = []
    real = insights_local.evaluate

    def spy(query, rows):
        threads.append(threading.current_thread())
        return real(query, rows)

    monkeypatch.setattr(insights_local, "evaluate", spy)
    client = FakeInsights(["Complete"], rows=[{"@timestamp": "1795700000000", "@message": "LEVEL: Error"}])
    result = await run_query(client, ["g"], "fields @message | limit 5", RANGE, engine=LabInsights())
    assert len(result.rows) == 1
    assert threads[0] is threading.main_thread()  # the syntax check before start_query: no rows, instant
    assert threads[-1] is not threading.main_thread()  # the rows


@pytest.mark.parametrize("engine", [LabInsights(), None])
async def test_an_empty_query_says_what_to_type_and_never_starts(engine):
    # The lab used to answer "empty command between `|`: remove the extra `|`" to an empty query box.
    client = FakeInsights(["Complete"])
    with pytest.raises(InsightsError, match=r"^the query is empty: pick a preset or type a query"):
        await run_query(client, ["g"], "  \n", RANGE, engine=engine)
    assert client.started == {}


async def test_presets_against_moto_are_evaluated_by_db2ops(aws, logs):
    now_ms = int(time.time() * 1000)
    diag = [
        (now_ms - 3000, "2026-11-26-10.00.00.000000+000 I1E100           LEVEL: Error\nMESSAGE : boom"),
        (
            now_ms - 2000,
            "2026-11-26-10.00.01.000000+000 I2E100           LEVEL: Info\nMESSAGE : ERROR word only",
        ),
        (
            now_ms - 1000,
            "2026-11-26-10.00.02.000000+000 E3E100           LEVEL: Event\nSTART   : Received TAKEOVER HADR command.",
        ),
    ]
    put(logs, aws.diag_log_group, "Db2 - i-1", diag)
    # the engine the composition root picks for a cluster whose AWS is the lab's moto
    service = CloudWatchLogs(
        aws, insights_engine=insights_engine_for(Cluster(name="lab1", aws=aws, lab=True))
    )
    window = TimeRange(
        datetime.now(UTC) - timedelta(minutes=5), datetime.now(UTC) + timedelta(minutes=1), "5m"
    )
    seen: list[str] = []
    errors = await service.insights(preset("errors"), window, on_status=seen.append)
    assert seen == ["Scheduled", "Complete"]  # moto runs queries synchronously
    assert errors.evaluated_by == LAB_EVALUATOR
    assert [r["level"] for r in errors.rows] == ["Error"]
    takeover = await service.insights(preset("takeover"), window)
    assert len(takeover.rows) == 1
    per5m = await service.insights(preset("per5m"), window)
    assert sum(int(r["count(*)"]) for r in per5m.rows) == 3
    entries = service.result_entries(errors, "diag")
    assert [e.level for e in entries] == ["Error"]


async def test_a_range_ending_now_includes_the_events_of_its_last_partial_second(aws, logs):
    # StartQuery takes whole seconds: an end of 12:00:05.900 sent as 12:00:05 left out an event stamped
    # 12:00:05.300, the takeover the DBA had just seen on the status screen.
    end = datetime.now(UTC).replace(microsecond=900_000)
    stamp_ms = int(end.replace(microsecond=300_000).timestamp() * 1000)
    takeover = "2026-11-26-10.00.02.000000+000 E3E100           LEVEL: Event\nSTART   : Received TAKEOVER HADR command."
    put(logs, aws.diag_log_group, "Db2 - i-1", [(stamp_ms, takeover)])
    result = await CloudWatchLogs(aws, insights_engine=LabInsights()).insights(
        preset("takeover"), TimeRange(end - timedelta(minutes=15), end, "15m")
    )
    assert len(result.rows) == 1, result
    client = FakeInsights(["Complete"])
    await run_query(client, ["g"], "fields @message", TimeRange(end - timedelta(minutes=15), end, "15m"))
    assert client.started["endTime"] == int(end.timestamp()) + 1
