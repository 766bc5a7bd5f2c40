"""Parse `db2pd -hadr -db DB`: the 10.1+ NAME = value layout, the 9.7 tabular layout and the error form.

Times are taken only from the epoch seconds in parentheses: the date printed before them follows the
locale (MM/DD/YYYY in most outputs, DD-MM-YYYY in others) and cannot be trusted.
"""

from __future__ import annotations

import re

from services.cluster_model import HadrStatus, HadrStream, LogPosition
from services.parsers.errors import ParseError

KIND = "db2pd-hadr"

_HEADER = re.compile(
    r"^\s*Database (?:Member|Partition) (?P<member>\d+) -- Database (?P<db>\S+) -- (?P<state>.+?)"
    r" -- Up (?P<uptime>.+?)(?: -- Date (?P<date>.+?))?\s*$"
)
_NOT_ACTIVE = re.compile(
    r"Database (?P<db>\S+) not activated on database (?:member|partition) (?P<member>\d+)", re.IGNORECASE
)
_OPTION_ERROR = "Option -hadr requires -db"
_FIELD = re.compile(r"^\s*(?P<name>[A-Z][A-Za-z0-9_(),]*)\s*=(?:\s(?P<value>.*?))?\s*$")
_TABLE_97 = re.compile(r"^\s*Role\s+State\s")
_ELISION = re.compile(r"^\s*(?:\.{3,}|…+)\s*$")  # "....." where a ticket or web page cut lines out
_EPOCH = re.compile(r"\((?P<epoch>\d+(?:\.\d+)?)\)\s*$")
# Every 10.1+ block prints these (the log positions and gap come after the connection fields): a copy
# missing one was cut short, and a log-gap verdict would judge nothing.
_REQUIRED = (
    "HADR_ROLE",
    "HADR_SYNCMODE",
    "HADR_STATE",
    "HADR_CONNECT_STATUS",
    "PRIMARY_LOG_FILE,PAGE,POS",
    "STANDBY_LOG_FILE,PAGE,POS",
    "HADR_LOG_GAP(bytes)",
)
_REQUIRED_ELIDED = ("HADR_ROLE", "HADR_STATE")
_HINT_CUT = "the output looks cut short; run db2pd -hadr -db <DB> again and paste all of it"


def parse_db2pd_hadr(text: str) -> HadrStatus:
    """Parse db2pd -hadr output into HadrStatus (one HadrStream per standby / log stream).

    "Database X not activated on database member N ..." returns HadrStatus(activated=False, message=...).
    Output pasted without its "Database Member ..." header gets database "". Raises ParseError for other
    text, for a block missing its core fields (output cut short) and for time fields without an epoch.
    """
    if not isinstance(text, str):
        raise ParseError(KIND, "text", excerpt=repr(type(text)))
    lines = [line.rstrip("\r") for line in text.split("\n")]
    if not any(line.strip() for line in lines):
        raise ParseError(KIND, "db2pd -hadr output", line=1, excerpt="", hint="the command printed nothing")
    not_active = _NOT_ACTIVE.search(text)
    if not_active or _OPTION_ERROR in text:
        return HadrStatus(
            database=not_active["db"] if not_active else "",
            activated=False,
            member=int(not_active["member"]) if not_active else None,
            message=" ".join(line.strip() for line in lines if line.strip()),
        )
    header_at, header = _find_header(lines)
    body = lines[header_at + 1 :] if header is not None else lines
    offset = header_at + 2 if header is not None else 1
    if any((m := _FIELD.match(line)) and m["name"] == "HADR_ROLE" for line in body):
        streams = _key_value_streams(body, offset)
    elif any(_TABLE_97.match(line) for line in body):
        streams = (_tabular_stream(body, offset),)
    else:
        first = next((n for n, line in enumerate(body, start=offset) if line.strip()), offset)
        raise ParseError(
            KIND,
            "HADR_ROLE = ... lines (10.1+) or the 9.7 'Role State SyncMode ...' table",
            line=first,
            excerpt=body[first - offset].strip() if first - offset < len(body) else "",
        )
    return HadrStatus(
        database=header["db"] if header else "",
        member=int(header["member"]) if header else None,
        db_state=header["state"] if header else "",
        uptime=header["uptime"] if header else "",
        date_text=(header["date"] or "") if header else "",
        streams=streams,
    )


def _find_header(lines: list[str]) -> tuple[int, re.Match[str] | None]:
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        match = _HEADER.match(line)
        if match:
            return index, match
        if line.strip().startswith("Database "):
            raise ParseError(
                KIND,
                '"Database Member <n> -- Database <DB> -- <state> -- Up <time> ..." header',
                line=index + 1,
                excerpt=line.strip(),
            )
        return -1, None
    return -1, None


# ---------------------------------------------------------------- 10.1+ NAME = value


def _key_value_streams(body: list[str], offset: int) -> tuple[HadrStream, ...]:
    blocks: list[tuple[int, dict[str, str], dict[str, int]]] = []
    elided = False
    for number, line in enumerate(body, start=offset):
        if not line.strip():
            continue
        if _ELISION.match(line):
            elided = True
            continue
        match = _FIELD.match(line)
        if not match:
            if _HEADER.match(line):
                raise ParseError(
                    KIND,
                    "the output of one database (-db DB, not -alldbs)",
                    line=number,
                    excerpt=line.strip(),
                )
            raise ParseError(KIND, '"NAME = value" line', line=number, excerpt=line.strip(), hint=_HINT_CUT)
        name, value = match["name"], (match["value"] or "").strip()
        if name == "HADR_ROLE":
            blocks.append((number, {}, {}))
        elif not blocks:
            raise ParseError(
                KIND, "HADR_ROLE as the first field of a block", line=number, excerpt=line.strip()
            )
        blocks[-1][1][name] = value
        blocks[-1][2][name] = number
    required = _REQUIRED_ELIDED if elided else _REQUIRED
    streams = []
    for start, fields, numbers in blocks:
        missing = [name for name in required if name not in fields]
        if missing:
            raise ParseError(KIND, f"{missing[0]} in the block starting", line=start, hint=_HINT_CUT)
        streams.append(_stream(fields, numbers))
    return tuple(streams)


def _stream(fields: dict[str, str], numbers: dict[str, int]) -> HadrStream:
    def integer(name: str) -> int | None:
        return _int(fields.get(name), numbers.get(name), name)

    def epoch(name: str) -> float | None:
        return _epoch(fields.get(name), numbers.get(name), name)

    def position(name: str) -> LogPosition | None:
        return _log_position(fields.get(name), numbers.get(name), name)

    return HadrStream(
        role=fields["HADR_ROLE"].upper(),
        state=fields["HADR_STATE"].upper(),
        syncmode=fields.get("HADR_SYNCMODE", "").upper(),
        connect_status=fields.get("HADR_CONNECT_STATUS", "").upper(),
        connect_status_time=epoch("HADR_CONNECT_STATUS_TIME"),
        standby_id=integer("STANDBY_ID"),
        log_stream_id=integer("LOG_STREAM_ID"),
        primary_host=fields.get("PRIMARY_MEMBER_HOST", ""),
        primary_instance=fields.get("PRIMARY_INSTANCE", ""),
        standby_host=fields.get("STANDBY_MEMBER_HOST", ""),
        standby_instance=fields.get("STANDBY_INSTANCE", ""),
        heartbeat_missed=integer("HEARTBEAT_MISSED"),
        log_gap_bytes=integer("HADR_LOG_GAP(bytes)"),
        primary_log=position("PRIMARY_LOG_FILE,PAGE,POS"),
        standby_log=position("STANDBY_LOG_FILE,PAGE,POS"),
        standby_replay_log=position("STANDBY_REPLAY_LOG_FILE,PAGE,POS"),
        primary_log_time=epoch("PRIMARY_LOG_TIME"),
        standby_log_time=epoch("STANDBY_LOG_TIME"),
        standby_replay_log_time=epoch("STANDBY_REPLAY_LOG_TIME"),
        peer_window_seconds=integer("PEER_WINDOW(seconds)"),
        peer_window_end=epoch("PEER_WINDOW_END"),
        last_takeover_time=epoch("HADR_LAST_TAKEOVER_TIME"),
        flags=tuple(fields.get("HADR_FLAGS", "").split()),
        fields=dict(fields),
    )


def _int(value: str | None, line: int | None, name: str) -> int | None:
    if value is None or value in ("", "NULL"):
        return None
    try:
        return int(value)
    except ValueError:
        raise ParseError(KIND, f"an integer for {name}", line=line, excerpt=value) from None


def _epoch(value: str | None, line: int | None, name: str) -> float | None:
    """ "06/25/2019 10:55:05.076494 (1561460105)" -> 1561460105.0; NULL -> None."""
    if value is None or value in ("", "NULL") or value.upper().startswith("NULL"):
        return None
    match = _EPOCH.search(value)
    if not match:
        raise ParseError(KIND, f"'<date> <time> (<epoch seconds>)' for {name}", line=line, excerpt=value)
    return float(match["epoch"])


def _log_position(value: str | None, line: int | None, name: str) -> LogPosition | None:
    """ "S0000012.LOG, 14151, 3685322855" -> LogPosition."""
    if value is None or value in ("", "NULL"):
        return None
    parts = [p.strip() for p in value.split(",")]
    if len(parts) != 3 or not parts[0]:
        raise ParseError(KIND, f"'<file>, <page>, <pos>' for {name}", line=line, excerpt=value)
    return LogPosition(file=parts[0], page=_int(parts[1], line, name), pos=_int(parts[2], line, name))


# ---------------------------------------------------------------- 9.7 tables


def _tabular_stream(body: list[str], offset: int) -> HadrStream:
    """9.7 and earlier: small "header line / value line" tables separated by blank lines."""
    fields: dict[str, str] = {}
    paragraphs: list[list[tuple[int, str]]] = [[]]
    for number, line in enumerate(body, start=offset):
        if line.strip():
            paragraphs[-1].append((number, line))
        elif paragraphs[-1]:
            paragraphs.append([])
    for paragraph in paragraphs:
        if paragraph and paragraph[0][1].strip().endswith(":"):  # "HADR Information:"
            paragraph = paragraph[1:]
        if not paragraph:
            continue
        if len(paragraph) < 2:
            number, line = paragraph[0]
            raise ParseError(
                KIND, "a value line under the table header", line=number, excerpt=line.strip(), hint=_HINT_CUT
            )
        (_, header), (number, values) = paragraph[0], paragraph[1]
        fields.update(_table_row(header, values, number))
    missing = [
        name
        for name in ("Role", "State", "ConnectStatus", "PrimaryFile", "StandByFile")
        if name not in fields
    ]
    if missing:
        raise ParseError(KIND, f"the 9.7 '{missing[0]}' table (or HADR_ROLE = ... lines)", hint=_HINT_CUT)
    local_is_primary = fields["Role"].lower() == "primary"
    local = (fields.get("LocalHost", ""), "")
    remote = (fields.get("RemoteHost", ""), fields.get("RemoteInstance", ""))
    primary, standby = (local, remote) if local_is_primary else (remote, local)
    connect = fields["ConnectStatus"]
    return HadrStream(
        role=fields["Role"].upper(),
        state=_snake_upper(fields["State"]),
        syncmode=fields.get("SyncMode", "").upper(),
        connect_status=connect.split()[0].upper(),
        connect_status_time=_epoch(fields.get("ConnectTime"), None, "ConnectTime"),
        primary_host=primary[0],
        primary_instance=primary[1],
        standby_host=standby[0],
        standby_instance=standby[1],
        heartbeat_missed=_int(fields.get("HeartBeatsMissed"), None, "HeartBeatsMissed"),
        log_gap_bytes=_int(fields.get("LogGapRunAvg (bytes)"), None, "LogGapRunAvg"),  # a running average
        primary_log=_lsn_position(fields, "PrimaryFile", "PrimaryPg", "PrimaryLSN"),
        standby_log=_lsn_position(fields, "StandByFile", "StandByPg", "StandByLSN"),
        fields=fields,
    )


def _table_row(header: str, values: str, number: int) -> dict[str, str]:
    """Split a value line by the header's column starts; "(bytes)" belongs to the column before it."""
    starts: list[tuple[int, str]] = []
    for match in re.finditer(r"\S+", header):
        if match.group().startswith("(") and starts:
            starts[-1] = (starts[-1][0], f"{starts[-1][1]} {match.group()}")
        else:
            starts.append((match.start(), match.group()))
    tokens = values.split()
    if len(tokens) == len(starts):  # single-word values: robust to re-spaced copies
        return {name: token for (_, name), token in zip(starts, tokens, strict=True)}
    row = {}
    for index, (start, name) in enumerate(starts):
        end = starts[index + 1][0] if index + 1 < len(starts) else None
        row[name] = values[start:end].strip()
    if not all(row.values()):
        raise ParseError(KIND, f"values under '{header.strip()}'", line=number, excerpt=values.strip())
    return row


def _lsn_position(fields: dict[str, str], file: str, page: str, lsn: str) -> LogPosition:
    try:
        pos = int(fields.get(lsn, ""), 16)
    except ValueError:
        raise ParseError(KIND, f"a hexadecimal {lsn}", excerpt=fields.get(lsn, "")) from None
    return LogPosition(file=fields[file], page=_int(fields.get(page), None, page), pos=pos)


def _snake_upper(camel: str) -> str:
    """9.7 "RemoteCatchupPending" -> "REMOTE_CATCHUP_PENDING", "Peer" -> "PEER"."""
    return re.sub(r"(?<=[a-z])(?=[A-Z])", "_", camel.strip()).upper()
