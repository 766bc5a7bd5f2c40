"""Who muted an alarm, why and until when: the mute request the alarm screen asks for, and the mute notes it
reads back from the operator journal (CloudWatch keeps only "actions disabled", not who, why or how long).

An expiry is a promise the DBA makes to the team, not a timer: db2ops is not a daemon and never unmutes by
itself. Past its expiry a mute is shown EXPIRED on the alarm screen (with m to unmute), because a pager
that stays silent after the agreed time is the failure that hurts at 3 a.m.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

MAX_MUTE = timedelta(days=7)
MUTE_STEP_IDS = ("alarm-mute", "alarm-unmute")
_RELATIVE = re.compile(r"(\d+)\s*(m|min|mins|minutes?|h|hours?|d|days?)", re.IGNORECASE)
_UNIT_S = {"m": 60, "h": 3600, "d": 86400}
EXPIRY_HELP = "give 30m, 2h, 1d, a UTC time (04:30 or 2026-12-06 04:30), or leave it empty for no expiry"


class MuteRequestError(ValueError):
    """A mute the DBA typed that cannot be used; the message says what to type instead."""


@dataclass(frozen=True)
class MuteRequest:
    """What the DBA gave when muting: a reason (required) and an optional expiry (UTC)."""

    reason: str
    until: datetime | None = None


def parse_expiry(text: str, now: datetime) -> datetime | None:
    """Return the UTC time a mute should end for `text` ("30m", "2h", "1d", "04:30", "2026-12-06 04:30"),
    None for an empty text (no expiry). Raises MuteRequestError naming the accepted forms."""
    raw = text.strip().removesuffix("UTC").removesuffix("Z").strip()
    if not raw:
        return None
    m = _RELATIVE.fullmatch(raw)
    if m:
        until = now + timedelta(seconds=int(m.group(1)) * _UNIT_S[m.group(2)[0].lower()])
    else:
        until = _clock_time(raw, now)
    if until <= now:
        raise MuteRequestError(f"the expiry {text.strip()!r} is not in the future: {EXPIRY_HELP}")
    if until - now > MAX_MUTE:
        raise MuteRequestError(
            f"the expiry {text.strip()!r} is more than 7 days away: a longer silence is a change to the "
            "alarm (delete or edit it), not a mute"
        )
    return until


def _clock_time(raw: str, now: datetime) -> datetime:
    for fmt in ("%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=UTC)
        except ValueError:
            pass
    for fmt in ("%H:%M", "%H:%M:%S"):
        try:
            t = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        today = now.astimezone(UTC).replace(hour=t.hour, minute=t.minute, second=t.second, microsecond=0)
        return today if today > now else today + timedelta(days=1)  # 02:00 typed at 23:00 is tomorrow
    raise MuteRequestError(f"cannot read the expiry {raw!r}: {EXPIRY_HELP}")


def make_mute_request(reason: str, expiry: str, now: datetime) -> MuteRequest:
    """Return the MuteRequest for the dialog's two fields; raise MuteRequestError when one is not usable."""
    why = " ".join(reason.split())
    if not why:
        raise MuteRequestError("say why the alarm is muted (it goes to the journal for the next DBA)")
    return MuteRequest(why, parse_expiry(expiry, now))


def format_utc(when: datetime) -> str:
    """Return "2026-12-06 04:30 UTC"."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True)
class MuteNote:
    """The journal's record of the mute now in force on `alarm` (the last mute/unmute step that ran)."""

    alarm: str
    who: str
    when: datetime
    reason: str
    until: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return self.until is not None and now >= self.until


def mute_details(alarm: str, request: MuteRequest | None) -> dict[str, Any]:
    """Return the journal details of a mute/unmute step: the alarm, and for a mute its reason and expiry."""
    details: dict[str, Any] = {"alarm": alarm}
    if request is not None:
        details["reason"] = request.reason
        details["until"] = (
            request.until.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if request.until else None
        )
    return details


def _time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def _alarm_of(entry: Any) -> str:
    details: Mapping[str, Any] = getattr(entry, "details", None) or {}
    if isinstance(details.get("alarm"), str):
        return str(details["alarm"])
    for action in entry.actions:  # lines written before details: the API call names the alarm
        names = (action.get("params") or {}).get("AlarmNames") or []
        if names:
            return str(names[0])
    return ""


def mute_notes(entries: Iterable[Any]) -> dict[str, MuteNote]:
    """Return, per alarm, the mute in force according to the journal's outcome lines (file order): the last
    verified mute/unmute of each alarm decides; an unmute removes the note."""
    notes: dict[str, MuteNote] = {}
    for entry in entries:
        if entry.step_id not in MUTE_STEP_IDS or entry.result != "verified":
            continue
        alarm = _alarm_of(entry)
        if not alarm:
            continue
        if entry.step_id == "alarm-unmute":
            notes.pop(alarm, None)
            continue
        details: Mapping[str, Any] = getattr(entry, "details", None) or {}
        when = _time(entry.when) or datetime.now(UTC)
        reason = details.get("reason")
        notes[alarm] = MuteNote(
            alarm,
            entry.who,
            when,
            str(reason) if reason else "",
            _time(details.get("until")),
        )
    return notes
