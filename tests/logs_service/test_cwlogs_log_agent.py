"""The lab's CloudWatch agent: db2diag records in the corpus layout, takeover records on a kill, the
runbook's audit test with the APPUSR case trap, one event per record (or per line)."""

import random
import re
from datetime import UTC, datetime, timedelta

from lab.diag_records import GRANT_TEST_STATEMENT, HostDiagLog, audit_execute
from lab.log_agent import LogAgent
from lab.state import LabCluster
from services.logs.filter_pattern import compile_pattern
from services.parsers.db2audit import parse_db2audit
from services.parsers.db2diag import parse_db2diag

WHEN = datetime(2026, 11, 26, 10, 0, 0, 123456, tzinfo=UTC)


def writer(offset_minutes=-300):
    return HostDiagLog("db2a", utc_offset_minutes=offset_minutes, rng=random.Random(3), offset=465616)


def test_header_layout_matches_the_corpus():
    text = writer().takeover_info(WHEN, forced=False)
    header = text.splitlines()[0]
    assert header.index("LEVEL:") == 53
    assert header.startswith("2026-11-26-05.00.00.123456-300 I465616E")
    lines = text.splitlines()
    assert lines[1].index("TID :") == 31 and lines[1].index("PROC :") == 53
    assert lines[2].index("NODE :") == 31 and lines[2].index("DB   :") == 53
    assert lines[-1] == "MESSAGE : Primary has started non-forced takeover request."


def test_record_ids_chain_like_a_real_file():
    w = writer(0)
    first = w.takeover_command(WHEN)
    second = w.hadr_state(WHEN, "HDR_S_PEER", "HDR_P_PEER")
    offset, length = map(int, re.match(r"\S+ E(\d+)E(\d+)", first).groups())
    assert length == len(first.encode()) + 1
    assert second.split()[1] == f"E{offset + length + 1}E{len(second.encode()) + 1}"


def test_generated_records_parse_back_with_their_fields():
    w = writer()
    texts = [
        w.routine(WHEN + timedelta(seconds=i), i % 2 == 0, "db2_db2inst1_db2inst1_HADRDB") for i in range(40)
    ]
    texts.append(w.hadr_role(WHEN, "PRIMARY", "STANDBY"))
    records = parse_db2diag("\n\n".join(texts) + "\n")
    assert len(records) == 41
    assert {r.level for r in records} <= {"Info", "Warning", "Error", "Event"}
    stamps = [r.timestamp for r in records[:40]]
    assert stamps[0] == WHEN and stamps == sorted(stamps)  # -300 local time converts back to UTC
    role = records[-1]
    assert (role.event_kind, role.eduname) == ("CHANGE", "db2agent (HADRDB) 0")
    assert "HADR database role set to PRIMARY (was STANDBY)." in role.event_text


def test_audit_record_parses_with_the_case_trap_values():
    text = audit_execute(
        WHEN,
        userid="APPUSR",
        authid="APPUSR",
        statement="SELECT 1 FROM SAMPLE.WORKER",
        database="HADRDB",
        instance="db2inst1",
        hostname="db2a",
    )
    [record] = parse_db2audit(text + "\n")
    assert (record.category, record.event) == ("EXECUTE", "STATEMENT")
    assert (
        record.fields["authid"] == "APPUSR"
        and record.fields["statement text"] == "SELECT 1 FROM SAMPLE.WORKER"
    )
    assert record.fields["hostname"] == "db2a"


def events(logs, group):
    out, kwargs = [], {"logGroupName": group}
    while True:
        page = logs.filter_log_events(**kwargs)
        out += page["events"]
        if not page.get("nextToken") or page["nextToken"] == kwargs.get("nextToken"):
            return out
        kwargs["nextToken"] = page["nextToken"]


def test_backfill_writes_both_groups_per_host_stream(aws, logs):
    cluster = LabCluster("lab1")
    agent = LogAgent(cluster, aws, seed=5)
    written = agent.backfill(10)
    diag = events(logs, aws.diag_log_group)
    audit = events(logs, aws.audit_log_group)
    assert len(diag) + len(audit) == written
    streams = {e["logStreamName"] for e in diag}
    assert streams == {f"Db2 - {cluster.hosts[n].instance_id}" for n in cluster.db_nodes}
    assert {e["logStreamName"] for e in audit} == {
        f"Db2 - {cluster.hosts['db2a'].instance_id}"
    }  # the primary
    assert all(len(parse_db2diag(e["message"])) == 1 for e in diag)


async def test_killing_the_primary_writes_the_takeover_records_on_the_standby(aws, logs):
    cluster = LabCluster("lab1", failover_delay_s=0.0)
    agent = LogAgent(cluster, aws, seed=5, diag_per_host_per_s=0, audit_per_s=0)
    agent._unsubscribe = cluster.subscribe(agent._on_lab_event)
    cluster.kill_primary()
    agent.step()
    standby = f"Db2 - {cluster.hosts['db2b'].instance_id}"
    texts = [e["message"] for e in events(logs, aws.diag_log_group)]
    assert all(e["logStreamName"] == standby for e in events(logs, aws.diag_log_group))
    joined = "\n".join(texts)
    for line in (
        "CHANGE  : HADR state set to HDR_S_DISCONN_PEER (was HDR_S_PEER), connId=1",
        "START   : Received TAKEOVER HADR command.",
        "HADR database role set to PRIMARY (was STANDBY).",
        "CHANGE  : HADR state set to HDR_P_REM_CATCHUP_PENDING (was HDR_S_DISCONN_PEER), connId=1",
        "HADR Resource enabled.",
    ):
        assert line in joined
    assert any("LEVEL: Severe" in t for t in texts)
    stamps = [parse_db2diag(t)[0].timestamp for t in texts]
    assert stamps == sorted(stamps)


async def test_audit_test_writes_the_grant_and_the_upper_case_appusr_select(aws, logs):
    cluster = LabCluster("lab1")
    agent = LogAgent(cluster, aws, seed=5)
    grant, trap = await agent.write_audit_test()
    assert f"statement text={GRANT_TEST_STATEMENT};" in grant and "authid=DB2INST1;" in grant
    assert "userid=APPUSR;" in trap
    stored = [e["message"] for e in events(logs, aws.audit_log_group)]
    assert stored == [grant, trap]
    runbook = compile_pattern("worker -appusr")
    assert runbook.matches(grant) and runbook.matches(trap)  # the trap: APPUSR is not excluded
    assert not compile_pattern("worker -appusr -APPUSR").matches(trap)


def test_routine_application_access_is_excluded_by_the_runbook_pattern(aws, logs):
    cluster = LabCluster("lab1")
    agent = LogAgent(cluster, aws, seed=5, diag_per_host_per_s=0, audit_per_s=1)
    agent.backfill(20)
    audit = [e["message"] for e in events(logs, aws.audit_log_group)]
    app = [m for m in audit if "userid=appusr;" in m]
    assert app and not any(compile_pattern("worker -appusr").matches(m) for m in app)


def test_one_event_per_line_without_multi_line_start_pattern(aws, logs):
    cluster = LabCluster("lab1")
    agent = LogAgent(cluster, aws, seed=5, multi_line=False, diag_per_host_per_s=0, audit_per_s=10)
    agent.step()
    audit = events(logs, aws.audit_log_group)
    assert audit[0]["message"].startswith("timestamp=") and len(audit) > 20
    assert all("\n" not in e["message"] for e in audit)


def test_stop_unsubscribes_and_ends_the_thread(aws):
    cluster = LabCluster("lab1")
    agent = LogAgent(cluster, aws, seed=5, interval_s=0.05, backfill_minutes=0)
    agent.start()
    assert agent.running and len(cluster._listeners) == 1
    agent.stop()
    assert not agent.running and cluster._listeners == []


async def test_audit_test_ships_the_records_of_the_statements_that_really_ran(aws, logs):
    # The proof's GRANT (and its REVOKE) ran through the lab's CLP on an audited table: the agent ships
    # those records, not a canned one, and only once.
    from lab.clp_script import run_script
    from lab.db2admin_state import catalog

    cluster = LabCluster("lab1")
    catalog(cluster).uses.append(("WORKTABPOL", "SAMPLE", "WORKER"))
    host = cluster.hosts[cluster.hadr_primary]
    ran = "grant select on table sample.worker to user abcuser, role r2"
    catalog(cluster).roles.add("R2")
    status, out, _ = run_script(
        cluster, host, "db2inst1", f"connect to {cluster.database};\n{ran};\n", echo=False
    )
    assert status == 0, out
    agent = LogAgent(cluster, aws, seed=5)
    grant, trap = await agent.write_audit_test()
    assert f"statement text={ran};" in grant and "userid=APPUSR;" in trap
    again, _ = await agent.write_audit_test()  # nothing new ran: the proof's default GRANT, no role
    assert f"statement text={GRANT_TEST_STATEMENT};" in again and "role" not in GRANT_TEST_STATEMENT
