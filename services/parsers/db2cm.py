"""Parse `db2cm -list` (Db2's Pacemaker cluster manager), including its embedded qdevice -s block."""

from __future__ import annotations

import re

from services.cluster_model import Db2cmList, Db2cmResource, QdeviceStatus
from services.parsers.corosync import parse_qdevice_tool
from services.parsers.errors import ParseError

KIND = "db2cm-list"

_KEY_VALUE = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z][^=]*?)\s*=(?:\s(?P<value>.*?))?\s*$")
_DOMAIN_KEYS = {
    "HA configuration": "ha_configuration",
    "Domain name": "domain_name",
    "Pacemaker version": "pacemaker_version",
    "Corosync version": "corosync_version",
    "Current domain leader": "domain_leader",
}
_SECTIONS = ("Domain information:", "Node information:", "Resource Information:")
# The field db2cm prints last for each resource type: how a listing without the Fencing/Quorum sections
# (db2cm before 11.5.8 ends with the resources) is told from one cut short.
_LAST_FIELD = {
    "HADR": "HADR Standby State",
    "Instance": "Instance Name",
    "Network Interface": "Interface Name",
    "IP": "Location",
    "Partition": "Current Host",
    "File System": "Current Host",
}
_HINT_CUT = "the output looks cut short; run db2cm -list again and paste all of it"


def parse_db2cm_list(text: str) -> Db2cmList:
    """Return the domain facts, node states, resources and the qdevice status of `db2cm -list`.

    Every layout in the corpus parses, and the older releases' that end with the resources (no
    "Fencing Information:", "Quorum Information:" or qdevice block: fencing and quorum are then "").
    Raises ParseError for lines that fit no section, for output without its domain name or nodes, for
    output cut short (no resources section, or a last resource missing the field db2cm prints last), and
    for a malformed embedded corosync-qdevice-tool block.
    """
    if not isinstance(text, str):
        raise ParseError(KIND, "text", excerpt=repr(type(text)))
    lines = [line.rstrip("\r") for line in text.split("\n")]
    facts: dict[str, str] = {}
    nodes: dict[str, str] = {}
    resources: list[tuple[str, dict[str, str]]] = []
    answers: dict[str, str] = {}  # "Fencing Information:" / "Quorum Information:" -> next line
    section = ""
    qdevice: QdeviceStatus | None = None
    for index, line in enumerate(lines):
        number, stripped = index + 1, line.strip()
        if not stripped or stripped == "Cluster Status" or set(stripped) <= {"-", " "}:
            continue
        if stripped in _SECTIONS or stripped in ("Fencing Information:", "Quorum Information:"):
            section = stripped
            continue
        if stripped == "Qdevice information":
            qdevice = _qdevice(lines[index:], number)
            break
        if section in ("Fencing Information:", "Quorum Information:"):
            if section in answers:
                raise ParseError(KIND, f"one line under {section}", line=number, excerpt=stripped)
            answers[section] = stripped
        elif section == "Domain information:":
            key, value = _key_value(line, number)
            facts[key] = value
        elif section == "Node information:":
            if stripped.startswith("Name "):
                continue  # "Name name           State" (sic)
            parts = stripped.split()
            if len(parts) != 2:
                raise ParseError(KIND, '"<node> <state>" row', line=number, excerpt=stripped)
            nodes[parts[0]] = parts[1]
        elif section == "Resource Information:":
            key, value = _key_value(line, number)
            if key == "Resource Name":
                resources.append((value, {}))
            elif not resources:
                raise ParseError(KIND, '"Resource Name = ..." first', line=number, excerpt=stripped)
            else:
                resources[-1][1].setdefault(key, value)
        else:
            raise ParseError(KIND, '"Domain information:" section', line=number, excerpt=stripped)
    if "Domain name" not in facts:
        raise ParseError(KIND, '"Domain name = ..." in "Domain information:"', hint=_HINT_CUT)
    if not nodes:
        raise ParseError(KIND, 'node rows under "Node information:"', hint=_HINT_CUT)
    if "Fencing Information:" not in answers:
        # an older db2cm's listing ends with its resources: the last one must be whole
        if not resources:
            raise ParseError(KIND, '"Fencing Information:" section', hint=_HINT_CUT)
        last_type = resources[-1][1].get("Resource Type", "")
        last_field = _LAST_FIELD.get(last_type)
        if last_field is not None and last_field not in resources[-1][1]:
            raise ParseError(KIND, f'"{last_field} = ..." ending the last resource', hint=_HINT_CUT)
    return Db2cmList(
        **{attr: facts.get(key, "") for key, attr in _DOMAIN_KEYS.items()},
        nodes=nodes,
        resources=tuple(
            Db2cmResource(name=name, type=fields.pop("Resource Type", ""), fields=fields)
            for name, fields in resources
        ),
        fencing=answers.get("Fencing Information:", ""),
        quorum=answers.get("Quorum Information:", ""),
        qdevice=qdevice,
    )


def _key_value(line: str, number: int) -> tuple[str, str]:
    match = _KEY_VALUE.match(line)
    if not match:
        raise ParseError(KIND, '"Key = value"', line=number, excerpt=line.strip())
    value = (match["value"] or "").strip()
    # db2cm quotes file system values and cuts long ones without the closing quote
    if value.startswith('"'):
        value = value[1:-1] if value.endswith('"') and len(value) > 1 else value[1:]
    return match["key"].strip(), value


def _qdevice(lines: list[str], first_number: int) -> QdeviceStatus:
    try:
        return parse_qdevice_tool("\n".join(lines))
    except ParseError as exc:
        line = None if exc.line is None else exc.line + first_number - 1
        raise ParseError(
            KIND,
            f"a corosync-qdevice-tool block ({exc.expected})",
            line=line,
            excerpt=exc.excerpt,
            hint=exc.hint,
        ) from None
