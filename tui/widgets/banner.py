"""The verdict banner: the worst verdict in words plus what to do, or one green sentence when healthy."""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.message import Message
from textual.widgets import Static

from services.status import incident
from services.status.model import ClusterStatus, Severity
from tui.widgets.format import fit_text, short_error
from tui.widgets.hanging_text import HangingContent

_LABELS = {
    Severity.OK: "HEALTHY",
    Severity.INFO: "NOTE",
    Severity.WARNING: "WARNING",
    Severity.CRITICAL: "CRITICAL",
}


HEADLINE_WIDTH = 96  # longer verdict messages (raw SSH errors) are shortened; the detail keeps them whole


@dataclass(frozen=True)
class BannerText:
    severity: Severity
    headline: str
    details: tuple[str, ...] = ()
    full: tuple[str, ...] = ()  # every verdict and error in full, for the banner's detail view


def short_message(message: str, width: int = HEADLINE_WIDTH) -> str:
    """Return a verdict message fit for one banner line: "db2a is unreachable: connection refused".

    The part after the first ": " (usually a raw error) is shortened with short_error; the subject stays.
    """
    if len(message) <= width:
        return message
    subject, sep, error = message.partition(": ")
    if not sep or len(subject) > width // 2:
        return fit_text(message, width)
    short = short_error(error, max(16, width - len(subject) - 2))
    if subject.endswith("unreachable"):  # "db2a is unreachable: unreachable: ..." says it twice
        short = short.removeprefix("unreachable: ")
    return f"{subject}: {short}"


def healthy_sentence(status: ClusterStatus) -> str | None:
    """Return "Healthy: db2a is primary, HADR PEER, quorum with qdevice", or None when data is missing."""
    return incident.healthy_sentence(status)


def banner_text(
    status: ClusterStatus | None, poll_error: str | None = None, now: float | None = None
) -> BannerText:
    """Return the banner for a snapshot: the incident headline (services/status/incident.py, the same
    the fleet row and `db2ops status` show) with its hint and consequences; never "healthy" without the
    data."""
    if status is None:
        if poll_error:
            message = f"No status yet: {poll_error}"
            return BannerText(Severity.CRITICAL, short_message(message), full=(message,))
        return BannerText(Severity.INFO, "Waiting for the first status…")
    head = incident.build_headline(status, now)
    details: list[str] = []
    full: list[str] = []
    if poll_error:
        details.append(short_message(f"last poll failed, showing older data: {poll_error}"))
        full.append(f"last poll failed, showing older data: {poll_error}")
    bad = [v for v in status.verdicts if v.severity is not Severity.OK]
    for v in bad:
        full.append(f"{v.severity.value.upper()}: {v.message}" + (f"\n  → {v.hint}" if v.hint else ""))
    if head.code == "unknown":
        return BannerText(head.severity, short_message(head.title), tuple(details), (head.title, *full))
    if head.hint:
        details.insert(0, f"→ {head.hint}")
    by_message = {v.message: v for v in bad}
    for line in head.consequences:
        same = by_message.get(line)
        details.append(
            f"· {same.severity.value}: {short_message(line)}"
            if same is not None
            else f"· {short_message(line)}"
        )
    # an event's title is ours (no raw error in it): shown whole, the banner wraps it
    title = head.title if head.code in incident.INCIDENT_CODES else short_message(head.title)
    return BannerText(head.severity, title, tuple(details), tuple(full))


class VerdictBanner(Static):
    """One banner at the top of the status screen; its CSS class says the severity (-ok, -critical...).
    A click posts `DetailsRequested` (the screen shows every verdict and error in full)."""

    DEFAULT_CSS = """
    VerdictBanner { height: auto; padding: 0 1; }
    """

    class DetailsRequested(Message):
        """The user clicked the banner: show `text.full`."""

        def __init__(self, text: BannerText) -> None:
            super().__init__()
            self.text = text

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.text = BannerText(Severity.INFO, "")
        self.max_details = 4

    def show(self, text: BannerText, max_details: int | None = None) -> None:
        """Display `text` (at most `max_details` detail lines, then "+N more") and set the severity class."""
        self.text = text
        if max_details is not None:
            self.max_details = max_details
        for sev in Severity:
            self.set_class(sev is text.severity, f"-{sev.value}")
        label = _LABELS[text.severity]
        indent = " " * (len(label) + 4)
        # (lead, body) rows: a long body wraps under its own words, never back under the badge
        rows = [
            (Content.assemble((f" {label} ", "reverse bold"), "  "), Content.styled(text.headline, "bold"))
        ]
        shown = text.details[: self.max_details]
        hidden = len(text.details) - len(shown)
        for detail in shown:
            mark = detail[:2] if detail[:2] in ("→ ", "· ") else ""
            rows.append((Content(indent + mark), Content(detail[len(mark) :])))
        if hidden > 0:
            more = f"+{hidden} more: click here for every verdict"
            rows.append((Content(indent), Content.styled(more, "dim")))
        self.update(HangingContent(rows))

    def on_click(self) -> None:
        self.post_message(self.DetailsRequested(self.text))
