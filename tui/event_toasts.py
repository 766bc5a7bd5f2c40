"""State-change toasts: at most one on screen per cluster, summing up every change since the last one.

A failover changes eight facts over two or three polls; a toast per change (or even per poll) stacks up and
covers half an 80x24 screen. Changes that arrive while a cluster's toast is still showing wait and come
out as one summary toast when it has gone. The events panel always has the full list at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

TOAST_SECONDS = 5.0
_SEVERITY = {"ok": "information", "info": "information", "warning": "warning", "critical": "error"}


class EventToasts:
    """Feeds `app.notify` with one summary toast per cluster at a time."""

    def __init__(self, app: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self._app = app
        self._clock = clock
        self._pending: dict[str, list[Any]] = {}
        self._quiet_until: dict[str, float] = {}
        self._flush_scheduled: set[str] = set()

    def add(self, cluster: str, events: list[Any]) -> None:
        """Queue `events` of `cluster`; toast them now, or when the cluster's previous toast has gone."""
        if not events:
            return
        self._pending.setdefault(cluster, []).extend(events)
        wait = self._quiet_until.get(cluster, 0.0) - self._clock()
        if wait <= 0:
            self._flush(cluster)
        elif cluster not in self._flush_scheduled:
            self._flush_scheduled.add(cluster)
            self._app.set_timer(wait, lambda: self._flush(cluster))

    def _flush(self, cluster: str) -> None:
        self._flush_scheduled.discard(cluster)
        events = self._pending.pop(cluster, [])
        if not events:
            return
        from tui.widgets.events_log import events_toast  # the status model stays off the first frame

        worst, text = events_toast(events)
        title = cluster if len(events) == 1 else f"{cluster}: {len(events)} changes"
        severity = _SEVERITY.get(worst, "information")
        self._app.notify(text, title=title, severity=severity, timeout=TOAST_SECONDS, markup=False)
        self._quiet_until[cluster] = self._clock() + TOAST_SECONDS
