"""The timeline reads the db2diag records and alarm changes itself: a lab takeover drill (moto on 127.0.0.1
fed by the lab's CloudWatch agent, the lab's CloudWatch evaluator firing an alarm) shows up on :timeline with
no :logs or :alarms screen open."""

from __future__ import annotations

from collections import deque
from types import SimpleNamespace

from screens.timeline import collect_from_app
from services.inventory.model import Cluster
from services.plans.journal import Journal
from services.status.model import Severity
from services.timeline.model import Timeline
from services.timeline.sources import TimelineSources
from timeline.lab_drill import ALARM, kill_primary, lab_alarms


async def test_takeover_records_and_the_alarm_reach_the_timeline_without_logs_or_alarms_screens(
    drill_lab, tmp_path
):
    state, cluster, agent, evaluator = drill_lab
    await kill_primary(state, agent, evaluator)
    tl = Timeline("lab1")
    sources = TimelineSources(cluster, tl, alarms=lab_alarms(cluster, evaluator))
    app = SimpleNamespace(feed=lambda name: SimpleNamespace(events=deque()), screen_stack=[])
    await collect_from_app(app, cluster, tl, journal=Journal(tmp_path / "journal"), sources=sources)

    assert sources.notes == {}
    logs = [e.title for e in tl.entries(sources=["log"])]
    role = (
        "HADR database role set to PRIMARY (was STANDBY). HADR database type set to PHYSICAL (was PHYSICAL)."
    )
    assert logs == [
        "db2diag Event on db2b: db2hadrs.0.0 hdrSetHdrState: CHANGE HADR state set to HDR_S_DISCONN_PEER "
        "(was HDR_S_PEER), connId=1",
        "db2diag Severe on db2b: db2hadrs.0.0 hdrEduAcceptEvent: Failed to connect to primary. rc:",
        "db2diag Event on db2b: db2agnti sqeDBMgr::StartUsingLocalDatabase: START Received TAKEOVER HADR command.",
        "db2diag Info on db2b: db2hadrs.0.0 hdrStbyTkHandleInitialRequest: Standby has started forced takeover.",
        f"db2diag Event on db2b: db2agent hdrSetDbRoleAndDbType: CHANGE HADR DATABASE ROLE/TYPE - {role}",
        "db2diag Event on db2b: db2hadrp.0.1 hdrSetHdrState: CHANGE HADR state set to HDR_P_REM_CATCHUP_PENDING "
        "(was HDR_S_DISCONN_PEER), connId=1",
        "db2diag Event on db2b: db2hadrs.0.0 sqlhaPcmkEnableHADRResource: HADR Resource enabled.",
    ]
    severe = next(e for e in tl.entries(sources=["log"]) if "Severe" in e.title)
    assert severe.severity is Severity.CRITICAL and "SQLO_CONN_REFUSED" in severe.detail
    alarms = [(e.title, e.severity) for e in tl.entries(sources=["alarm"])]
    assert (f"alarm {ALARM}: Alarm updated from INSUFFICIENT_DATA to ALARM", Severity.CRITICAL) in alarms
    assert {e.source for e in tl.entries()} == {"log", "alarm"}  # no status feed, empty journal

    # Polled again (the screen does, every 2 s): the records re-read in the late-delivery margin and the
    # alarm's history are the same facts, nothing doubles.
    before = len(tl)
    assert await sources.poll(force=True) == 0 and len(tl) == before


async def test_no_aws_lab_never_reaches_aws_and_says_why():
    cluster = Cluster(name="lab1", lab=True)  # a `db2ops lab --no-aws` cluster: no endpoint
    tl = Timeline("lab1")

    class Refuse:
        def __getattr__(self, name):
            raise AssertionError(f"{name} called: a lab without AWS must not reach AWS")

    sources = TimelineSources(cluster, tl, logs=Refuse(), alarms=Refuse())  # type: ignore[arg-type]
    assert await sources.poll(force=True) == 0
    assert (
        sources.note_text() == "aws: this lab runs without AWS (--no-aws): no log records or alarms to show"
    )
