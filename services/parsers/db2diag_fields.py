"""Field parsing of one db2diag record (the header block and the body sections).

Used lazily by services.parsers.db2diag.DiagRecord. Labels are found with regexes, never by column,
because pasted copies change the padding (NO-BREAK SPACEs, collapsed spaces, `TID : 1830PROC :`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_HEADER_LABEL_RE = re.compile(
    r"(?<![A-Za-z])(PID|TID|PROC|INSTANCE|NODE|DB|APPHDL|APPID|UOWID|ACTID|AUTHID|HOSTNAME|EDUID|EDUNAME|FUNCTION)"
    r"[ \t]*:"
)
_BODY_LABEL_RE = re.compile(
    r"[ \t]*(MESSAGE|RETCODE|START|STOP|CHANGE|CALLSTCK|CALLED|OSERR|ARG[ \t]*#[ \t]*\d+|DATA[ \t]*#[ \t]*(\d+))"
    r"[ \t]*:[ \t]?(.*)"
)
# Newline-collapsed copies: put each label (and each CALLSTCK frame) back on a line of its own.
_COLLAPSED_SPLIT_RE = re.compile(
    r"[ \t]+(?=(?:PID|INSTANCE|APPHDL|UOWID|AUTHID|EDUID|FUNCTION|MESSAGE|RETCODE|START|STOP|CHANGE"
    r"|CALLSTCK|CALLED|OSERR|ARG[ \t]*#[ \t]*\d+|DATA[ \t]*#[ \t]*\d+)[ \t]*:|\[\d+\][ \t]+0x)"
)
_LEVEL_TAIL_RE = re.compile(r"LEVEL:[ \t]*+\w*+[ \t]++(\S)")  # possessive: no backtracking into the level
_DATA_DESC_RE = re.compile(r"(<preformatted>|(.*?),[ \t]*(\d+)[ \t]+bytes?)[ \t]*(.*)")
_ANNOTATION_RE = re.compile(r"[ \t]+<==.*$")
_JUNK_TAIL_RE = re.compile(r"\s*(?:\.\.\.|…|</?[A-Za-z]+[^<>]*>)?\s*")
_EVENT_KINDS = {"START", "STOP", "CHANGE"}


@dataclass(frozen=True, slots=True)
class DataBlock:
    """One `DATA #n : <type>, <size> bytes` block; size is None for `<preformatted>`."""

    number: int
    type: str
    size: int | None
    payload: str


@dataclass(frozen=True, slots=True)
class DiagDetails:
    """All fields of a record except the header line; "" when absent."""

    pid: str = ""
    tid: str = ""
    proc: str = ""
    instance: str = ""
    node: str = ""
    db: str = ""
    apphdl: str = ""
    appid: str = ""
    uowid: str = ""
    actid: str = ""
    authid: str = ""
    hostname: str = ""
    eduid: str = ""
    eduname: str = ""
    function: str = ""
    message: str = ""
    retcode: str = ""
    event_kind: str = ""
    event_text: str = ""
    data: tuple[DataBlock, ...] = ()
    callstack: tuple[str, ...] = ()
    other: tuple[tuple[str, str], ...] = ()  # CALLED, OSERR, ARG #n: (label, value)
    text: str = ""

    TEXT_FIELDS = (
        "pid",
        "tid",
        "proc",
        "instance",
        "node",
        "db",
        "apphdl",
        "appid",
        "uowid",
        "actid",
        "authid",
        "hostname",
        "eduid",
        "eduname",
        "function",
        "message",
        "retcode",
        "event_kind",
        "event_text",
    )


def _clean_lines(raw: str) -> list[str]:
    """Normalise a record's text into lines: CRLF, NBSP, annotations, trailing junk lines removed."""
    text = raw.replace("\r\n", "\n").replace("\xa0", " ")
    first_end = text.find("\n")
    first = text if first_end < 0 else text[:first_end]
    m = _LEVEL_TAIL_RE.search(first)
    if m is not None:  # newline-collapsed copy: the header line goes on with `PID : ...`
        text = text[: m.start(1)].rstrip() + "\n" + _COLLAPSED_SPLIT_RE.sub("\n", text[m.start(1) :])
    lines = [
        _ANNOTATION_RE.sub("", line.rstrip("\r")) if "<==" in line else line.rstrip("\r")
        for line in text.split("\n")
    ]
    while len(lines) > 1 and _JUNK_TAIL_RE.fullmatch(lines[-1]):
        lines.pop()
    return lines


def _header_fields(block: str) -> dict[str, str]:
    """Label/value pairs of the header block; a value ends at the next label or at the line end."""
    values: dict[str, str] = {}
    matches = list(_HEADER_LABEL_RE.finditer(block))
    for i, m in enumerate(matches):
        start = m.end()
        end = block.find("\n", start)
        if end < 0:
            end = len(block)
        if i + 1 < len(matches) and matches[i + 1].start() < end:
            end = matches[i + 1].start()
        values.setdefault(m.group(1).lower(), block[start:end].strip())
    return values


def parse_details(raw: str) -> DiagDetails:
    """Parse every field of one record's text. Never raises: unknown lines extend the current section."""
    lines = _clean_lines(raw)
    body_at = len(lines)
    for i in range(1, len(lines)):
        if _BODY_LABEL_RE.match(lines[i]):
            body_at = i
            break
    fields = _header_fields("\n".join(lines[1:body_at]))
    message: list[str] = []
    retcode: list[str] = []
    event: list[str] = []
    event_kind = ""
    data: list[tuple[int, str, int | None, list[str]]] = []
    callstack: list[str] = []
    other: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    strip_continuation = True
    for line in lines[body_at:]:
        m = _BODY_LABEL_RE.match(line)
        if m is not None:
            label, number, value = m.group(1), m.group(2), m.group(3).rstrip()
            strip_continuation = True
            if label == "MESSAGE":
                current = message
            elif label == "RETCODE":
                current = retcode
            elif label in _EVENT_KINDS:
                current, event_kind = event, event_kind or label
            elif label == "CALLSTCK":
                current, value = callstack, ""  # the "(Static functions ...)" note is not a frame
            elif number is not None:
                dm = _DATA_DESC_RE.fullmatch(value)
                payload: list[str] = []
                if dm is None:
                    data.append((int(number), value.strip(), None, payload))
                else:
                    dtype = dm.group(2) if dm.group(2) is not None else dm.group(1)
                    size = int(dm.group(3)) if dm.group(3) else None
                    data.append((int(number), dtype.strip(), size, payload))
                    if dm.group(4):
                        payload.append(dm.group(4))
                current, value, strip_continuation = payload, "", False
            else:
                current = []
                other.append((re.sub(r"[ \t]+", " ", label), current))
            if value:
                current.append(value.strip())
            continue
        if current is None:
            continue
        if strip_continuation:
            if line.strip():
                current.append(line.strip())
        else:
            current.append(line)
    return DiagDetails(
        **fields,
        message="\n".join(message),
        retcode="\n".join(retcode),
        event_kind=event_kind,
        event_text="\n".join(event),
        data=tuple(DataBlock(n, t, s, "\n".join(p)) for n, t, s, p in data),
        callstack=tuple(callstack),
        other=tuple((label, "\n".join(v)) for label, v in other),
        text="\n".join(lines),
    )
