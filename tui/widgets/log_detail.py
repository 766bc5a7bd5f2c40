"""Detail panel of the log screen: the selected entry's fields (parsed on demand) and its full text."""

from __future__ import annotations

from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from services.logs.model import MARKER, LogEntry
from services.logs.summary import visible_controls
from services.parsers.db2audit import AuditRecord
from services.words import plural

_DIAG_FIELDS = (
    ("timestamp_text", "Db2 time"),
    ("record_id", "record"),
    ("level", "LEVEL"),
    ("pid", "PID"),
    ("tid", "TID"),
    ("proc", "PROC"),
    ("instance", "INSTANCE"),
    ("node", "NODE"),
    ("db", "DB"),
    ("apphdl", "APPHDL"),
    ("appid", "APPID"),
    ("authid", "AUTHID"),
    ("hostname", "HOSTNAME"),
    ("eduid", "EDUID"),
    ("eduname", "EDUNAME"),
    ("function", "FUNCTION"),
    ("message", "MESSAGE"),
    ("retcode", "RETCODE"),
    ("event_kind", "EVENT"),
    ("event_text", "EVENT TEXT"),
)


def detail_content(entry: LogEntry | None) -> Content:
    """Return the panel body for `entry`: a label/value table then the full text (None: a hint)."""
    if entry is None:
        return Content.styled(
            "No entry selected: move with j/k, Enter expands a record in place.", "$foreground-muted"
        )
    if entry.source == MARKER:
        return Content.styled(entry.summary, "$accent")
    rows: list[tuple[str, str]] = [
        ("time (UTC)", entry.time.strftime("%Y-%m-%d %H:%M:%S.%f")),
        ("source", entry.source),
        ("host", entry.host),
    ]
    if entry.stream and entry.stream != entry.host:
        rows.append(("stream", entry.stream))
    record = entry.record
    if record is not None and entry.source == "diag":
        for attr, label in _DIAG_FIELDS:
            value = getattr(record, attr, "")
            if value:
                rows.append((label, str(value)))
        data = getattr(record, "data", ())
        if data:
            rows.append(("DATA", plural(len(data), "block")))
    elif isinstance(record, AuditRecord):
        rows += [(key, value) for key, value in record.fields.items()]
    width = max(len(label) for label, _ in rows)
    lines = [
        Content.assemble(
            (f"{label:<{width}} ", "$foreground-muted"), visible_controls(value).replace("\n", " ⏎ ")
        )
        for label, value in rows
    ]
    lines.append(Content(""))
    lines.append(Content.styled("full text", "bold $foreground-muted"))
    lines.append(Content(visible_controls(entry.text.rstrip())))
    return Content("\n").join(lines)


class LogDetail(VerticalScroll):
    """Scrollable panel showing one entry."""

    DEFAULT_CSS = """
    LogDetail { width: 40%; max-width: 64; border-left: vkey $primary 40%; padding: 0 1; }
    LogDetail > Static { width: auto; }
    """

    def compose(self):
        yield Static(detail_content(None), id="detail-body")

    def show(self, entry: LogEntry | None) -> None:
        """Display `entry` (None clears the panel)."""
        self.query_one("#detail-body", Static).update(detail_content(entry))
        self.scroll_home(animate=False)
