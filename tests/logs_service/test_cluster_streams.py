"""This cluster only: the stream -> host map (both stream styles, unknown streams marked), the stream scope
as AWS takes it (FilterLogEvents logStreamNames, Insights `filter @logStream in [...]`), and, with three lab
clusters writing into the same log groups, the log service and `db2ops logs` returning lab2's records only."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError
from shared_log_groups import shared_groups

from lab.insights_local import LabInsights, evaluate
from services.inventory.model import Cluster, Host
from services.logs.cloudwatch import CloudWatchLogs
from services.logs.insights import parse_time_range, preset
from services.logs.streams import StreamScope, expand_template, read_events, stream_map
from tui.cli import main

CLUSTER = Cluster(
    name="prod1",
    hosts=(
        Host("db2a", "10.0.0.1", instance_id="i-0aaa"),
        Host("db2b", "10.0.0.2", instance_id="i-0bbb"),
        Host("qdev", "10.0.0.3", role="qdevice"),
    ),
)


def test_the_stream_map_names_both_styles_and_marks_an_unknown_stream() -> None:
    streams = stream_map(CLUSTER)
    assert streams.hosts == {
        "i-0aaa": "db2a",  # what setup monitoring writes ({instance_id}, the agent's default)
        "Db2 - i-0aaa": "db2a",  # what the runbook's agent config writes
        "i-0bbb": "db2b",
        "Db2 - i-0bbb": "db2b",
    }
    assert streams.label("Db2 - i-0bbb") == "db2b" and streams.host_of("i-0aaa") == "db2a"
    # another cluster's host, or a stream name no template gives: the raw name, marked
    assert streams.label("Db2 - i-0ccc") == "?Db2 - i-0ccc" and streams.host_of("i-0ccc") is None
    assert streams.keeps("i-0aaa") and not streams.keeps("i-0aaa-app")
    assert streams.scoped and streams.unmapped == ()


def test_a_cluster_without_instance_ids_reads_the_whole_group_and_says_so() -> None:
    bare = Cluster(name="old", hosts=(Host("db2a", "10.0.0.1"),))
    streams = stream_map(bare)
    assert not streams.scoped and streams.unmapped == ("db2a",) and streams.keeps("anything")
    assert streams.insights_filter() == "" and streams.scope_query("fields @message") == "fields @message"
    assert "no host of old has an instance_id" in streams.describe()


def test_templates_fill_the_agents_placeholders_the_inventory_knows() -> None:
    assert expand_template("{hostname}/{instance_id}", "i-1", "db2a") == "db2a/i-1"
    assert expand_template("{ip_address}", "i-1", "db2a") is None  # the inventory cannot tell: not guessed


def test_every_insights_query_is_scoped_with_escaped_stream_names() -> None:
    odd = Cluster(name="c", hosts=(Host("db2a", "x", instance_id='i-"q\\'),))
    streams = stream_map(odd)
    query = streams.scope_query(preset("per5m").query)
    assert query == 'filter @logStream in ["Db2 - i-\\"q\\\\", "i-\\"q\\\\"]\n| stats count(*) by bin(5m)'
    rows = [
        {"@logStream": 'i-"q\\', "@timestamp": 60_000, "@message": "mine"},
        {"@logStream": "i-other", "@timestamp": 60_000, "@message": "theirs"},
    ]
    _, kept = evaluate(streams.scope_query("fields @message"), rows)  # the lab's evaluator reads it back
    assert kept == [{"@message": "mine"}]


class FakeLogs:
    """DescribeLogStreams / FilterLogEvents as AWS answers them, recording what was asked."""

    def __init__(self, streams: dict[str, list[dict]]) -> None:
        self.streams = streams
        self.asked: list[dict] = []

    def describe_log_streams(self, **kw):
        names = [n for n in self.streams if n.startswith(kw["logStreamNamePrefix"])]
        return {"logStreams": [{"logStreamName": n} for n in names]}

    def filter_log_events(self, **kw):
        self.asked.append(kw)
        missing = [n for n in kw.get("logStreamNames", []) if n not in self.streams]
        if missing:
            error = {
                "Code": "ResourceNotFoundException",
                "Message": "The specified log stream does not exist.",
            }
            raise ClientError({"Error": error}, "FilterLogEvents")
        names = kw.get("logStreamNames") or list(self.streams)
        return {"events": [dict(e, logStreamName=n) for n in names for e in self.streams[n]]}


def test_filter_log_events_asks_for_the_existing_streams_of_the_cluster_only() -> None:
    client = FakeLogs(
        {"i-0aaa": [{"message": "a", "timestamp": 1}], "Db2 - i-0zzz": [{"message": "z", "timestamp": 2}]}
    )
    scope = StreamScope(stream_map(CLUSTER))
    events = read_events(client, scope, "g", {"startTime": 0})
    assert [e["message"] for e in events] == ["a"]
    assert client.asked == [{"logGroupName": "g", "startTime": 0, "logStreamNames": ["i-0aaa"]}]


def test_a_stream_deleted_since_it_was_listed_is_listed_again_once() -> None:
    client = FakeLogs({"i-0aaa": [{"message": "a", "timestamp": 1}], "i-0bbb": []})
    scope = StreamScope(stream_map(CLUSTER))
    assert scope.existing(client, "g") == ("i-0aaa", "i-0bbb")
    del client.streams["i-0bbb"]  # the agent's stream went away (retention, a hand clean-up)
    assert [e["message"] for e in read_events(client, scope, "g", {"startTime": 0})] == ["a"]
    assert [a["logStreamNames"] for a in client.asked] == [["i-0aaa", "i-0bbb"], ["i-0aaa"]]


def test_no_stream_of_the_cluster_yet_reads_nothing_rather_than_every_stream() -> None:
    client = FakeLogs({"Db2 - i-0zzz": [{"message": "z", "timestamp": 2}]})
    assert read_events(client, StreamScope(stream_map(CLUSTER)), "g", {"startTime": 0}) == []
    assert client.asked == []  # an empty logStreamNames is refused by AWS and means "all" to moto


# ---------------------------------------------------------------------- three lab clusters, one set of groups
@pytest.fixture
def three(aws):
    shared = shared_groups(aws)
    yield shared
    shared.stop()


def test_the_lab_moto_answers_stream_parameters_as_aws_does(three, logs) -> None:
    group = three.aws.diag_log_group
    with pytest.raises(ClientError) as caught:
        logs.filter_log_events(logGroupName=group, logStreamNames=["i-0nothere"])
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as caught:
        logs.filter_log_events(logGroupName=group, logStreamNames=["x"], logStreamNamePrefix="x")
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    lab3 = sorted(three.streams_of("lab3"))[0]
    page = logs.filter_log_events(logGroupName=group, logStreamNamePrefix=lab3)
    assert page["events"] and {e["logStreamName"] for e in page["events"]} == {lab3}


async def test_the_log_service_reads_lab2s_streams_only(three) -> None:
    service = CloudWatchLogs.for_cluster(three.clusters["lab2"], insights_engine=LabInsights())
    now = datetime.now(UTC)
    everything = await CloudWatchLogs(three.aws).cluster_events(
        ("diag", "audit"), now - timedelta(hours=1), now
    )
    assert {e["logStreamName"] for e in everything} >= three.streams_of("lab1") | three.streams_of("lab3")
    events = await service.cluster_events(("diag", "audit"), now - timedelta(hours=1), now)
    entries = service.to_entries(events)
    assert entries and {e.stream for e in entries} == three.streams_of("lab2")  # both styles, both groups
    assert {e.host for e in entries} == three.hosts_of("lab2")
    result = await service.insights(preset("errors"), parse_time_range("1h", now))
    rows = service.result_entries(result, "diag")
    assert rows and {e.host for e in rows} <= three.hosts_of("lab2")
    stats = await service.insights(preset("per5m"), parse_time_range("1h", now))
    assert sum(int(r["count(*)"]) for r in stats.rows) == sum(1 for e in entries if e.source == "diag")


def test_db2ops_logs_json_returns_only_lab2s_hosts(three, tmp_path, capsys) -> None:
    inventory = three.inventory_file(tmp_path)
    code = main(["--inventory", str(inventory), "logs", "--cluster", "lab2", "--since", "30m", "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    records = [json.loads(line) for line in out.splitlines()]
    assert records and {r["host"] for r in records} == three.hosts_of("lab2")
    assert {r["stream"] for r in records} == three.streams_of("lab2") and all(
        r["host_known"] for r in records
    )
    assert {r["group"] for r in records} == {three.aws.diag_log_group, three.aws.audit_log_group}
    assert all(r["cluster"] == "lab2" and r["message"] and r["source"] in ("diag", "audit") for r in records)
    assert {r["level"] for r in records if r["source"] == "diag"} <= {
        "Info",
        "Event",
        "Warning",
        "Error",
        "Severe",
    }
    start = datetime.now(UTC) - timedelta(minutes=30, seconds=5)
    assert all(datetime.fromisoformat(r["time"]) >= start for r in records)  # 40 minutes written, 30 asked
    assert [r["time"] for r in records] == sorted(r["time"] for r in records)


def test_db2ops_logs_text_one_group_and_the_errors(three, tmp_path, capsys) -> None:
    inventory = three.inventory_file(tmp_path)
    assert main(["--inventory", str(inventory), "logs", "--cluster", "lab1", "--group", "audit"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and all(" audit " in line for line in lines)
    assert {line.split()[2] for line in lines} <= three.hosts_of("lab1")
    assert main(["--inventory", str(inventory), "logs", "--cluster", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no cluster 'nope'" in err and "known: lab1, lab2, lab3" in err
    assert main(["--inventory", str(inventory), "logs", "--cluster", "lab1", "--since", "soon"]) == 2
    assert "--since: cannot read the time range 'soon'" in capsys.readouterr().err


async def test_db2ops_logs_follow_prints_new_records_and_ends_cleanly_when_stopped(three) -> None:
    import io

    from services.logs.follow_cli import run_logs

    service = CloudWatchLogs.for_cluster(three.clusters["lab2"], insights_engine=LabInsights())
    out, err, stop = io.StringIO(), io.StringIO(), asyncio.Event()
    asked = datetime.now(UTC)
    follow = asyncio.ensure_future(
        run_logs(three.clusters["lab2"], service, out, err, since="1m", follow=True, as_json=True, stop=stop)
    )
    deadline = asyncio.get_running_loop().time() + 15

    async def until(text: str, stream: io.StringIO) -> None:
        while text not in stream.getvalue():
            assert asyncio.get_running_loop().time() < deadline, err.getvalue()
            await asyncio.sleep(0.05)

    await until("following by polling", err)  # the history is printed; moto's Live Tail gave up
    history = len(out.getvalue().splitlines())
    await three.kill_primaries()  # every cluster writes its takeover now
    await until("HADR database role set to PRIMARY", out)
    stop.set()
    assert await asyncio.wait_for(follow, 10) == 0
    assert follow.done() and service.scope is not None
    records = [json.loads(line) for line in out.getvalue().splitlines()]
    assert history and len(records) > history
    assert {r["host"] for r in records} == three.hosts_of("lab2")
    # moto's Live Tail replays every stored event (40 minutes here); only the minute asked for is printed
    assert min(datetime.fromisoformat(r["time"]) for r in records) >= asked - timedelta(minutes=1, seconds=5)
    # Live Tail was tried per log group with the stream prefixes (moto refuses them with several groups)
    assert "Live Tail unavailable" not in err.getvalue() and "closed the stream" in err.getvalue()


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT"])
def test_db2ops_logs_follow_in_a_process_ends_cleanly_on_a_signal(three, tmp_path, signame) -> None:
    import signal
    import subprocess

    from installed_cli import cli_env, db2ops_script

    inventory = three.inventory_file(tmp_path)
    proc = subprocess.Popen(
        [db2ops_script(), "--inventory", str(inventory), "logs", "--cluster", "lab2", "--follow", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(tmp_path),
        cwd=tmp_path,
    )
    try:
        first = json.loads(proc.stdout.readline())  # the history: the follow is running
        assert first["cluster"] == "lab2" and first["host"] in three.hosts_of("lab2")
        proc.send_signal(getattr(signal, signame))
        # read through the same buffered streams (communicate() would skip what readline() buffered)
        out, err = proc.stdout.read(), proc.stderr.read()
        proc.wait(20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert all(json.loads(line)["host"] in three.hosts_of("lab2") for line in out.splitlines())


def test_setup_monitoring_writes_only_a_stream_name_the_console_reads() -> None:
    from services.monitoring.params import MonitoringParamError, MonitoringParams

    assert MonitoringParams().log_stream_name == "{instance_id}"
    MonitoringParams(log_stream_name="Db2 - {instance_id}").resolve(CLUSTER)  # the runbook's: accepted
    with pytest.raises(
        MonitoringParamError, match="the console reads a cluster's logs by these stream names"
    ):
        MonitoringParams(log_stream_name="{hostname}-db2").resolve(CLUSTER)


def test_db2ops_logs_names_a_missing_log_group_and_what_to_do(three, tmp_path, capsys) -> None:
    from dataclasses import replace

    lab2 = three.clusters["lab2"]
    three.clusters["lab2"] = replace(lab2, aws=replace(lab2.aws, diag_log_group="no-such-group"))
    inventory = three.inventory_file(tmp_path)
    assert main(["--inventory", str(inventory), "logs", "--cluster", "lab2", "--group", "diag"]) == 2
    err = capsys.readouterr().err
    assert "log group not found (no-such-group)" in err and "setup monitoring --apply" in err


class FakeLiveTail(FakeLogs):
    """FakeLogs plus StartLiveTail as AWS takes it: stream names or prefixes only with one log group."""

    def __init__(self, streams: dict[str, list[dict]]) -> None:
        super().__init__(streams)
        self.sessions: list[dict] = []

    def get_paginator(self, name):
        assert name == "describe_log_groups"
        arn = "arn:aws:logs:us-east-1:1:log-group:{}"
        return SimpleNamespace(
            paginate=lambda logGroupNamePrefix: [
                {
                    "logGroups": [
                        {"logGroupName": logGroupNamePrefix, "logGroupArn": arn.format(logGroupNamePrefix)}
                    ]
                }
            ]
        )

    def start_live_tail(self, **kw):
        self.sessions.append(kw)
        if len(kw["logGroupIdentifiers"]) != 1 and ("logStreamNames" in kw or "logStreamNamePrefixes" in kw):
            raise AssertionError("AWS: InvalidParameterException (stream filters need a single log group)")
        update = {
            "sessionResults": [
                {
                    "logGroupIdentifier": kw["logGroupIdentifiers"][0],
                    "logStreamName": "Db2 - i-0zzz",
                    "message": "theirs",
                    "timestamp": int(time.time() * 1000),
                }
            ]
        }
        return {"responseStream": iter([{"sessionStart": {}}, {"sessionUpdate": update}])}


async def test_live_tail_runs_one_session_per_group_with_the_clusters_stream_prefixes() -> None:
    client = FakeLiveTail({"i-0aaa": [{"message": "mine", "timestamp": int(time.time() * 1000)}]})
    service = CloudWatchLogs.for_cluster(CLUSTER, client=client)
    got: list = []
    tail = service.tail(got.extend, sources=("diag", "audit"))
    tail.start()
    deadline = time.monotonic() + 10
    while tail.status.mode != "polling" or "closed" not in tail.status.reason:
        assert time.monotonic() < deadline, tail.status
        await asyncio.sleep(0.02)
    await tail.stop()
    groups = sorted(s["logGroupIdentifiers"][0].rsplit(":", 1)[-1] for s in client.sessions)
    assert groups == sorted({service.group_for("diag"), service.group_for("audit")})
    assert all(s["logStreamNamePrefixes"] == list(stream_map(CLUSTER).names) for s in client.sessions)
    assert {e.text for e in got} == {"mine"}  # "theirs" came by Live Tail from another cluster's stream


async def test_a_live_tail_start_after_live_tail_gave_up_does_not_stop_polling() -> None:
    from services.logs.tail import LogTail

    tail = LogTail(None, ["g"], lambda events: None)
    tail._set_status(mode="polling", reason="polling every 1 s: Live Tail stream closed")
    tail._live_off.set()  # another group's session ended: Live Tail gave up
    tail._session_started()  # this group's session start arrives late, on the loop
    assert tail.status.mode == "polling"


async def test_the_tail_says_when_none_of_the_clusters_streams_exists_yet() -> None:
    client = FakeLiveTail({"Db2 - i-0zzz": [{"message": "theirs", "timestamp": int(time.time() * 1000)}]})
    service = CloudWatchLogs.for_cluster(CLUSTER, client=client)
    got: list = []
    tail = service.tail(got.extend, sources=("diag",), poll_interval_s=0.05)
    tail.start()
    deadline = time.monotonic() + 10
    while not tail.status.scope_note:
        assert time.monotonic() < deadline, tail.status
        await asyncio.sleep(0.02)
    assert tail.status.scope_note == (
        "no log stream of db2a, db2b in db2-diagnostics-logs yet: check the CloudWatch agent on the hosts, "
        "or run setup monitoring"
    )
    client.streams["i-0aaa"] = [{"message": "mine", "timestamp": int(time.time() * 1000)}]
    service.scope.forget()  # the scope's minute is up: the agent's new stream is found
    while tail.status.scope_note or not got:
        assert time.monotonic() < deadline, tail.status
        await asyncio.sleep(0.02)
    await tail.stop()
    assert {e.text for e in got} == {"mine"}


def test_db2ops_logs_says_when_none_of_the_clusters_streams_exists(three, tmp_path, capsys) -> None:
    from dataclasses import replace

    lab2 = three.clusters["lab2"]  # hosts whose agent never shipped: instance ids nobody writes under
    hosts = tuple(replace(h, instance_id=f"i-0new{i}") for i, h in enumerate(lab2.hosts))
    three.clusters["lab2"] = replace(lab2, hosts=hosts)
    inventory = three.inventory_file(tmp_path)
    assert main(["--inventory", str(inventory), "logs", "--cluster", "lab2", "--json"]) == 1
    out, err = capsys.readouterr()
    assert out == ""  # not one of lab1's or lab3's records instead
    assert "none of its streams exists in db2-diagnostics-logs, db2-db-worker-audit-log (looked for " in err
    assert "Db2 - i-0new0" in err and "run `db2ops setup monitoring`" in err
