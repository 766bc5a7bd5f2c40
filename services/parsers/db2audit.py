"""`db2audit extract` report records and `db2audit describe` output (FORMATS.md section 4).

A record starts at a `timestamp=` line (indented in some pasted copies) and holds one `key=value;` per line (keys may contain spaces). A
value runs until a line that ends with `;` (wrapped `text=` statements, the EXECUTE `compilation
environment=` block), so a record ends at a blank line only outside such a value, or at the next
`timestamp=` line. Pasted copies may drop the indentation or use CRLF; both are fine. `AuditRecord.text`
gives a wrapped statement back on one line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from services.parsers.errors import ParseError

__all__ = [
    "AuditDescribe",
    "AuditRecord",
    "Db2AuditParser",
    "parse_db2audit",
    "parse_db2audit_describe",
]

_FIELD_RE = re.compile(r"[ \t]*([A-Za-z][A-Za-z0-9_ ]*?)=(.*)")
# A pasted copy may indent every line; an indented start must carry a real timestamp so that a
# wrapped statement line like "  timestamp=CURRENT TIMESTAMP" stays part of its value.
_INDENTED_START_RE = re.compile(r"[ \t]+timestamp=[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9.]{15};?[ \t]*$")
_TS_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})-([0-9]{2})\.([0-9]{2})\.([0-9]{2})\.([0-9]{6})")


def _timestamp(text: str) -> datetime | None:
    m = _TS_RE.fullmatch(text.strip())
    if m is None:
        return None
    try:
        year, month, day, hour, minute, second, micro = (int(g) for g in m.groups())
        return datetime(year, month, day, hour, minute, second, micro)
    except ValueError:
        return None


@dataclass(frozen=True)
class AuditRecord:
    """One extract record. `fields` maps each key as written ("audit event", "object name") to its first
    value (";" removed, wrapped lines joined by "\\n"); `items` keeps every (key, value) in order, including
    repeated keys such as `value index`. `timestamp` is naive: the format has no UTC offset."""

    timestamp: datetime | None
    timestamp_text: str
    category: str
    event: str
    fields: dict[str, str] = field(hash=False)
    raw: str
    offset: int
    items: tuple[tuple[str, str], ...] = field(default=(), hash=False, repr=False)

    def get(self, key: str, default: str = "") -> str:
        return self.fields.get(key, default)

    userid = property(lambda self: self.get("userid"))
    authid = property(lambda self: self.get("authid"))
    database = property(lambda self: self.get("database"))
    object_schema = property(lambda self: self.get("object schema"))
    object_name = property(lambda self: self.get("object name"))
    object_type = property(lambda self: self.get("object type"))
    hostname = property(lambda self: self.get("hostname"))
    application_id = property(lambda self: self.get("application id"))
    status = property(lambda self: self.get("event status"))

    @property
    def text(self) -> str:
        """The SQL statement: `text=` (CONTEXT) or `statement text=` (EXECUTE); "" when absent.

        The extract wraps a long statement at a blank it drops (FORMATS.md section 4: "...ERROR TYPE" /
        "AUDIT;"), so wrapped lines are joined with one blank: the statement as it was run. An empty line
        is the statement's own and stays a line break. (Any other line break inside the statement cannot be
        told from a wrap; SQL reads both as a blank.)"""
        lines = (self.fields.get("text") or self.fields.get("statement text", "")).split("\n")
        out = lines[0]
        for before, line in zip(lines, lines[1:], strict=False):
            out += (" " if before and line else "\n") + line  # a wrap never leaves an empty line
        return out

    @property
    def failed(self) -> bool:
        """True when `event status` is a negative SQLCODE (the access was denied or failed)."""
        return self.get("event status").lstrip().startswith("-")

    @property
    def compilation_environment(self) -> dict[str, str]:
        """The EXECUTE record's `compilation environment=` block as key/value pairs."""
        out: dict[str, str] = {}
        for line in self.fields.get("compilation environment", "").split("\n"):
            key, sep, value = line.partition("=")
            if sep:
                out[key.strip()] = value.strip()
        return out

    @property
    def summary(self) -> str:
        """One line for list views: event, who, what object or statement."""
        who = self.userid or self.authid
        what = ".".join(p for p in (self.object_schema, self.object_name) if p) or self.text.split("\n", 1)[0]
        parts = [self.category + "/" + self.event if self.category else self.event, who, what]
        if self.status and self.status != "0":
            parts.append(f"status={self.status}")
        return " ".join(p for p in parts if p)

    def to_dict(self) -> dict[str, object]:
        """JSON-ready view (timestamp ISO-8601 without offset)."""
        return {
            "timestamp": self.timestamp.isoformat() if self.timestamp else None,
            "timestamp_text": self.timestamp_text,
            "category": self.category,
            "event": self.event,
            "fields": dict(self.fields),
            "items": [list(kv) for kv in self.items],
            "offset": self.offset,
            "raw": self.raw,
        }


def _build_record(lines: list[tuple[str, int]]) -> AuditRecord:
    """Parse the lines (text with ending, offset) of one record."""
    while len(lines) > 1 and not lines[-1][0].strip():
        lines = lines[:-1]
    raw = "".join(text for text, _ in lines)
    items: list[tuple[str, str]] = []
    key: str | None = None
    parts: list[str] = []
    for text, _ in lines:
        line = text.rstrip("\r\n")
        if key is None:
            m = _FIELD_RE.match(line)
            if m is None:
                if line.strip():  # a stray line outside any value: keep it visible rather than drop it
                    items.append(("", line.strip()))
                continue
            key, first = m.group(1).strip(), m.group(2).rstrip()
            parts = [first]
        else:
            parts.append(line.strip())
        if parts[-1].endswith(";"):
            parts[-1] = parts[-1][:-1]
            items.append((key, "\n".join(parts).strip()))
            key = None
    if key is not None:  # last field without ";" (IBM's EXECUTE sample)
        items.append((key, "\n".join(parts).strip()))
    fields: dict[str, str] = {}
    for k, v in items:
        if k:
            fields.setdefault(k, v)
    ts_text = fields.get("timestamp", "")
    return AuditRecord(
        timestamp=_timestamp(ts_text),
        timestamp_text=ts_text,
        category=fields.get("category", ""),
        event=fields.get("audit event", ""),
        fields=fields,
        raw=raw,
        offset=lines[0][1],
        items=tuple(items),
    )


class Db2AuditParser:
    """Incremental extract-report parser: `feed()` text as it arrives, `flush()` at the end.

    A record is emitted at the blank line that ends it (outside a wrapped value), at the next
    `timestamp=` line, or at flush. Non-blank text outside records is kept verbatim in `preamble` and
    counted in `skipped_lines` (e.g. `AUD0000I  Operation succeeded.` or a shell prompt).
    """

    def __init__(self) -> None:
        self._partial = ""
        self._offset = 0  # offset of self._partial in the stream
        self._lines: list[tuple[str, int]] = []
        self._in_value = False
        # Appended line by line and joined when read: `str +=` on an attribute copies the whole text each
        # time, which made a report without any `timestamp=` line quadratic (4 MB: 98 s).
        self._preamble: list[str] = []
        self.skipped_lines = 0

    @property
    def preamble(self) -> str:
        """Text outside any record, verbatim."""
        if len(self._preamble) > 1:
            self._preamble = ["".join(self._preamble)]
        return self._preamble[0] if self._preamble else ""

    def feed(self, chunk: str) -> list[AuditRecord]:
        """Add text; return the records it completed, in order. Never raises on odd text."""
        if not chunk:
            return []
        text = self._partial + chunk
        out: list[AuditRecord] = []
        start = 0
        while True:
            nl = text.find("\n", start)
            if nl < 0:
                break
            self._line(text[start : nl + 1], self._offset + start, out)
            start = nl + 1
        self._partial = text[start:]
        self._offset += start
        return out

    def flush(self) -> list[AuditRecord]:
        """Return the pending record, if any."""
        out: list[AuditRecord] = []
        if self._partial:
            self._line(self._partial, self._offset, out)
            self._offset += len(self._partial)
            self._partial = ""
        self._close(out)
        return out

    def _close(self, out: list[AuditRecord]) -> None:
        if self._lines:
            out.append(_build_record(self._lines))
        self._lines = []
        self._in_value = False

    def _line(self, line: str, offset: int, out: list[AuditRecord]) -> None:
        body = line.rstrip("\r\n")
        if body.startswith("timestamp=") or _INDENTED_START_RE.match(body):
            self._close(out)
            self._lines.append((line, offset))
            self._in_value = not body.rstrip().endswith(";")
            return
        if not self._lines:
            self._preamble.append(line)
            if body.strip():
                self.skipped_lines += 1
            return
        if not body.strip():
            if self._in_value:
                self._lines.append((line, offset))  # a blank line inside a wrapped statement
            else:
                self._close(out)
            return
        self._lines.append((line, offset))
        if self._in_value:
            self._in_value = not body.rstrip().endswith(";")
        else:
            self._in_value = bool(_FIELD_RE.match(body)) and not body.rstrip().endswith(";")


def parse_db2audit(text: str, *, strict: bool = False) -> list[AuditRecord]:
    """Parse a whole `db2audit extract` report into records.

    Raises ParseError in strict mode when the text holds no `timestamp=` record.
    """
    parser = Db2AuditParser()
    records = parser.feed(text)
    records.extend(parser.flush())
    if strict and not records:
        first = next((line for line in text.splitlines() if line.strip()), "")
        raise ParseError(
            "db2audit",
            "an extract record starting with `timestamp=YYYY-MM-DD-HH.MM.SS.ffffff;`",
            line=1 if text else None,
            excerpt=first,
            hint="run `db2audit extract file <out> from files <db2audit.*>` (default report format, not delasc)",
        )
    return records


# ---------------------------------------------------------------------------------------- describe

_DESCRIBE_CATEGORY = {
    "audit": "AUDIT",
    "checking": "CHECKING",
    "object maintenance": "OBJMAINT",
    "security maintenance": "SECMAINT",
    "system administrator": "SYSADMIN",
    "validate": "VALIDATE",
    "context": "CONTEXT",
    "execute": "EXECUTE",
}
_DESCRIBE_LINE_RE = re.compile(r"\s*([^:\"]+?)\s*:\s*\"(.*)\"\s*$")
_MESSAGE_RE = re.compile(r"\s*(AUD\d{4}[A-Z])\s+(.*?)\s*$")


@dataclass(frozen=True)
class AuditDescribe:
    """`db2audit describe`: instance-level audit settings. `categories` maps AUDIT, CHECKING, OBJMAINT,
    SECMAINT, SYSADMIN, VALIDATE, CONTEXT to BOTH/SUCCESS/FAILURE/NONE."""

    active: bool
    categories: dict[str, str] = field(hash=False)
    return_sqlca_on_error: bool = False
    data_path: str = ""
    archive_path: str = ""
    message_id: str = ""
    message: str = ""
    settings: dict[str, str] = field(default_factory=dict, hash=False, repr=False)

    @property
    def succeeded(self) -> bool:
        return self.message_id.endswith("I") or not self.message_id


def parse_db2audit_describe(text: str) -> AuditDescribe:
    """Parse `db2audit describe` output. Raises ParseError when there is no `Audit active:` line."""
    settings: dict[str, str] = {}
    message_id = message = ""
    for line in text.splitlines():
        m = _DESCRIBE_LINE_RE.match(line)
        if m is not None:
            settings[m.group(1)] = m.group(2).strip()
            continue
        mm = _MESSAGE_RE.match(line)
        if mm is not None and not message_id:
            message_id, message = mm.group(1), mm.group(2)
    if "Audit active" not in settings:
        first = next((line for line in text.splitlines() if line.strip()), "")
        raise ParseError(
            "db2audit-describe",
            'an `Audit active: "TRUE "` line',
            excerpt=first,
            hint="run `db2audit describe` as the instance owner (SYSADM) and paste its whole output",
        )
    categories: dict[str, str] = {}
    for label, value in settings.items():
        lm = re.fullmatch(r"Log (.+) events", label)
        if lm is not None:
            name = lm.group(1).lower()
            categories[_DESCRIBE_CATEGORY.get(name, name.upper())] = value
    return AuditDescribe(
        active=settings["Audit active"].upper() == "TRUE",
        categories=categories,
        return_sqlca_on_error=settings.get("Return SQLCA on audit error", "").upper() == "TRUE",
        data_path=settings.get("Audit Data Path", ""),
        archive_path=settings.get("Audit Archive Path", ""),
        message_id=message_id,
        message=message,
        settings=settings,
    )
