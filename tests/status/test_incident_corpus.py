"""The incident headline on the recorded real-Pacemaker states (tests/corpus/pacemaker-lab/), as a one-shot
headless `status` sees them: crm_mon XML of the node that speaks for the cluster, corosync tools, qnetd.
The lab's captures have no db2pd: HADR is what its stand-in reports (PRIMARY where Pacemaker promoted,
STANDBY where the clone is Unpromoted, PEER when both run, the database inactive where the clone is
stopped). Also a promotion caught mid-way (crm_mon with record-pending) and a failed action during it."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from corpus import CORPUS, LAB, corpus_files  # noqa: E402
from incident_checks import check_advice, check_same_everywhere, recommends_cleanup  # noqa: E402

from services.cluster_model import HadrStatus  # noqa: E402
from services.inventory.model import Cluster, Host  # noqa: E402
from services.parsers.corosync import parse_qdevice_tool, parse_qnetd_tool, parse_quorumtool  # noqa: E402
from services.parsers.crm_mon_xml import parse_crm_mon_xml  # noqa: E402
from services.parsers.db2pd_hadr import parse_db2pd_hadr  # noqa: E402
from services.part_errors import ErrorKind, PartError  # noqa: E402
from services.status.incident import (  # noqa: E402
    _naive_epoch,
    build_headline,  # noqa: E402
    clock_time,
)
from services.status.model import ClusterStatus, Part  # noqa: E402
from services.status.verdicts import derive_verdicts  # noqa: E402

corpus_files("pacemaker-lab/0[1-7]*/*crm_mon_-1_--output-as=xml.xml")
IDS = {"db2a": "i-0aaa1111", "db2b": "i-0bbb2222", "qnetd": "i-0qqq3333"}
CLUSTER = Cluster(
    "pcmk-lab",
    database="HADRDB",
    hosts=(
        Host("db2a", "10.99.0.11", "db", instance_id=IDS["db2a"]),
        Host("db2b", "10.99.0.12", "db", instance_id=IDS["db2b"]),
        Host("qnetd", "10.99.0.13", "qdevice", instance_id=IDS["qnetd"]),
    ),
)


def _index() -> dict[tuple[str, str, str], int]:
    rows = (LAB / "INDEX.tsv").read_text().splitlines()[1:]
    out = {}
    for row in rows:
        state, host, rc, _, _, file = row.split("\t")
        out[(state, host, Path(file).name)] = int(rc)
    return out


INDEX = _index()


def _hadr(role: str | None, state: str = "PEER", connect: str = "CONNECTED") -> HadrStatus:
    if role is None:
        return HadrStatus(database="HADRDB", activated=False, message="SQL1032N  No start database manager")
    base = parse_db2pd_hadr((CORPUS / "db2pd-hadr" / "peer-primary-azure-rhel-v111.txt").read_text())
    stream = replace(base.streams[0], role=role, state=state, connect_status=connect, log_gap_bytes=0)
    return replace(base, database="HADRDB", streams=(stream,))


def corpus_status(state: str, speaker: str, xml: str | None = None) -> ClusterStatus:
    """What `status` builds from capture `state`, crm_mon answered by `speaker` (xml: a changed copy)."""
    folder = LAB / state
    xml = xml if xml is not None else (folder / f"{speaker}__crm_mon_-1_--output-as=xml.xml").read_text()
    crm = parse_crm_mon_xml(xml)
    t = _naive_epoch(crm.last_update)  # the lab's nodes run in UTC
    assert t is not None

    def tool(host: str, name: str, parse, key: str) -> Part:
        path = folder / f"{host}__{name}"
        rc = INDEX.get((state, host, path.name))
        if rc == 0:
            return Part(host, t, parse(path.read_text()), command=key)
        out = path.read_text() if path.exists() else ""
        err = PartError(
            ErrorKind.EXIT_CODE, f"`{key}` exited {rc}: {out.strip()[:80]}", host=host, command=key
        )
        return Part(host, t, error=replace(err, exit_status=rc, output=out))

    db = ("db2a", "db2b")
    clone = crm.promotable_clones[0]
    promoted = set(clone.promoted_nodes)
    unpromoted = set(clone.unpromoted_nodes)
    both = bool(promoted) and bool(unpromoted)

    def hadr(host: str) -> HadrStatus:
        if host in promoted:
            return _hadr(
                "PRIMARY", "PEER" if both else "DISCONNECTED", "CONNECTED" if both else "DISCONNECTED"
            )
        if host in unpromoted:
            return _hadr(
                "STANDBY", "PEER" if both else "DISCONNECTED", "CONNECTED" if both else "DISCONNECTED"
            )
        return _hadr(None)

    status = ClusterStatus(
        cluster="pcmk-lab",
        taken_at=t,
        crm=Part(speaker, t, crm, command="crm_mon -1 --output-as=xml"),
        quorum={
            h: tool(h, "corosync-quorumtool_-s.txt", parse_quorumtool, "corosync-quorumtool -s") for h in db
        },
        qdevice={
            h: tool(h, "corosync-qdevice-tool_-s.txt", parse_qdevice_tool, "corosync-qdevice-tool -s")
            for h in db
        },
        qnetd=tool("qnetd", "corosync-qnetd-tool_-l.txt", parse_qnetd_tool, "corosync-qnetd-tool -l"),
        hadr={h: Part(h, t, hadr(h), command="db2pd -hadr -db HADRDB") for h in db},
        instance_ids=dict(IDS),
        instance="db2inst1",
        database="HADRDB",
    )
    # captures missing for a node (04-node-down: db2b is down) -> drop the parts it never gave
    status = replace(
        status,
        quorum={
            h: p for h, p in status.quorum.items() if (folder / f"{h}__corosync-quorumtool_-s.txt").exists()
        },
        qdevice={
            h: p
            for h, p in status.qdevice.items()
            if (folder / f"{h}__corosync-qdevice-tool_-s.txt").exists()
        },
    )
    return replace(status, verdicts=derive_verdicts(status))


def _utc(text: str) -> float:
    epoch = _naive_epoch(text)
    assert epoch is not None
    return epoch


# state, the node crm_mon came from, headline code, fragments of the first line, of the hint
CASES = (
    ("01-healthy", "db2a", "healthy", ("Healthy: db2a is primary, HADR PEER, quorum with qdevice",), ()),
    ("02-after-move", "db2b", "healthy", ("Healthy: db2b is primary, HADR PEER, quorum with qdevice",), ()),
    (
        "03-standby",
        "db2a",
        "node_standby",
        ("node db2b is in standby: it cannot take over",),
        ("`crm node online db2b`",),
    ),
    (
        "04-node-down",
        "db2a",
        "failover_completed",
        (
            f"db2a took over as HADR primary at {clock_time(_utc('Thu Nov 26 15:00:07 2026'))} "
            "(db2b: host down or instance stopped (Pacemaker reports it offline)); running without a standby",
        ),
        ("one more failure stops the database: bring db2b back as standby (start EC2 instance i-0bbb2222",),
    ),
    (
        "04c-cluster-stop",
        "db2b",
        "failover_completed",
        (
            f"db2b took over as HADR primary at {clock_time(_utc('Thu Nov 26 15:00:24 2026'))} "
            "(db2a: host down or instance stopped (Pacemaker reports it offline)); running without a standby",
        ),
        ("bring db2a back as standby",),
    ),
    (
        "05-qnetd-down",
        "db2b",
        "qnetd_down",
        ("corosync-qnetd on qnetd is down: one more failure stops the database",),
        ("`systemctl start corosync-qnetd`",),
    ),
    (
        "06-no-quorum",
        "db2b",
        "no_quorum",
        ("partition WITHOUT quorum",),
        ("restore the peer node or the quorum device",),
    ),
    # after the quorum loss Pacemaker promoted db2a again (crm_mon on db2b says so)
    ("07-recovered", "db2b", "healthy", ("Healthy: db2a is primary, HADR PEER, quorum with qdevice",), ()),
)


@pytest.mark.parametrize(("state", "speaker", "code", "title", "hint"), CASES, ids=[c[0] for c in CASES])
def test_headline_of_each_recorded_state(state, speaker, code, title, hint) -> None:
    s = corpus_status(state, speaker)
    head = check_same_everywhere(s, s.taken_at + 2, CLUSTER, state)
    check_advice(s, head, state)
    assert head.code == code, f"{state}: {head.code}: {head.title}"
    for part in title:
        assert part in head.title, f"{state}: {part!r} not in {head.title!r}"
    for part in hint:
        assert part in head.hint, f"{state}: {part!r} not in {head.hint!r}"


def test_a_standby_node_is_not_told_to_db2start() -> None:
    """03-standby: Pacemaker stopped Db2 on db2b; the HADR hint says how to bring it back, not db2start."""
    s = corpus_status("03-standby", "db2a")
    [hint] = [v.hint for v in s.verdicts if v.code == "hadr_disconnected"]
    assert hint.startswith("db2b is in Pacemaker standby") and "`crm node online db2b`" in hint
    assert "db2start" not in hint


def test_no_quorum_advises_quorum_first_not_a_cleanup() -> None:
    s = corpus_status("06-no-quorum", "db2b")
    [hint] = [v.hint for v in s.verdicts if v.code == "no_promoted_node"]
    assert hint.startswith("restore quorum first") and not recommends_cleanup(hint)


def _mid_promotion_xml() -> str:
    """04-node-down as crm_mon shows it while db2a is being promoted (record-pending): the clone instance
    Unpromoted with pending="Promoting", its promote operation pending, and a failed monitor of before."""
    xml = (LAB / "04-node-down" / "db2a__crm_mon_-1_--output-as=xml.xml").read_text()
    promoted = (
        '<resource id="db2_db2inst1_db2inst1_HADRDB" resource_agent="ocf:pacemaker:Stateful" role="Promoted"'
    )
    assert promoted in xml
    xml = xml.replace(promoted, promoted.replace('role="Promoted"', 'role="Unpromoted" pending="Promoting"'))
    op = '<operation_history call="42" task="promote" rc="0" rc_text="ok"'
    assert op in xml
    xml = xml.replace(
        op, '<operation_history call="42" task="promote" rc="193" rc_text="unknown" status="pending"'
    )
    failure = (
        "  <failures>\n"
        '    <failure op_key="db2_db2inst1_db2inst1_HADRDB_monitor_9000" node="db2a" exitstatus="not running" '
        'exitreason="" exitcode="7" call="41" status="complete" last-rc-change="2026-11-26 15:00:06Z" '
        'queued="0" exec="0" interval="9000" task="monitor"/>\n'
        "  </failures>\n"
    )
    return xml.replace("  <bans>", failure + "  <bans>")


def test_mid_promotion_says_failover_in_progress_and_never_cleanup() -> None:
    s = corpus_status("04-node-down", "db2a", _mid_promotion_xml())
    head = check_same_everywhere(s, s.taken_at + 2, CLUSTER, "mid-promotion")
    check_advice(s, head, "mid-promotion")
    assert head.code == "failover_in_progress"
    assert head.title.startswith(
        "failover in progress: Pacemaker is promoting db2a after db2b stopped answering"
    )
    assert "db2b: host down or instance stopped (Pacemaker reports it offline)" in head.consequences
    [failed] = [v for v in s.verdicts if v.code == "failed_action"]
    assert "cleanup" in failed.hint and not recommends_cleanup(failed.hint)  # "no cleanup until it settles"
    # the same failure once Pacemaker is done: now the cleanup is the right advice
    settled = corpus_status(
        "04-node-down",
        "db2a",
        _mid_promotion_xml()
        .replace('role="Unpromoted" pending="Promoting"', 'role="Promoted"')
        .replace('rc="193" rc_text="unknown" status="pending"', 'rc="0" rc_text="ok"'),
    )
    [after] = [v for v in settled.verdicts if v.code == "failed_action"]
    assert after.hint == "fix the cause, then `crm resource cleanup db2_db2inst1_db2inst1_HADRDB`"


def test_a_switchover_caught_mid_way_is_in_progress_without_cleanup() -> None:
    """02-after-move while `crm resource move` runs: first db2a being demoted, then db2b being promoted."""
    healthy_xml = (LAB / "01-healthy" / "db2a__crm_mon_-1_--output-as=xml.xml").read_text()
    moved_xml = (LAB / "02-after-move" / "db2b__crm_mon_-1_--output-as=xml.xml").read_text()
    rsc = (
        '<resource id="db2_db2inst1_db2inst1_HADRDB" resource_agent="ocf:pacemaker:Stateful" role="Promoted"'
    )
    assert rsc in healthy_xml and rsc in moved_xml
    demoting = healthy_xml.replace(rsc, rsc + ' pending="Demoting"').replace(
        'client="cibadmin" origin="db2a"', 'client="crm_resource" origin="db2a"'
    )
    promoting = moved_xml.replace(
        rsc, rsc.replace('role="Promoted"', 'role="Unpromoted" pending="Promoting"')
    )
    for label, state, xml, started in (
        ("demoting", "01-healthy", demoting, "started 10 s ago"),  # last_change 14:58:56, update 14:59:06
        ("promoting", "02-after-move", promoting, "started 4 s ago"),  # demote 14:59:26, update 14:59:30
    ):
        s = corpus_status(state, "db2a" if state == "01-healthy" else "db2b", xml)
        head = check_same_everywhere(s, s.taken_at, CLUSTER, label)
        check_advice(s, head, label)
        assert head.code == "failover_in_progress", (label, head.title)
        assert head.title == (
            f"switchover in progress: Pacemaker is moving the primary role from db2a to db2b, {started}"
        )
        assert head.hint.startswith("wait for Pacemaker to finish moving the primary role to db2b")
        assert not any(recommends_cleanup(h) for h in [head.hint, *(v.hint for v in s.verdicts)])


def test_a_switchover_between_demote_and_promote_names_the_node_demoted_last_as_leaving() -> None:
    """02-after-move between its two steps: db2a demoted (its last demote in the history), no instance
    promoted or promoting yet. The real lab caught this (the db2hadr agent's promote takes seconds): the
    headline must not guess the direction from the order crm_mon lists the instances in."""
    moved_xml = (LAB / "02-after-move" / "db2b__crm_mon_-1_--output-as=xml.xml").read_text()
    rsc = (
        '<resource id="db2_db2inst1_db2inst1_HADRDB" resource_agent="ocf:pacemaker:Stateful" role="Promoted"'
    )
    between = moved_xml.replace(rsc, rsc.replace('role="Promoted"', 'role="Unpromoted"'))
    s = corpus_status("02-after-move", "db2b", between)
    head = build_headline(s, s.taken_at)
    assert head.code == "failover_in_progress", head.title
    assert head.title.startswith(
        "switchover in progress: Pacemaker is moving the primary role from db2a to db2b"
    )
