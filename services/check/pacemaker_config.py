"""What the audit needs from `crm configure show`: each primitive's agent and operations, the
constraints, and the cluster properties. Built on the ha_setup object reader (continuation lines joined)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from services.ha_setup.oip_steps import parse_crm_config

_DURATION = re.compile(r"^(?P<n>\d+)(?P<unit>ms|s|sec|m|min|h|hr)?$")
_UNIT_S = {None: 1.0, "s": 1.0, "sec": 1.0, "ms": 0.001, "m": 60.0, "min": 60.0, "h": 3600.0, "hr": 3600.0}


def duration_s(text: str) -> float | None:
    """Return Pacemaker's duration `text` ("9s", "60", "2min", "500ms") in seconds, or None."""
    match = _DURATION.match(text.strip().lower())
    if match is None:
        return None
    return int(match["n"]) * _UNIT_S[match["unit"]]


@dataclass(frozen=True)
class Operation:
    name: str  # monitor, start, ...
    attrs: dict[str, str]

    def seconds(self, key: str) -> float | None:
        value = self.attrs.get(key)
        return None if value is None else duration_s(value)


@dataclass
class Primitive:
    id: str
    agent: str  # as written: "db2hadr", "ocf:heartbeat:aws-vpc-move-ip"
    params: dict[str, str] = field(default_factory=dict)
    ops: list[Operation] = field(default_factory=list)

    @property
    def agent_type(self) -> str:
        return self.agent.rsplit(":", 1)[-1]

    def monitors(self) -> list[Operation]:
        return [op for op in self.ops if op.name == "monitor"]


@dataclass
class CrmConfig:
    primitives: dict[str, Primitive] = field(default_factory=dict)
    clones: dict[str, str] = field(default_factory=dict)  # ms / clone id -> the primitive it wraps
    constraints: list[tuple[str, str, list[str]]] = field(default_factory=list)  # kind, id, tokens
    properties: dict[str, str] = field(default_factory=dict)

    def primitives_of(self, agent_type: str) -> list[Primitive]:
        return [p for p in self.primitives.values() if p.agent_type == agent_type]

    def clone_of(self, primitive_id: str) -> str | None:
        return next((c for c, p in self.clones.items() if p == primitive_id), None)

    def constraints_naming(self, kind: str, resource: str) -> list[tuple[str, str, list[str]]]:
        """Constraints of `kind` whose tokens name `resource` (alone or as `resource:Role`)."""
        return [
            c for c in self.constraints if c[0] == kind and any(t.split(":", 1)[0] == resource for t in c[2])
        ]


def read_crm_config(text: str) -> CrmConfig:
    """Return the audit's view of `crm configure show` text."""
    config = CrmConfig()
    for entry in parse_crm_config(text):
        if entry.kind == "primitive" and entry.tokens:
            config.primitives[entry.id] = _primitive(entry.id, entry.tokens)
        elif entry.kind in ("ms", "clone") and entry.tokens:
            config.clones[entry.id] = entry.tokens[0]
        elif entry.kind in ("location", "colocation", "order"):
            config.constraints.append((entry.kind, entry.id, entry.tokens))
        elif entry.kind == "property":
            for token in entry.tokens:
                key, sep, value = token.partition("=")
                if sep:
                    config.properties[key] = value
    return config


def _primitive(rsc_id: str, tokens: list[str]) -> Primitive:
    primitive = Primitive(rsc_id, tokens[0])
    section: str | None = None
    current: Operation | None = None
    words = iter(tokens[1:])
    for word in words:
        if word in ("params", "meta", "utilization"):
            section, current = word, None
        elif word == "op":
            name = next(words, "")
            current = Operation(name, {})
            primitive.ops.append(current)
            section = "op"
        elif "=" in word:
            key, value = word.split("=", 1)
            if section == "op" and current is not None:
                current.attrs[key] = value
            elif section == "params":
                primitive.params[key] = value
    return primitive
