"""Parsers of the cluster tools' outputs into the dataclasses of services.cluster_model.

`PARSERS` maps the CLI kinds (`db2ops parse KIND FILE`) to parse functions. The wrappers import their
module on first use so that importing this package stays cheap. Every parser raises
services.parsers.errors.ParseError (and nothing else) for input it cannot read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable


def _crm_mon_xml(text: str) -> object:
    from services.parsers.crm_mon_xml import parse_crm_mon_xml

    return parse_crm_mon_xml(text)


def _quorum(text: str) -> object:
    from services.parsers.corosync import parse_quorumtool

    return parse_quorumtool(text)


def _qdevice(text: str) -> object:
    from services.parsers.corosync import parse_qdevice_tool

    return parse_qdevice_tool(text)


def _qnetd(text: str) -> object:
    from services.parsers.corosync import parse_qnetd_tool

    return parse_qnetd_tool(text)


def _db2pd_hadr(text: str) -> object:
    from services.parsers.db2pd_hadr import parse_db2pd_hadr

    return parse_db2pd_hadr(text)


def _db2cm_list(text: str) -> object:
    from services.parsers.db2cm import parse_db2cm_list

    return parse_db2cm_list(text)


def _dbcfg_hadr(text: str) -> object:
    from services.parsers.dbcfg import parse_dbcfg_hadr

    return parse_dbcfg_hadr(text)


def _db2audit_describe(text: str) -> object:
    from services.parsers.db2audit import parse_db2audit_describe

    return parse_db2audit_describe(text)


PARSERS: dict[str, Callable[[str], object]] = {
    "crm_mon-xml": _crm_mon_xml,
    "quorum": _quorum,
    "qdevice": _qdevice,
    "qnetd": _qnetd,
    "db2pd-hadr": _db2pd_hadr,
    "db2cm-list": _db2cm_list,
    "dbcfg-hadr": _dbcfg_hadr,
    "db2audit-describe": _db2audit_describe,
    # "db2diag" and "db2audit" stream through services.log_cli (one JSON object per record).
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
