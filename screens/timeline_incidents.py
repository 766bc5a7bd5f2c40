"""The timeline's recorded incidents: a few lines above the table, `i` selects the next one, `b` writes its
post-incident bundle under the state dir (a toast says where). Read-only: nothing on a host or in AWS
changes, so no guard. The recording is read in a thread (services/record/incident_source.py)."""

from __future__ import annotations

import asyncio

from textual.content import Content
from textual.widgets import Static

from services.record.incident_source import IncidentList, IncidentSource
from services.record.incidents import Incident
from services.words import plural

_LOOK = {"critical": "bold $text-error", "warning": "$text-warning"}
SHOWN = 3  # incident lines at most (the newest, or around the selected one)


class IncidentPanel(Static):
    """The recorded incidents of the cluster, newest last, the selected one marked ▶."""

    KEYS = "i next · b export bundle"  # the replay's panel says its own (tui/replay_screens.py)

    DEFAULT_CSS = "IncidentPanel { height: auto; max-height: 4; padding: 0 1; }"

    def __init__(self, source: IncidentSource) -> None:
        super().__init__("", id="tl-incidents")
        self.source = source
        self.listed = IncidentList(note="reading the recording…")
        self.selected: int | None = None  # index in listed.incidents

    @property
    def incident(self) -> Incident | None:
        rows = self.listed.incidents
        return rows[self.selected] if self.selected is not None and self.selected < len(rows) else None

    async def refresh_incidents(self) -> None:
        listed = await asyncio.to_thread(self.source.load)
        chosen = self.incident
        self.listed = listed
        numbers = [i.number for i in listed.incidents]
        if chosen is not None and chosen.number in numbers:
            self.selected = numbers.index(chosen.number)
        else:  # the newest is what the DBA asks about
            self.selected = len(numbers) - 1 if numbers else None
        self.update(self.describe())

    def select_next(self) -> Incident | None:
        """Select the next incident (wrapping round to the first); return it."""
        rows = self.listed.incidents
        if rows:
            self.selected = 0 if self.selected is None else (self.selected + 1) % len(rows)
            self.update(self.describe())
        return self.incident

    def describe(self) -> Content:
        rows = self.listed.incidents
        if not rows:
            why = self.listed.note or "none recorded: the cluster has not been degraded"
            return Content.assemble(("Incidents: ", "bold"), (why, "$foreground-muted"))
        head = Content.assemble(
            ("Incidents: ", "bold"),
            (f"{plural(len(rows), 'recorded incident')} · {self.KEYS}", "$foreground-muted"),
        )
        at = self.selected if self.selected is not None else len(rows) - 1
        first = max(0, min(at - SHOWN // 2, len(rows) - SHOWN))
        lines = [head]
        for n, i in enumerate(rows[first : first + SHOWN], start=first):
            mark = "▶ " if n == at else "  "
            lines.append(
                Content.assemble(
                    mark, (f"#{i.number} ", "bold"), (i.summary, _LOOK.get(i.severity.value, ""))
                )
            )
        return Content("\n").join(lines)
