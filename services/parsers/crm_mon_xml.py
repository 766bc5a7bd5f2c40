"""Parse `crm_mon --output-as=xml` (Pacemaker 2.x) and `crm_mon --as-xml` (Pacemaker 1.1)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import TypedDict, overload

from services.cluster_model import (
    CrmBan,
    CrmClone,
    CrmFailedAction,
    CrmGroup,
    CrmNode,
    CrmOperation,
    CrmResource,
    CrmStatus,
)
from services.parsers.errors import ParseError

KIND = "crm_mon-xml"

# Pacemaker < 2.1 (and 1.1) name the promotable roles Master/Slave; the contract uses the new names.
_ROLE_NAMES = {
    "master": "Promoted",
    "slave": "Unpromoted",
    "promoted": "Promoted",
    "unpromoted": "Unpromoted",
    "started": "Started",
    "stopped": "Stopped",
    "starting": "Starting",
    "stopping": "Stopping",
    "promoting": "Promoting",
    "demoting": "Demoting",
    "migrating": "Migrating",
    "unknown": "Unknown",
}
_PROMOTABLE_ROLES = {"Promoted", "Unpromoted"}
_HOSTILE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_OP_ID_SUFFIX = re.compile(r"_last(?:_failure)?_\d+$")
_OP_KEY = re.compile(r"^(?P<rsc>.+)_(?P<task>[a-z_-]+?)_(?P<interval>\d+)$")


def parse_crm_mon_xml(text: str) -> CrmStatus:
    """Parse crm_mon XML into a CrmStatus.

    Returns CrmStatus(connected=False, status_code=102, ...) when Pacemaker is not running on the node
    (`<status code="102" message="Not connected">` without a summary); that is a fact, not an error.
    Raises ParseError for anything that is not well-formed crm_mon XML, for truncated output and for
    XML carrying a DTD or entity declarations (never expanded).
    """
    root = _parse_root(text)
    status_el = root.find("status")
    if root.tag == "pacemaker-result" and status_el is None:
        raise ParseError(
            KIND,
            "a <status> element in <pacemaker-result>",
            hint="the output looks cut short; run crm_mon -1 --output-as=xml again",
        )
    code, message, errors = _status(status_el)
    summary = root.find("summary")
    state: _State = {
        "status_code": code,
        "status_message": message,
        "status_errors": errors,
        "pacemakerd_state": _attr(root.find("pacemakerd"), "state"),
    }
    if code != 0 and summary is None:
        return CrmStatus(connected=False, **state)
    summary_facts: _SummaryFacts = _summary(summary) if summary is not None else {}
    nodes = tuple(_node(el) for el in _children(root, "nodes", "node"))
    if not summary_facts.get("dc"):  # summary absent (--include) or name scrubbed: the node list knows
        summary_facts["dc"] = next((n.name for n in nodes if n.is_dc), None)
    clones, groups, resources = _resources(root.find("resources"))
    return CrmStatus(
        connected=True,
        **state,
        nodes=nodes,
        resources=resources,
        clones=clones,
        groups=groups,
        failed_actions=tuple(_failure(el) for el in _children(root, "failures", "failure")),
        operations=_operations(root.find("node_history")),
        bans=tuple(_ban(el) for el in _children(root, "bans", "ban")),
        node_attributes=_node_attributes(root.find("node_attributes")),
        **summary_facts,
    )


# ---------------------------------------------------------------- document level


def _parse_root(text: str) -> ET.Element:
    if not isinstance(text, str):
        raise ParseError(KIND, "text", excerpt=repr(type(text)))
    hostile = _HOSTILE.search(text)
    if hostile:
        line = text.count("\n", 0, hostile.start()) + 1
        raise ParseError(
            KIND,
            "crm_mon XML without DTD or entity declarations",
            line=line,
            excerpt=hostile.group(0),
            hint="crm_mon never emits them; refusing to expand entities",
        )
    if not text.strip():
        raise ParseError(KIND, "<pacemaker-result> or <crm_mon> root element", line=1, excerpt="")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        position: tuple[int, int] | None = getattr(exc, "position", None)
        bad_line = position[0] if position else None
        lines = text.splitlines()
        excerpt = lines[bad_line - 1] if bad_line and 0 < bad_line <= len(lines) else ""
        raise ParseError(
            KIND,
            f"well-formed XML ({exc.msg})",
            line=bad_line,
            excerpt=excerpt.strip(),
            hint="the output may be truncated or not XML; capture it with crm_mon -1 --output-as=xml",
        ) from None
    except (ValueError, RecursionError) as exc:  # e.g. NUL bytes or absurd nesting
        raise ParseError(KIND, "well-formed XML", excerpt=str(exc)) from None
    if root.tag not in ("pacemaker-result", "crm_mon"):
        raise ParseError(
            KIND,
            "<pacemaker-result> or <crm_mon> root element",
            line=1,
            excerpt=text.lstrip().splitlines()[0] if text.strip() else "",
        )
    return root


def _status(el: ET.Element | None) -> tuple[int, str, tuple[str, ...]]:
    if el is None:  # 1.1 --as-xml has no <status>
        return 0, "OK", ()
    code = _int(el, "code", 0)
    errors = tuple((e.text or "").strip() for e in el.iter("error"))
    return code, el.get("message", ""), errors


class _State(TypedDict):
    """CrmStatus fields read from <status> and <pacemakerd>, also when not connected."""

    status_code: int
    status_message: str
    status_errors: tuple[str, ...]
    pacemakerd_state: str


class _SummaryFacts(TypedDict, total=False):
    """CrmStatus fields read from <summary>."""

    stack: str
    dc: str | None
    dc_version: str
    with_quorum: bool | None
    last_update: str
    last_change: str
    last_change_by: str
    nodes_configured: int
    resources_configured: int
    stonith_enabled: bool | None
    maintenance_mode: bool | None
    no_quorum_policy: str
    symmetric_cluster: bool | None


def _summary(el: ET.Element) -> _SummaryFacts:
    dc_el = el.find("current_dc")
    change = el.find("last_change")
    options = el.find("cluster_options")
    dc_present = _bool(dc_el, "present") if dc_el is not None else False
    quorum = dc_el.get("with_quorum") if dc_el is not None else None
    return {
        "stack": _attr(el.find("stack"), "type"),
        "dc": (dc_el.get("name") or None) if dc_el is not None and dc_present else None,
        "dc_version": _attr(dc_el, "version"),
        "with_quorum": None if quorum is None else quorum == "true",
        "last_update": _attr(el.find("last_update"), "time"),
        "last_change": _attr(change, "time"),
        "last_change_by": _change_by(change),
        "nodes_configured": _int(el.find("nodes_configured"), "number", 0),
        "resources_configured": _int(el.find("resources_configured"), "number", 0),
        "stonith_enabled": _opt_bool(options, "stonith-enabled"),
        "maintenance_mode": _opt_bool(options, "maintenance-mode"),
        "no_quorum_policy": _attr(options, "no-quorum-policy"),
        "symmetric_cluster": _opt_bool(options, "symmetric-cluster"),
    }


def _change_by(el: ET.Element | None) -> str:
    """Same wording as crm_mon's text output: "root via cibadmin on db2a"."""
    if el is None:
        return ""
    parts = []
    if el.get("user"):
        parts.append(el.get("user", ""))
    if el.get("client"):
        parts.append(f"via {el.get('client')}")
    if el.get("origin"):
        parts.append(f"on {el.get('origin')}")
    return " ".join(parts)


# ---------------------------------------------------------------- nodes, resources


def _node(el: ET.Element) -> CrmNode:
    return CrmNode(
        name=_required(el, "name"),
        id=el.get("id", ""),
        online=_bool(el, "online"),
        standby=_bool(el, "standby"),
        standby_onfail=_bool(el, "standby_onfail"),
        maintenance=_bool(el, "maintenance"),
        pending=_bool(el, "pending"),
        unclean=_bool(el, "unclean"),
        shutdown=_bool(el, "shutdown"),
        is_dc=_bool(el, "is_dc"),
        resources_running=_int(el, "resources_running", 0),
        type=el.get("type", "member"),
    )


def _resources(
    el: ET.Element | None,
) -> tuple[tuple[CrmClone, ...], tuple[CrmGroup, ...], tuple[CrmResource, ...]]:
    clones: list[CrmClone] = []
    groups: list[CrmGroup] = []
    primitives: list[CrmResource] = []
    if el is None:
        return (), (), ()
    for child in el:
        if child.tag == "resource":
            primitives.append(_primitive(child))
        elif child.tag == "group":
            groups.append(_group(child))
        elif child.tag == "clone":
            clones.append(_clone(child))
        # bundles (container replicas) are not part of a Db2 HADR cluster: not modelled
    return tuple(clones), tuple(groups), tuple(primitives)


def _primitive(el: ET.Element) -> CrmResource:
    return CrmResource(
        id=_required(el, "id"),
        agent=el.get("resource_agent", ""),
        role=normalise_role(el.get("role", "")),
        active=_bool(el, "active"),
        managed=_bool(el, "managed", default=True),
        failed=_bool(el, "failed"),
        blocked=_bool(el, "blocked"),
        nodes=tuple(n.get("name", "") for n in el.findall("node") if n.get("name")),
        pending=normalise_role(el.get("pending", "")),
    )


def _group(el: ET.Element) -> CrmGroup:
    return CrmGroup(id=el.get("id", ""), members=tuple(_primitive(r) for r in el.findall("resource")))


def _clone(el: ET.Element) -> CrmClone:
    instances: list[CrmResource] = []
    for child in el:
        if child.tag == "resource":
            instances.append(_primitive(child))
        elif child.tag == "group":  # cloned group: its members are the instances
            instances.extend(_group(child).members)
    # multi_state="true" marks promotable clones in 1.1 .. 2.1.x; a role seen on an instance is proof too.
    promotable = _bool(el, "multi_state") or _bool(el, "promotable")
    promotable = promotable or any(r.role in _PROMOTABLE_ROLES for r in instances)
    return CrmClone(
        id=el.get("id", ""),
        promotable=promotable,
        managed=_bool(el, "managed", default=True),
        failed=_bool(el, "failed"),
        disabled=_bool(el, "disabled"),
        instances=tuple(instances),
    )


def normalise_role(role: str) -> str:
    """Return the Pacemaker 2.1 role name for old or new spellings (Master -> Promoted, Slave -> Unpromoted)."""
    return _ROLE_NAMES.get(role.strip().lower(), role.strip())


# ---------------------------------------------------------------- failures, bans, attributes


def _failure(el: ET.Element) -> CrmFailedAction:
    op_key = el.get("op_key") or ""
    task = el.get("task", "")
    match = _OP_KEY.match(op_key)
    if match:
        resource = match.group("rsc")
    else:  # 2.1 writes id="<rsc>_last_failure_0" when the operation has no key
        resource = _OP_ID_SUFFIX.sub("", op_key or el.get("id", ""))
    if not task and match:
        task = match.group("task")
    return CrmFailedAction(
        resource=resource,
        operation=task,
        node=el.get("node", ""),
        rc=_int(el, "exitcode", None),
        rc_text=el.get("exitstatus", ""),
        status=el.get("status", ""),
        exit_reason=el.get("exitreason", ""),
        interval_ms=_int(el, "interval", None),
        last_rc_change=el.get("last-rc-change", ""),
        call=el.get("call", ""),
    )


def _ban(el: ET.Element) -> CrmBan:
    promoted_only = el.get("promoted-only", el.get("master_only", "false")) == "true"
    return CrmBan(
        id=el.get("id", ""),
        resource=el.get("resource", ""),
        node=el.get("node", ""),
        weight=_int(el, "weight", 0),
        promoted_only=promoted_only,
    )


def _operations(el: ET.Element | None) -> tuple[CrmOperation, ...]:
    """Every <operation_history> of <node_history> (1.1 writes the same elements)."""
    if el is None:
        return ()
    ops: list[CrmOperation] = []
    for node in el.findall("node"):
        for rsc in node.findall("resource_history"):
            for op in rsc.findall("operation_history"):
                ops.append(
                    CrmOperation(
                        node=node.get("name", ""),
                        resource=rsc.get("id", ""),
                        task=op.get("task", ""),
                        rc=_int(op, "rc", None),
                        rc_text=op.get("rc_text", ""),
                        call=_int(op, "call", None),
                        interval_ms=_int(op, "interval", None),
                        last_rc_change=op.get("last-rc-change", ""),
                        status=op.get("status", ""),
                    )
                )
    return tuple(ops)


def _node_attributes(el: ET.Element | None) -> dict[str, dict[str, str]]:
    if el is None:
        return {}
    return {
        node.get("name", ""): {a.get("name", ""): a.get("value", "") for a in node.findall("attribute")}
        for node in el.findall("node")
    }


# ---------------------------------------------------------------- attribute helpers


def _children(root: ET.Element, container: str, tag: str) -> list[ET.Element]:
    el = root.find(container)
    return [] if el is None else el.findall(tag)


def _attr(el: ET.Element | None, name: str) -> str:
    return "" if el is None else el.get(name, "")


def _required(el: ET.Element, name: str) -> str:
    """Return the attribute `name` of `el`; raise ParseError when it is missing or empty."""
    value = el.get(name)
    if not value:
        article = "an" if name[0] in "aeiou" else "a"
        raise ParseError(KIND, f'<{el.tag}> with {article} {name}="..." attribute', excerpt=_show(el))
    return value


def _bool(el: ET.Element, name: str, default: bool = False) -> bool:
    value = el.get(name)
    return default if value is None else value.strip().lower() in ("true", "1", "yes")


def _opt_bool(el: ET.Element | None, name: str) -> bool | None:
    if el is None or el.get(name) is None:
        return None
    return _bool(el, name)


@overload
def _int(el: ET.Element | None, name: str, default: int) -> int: ...
@overload
def _int(el: ET.Element | None, name: str, default: None) -> int | None: ...
def _int(el: ET.Element | None, name: str, default: int | None) -> int | None:
    if el is None or el.get(name) in (None, ""):
        return default
    raw = el.get(name, "").strip().removesuffix("ms")
    if raw.lstrip("+-").upper() == "INFINITY":  # Pacemaker's score infinity is 1000000
        return -1_000_000 if raw.startswith("-") else 1_000_000
    try:
        return int(raw)
    except ValueError:
        raise ParseError(KIND, f"an integer in {el.tag}/@{name}", excerpt=el.get(name)) from None


def _show(el: ET.Element) -> str:
    return f"<{el.tag} " + " ".join(f'{k}="{v}"' for k, v in el.attrib.items()) + ">"
