"""How a panel says its values are not live: when its host last answered, and what a last-known value
would contradict. Pure functions: the status panel and the status screen share them, tests walk them.

A dead host's last answer ("role PRIMARY state PEER") must never read like a live one: the panel states
when the host was last seen, puts the old values under a "last known" heading, dimmed and struck, and
names the live fact that replaced an old role ("last known PRIMARY — db2b is primary now").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from services.status.poll import PartView
from tui.widgets.format import format_age, format_clock


def format_ago(seconds: float) -> str:
    """Return "40 s ago", "3 min 04 s ago", "2h03m ago": whole units a tired reader parses at once."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole} s ago"
    if whole < 3600:
        return f"{whole // 60} min {whole % 60:02d} s ago"
    return f"{format_age(seconds)} ago"


def last_seen_line(views: Sequence[PartView], now: float) -> str:
    """Return "last seen 12:03:41 (40 s ago)" for the oldest stale value of `views` ("" when none is
    stale). The oldest one: a panel is only as live as its oldest fact."""
    stale = [v for v in views if v.stale and v.shown is not None and v.shown.value is not None]
    if not stale:
        return ""
    oldest = min(stale, key=lambda v: v.shown.fetched_at if v.shown else 0.0)
    assert oldest.shown is not None
    at = oldest.shown.fetched_at
    return f"last seen {format_clock(at, now)} ({format_ago(max(0.0, now - at))})"


def hadr_role_note(host: str, views: Mapping[str, PartView], promoted: str | None) -> str:
    """Return "last known PRIMARY — db2b is primary now" when `host`'s stale HADR view holds a role a
    live answer contradicts; "" otherwise (the panel's "last known" heading covers the rest).

    The live primary is a host whose HADR answered PRIMARY in the last poll; failing that, the node
    Pacemaker promoted (when that answer is live too)."""
    view = views.get(f"hadr:{host}")
    if view is None or not view.stale or view.value is None or not view.value.streams:
        return ""
    role = view.value.streams[0].role or "?"
    live_primaries = [
        key.split(":", 1)[1]
        for key, v in views.items()
        if key.startswith("hadr:")
        and not v.stale
        and v.value is not None
        and v.value.streams
        and v.value.streams[0].role == "PRIMARY"
    ]
    others = [h for h in live_primaries if h != host]
    if not others and promoted and promoted != host:
        crm = views.get("crm")
        if crm is not None and not crm.stale:
            others = [promoted]
    if role == "PRIMARY" and others:
        return f"last known PRIMARY — {others[0]} is primary now"
    return ""
