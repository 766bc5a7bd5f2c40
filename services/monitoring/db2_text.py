"""Small readers for the Db2 outputs the monitoring steps check: `db2audit describe`, `db2 get dbm cfg`,
and the CLP tabular output of the runbook's SYSCAT query. Each raises StepFailed when the text is not
what the tool prints, so a check never guesses.
"""

from __future__ import annotations

import re

from services.plans import StepFailed

_DESCRIBE_PATH = re.compile(r'^Audit (Data|Archive) Path:\s*"(.*)"\s*$', re.MULTILINE)
_AUDIT_BUF = re.compile(r"\(AUDIT_BUF_SZ\)\s*=\s*(\d+)")
_SQL_MESSAGE = re.compile(r"\b(SQL\d{4,5}[NCW])\b")


def parse_audit_paths(text: str) -> tuple[str, str]:
    """Return (data path, archive path) from `db2audit describe` ("" when not configured).

    Raises StepFailed when the output has no "DB2 AUDIT SETTINGS:" block.
    """
    if "DB2 AUDIT SETTINGS:" not in text:
        raise StepFailed(f"`db2audit describe` printed something unexpected: {text.strip()[:200]!r}")
    found = {kind: value for kind, value in _DESCRIBE_PATH.findall(text)}
    return found.get("Data", "").strip(), found.get("Archive", "").strip()


def parse_audit_buf_sz(text: str) -> int:
    """Return AUDIT_BUF_SZ from `db2 get dbm cfg`; raise StepFailed when the line is missing."""
    match = _AUDIT_BUF.search(text)
    if match is None:
        raise StepFailed(
            "`db2 get dbm cfg` has no (AUDIT_BUF_SZ) line; is the Db2 instance environment loaded?"
        )
    return int(match.group(1))


def sql_messages(text: str) -> list[str]:
    """Return the SQLnnnnN/W/C message ids in CLP output, in order (e.g. ["SQL1776N"])."""
    return _SQL_MESSAGE.findall(text)


def parse_clp_table(text: str, first_column: str) -> list[list[str]]:
    """Return the rows of the CLP result table whose header starts with `first_column`.

    CLP prints the header, a line of dashes, the rows, a blank line and "  N record(s) selected.";
    NULL prints as "-". Columns are split on whitespace (the values read here hold no spaces).
    Returns [] when that table is not in the text; raises StepFailed when its row count is wrong.
    """
    lines = text.splitlines()
    for index, line in enumerate(lines[:-1]):
        if line.split()[:1] != [first_column] or not lines[index + 1].lstrip().startswith("-"):
            continue
        rows: list[list[str]] = []
        for row in lines[index + 2 :]:
            if not row.strip():
                break
            rows.append(row.split())
        tail = "\n".join(lines[index + 2 + len(rows) :])
        count = re.search(r"(\d+) record\(s\) selected", tail)
        if count is None or int(count.group(1)) != len(rows):
            raise StepFailed(
                f"CLP output for {first_column} is truncated or malformed: {text.strip()[-200:]!r}"
            )
        return rows
    return []
