"""Host-side evidence for a bundle (read-only): the planned commands as argv, gathered from the in-process
lab after a crash (the dead host's evidence says why it is missing), pe-input names checked before use."""

from __future__ import annotations

import shlex
from dataclasses import replace

import pytest
from in_process_lab import Result
from incident_harness import START, DrillWalk

from services.record.host_evidence import (
    PENGINE_DIR,
    EvidenceError,
    describe,
    evidence_plan,
    gather_evidence,
    pe_input_names,
)


def test_the_plan_reads_journal_pe_inputs_db2diag_and_db2pd_on_each_db_host() -> None:
    walk = DrillWalk()
    plan = evidence_plan(walk.cluster, START, START + 600)
    assert [c.name for c in plan[:4]] == [
        "db2a/pacemaker-journal.txt",
        "db2a/pe-inputs.txt",
        "db2a/db2diag.txt",
        "db2a/db2pd-hadr-now.txt",
    ]
    assert {c.host for c in plan} == {"db2a", "db2b"}
    journal = plan[0].argv
    assert journal[0] == "journalctl" and "--since=2026-11-30 00:53:20" in journal
    assert "--until=2026-11-30 01:03:20" in journal and "--unit=pacemaker.service" in journal
    assert plan[2].argv == ("db2diag", "-time", "2026-11-30-00.53.20:2026-11-30-01.03.20")
    assert plan[3].argv == ("db2pd", "-hadr", "-db", walk.cluster.database)
    actions = describe(walk.cluster, START, START + 600)
    assert all(a.kind == "ssh" and a.note for a in actions)
    assert actions[1].render().startswith(f"db2a$ find {PENGINE_DIR} -maxdepth 1 -name 'pe-input-*.bz2'")


@pytest.mark.parametrize(
    ("since", "until", "database", "words"),
    [
        (START + 10, START, "HADRDB", "ends before it starts"),
        (START, START + 8 * 86400, "HADRDB", "more than 7 days"),
        (START, START + 60, "HADR; rm -rf /", "not a Db2 database name"),
        (START, START + 60, "-db", "not a Db2 database name"),
    ],
)
def test_bad_requests_are_refused_with_what_to_change(since, until, database, words) -> None:
    cluster = replace(DrillWalk().cluster, database=database)
    with pytest.raises(EvidenceError, match=words):
        evidence_plan(cluster, since, until)


def test_only_plain_pe_input_names_reach_a_command() -> None:
    listing = "\n".join(
        [
            "1796000003.5 pe-input-12.bz2",
            "1796000001.0 pe-input-11.bz2",
            "1796000002.0 pe-input-3.bz2; rm -rf /",
            "1796000002.0 ../../etc/shadow",
            "1796000002.0 -rf",
            "later pe-input-13.bz2",
            "1796000009.0 pe-error-2.bz2",
        ]
    )
    assert pe_input_names(listing) == ["pe-input-11.bz2", "pe-input-12.bz2"]
    assert pe_input_names(listing, limit=1) == ["pe-input-12.bz2"]
    assert pe_input_names(listing, limit=0) == []


async def test_gathered_from_the_lab_after_a_crash(monkeypatch) -> None:
    walk = DrillWalk(monkeypatch=monkeypatch)
    await walk.snap()
    walk.advance(5)
    walk.lab.kill_primary()
    walk.advance(12)
    await walk.snap()
    texts = await gather_evidence(walk.cluster, walk.runner, START, walk.clock.now)
    by_name = {t.name: t for t in texts}
    # db2a is down: each of its commands says why, none raised
    for name in ("pacemaker-journal.txt", "db2pd-hadr-now.txt"):
        dead = by_name[f"db2a/{name}"]
        assert dead.exit_status is None and "Connection refused" in dead.error and dead.text == ""
    journal = by_name["db2b/pacemaker-journal.txt"]
    assert journal.exit_status == 0
    promote = [line for line in journal.text.splitlines() if "Result of promote operation" in line]
    assert len(promote) == 1 and promote[0].endswith("on db2b: ok")
    assert promote[0].startswith("2026-11-30T00:53:")  # short-iso, UTC, inside the span
    assert by_name["db2b/pe-inputs.txt"].exit_status == 0  # the lab's Pacemaker writes none
    assert not any("/pengine/" in t.name for t in texts)
    hadr = by_name["db2b/db2pd-hadr-now.txt"]
    assert hadr.exit_status == 0 and "HADR_ROLE = PRIMARY" in hadr.text
    assert by_name["db2b/db2diag.txt"].exit_status == 0
    # only reading commands ran
    assert {argv[0] for _, argv in walk.runner.ran} >= {"journalctl", "find", "db2diag", "db2pd"}
    assert all(argv[0] in {"journalctl", "find", "db2diag", "db2pd", "crm_mon", "corosync-quorumtool",
                           "corosync-qdevice-tool", "corosync-qnetd-tool"} for _, argv in walk.runner.ran)  # fmt: skip


async def test_a_span_before_the_promote_has_no_journal_entry(monkeypatch) -> None:
    walk = DrillWalk(monkeypatch=monkeypatch)
    walk.lab.kill_primary()
    walk.advance(20)
    texts = await gather_evidence(walk.cluster, walk.runner, START - 600, START - 60)
    journal = next(t for t in texts if t.name == "db2b/pacemaker-journal.txt")
    assert journal.text == "-- No entries --\n"


class _ListingRunner:
    """Lists two pe-input files (and a hostile name) and records each command."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, ...]] = []

    async def run(self, host, argv, *, timeout=None, check=False):
        self.ran.append(tuple(argv))
        out = ""
        if argv[0] == "find":
            out = "1796000001.0 pe-input-7.bz2\n1796000002.0 pe-input-8.bz2\n1796000003.0 x;reboot\n"
        elif argv[0] == "bzcat":
            out = f"<cib>{argv[-1]}</cib>\n"
        return Result(host.name, tuple(argv), shlex.join(argv), 0, out, "")


async def test_pe_inputs_listed_are_read_with_double_dash_before_the_path() -> None:
    walk = DrillWalk()
    runner = _ListingRunner()
    texts = await gather_evidence(walk.cluster, runner, START, START + 60, pe_limit=1)
    reads = [argv for argv in runner.ran if argv[0] == "bzcat"]
    assert reads == [("bzcat", "--", f"{PENGINE_DIR}/pe-input-8.bz2")] * 2  # one per host
    pe = next(t for t in texts if t.name == "db2a/pengine/pe-input-8.xml")
    assert pe.text == f"<cib>{PENGINE_DIR}/pe-input-8.bz2</cib>\n"


def test_a_span_in_fractions_of_a_second_is_widened_to_whole_seconds() -> None:
    plan = evidence_plan(DrillWalk().cluster, START + 0.7, START + 600.2)
    journal = plan[0].argv
    assert "--since=2026-11-30 00:53:20" in journal and "--until=2026-11-30 01:03:21" in journal
    assert plan[2].argv[-1] == "2026-11-30-00.53.20:2026-11-30-01.03.21"
