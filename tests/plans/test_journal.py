"""Operator journal: append/read, corrupt lines survive, Markdown export."""

from __future__ import annotations

import json
from pathlib import Path

from services.plans import Journal, aws_action, export_markdown, read_journal, ssh_action


def _record(journal: Journal, cluster: str = "lab1", run: str = "r1", result: str = "verified") -> None:
    journal.record(
        who="alice",
        cluster=cluster,
        plan="monitoring",
        run_id=run,
        step_id="cron@db2a",
        step_title="Install the audit extract cron job",
        target="db2a",
        result=result,
        message="applied and verified",
        actions=[
            ssh_action("db2a", ["tee", "/home/db2inst1/dbaudit/x.sh"], input="#!/bin/bash\necho ```\n"),
            aws_action("sns", "Subscribe", {"TopicArn": "arn:aws:sns:us-east-1:1:t", "Password": "hunter2"}),
        ],
    )


def test_append_and_read_back_filtered_by_cluster(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    _record(journal, "lab1")
    _record(journal, "prod")
    entries = journal.read("lab1").entries
    assert len(entries) == 1
    e = entries[0]
    assert (e.who, e.cluster, e.step_id, e.result) == ("alice", "lab1", "cron@db2a", "verified")
    assert e.when.endswith("Z") and e.when[4] == "-"
    assert e.actions[0]["command"] == "tee /home/db2inst1/dbaudit/x.sh"
    assert e.actions[1]["params"]["Password"] == "***"  # never a secret in the journal
    assert "hunter2" not in journal.path.read_text()
    assert len(read_journal(directory=tmp_path)) == 2


def test_corrupt_and_truncated_lines_are_skipped_and_reported(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    _record(journal, run="r1")
    with journal.path.open("a") as fh:
        fh.write("{not json\n")
        fh.write(json.dumps({"who": "x"}) + "\n")
        fh.write('{"who": "bob", "when": "2025')  # a writer killed mid-line: no newline
    _record(journal, run="r2")  # appends on a fresh line
    read = journal.read()
    assert [e.run_id for e in read.entries] == ["r1", "r2"]
    assert len(read.problems) == 3
    assert "line 2: skipped" in read.problems[0]
    assert "field 'when' is missing" in read.problems[1]


def test_export_markdown_is_a_runbook(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    _record(journal, run="r1")
    _record(journal, run="r2", result="failed")
    md = export_markdown(journal.read().entries)
    assert md.count("## monitoring on lab1") == 2
    assert "### Install the audit extract cron job [verified]" in md
    assert "### Install the audit extract cron job [failed]" in md
    # stdin data becomes a quoted heredoc; the fence is longer than any backtick run inside
    assert (
        "````sh\ntee /home/db2inst1/dbaudit/x.sh <<'DB2OPS_EOF'\n#!/bin/bash\necho ```\nDB2OPS_EOF\n````"
        in md
    )
    assert '"operation": "Subscribe"' in md and "hunter2" not in md
    assert export_markdown([]).endswith("_No changes recorded._\n")
