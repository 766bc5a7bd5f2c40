"""Parsers of the cluster tools' outputs into the dataclasses of services.cluster_model.

`PARSERS` maps the CLI kinds (`db2ops parse KIND FILE`) to parse functions. The wrappers import their
module on first use so that importing this package stays cheap. Every parser raises
services.parsers.errors.ParseError (and nothing else) for input it cannot read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib import import_module


def _lazy(module: str, function: str) -> Callable[[str], object]:
    """Return a parser that imports services.parsers.`module` on its first call and runs `function`."""

    def parse(text: str) -> object:
        return getattr(import_module(f"services.parsers.{module}"), function)(text)

    return parse


PARSERS: dict[str, Callable[[str], object]] = {
    "crm_mon-xml": _lazy("crm_mon_xml", "parse_crm_mon_xml"),
    "quorum": _lazy("corosync", "parse_quorumtool"),
    "qdevice": _lazy("corosync", "parse_qdevice_tool"),
    "qnetd": _lazy("corosync", "parse_qnetd_tool"),
    "db2pd-hadr": _lazy("db2pd_hadr", "parse_db2pd_hadr"),
    "db2cm-list": _lazy("db2cm", "parse_db2cm_list"),
    "dbcfg-hadr": _lazy("dbcfg", "parse_dbcfg_hadr"),
    "db2audit-describe": _lazy("db2audit", "parse_db2audit_describe"),
    # "db2diag" and "db2audit" stream through services.logs.cli (one JSON object per record).
}


def guess_kind(text: str, exclude: Iterable[str] = ()) -> str | None:
    """Return the first kind (of PARSERS, or "db2diag"/"db2audit") that reads `text`, skipping `exclude`;
    None when none does or the text is blank. For "wrong kind?" hints: every parser is tried."""
    if not text.strip():
        return None
    skip = set(exclude)
    from services.parsers.db2diag import looks_like_db2diag

    if "db2diag" not in skip and looks_like_db2diag(text):
        return "db2diag"
    if "db2audit" not in skip and any(line.lstrip().startswith("timestamp=") for line in text.splitlines()):
        return "db2audit"
    for kind, parse in PARSERS.items():
        if kind in skip:
            continue
        try:
            parse(text)
        except ValueError:  # ParseError
            continue
        return kind
    return None
