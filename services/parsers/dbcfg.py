"""Parse the HADR lines of `db2 get db cfg for DB` (the whole output, or just its HADR lines)."""

from __future__ import annotations

import re

from services.cluster_model import DbCfgHadr
from services.parsers.errors import ParseError

KIND = "dbcfg-hadr"

_ROLE = re.compile(r"^\s*HADR database role\s*=\s*(?P<role>\S*)\s*$")
_PARAM = re.compile(r"^\s*(?P<desc>\S.*?)\s*\((?P<param>HADR_[A-Z0-9_]+)\)\s*=(?:\s(?P<value>.*?))?\s*$")
# Present in every release that has HADR (9.5 on); later ones add TARGET_LIST, SPOOL_LIMIT, SSL_...
_REQUIRED = (
    "HADR_LOCAL_HOST",
    "HADR_LOCAL_SVC",
    "HADR_REMOTE_HOST",
    "HADR_REMOTE_SVC",
    "HADR_REMOTE_INST",
    "HADR_TIMEOUT",
    "HADR_SYNCMODE",
    "HADR_PEER_WINDOW",
)


def parse_dbcfg_hadr(text: str) -> DbCfgHadr:
    """Return the HADR role and the HADR_* parameters (empty values kept as "").

    Lines without "HADR" are ignored, so the full `get db cfg` output works. Raises ParseError when a
    line mentioning HADR is neither the role line nor "description (HADR_PARAM) = value", when the role
    line is missing, or when a core HADR parameter is missing (output cut short).
    """
    if not isinstance(text, str):
        raise ParseError(KIND, "text", excerpt=repr(type(text)))
    role: str | None = None
    params: dict[str, str] = {}
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        head = line.strip().upper()
        # Only HADR lines: a database or path *named* like HADRDB ("Database Configuration for Database
        # HADRDB") is not one.
        if not head.startswith("HADR") and "(HADR_" not in head:
            continue
        if match := _ROLE.match(line):
            role = match["role"].upper()
        elif match := _PARAM.match(line):
            params[match["param"]] = (match["value"] or "").strip()
        else:
            raise ParseError(KIND, '"description (HADR_PARAM) = value"', line=number, excerpt=line.strip())
    if role is None:
        raise ParseError(
            KIND,
            'the "HADR database role = ..." line',
            hint="paste the output of db2 get db cfg for <DB> (or its lines containing HADR)",
        )
    missing = [name for name in _REQUIRED if name not in params]
    if missing:
        raise ParseError(
            KIND, f"a ({missing[0]}) line", hint="the output looks cut short; paste all HADR lines"
        )
    return DbCfgHadr(role=role, params=params)
