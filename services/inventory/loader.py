"""Inventory loader: YAML -> Inventory, where every problem names the file, the line and what to fix.

The YAML is read as nodes (services/inventory/yaml_source.py) so each key keeps its line. Values are data only:
names and addresses are never interpreted here (commands are built as argv lists elsewhere).
"""

from __future__ import annotations

import difflib
import ipaddress
import os
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import Node

from services import paths
from services.inventory.model import AwsSettings, Cluster, Host, Inventory
from services.inventory.names import check_address, check_database, check_host_name, check_instance
from services.inventory.yaml_source import (
    YamlProblem,
    compose,
    line_of,
    mapping_entries,
    scalar,
    sequence_items,
)
from services.text_safety import safe_line


class InventoryError(Exception):
    """The inventory cannot be used. `str()` is "FILE line N: problem; fix" (line omitted when unknown)."""

    def __init__(self, path: str, line: int, column: int, problem: str, fix: str = "") -> None:
        self.path = path
        self.line = line
        self.column = column
        self.problem = problem
        self.fix = fix
        where = f"{path} line {line}" if line else path
        super().__init__(f"{where}: {problem}" + (f"; {fix}" if fix else ""))


# --- value checkers: each returns the value or raises ValueError(problem, fix) --------------------------


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be non-empty text", "write it as text (in quotes if it looks like a number)")
    if safe_line(value) != value:  # an escape sequence in a name would drive the operator's terminal
        raise ValueError(
            "contains control characters or terminal escape sequences",
            "remove them (plain printable text only)",
        )
    return value


def _opt_text(value: object) -> str | None:
    return None if value is None else _text(value)


def _path(value: object) -> str | None:
    return None if value is None else os.path.expanduser(_text(value))


def _bool(value: object) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false", "write true or false (no quotes)")
    return value


def _port(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ValueError("must be a port number from 1 to 65535", "e.g. port: 22")
    return value


def _role(value: object) -> str:
    if value not in ("db", "qdevice"):
        raise ValueError(f"has role {value!r}", "use role: db or role: qdevice")
    return str(value)


def _ipv4(value: object) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.IPv4Address(_text(value)))
    except ipaddress.AddressValueError:
        raise ValueError(f"{value!r} is not an IPv4 address", "e.g. overlay_ip: 192.168.1.81") from None


def _url(value: object) -> str | None:
    if value is None:
        return None
    text = _text(value)
    if not text.startswith(("http://", "https://")):
        raise ValueError(
            f"{text!r} is not an http(s) URL", "leave it out for real AWS (only the lab sets it)"
        )
    return text


Checker = Callable[[object], Any]
HOST_KEYS: dict[str, Checker] = {
    "name": check_host_name,
    "address": check_address,
    "role": _role,
    "user": _opt_text,
    "port": _port,
    "identity": _path,
    "instance_id": _opt_text,
    "known_hosts": _path,
}
AWS_KEYS: dict[str, Checker] = {
    "region": _text,
    "profile": _opt_text,
    "endpoint_url": _url,
    "route_table_id": _opt_text,
    "overlay_ip": _ipv4,
    "audit_log_group": _text,
    "diag_log_group": _text,
    "sns_topic_name": _text,
}
CLUSTER_KEYS: dict[str, Checker | None] = {
    "name": _text,
    "environment": _text,
    "read_only": _bool,
    "instance": check_instance,
    "database": check_database,
    "lab": _bool,
    "hosts": None,  # structured, read below
    "aws": None,
}
TOP_KEYS = ("clusters",)


def _unknown_key(key: str, known: Any, where: str, line: int) -> YamlProblem:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    fix = f"did you mean '{close[0]}'?" if close else f"known keys: {', '.join(known)}"
    return YamlProblem(f"unknown key '{key}' in {where}", line, fix=fix)


def _read_fields(node: Node, spec: dict[str, Any], where: str) -> tuple[dict[str, Any], dict[str, int]]:
    """Return (checked scalar values, key -> line) for a mapping; structured keys map to their node."""
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for entry in mapping_entries(node, where):
        if entry.key not in spec:
            raise _unknown_key(entry.key, spec, where, entry.line)
        lines[entry.key] = entry.line
        check = spec[entry.key]
        if check is None:
            values[entry.key] = entry.value_node
            continue
        try:
            values[entry.key] = check(scalar(entry.value_node))
        except YamlProblem as exc:
            raise YamlProblem(f"{where}: {entry.key}: {exc.problem}", exc.line, exc.column, exc.fix) from None
        except ValueError as exc:
            problem, fix = exc.args if len(exc.args) == 2 else (str(exc), "")
            # "has role 'x'" reads after the subject; "must be ..." reads after the key.
            message = (
                f"{where} {problem}" if problem.startswith("has ") else f"{where}: {entry.key} {problem}"
            )
            raise YamlProblem(message, line_of(entry.value_node), fix=fix) from None
    return values, lines


def _peek_name(node: Node) -> str | None:
    """Return the raw `name:` of a mapping node, so messages about its other keys can name it."""
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if (
                isinstance(key, yaml.ScalarNode)
                and key.value == "name"
                and isinstance(value, yaml.ScalarNode)
            ):
                return value.value or None
    return None


def _valid_host_name(name: str | None) -> str | None:
    try:
        return check_host_name(name) if name else None
    except ValueError:  # an invalid name is named once, in its own message, not as the host's label
        return None


def _read_host(node: Node, cluster: str) -> Host:
    name = _valid_host_name(_peek_name(node))
    where = f"host '{name}'" if name else f"a host of cluster '{cluster}'"
    values, _ = _read_fields(node, HOST_KEYS, where)
    if "name" not in values:
        raise YamlProblem(
            f"{where} has no name", line_of(node), fix="add name: <the node name Pacemaker uses>"
        )
    values.setdefault("address", values["name"])  # an ssh_config alias equal to the node name is common
    return Host(**values)


def _read_aws(node: Node, cluster: str) -> AwsSettings:
    if scalar_is_null(node):
        return AwsSettings()
    values, _ = _read_fields(node, AWS_KEYS, f"aws of cluster '{cluster}'")
    return AwsSettings(**values)


def scalar_is_null(node: Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _read_cluster(node: Node, index: int) -> tuple[Cluster, list[str]]:
    peeked = _peek_name(node)
    where = f"cluster '{peeked}'" if peeked else f"cluster #{index + 1}"
    values, lines = _read_fields(node, CLUSTER_KEYS, where)
    if "name" not in values:
        raise YamlProblem(f"{where} has no name", line_of(node), fix="add name: <unique name>")
    name = values["name"]
    if "hosts" not in values:
        raise YamlProblem(
            f"{where} has no hosts", line_of(node), fix="add hosts: with 2 db hosts and 1 qdevice"
        )
    host_nodes = sequence_items(values["hosts"], f"hosts of {where}")
    if not host_nodes:
        raise YamlProblem(
            f"{where} has an empty hosts list", lines["hosts"], fix="add its db and qdevice hosts"
        )
    hosts: list[Host] = []
    host_lines: dict[str, int] = {}
    for host_node in host_nodes:
        host = _read_host(host_node, name)
        _note_unique(
            host.name, host_node, host_lines, f"{where} has two hosts", "give each host its own name"
        )
        hosts.append(host)
    values["hosts"] = tuple(hosts)
    values["aws"] = _read_aws(values["aws"], name) if "aws" in values else AwsSettings()
    cluster = Cluster(**values)
    warnings = []
    hosts_line = lines["hosts"]
    if len(cluster.db_hosts) != 2:
        warnings.append(
            f"line {hosts_line}: {where} has {len(cluster.db_hosts)} db hosts; an HADR pair has exactly 2"
        )
    for host in hosts:  # asyncssh would report it as a connection failure, far from its cause
        if host.identity and not os.path.exists(host.identity):
            warnings.append(
                f"line {host_lines[host.name]}: host '{host.name}': identity {host.identity} does not exist; "
                "fix the path, or remove identity: to let ~/.ssh/config and the SSH agent pick the key"
            )
    qdevices = sum(1 for h in hosts if h.role == "qdevice")
    if qdevices != 1:
        warnings.append(
            f"line {hosts_line}: {where} has {qdevices} qdevice hosts; expected 1 (corosync-qnetd)"
        )
    return cluster, warnings


def _note_unique(name: str, node: Node, first_line: dict[str, int], two: str, fix: str) -> None:
    """Record the line of `name` in `first_line`; raise YamlProblem ("<two> named 'x' (first on line N)")
    when the name was seen before."""
    if name in first_line:
        raise YamlProblem(f"{two} named '{name}' (first on line {first_line[name]})", line_of(node), fix=fix)
    first_line[name] = line_of(node)


def _read_inventory(root: Node | None, source: str) -> Inventory:
    if root is None:
        raise YamlProblem(
            "the inventory is empty", 1, fix="add a clusters: list (see examples/inventory.yaml)"
        )
    entries = {e.key: e for e in mapping_entries(root, "the inventory")}
    for key, entry in entries.items():
        if key not in TOP_KEYS:
            raise _unknown_key(key, TOP_KEYS, "the inventory", entry.line)
    if "clusters" not in entries:
        raise YamlProblem(
            "the inventory has no clusters: list", line_of(root), fix="add clusters: at the top level"
        )
    cluster_nodes = sequence_items(entries["clusters"].value_node, "clusters")
    if not cluster_nodes:
        raise YamlProblem(
            "the clusters list is empty", entries["clusters"].line, fix="describe at least one cluster"
        )
    clusters: list[Cluster] = []
    warnings: list[str] = []
    first_line: dict[str, int] = {}
    for index, node in enumerate(cluster_nodes):
        cluster, cluster_warnings = _read_cluster(node, index)
        _note_unique(cluster.name, node, first_line, "two clusters are", "give each cluster its own name")
        clusters.append(cluster)
        warnings.extend(f"{source} {w}" for w in cluster_warnings)
    return Inventory(clusters=tuple(clusters), source=source, warnings=tuple(warnings))


def load_inventory_text(text: str, source: str = "<string>") -> Inventory:
    """Return the Inventory described by YAML `text`; `source` names it in messages and Inventory.source.

    Raises InventoryError (with line, column, problem and fix) for any problem, including broken YAML.
    Soft problems (not exactly 2 db hosts, no qdevice, a missing identity file) are returned in
    Inventory.warnings.
    """
    try:
        return _read_inventory(compose(text), source)
    except YamlProblem as exc:
        raise InventoryError(source, exc.line, exc.column, exc.problem, exc.fix) from None
    except RecursionError:
        raise InventoryError(source, 0, 0, "the YAML is nested too deeply", "flatten the structure") from None


def load_inventory(path: Path) -> Inventory:
    """Return the Inventory in the YAML file `path`.

    Raises InventoryError when the file is missing (saying how to create one), unreadable or invalid.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InventoryError(
            str(path),
            0,
            0,
            "no inventory file here",
            f"run `db2ops lab` to try the embedded lab (it writes its own inventory), or copy "
            f"examples/inventory.yaml to {paths.default_inventory_path()} and edit it, or pass --inventory PATH",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(str(path), 0, 0, f"cannot read the inventory: {exc}", "check the file") from None
    return load_inventory_text(text, source=str(path))


def _non_default(obj: object) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(obj):  # type: ignore[arg-type]
        value = getattr(obj, f.name)
        if value is None and f.name not in ("name",):
            continue
        out[f.name] = value
    return out


def dump_inventory(inv: Inventory) -> str:
    """Return YAML text for `inv` that load_inventory_text() reads back to an equal Inventory."""
    clusters = []
    for cluster in inv.clusters:
        data = _non_default(cluster)
        data["hosts"] = [_non_default(h) for h in cluster.hosts]
        data["aws"] = _non_default(cluster.aws)
        clusters.append(data)
    header = "# db2ops inventory (format: docs/ARCHITECTURE.md, example: examples/inventory.yaml)\n"
    return header + yaml.safe_dump(
        {"clusters": clusters}, sort_keys=False, default_flow_style=False, width=1000
    )
