"""One-line summaries and levels of db2diag and audit records for the log view (no Textual)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from services.parsers.db2audit import AuditRecord
    from services.parsers.db2diag import DataBlock, DiagRecord

# C0 controls but TAB/LF, DEL and the C1 range (U+009B is a CSI to some terminals). Log text is shaped by
# whoever runs a statement or triggers a message: it must never drive the terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def one_line(text: str, limit: int = 400) -> str:
    """Return `text` flattened to one printable line (tabs/newlines to spaces, controls dropped)."""
    flat = " ".join(text.replace("\t", " ").split()) if ("\n" in text or "\t" in text) else text
    flat = _CONTROL.sub("", flat)
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def visible_controls(text: str) -> str:
    """Return `text` with control characters written as `\\xNN` (CRLF becomes LF; TAB and LF stay), so
    a record is shown, never obeyed, by the terminal."""
    if "\r\n" in text:
        text = text.replace("\r\n", "\n")
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text) if _CONTROL.search(text) else text


def _function_name(function: str) -> str:
    # "DB2 UDB, High Availability Disaster Recovery, hdrSetHdrState, probe:10000" -> "hdrSetHdrState"
    parts = [p.strip() for p in function.split(",") if p.strip()]
    if parts and parts[-1].replace(" ", "").startswith("probe:"):
        parts = parts[:-1]
    return parts[-1] if parts else ""


def _first_data_payload(data: Sequence[DataBlock]) -> str:
    # db2havend records log a command as DATA #1 (the program) and DATA #2 (its arguments): show both.
    if not data:
        return ""
    first = str(data[0].payload)
    if first.startswith("/") and len(data) > 1:
        return f"{first} {data[1].payload}"
    return first


def diag_summary(record: DiagRecord) -> str:
    """Return the one-line summary of a DiagRecord: `<edu or proc> <function>: <message/event/DATA #1/RETCODE>`."""
    who = (record.eduname or record.proc or "").split(" (")[0]
    func = _function_name(record.function or "")
    if record.message:
        what = record.message
    elif record.event_kind:
        what = f"{record.event_kind} {record.event_text or ''}"
    else:
        # No MESSAGE: DATA #1, else RETCODE (the HADR Severe "SQLO_CONN_REFUSED" has only that)
        what = _first_data_payload(record.data) or record.retcode or ""
    head = " ".join(p for p in (who, func) if p)
    return one_line(f"{head}: {what}" if head else what)


def audit_summary(record: AuditRecord) -> str:
    """Return the one-line summary of an AuditRecord: category/event, who, what, on which object."""
    f = record.fields
    parts = [f"{record.category}/{record.event}"]
    status = f.get("event status")
    if status not in (None, "0"):
        parts.append(f"status={status}")
    who = f.get("authid") or f.get("userid")
    if who:
        parts.append(f"by {who}")
    if f.get("access attempted"):
        parts.append(f.get("access attempted", ""))
    obj = ".".join(x for x in (f.get("object schema"), f.get("object name")) if x)
    if obj:
        parts.append(f"{f.get('object type', 'object')} {obj}")
    text = f.get("statement text") or f.get("text")
    if text:
        parts.append(f"“{text}”")
    return one_line(" ".join(parts))


def audit_level(record: AuditRecord) -> str:
    """Return the level an audit record shows with: Warning when Db2 refused it, else Info."""
    status = record.fields.get("event status")
    return "Warning" if status not in (None, "", "0") else "Info"
