"""The lab's answers for the monitoring runbook's host commands, in the real tools' formats."""

from __future__ import annotations

import json

import pytest
from corpus import corpus_files, read

from lab.commands import run_command
from lab.state import LabCluster


@pytest.fixture
def lab() -> LabCluster:
    return LabCluster("lab1")


def run(lab: LabCluster, host: str, *argv: str, stdin: str = "") -> tuple[int, str, str]:
    return run_command(lab, lab.hosts[host], list(argv), stdin)


def test_db2audit_describe_has_the_corpus_layout(lab) -> None:
    corpus_files("db2audit/describe-*.txt")
    expected = (
        read("db2audit/describe-inactive.txt")
        .replace("/var/log/bigsql/cli/db2audit/data/", "/home/db2inst1/dbaudit/active/")
        .replace("/var/log/bigsql/cli/db2audit/archivedata/", "/home/db2inst1/dbaudit/archive/")
    )
    assert (
        run(lab, "db2a", "mkdir", "-p", "/home/db2inst1/dbaudit/active", "/home/db2inst1/dbaudit/archive")[0]
        == 0
    )
    assert run(lab, "db2a", "db2audit", "configure", "datapath", "/home/db2inst1/dbaudit/active/") == (
        0,
        "AUD0000I Operation succeeded.\n",
        "",
    )
    run(lab, "db2a", "db2audit", "configure", "archivepath", "/home/db2inst1/dbaudit/archive")
    status, out, _ = run(lab, "db2a", "db2audit", "describe")
    assert status == 0 and out.strip() == expected.strip()
    # the other host's instance is configured separately
    assert 'Audit Archive Path: ""' in run(lab, "db2b", "db2audit", "describe")[1]
    status, out, _ = run(lab, "db2b", "db2audit", "configure", "datapath", "/nowhere/")
    assert status == 1 and "AUD0031E" in out


def test_dbm_cfg_audit_buf_sz_round_trip(lab) -> None:
    line = " Audit buffer size (4KB)                  (AUDIT_BUF_SZ) = 0"
    assert line in run(lab, "db2a", "db2", "get", "dbm", "cfg")[1].splitlines()
    assert run(lab, "db2a", "db2", "update", "dbm", "cfg", "using", "audit_buf_sz", "64") == (
        0,
        "DB20000I  The UPDATE DATABASE MANAGER CONFIGURATION command completed successfully.\n",
        "",
    )
    assert line.replace("= 0", "= 64") in run(lab, "db2a", "db2", "get", "dbm", "cfg")[1].splitlines()
    status, out, _ = run(lab, "db2a", "db2", "update", "dbm", "cfg", "using", "audit_buf_sz", "99999")
    assert status == 4 and out.startswith("SQL5130N")


SCRIPT = """CONNECT TO HADRDB;
CREATE AUDIT POLICY WORKTABPOL CATEGORIES EXECUTE STATUS BOTH ERROR TYPE AUDIT;
AUDIT TABLE SAMPLE.WORKER USING POLICY WORKTABPOL;
CREATE AUDIT POLICY ADMINPOL CATEGORIES EXECUTE STATUS BOTH,SYSADMIN STATUS BOTH ERROR TYPE AUDIT;
AUDIT DBADM,SYSADM,SECADM USING POLICY ADMINPOL;
select trim(substr(p.AUDITPOLICYNAME,1,10)) AUDITPOLICYNAME, EXECUTESTATUS, ERRORTYPE,substr(OBJECTSCHEMA,1,10) as OBJECTSCHEMA, substr(OBJECTNAME,1,10) as OBJECTNAME from SYSCAT.AUDITPOLICIES p,SYSCAT.AUDITUSE u where p.AUDITPOLICYNAME=u.AUDITPOLICYNAME and p.AUDITPOLICYNAME in ('WORKTABPOL','ADMINPOL');
CONNECT RESET;
"""


def test_clp_script_creates_policies_and_prints_the_syscat_table(lab) -> None:
    status, out, _ = run(lab, "db2a", "db2", "-tvf", "/dev/stdin", stdin=SCRIPT)
    assert status == 0
    assert " SQL authorization ID   = DB2INST1" in out
    table = out[out.index("AUDITPOLICYNAME EXECUTESTATUS") :].split("\n\n")[0].splitlines()
    assert table == [
        "AUDITPOLICYNAME EXECUTESTATUS ERRORTYPE OBJECTSCHEMA OBJECTNAME",
        "--------------- ------------- --------- ------------ ----------",
        "WORKTABPOL      B             A         SAMPLE       WORKER    ",
        "ADMINPOL        B             A         -            DBADM     ",
        "ADMINPOL        B             A         -            SYSADM    ",
        "ADMINPOL        B             A         -            SECADM    ",
    ]
    assert "  4 record(s) selected." in out
    # running it again: the objects exist (SQL0601N), CLP exit status 4
    status, out, _ = run(lab, "db2a", "db2", "-tvf", "/dev/stdin", stdin=SCRIPT)
    assert (
        status == 4
        and 'SQL0601N  The name of the object to be created is identical to the existing name "WORKTABPOL"'
        in out
    )


def test_standby_refuses_the_connection_and_unknown_tables_are_sql0204n(lab) -> None:
    status, out, _ = run(lab, "db2b", "db2", "-tvf", "/dev/stdin", stdin=SCRIPT)
    assert status == 4
    assert 'SQL1776N  The command cannot be issued on an HADR database. Reason code = "1".' in out
    assert "SQL1024N  A database connection does not exist.  SQLSTATE=08003" in out
    bad = "CONNECT TO HADRDB;\nCREATE AUDIT POLICY P CATEGORIES EXECUTE STATUS BOTH ERROR TYPE AUDIT;\nAUDIT TABLE SAMPLE.NOPE USING POLICY P;\n"
    status, out, _ = run(lab, "db2a", "db2", "-tf", "/dev/stdin", stdin=bad)
    assert status == 4 and 'SQL0204N  "SAMPLE.NOPE" is an undefined name.  SQLSTATE=42704' in out


def test_crontab_and_files(lab) -> None:
    assert run(lab, "db2a", "crontab", "-l") == (1, "", "no crontab for db2inst1\n")
    assert run(lab, "db2a", "crontab", "-", stdin="*/5 * * * * /x.sh\n") == (0, "", "")
    assert run(lab, "db2a", "crontab", "-l") == (0, "*/5 * * * * /x.sh\n", "")
    status, _, err = run(lab, "db2a", "crontab", "-", stdin="garbage\n")
    assert status == 1 and "errors in crontab file, can't install." in err
    assert (
        run(lab, "db2a", "tee", "/no/such/dir/f", stdin="x")[2]
        == "tee: /no/such/dir/f: No such file or directory\n"
    )
    assert run(lab, "db2a", "test", "-f", "/tmp/f")[0] == 1
    assert run(lab, "db2a", "tee", "/tmp/f", stdin="data\n") == (0, "data\n", "")
    assert run(lab, "db2a", "cat", "/tmp/f") == (0, "data\n", "")
    assert run(lab, "db2a", "test", "-f", "/tmp/f")[0] == 0


def test_cloudwatch_agent_ctl_status_and_fetch_config(lab) -> None:
    ctl = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
    status = json.loads(run(lab, "db2a", "sudo", "-n", ctl, "-a", "status")[1])
    assert status == {
        "status": "stopped",
        "starttime": "",
        "configstatus": "not configured",
        "version": status["version"],
    }
    path = "/opt/aws/amazon-cloudwatch-agent/bin/config.json"
    bad = {
        "logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/x", "log_group": "typo"}]}}}
    }
    run(lab, "db2a", "tee", path, stdin=json.dumps(bad))
    code, out, _ = run(lab, "db2a", ctl, "-a", "fetch-config", "-m", "ec2", "-c", f"file:{path}", "-s")
    assert code == 1 and "Additional property log_group is not allowed" in out
    good = {
        "logs": {"logs_collected": {"files": {"collect_list": [{"file_path": "/x", "log_group_name": "g"}]}}}
    }
    run(lab, "db2a", "tee", path, stdin=json.dumps(good))
    code, out, _ = run(lab, "db2a", ctl, "-a", "fetch-config", "-m", "ec2", "-c", f"file:{path}", "-s")
    assert code == 0 and "Configuration validation succeeded" in out
    status = json.loads(run(lab, "db2a", ctl, "-a", "status")[1])
    assert (status["status"], status["configstatus"]) == ("running", "configured")
    assert status["starttime"].endswith("+00:00")
