"""Small builders of ClusterStatus snapshots for verdict/event tests (facts only, no parsing)."""

from __future__ import annotations

from dataclasses import replace

from services.cluster_model import (
    CrmClone,
    CrmNode,
    CrmResource,
    CrmStatus,
    HadrStatus,
    HadrStream,
    OverlayRoute,
    QdeviceStatus,
    QuorumStatus,
)
from services.part_errors import ErrorKind, PartError, combined, exit_error
from services.status.model import ClusterStatus, Part
from services.status.verdicts import derive_verdicts

CLONE = "db2_db2inst1_db2inst1_HADRDB-clone"
IDS = {"db2a": "i-0aaa", "db2b": "i-0bbb", "qdev": "i-0qqq"}


def crm(promoted: str | None = "db2a", online=("db2a", "db2b"), quorum=True, standby=()) -> CrmStatus:
    nodes = tuple(
        CrmNode(name=n, online=n in online, standby=n in standby, is_dc=n == "db2b") for n in ("db2a", "db2b")
    )
    inst = []
    for n in online:
        role = "Promoted" if n == promoted else "Unpromoted"
        inst.append(CrmResource(id="db2_db2inst1_db2inst1_HADRDB", role=role, active=True, nodes=(n,)))
    clone = CrmClone(id=CLONE, promotable=True, instances=tuple(inst))
    return CrmStatus(dc="db2b", with_quorum=quorum, nodes=nodes, clones=(clone,))


def hadr(role: str, state="PEER", connect="CONNECTED", gap=0) -> HadrStatus:
    st = HadrStream(role=role, state=state, syncmode="NEARSYNC", connect_status=connect, log_gap_bytes=gap)
    return HadrStatus(database="HADRDB", streams=(st,))


def part(value, source="db2a", t=1000.0, error: PartError | None = None) -> Part:
    return Part(source=source, fetched_at=t, value=value, error=error)


def down(host: str, message: str = "connection refused") -> PartError:
    """A host the runner could not reach (what SshPool's HostUnreachable becomes)."""
    return PartError(ErrorKind.UNREACHABLE, message, host=host)


def not_found(host: str, command: str) -> PartError:
    """`command` not installed on `host`: bash's answer, exit 127, as status.py records it."""
    tool = command.split()[0]
    return exit_error(host, command, 127, "", f"bash: line 1: {tool}: command not found\n")


def exited(host: str, command: str, status: int, stderr: str) -> PartError:
    return exit_error(host, command, status, "", stderr)


def failed_on_each(*errors: PartError) -> Part:
    """The crm part when every Db2 host failed: one error per host (status.py's _pick_crm)."""
    return Part(source=",".join(e.host for e in errors), fetched_at=1000.0, error=combined(errors))


def healthy(t: float = 1000.0) -> ClusterStatus:
    s = ClusterStatus(
        cluster="lab",
        taken_at=t,
        crm=part(crm(), "db2a", t),
        quorum={
            h: part(QuorumStatus(quorate=True, flags=("Quorate", "Qdevice")), h, t) for h in ("db2a", "db2b")
        },
        qdevice={h: part(QdeviceStatus(state="Connected"), h, t) for h in ("db2a", "db2b")},
        hadr={"db2a": part(hadr("PRIMARY"), "db2a", t), "db2b": part(hadr("STANDBY"), "db2b", t)},
        overlay_route=part(
            OverlayRoute("rtb-1", "192.168.1.81/32", instance_id=IDS["db2a"], state="active"), "aws", t
        ),
        instance_ids=dict(IDS),
    )
    return with_verdicts(s)


def with_verdicts(s: ClusterStatus) -> ClusterStatus:
    return replace(s, verdicts=derive_verdicts(s))
