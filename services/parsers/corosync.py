"""Parse `corosync-quorumtool -s`, `corosync-qdevice-tool -s[v]` and `corosync-qnetd-tool -l[v]`.

Separators between a key and its value are TABs in the real tools and spaces in many copies (tickets,
web pages); both are accepted. When a daemon is down the tools print only an error on stderr
("Cannot initialize CMAP service", "Can't connect to QDevice socket", "Can't connect to qnetd socket");
given that text the parsers raise ParseError with a hint saying which daemon to start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Required, TypedDict

from services.cluster_model import (
    QdeviceStatus,
    QnetdClient,
    QnetdCluster,
    QnetdStatus,
    QuorumMember,
    QuorumStatus,
)
from services.parsers.errors import ParseError

_KEY_VALUE = re.compile(r"^(?P<indent>[ \t]*)(?P<key>[A-Za-z][^:\t]*?):(?:[ \t]+(?P<value>.*?))?[ \t]*$")
_NODE_LIST_ITEM = re.compile(r"^[ \t]+\d+[ \t]+Node ID = (?P<id>\d+)(?P<rest>,.*)?$")
_MEMBER_FLAGS = re.compile(r"^(?:A|NA|V|NV|MW|NMW)(?:,(?:A|NA|V|NV|MW|NMW))*$")
_DASHES = re.compile(r"^-{3,}$")

_DOWN_MESSAGES = (
    ("Cannot initialize CMAP service", "corosync is not running on this node; start corosync"),
    ("Cannot initialize QUORUM service", "corosync is not running on this node; start corosync"),
    ("Can't connect to QDevice socket", "corosync-qdevice is not running on this node; start it"),
    ("Can't connect to qnetd socket", "corosync-qnetd is not running on this host; start it"),
)


@dataclass
class _Line:
    number: int
    text: str


def _lines(text: str, kind: str) -> list[_Line]:
    if not isinstance(text, str):
        raise ParseError(kind, "text", excerpt=repr(type(text)))
    for message, hint in _DOWN_MESSAGES:
        if message in text:
            raise ParseError(kind, f"{_TOOL[kind]} output", line=1, excerpt=message, hint=hint)
    if not text.strip() and kind != "qnetd":  # qnetd prints nothing when no cluster is connected
        raise ParseError(
            kind,
            f"{_TOOL[kind]} output",
            line=1,
            excerpt="",
            hint="the command printed nothing; check that its daemon runs and read its stderr",
        )
    return [_Line(i, t.rstrip("\r")) for i, t in enumerate(text.split("\n"), start=1)]


_TOOL = {
    "quorum": "corosync-quorumtool -s",
    "qdevice": "corosync-qdevice-tool -s",
    "qnetd": "corosync-qnetd-tool -l",
}


def _key_value(line: _Line, kind: str) -> tuple[str, str, str]:
    match = _KEY_VALUE.match(line.text)
    if not match:
        raise ParseError(kind, '"Key: value"', line=line.number, excerpt=line.text)
    return match["indent"], match["key"].strip(), (match["value"] or "").strip()


def _int(value: str, kind: str, line: _Line, what: str) -> int:
    try:
        return int(value.split()[0])
    except (ValueError, IndexError):
        raise ParseError(kind, f"a number for {what}", line=line.number, excerpt=line.text) from None


def _id_list(value: str, kind: str, line: _Line) -> tuple[int, ...]:
    """ "1, 2" -> (1, 2)."""
    if not value:
        return ()
    try:
        return tuple(int(part) for part in value.split(","))
    except ValueError:
        raise ParseError(
            kind, "a comma-separated node id list", line=line.number, excerpt=line.text
        ) from None


# ---------------------------------------------------------------- corosync-quorumtool -s


def parse_quorumtool(text: str) -> QuorumStatus:
    """Parse `corosync-quorumtool -s`; returns QuorumStatus (quorate False without quorum).

    Raises ParseError for other text, for output cut before the membership table, and for the
    "Cannot initialize CMAP service" message printed when corosync is down.
    """
    kind = "quorum"
    lines = _lines(text, kind)
    facts: dict[str, str] = {}
    fact_lines: dict[str, _Line] = {}
    members: list[QuorumMember] = []
    header: _Line | None = None
    section = ""
    for line in lines:
        stripped = line.text.strip()
        if not stripped or _DASHES.match(stripped):
            continue
        if stripped in ("Quorum information", "Votequorum information", "Membership information"):
            section = stripped
            continue
        if section == "Membership information":
            if header is None:
                if not stripped.startswith("Nodeid"):
                    raise ParseError(
                        kind, '"Nodeid Votes [Qdevice] Name" header', line=line.number, excerpt=stripped
                    )
                header = line
                continue
            members.append(_member(line, "Qdevice" in header.text.split(), kind))
            continue
        if not section:
            raise ParseError(kind, '"Quorum information" heading', line=line.number, excerpt=stripped)
        _indent, key, value = _key_value(line, kind)
        facts[key] = value
        fact_lines[key] = line
    if "Quorate" not in facts:
        raise ParseError(
            kind, 'a "Quorate:" line', hint="the output is incomplete; run corosync-quorumtool -s again"
        )
    if header is None or not members:
        raise ParseError(
            kind,
            "the Membership information table",
            hint="the output is incomplete; run corosync-quorumtool -s again",
        )
    quorum_words = facts.get("Quorum", "").split()

    def number(key: str) -> int:
        return _int(facts[key], kind, fact_lines[key], key) if key in facts else 0

    return QuorumStatus(
        quorate=facts["Quorate"].lower() == "yes",
        node_id=number("Node ID") if "Node ID" in facts else None,
        nodes=number("Nodes"),
        ring_id=facts.get("Ring ID", ""),
        expected_votes=number("Expected votes"),
        total_votes=number("Total votes"),
        quorum=number("Quorum"),
        flags=tuple(facts.get("Flags", "").split()),
        members=tuple(members),
        date=facts.get("Date", ""),
        provider=facts.get("Quorum provider", ""),
        activity_blocked=" ".join(quorum_words[1:]).lower() == "activity blocked",
    )


def _member(line: _Line, has_qdevice_column: bool, kind: str) -> QuorumMember:
    tokens = line.text.split()
    if len(tokens) < 3:
        raise ParseError(
            kind, "a membership row (Nodeid Votes [Qdevice] Name)", line=line.number, excerpt=line.text
        )
    node_id = _int(tokens[0], kind, line, "Nodeid")
    votes = _int(tokens[1], kind, line, "Votes")
    rest = tokens[2:]
    flags = ""
    if has_qdevice_column and len(rest) > 1 and _MEMBER_FLAGS.match(rest[0]):
        flags, rest = rest[0], rest[1:]
    local = "(local)" in rest
    name_parts = [t for t in rest if t != "(local)"]
    if not name_parts:
        raise ParseError(kind, "a node name in the membership row", line=line.number, excerpt=line.text)
    name = name_parts[0]
    return QuorumMember(node_id=node_id, votes=votes, qdevice=flags, name=name, local=local)


# ---------------------------------------------------------------- corosync-qdevice-tool -s / -sv

_QDEVICE_KNOWN = {
    "Model",
    "Node ID",
    "Configured node list",
    "Membership node list",
    "Cluster name",
    "QNetd host",
    "Algorithm",
    "Tie-breaker",
    "State",
}


def parse_qdevice_tool(text: str) -> QdeviceStatus:
    """Parse `corosync-qdevice-tool -s` or `-sv`; returns QdeviceStatus (-v fields land in `extra`).

    Raises ParseError for other text, for output missing its Model (or, for model Net, its State), and
    for the "Can't connect to QDevice socket" message printed when corosync-qdevice is down.
    """
    kind = "qdevice"
    lines = _lines(text, kind)
    section = ""
    facts: dict[str, str] = {}
    fact_lines: dict[str, _Line] = {}
    extra: dict[str, str] = {}
    lists: dict[str, list[str]] = {}
    open_list: str | None = None
    for line in lines:
        stripped = line.text.strip()
        if not stripped or _DASHES.match(stripped):
            continue
        if stripped in ("Qdevice information", "Qdevice-net information"):
            section, open_list = stripped, None
            continue
        if not section:
            raise ParseError(kind, '"Qdevice information" heading', line=line.number, excerpt=stripped)
        item = _NODE_LIST_ITEM.match(line.text)
        if item and open_list is not None:
            lists[open_list].append(item["id"] + (item["rest"] or ""))
            continue
        _indent, key, value = _key_value(line, kind)
        open_list = None
        if key.endswith("node list") and not value:
            open_list = key
            lists[key] = []
            continue
        if key in _QDEVICE_KNOWN and key not in facts:
            facts[key], fact_lines[key] = value, line
        else:
            extra[f"{key} (net)" if key in extra else key] = value
    if "Model" not in facts:
        raise ParseError(
            kind, 'a "Model:" line in "Qdevice information"', hint="run corosync-qdevice-tool -s again"
        )
    if facts["Model"].lower() == "net" and "State" not in facts:
        raise ParseError(
            kind,
            'a "State:" line in "Qdevice-net information"',
            hint="the output is incomplete; run corosync-qdevice-tool -s again",
        )
    for key, items in lists.items():
        if key != "Configured node list":
            extra[key] = "; ".join(items)
    configured = tuple(int(i.split(",")[0]) for i in lists.get("Configured node list", []))
    membership = facts.get("Membership node list", "")
    return QdeviceStatus(
        model=facts["Model"],
        node_id=_int(facts["Node ID"], kind, fact_lines["Node ID"], "Node ID")
        if "Node ID" in facts
        else None,
        configured_node_ids=configured,
        membership_node_ids=_id_list(membership, kind, fact_lines.get("Membership node list", lines[0])),
        cluster_name=facts.get("Cluster name", ""),
        qnetd_host=facts.get("QNetd host", ""),
        algorithm=facts.get("Algorithm", ""),
        tie_breaker=facts.get("Tie-breaker", ""),
        state=facts.get("State", ""),
        extra=extra,
    )


# ---------------------------------------------------------------- corosync-qnetd-tool -l / -lv

_CLUSTER = re.compile(r'^Cluster "(?P<name>.*)":\s*$')
_CLIENT = re.compile(r"^[ \t]*Node ID (?P<id>\d+):\s*$")


class _QnetdClusterFields(TypedDict, total=False):
    """A `Cluster "<name>":` block while it is read."""

    name: Required[str]
    clients: Required[list[QnetdClient]]
    algorithm: str
    tie_breaker: str


class _QnetdClientFields(TypedDict, total=False):
    """A `Node ID <n>:` block while it is read (`line`: where it starts, for errors)."""

    node_id: Required[int]
    line: Required[int]
    extra: Required[dict[str, str]]
    address: str
    configured: tuple[int, ...]
    membership: tuple[int, ...]
    vote: str


def parse_qnetd_tool(text: str) -> QnetdStatus:
    """Parse `corosync-qnetd-tool -l` or `-lv`; returns QnetdStatus (no clusters for empty output).

    A running qnetd with no connected cluster prints nothing, hence the empty result. Raises ParseError
    for other text, for a client block without its "Vote:" line (output cut short) and for the
    "Can't connect to qnetd socket" message printed when corosync-qnetd is down.
    """
    kind = "qnetd"
    lines = _lines(text, kind)
    clusters: list[QnetdCluster] = []
    cluster: _QnetdClusterFields | None = None
    client: _QnetdClientFields | None = None

    def close_client() -> None:
        nonlocal client
        if client is None:
            return
        if "vote" not in client:
            raise ParseError(
                kind,
                f'a "Vote:" line for Node ID {client["node_id"]}',
                line=client["line"],
                hint="the output is incomplete; run corosync-qnetd-tool -l again",
            )
        assert cluster is not None
        cluster["clients"].append(
            QnetdClient(
                node_id=client["node_id"],
                client_address=client.get("address", ""),
                configured_node_ids=client.get("configured", ()),
                membership_node_ids=client.get("membership", ()),
                vote=client["vote"],
                extra=client["extra"],
            )
        )
        client = None

    def close_cluster() -> None:
        close_client()
        if cluster is not None:
            clusters.append(
                QnetdCluster(
                    name=cluster["name"],
                    algorithm=cluster.get("algorithm", ""),
                    tie_breaker=cluster.get("tie_breaker", ""),
                    clients=tuple(cluster["clients"]),
                )
            )

    for line in lines:
        if not line.text.strip():
            continue
        if match := _CLUSTER.match(line.text):
            close_cluster()
            cluster = {"name": match["name"], "clients": []}
            continue
        if cluster is None:
            raise ParseError(kind, 'a "Cluster "<name>":" line', line=line.number, excerpt=line.text)
        if match := _CLIENT.match(line.text):
            close_client()
            client = {"node_id": int(match["id"]), "line": line.number, "extra": {}}
            continue
        _indent, key, value = _key_value(line, kind)
        if client is None:
            if key == "Algorithm":
                cluster["algorithm"] = value
            elif key == "Tie-breaker":
                cluster["tie_breaker"] = value
            else:
                raise ParseError(
                    kind,
                    '"Algorithm:", "Tie-breaker:" or "Node ID <n>:"',
                    line=line.number,
                    excerpt=line.text,
                )
            continue
        if key == "Client address":
            client["address"] = value
        elif key == "Configured node list":
            client["configured"] = _id_list(value, kind, line)
        elif key == "Membership node list":
            client["membership"] = _id_list(value, kind, line)
        elif key == "Vote":
            client["vote"] = value
        else:
            client["extra"][key] = value
    close_cluster()
    return QnetdStatus(clusters=tuple(clusters))
