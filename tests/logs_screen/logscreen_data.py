"""Deterministic entries and a small app around LogsScreen for the log-screen tests."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from textual.app import App

from lab.diag_records import HostDiagLog, audit_execute
from screens.logs import LogsScreen
from services.inventory.model import AwsSettings, Cluster, Host
from services.logs.cloudwatch import CloudWatchLogs
from services.logs.insights import InsightsError, InsightsResult
from services.logs.model import LogEntry, entries_from_text

T0 = datetime(2026, 11, 26, 10, 0, 0, tzinfo=UTC)
CLUSTER = Cluster(
    name="lab1",
    environment="lab",
    database="HADRDB",
    hosts=(Host("db2a", "127.0.0.1", instance_id="i-0aaa"), Host("db2b", "127.0.0.1", instance_id="i-0bbb")),
    aws=AwsSettings(endpoint_url="http://127.0.0.1:9"),
    lab=True,
)


def diag_entries(count: int = 30, start: datetime = T0) -> list[LogEntry]:
    """`count` routine records alternating db2a/db2b, 10 s apart, then a forced takeover on db2b."""
    writers = {
        h: HostDiagLog(h, rng=random.Random(i + 1), offset=400_000) for i, h in enumerate(("db2a", "db2b"))
    }
    texts = []
    for i in range(count):
        host = "db2a" if i % 2 == 0 else "db2b"
        texts.append(
            writers[host].routine(
                start + timedelta(seconds=10 * i), host == "db2a", "db2_db2inst1_db2inst1_HADRDB"
            )
        )
    end = start + timedelta(seconds=10 * count)
    b = writers["db2b"]
    texts += [
        b.hadr_state(end, "HDR_S_DISCONN_PEER", "HDR_S_PEER"),
        b.connection_lost(end + timedelta(milliseconds=5)),
        b.takeover_command(end + timedelta(milliseconds=10)),
        b.hadr_role(end + timedelta(milliseconds=20), "PRIMARY", "STANDBY"),
    ]
    return entries_from_text("\n\n".join(texts) + "\n", "diag")


def audit_entries(start: datetime = T0) -> list[LogEntry]:
    texts = [
        audit_execute(
            start + timedelta(seconds=15),
            userid="appusr",
            authid="APPUSR",
            statement="SELECT EMPNO FROM SAMPLE.WORKER WHERE EMPNO = ?",
            database="HADRDB",
            instance="db2inst1",
            hostname="db2a",
        ),
        audit_execute(
            start + timedelta(seconds=95),
            userid="db2inst1",
            authid="DB2INST1",
            statement="grant select on table sample.worker to user abcuser, role trole",
            database="HADRDB",
            instance="db2inst1",
            hostname="db2a",
        ),
    ]
    return entries_from_text("\n\n".join(texts) + "\n", "audit")


class FakeLogsService(CloudWatchLogs):
    """CloudWatchLogs whose Insights answers from a script (no AWS); tail is not used."""

    def __init__(self, result: InsightsResult | None = None, error: str | None = None) -> None:
        super().__init__(CLUSTER.aws, client=object(), hosts={"Db2 - i-0bbb": "db2b"})
        self.result = result
        self.error = error
        self.calls: list[tuple] = []

    async def insights(self, query, time_range, *, sources=None, on_status=None, **poll):
        self.calls.append((query, time_range, tuple(sources or ())))
        if self.error:
            raise InsightsError(self.error)
        for status in ("Scheduled", "Running", "Complete"):
            on_status(status)
        return self.result


class LogsApp(App):
    """Pushes a LogsScreen for CLUSTER (no tail: entries are added by the test)."""

    def __init__(self, service=None) -> None:
        super().__init__()
        self.service = service

    def on_mount(self) -> None:
        self.push_screen(LogsScreen(CLUSTER, self.service, start_tail=False))
