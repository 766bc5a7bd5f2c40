"""The verdict banner: the worst verdict in words plus what to do, or one green sentence when healthy."""

from __future__ import annotations

from dataclasses import dataclass

from textual.content import Content
from textual.widgets import Static

from services.status_model import ClusterStatus, Severity

_LABELS = {
    Severity.OK: "HEALTHY",
    Severity.INFO: "NOTE",
    Severity.WARNING: "WARNING",
    Severity.CRITICAL: "CRITICAL",
}


@dataclass(frozen=True)
class BannerText:
    severity: Severity
    headline: str
    details: tuple[str, ...] = ()


def healthy_sentence(status: ClusterStatus) -> str | None:
    """Return "Healthy: db2a is primary, HADR PEER, quorum with qdevice", or None when data is missing."""
    promoted = status.promoted_node
    if promoted is None:
        return None
    hadr = status.hadr.get(promoted)
    hadr_state = hadr.value.state if hadr is not None and hadr.ok else None  # type: ignore[union-attr]
    quorum_parts = [p.value for p in status.quorum.values() if p.ok]
    if hadr_state is None or not quorum_parts:
        return None
    quorate = any(q.quorate for q in quorum_parts)  # type: ignore[union-attr]
    with_qdevice = any(q.has_qdevice for q in quorum_parts)  # type: ignore[union-attr]
    quorum = "quorum with qdevice" if quorate and with_qdevice else "quorum" if quorate else "NO quorum"
    return f"Healthy: {promoted} is primary, HADR {hadr_state}, {quorum}"


def banner_text(status: ClusterStatus | None, poll_error: str | None = None) -> BannerText:
    """Return the banner for a snapshot: the worst verdict first; never "healthy" without the data."""
    if status is None:
        if poll_error:
            return BannerText(Severity.CRITICAL, f"No status yet: {poll_error}")
        return BannerText(Severity.INFO, "Waiting for the first status…")
    verdicts = sorted(status.verdicts, key=lambda v: -v.severity.rank)
    details: list[str] = []
    if poll_error:
        details.append(f"last poll failed, showing older data: {poll_error}")
    if verdicts and verdicts[0].severity is not Severity.OK:
        worst = verdicts[0]
        if worst.hint:
            details.insert(0, f"→ {worst.hint}")
        details += [
            f"· {v.severity.value}: {v.message}" for v in verdicts[1:] if v.severity is not Severity.OK
        ]
        return BannerText(worst.severity, worst.message, tuple(details))
    sentence = healthy_sentence(status)
    if sentence is None:
        missing = ", ".join(f"{h}: {e}" for h, e in status.host_errors.items()) or "no Pacemaker/HADR data"
        return BannerText(Severity.WARNING, f"Status unknown: {missing}", tuple(details))
    return BannerText(Severity.OK, sentence, tuple(details))


class VerdictBanner(Static):
    """One banner at the top of the status screen; its CSS class says the severity (-ok, -critical...)."""

    DEFAULT_CSS = """
    VerdictBanner { height: auto; padding: 0 1; }
    """

    def show(self, text: BannerText) -> None:
        """Display `text` and set the severity class."""
        for sev in Severity:
            self.set_class(sev is text.severity, f"-{sev.value}")
        label = _LABELS[text.severity]
        lines = [Content.assemble((f" {label} ", "reverse bold"), "  ", (text.headline, "bold"))]
        lines += [Content(f"{' ' * (len(label) + 4)}{d}") for d in text.details[:4]]
        self.update(Content("\n").join(lines))
