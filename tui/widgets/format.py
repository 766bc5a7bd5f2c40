"""Small text formatters shared by panels (ages, clock times, byte counts)."""

from __future__ import annotations

import time


def format_age(seconds: float | None) -> str:
    """Return a short age: "0.4s", "12s", "3m04s", "2h03m", "4d02h"; "—" for None."""
    if seconds is None:
        return "—"
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 86400}d{whole % 86400 // 3600:02d}h"


def format_clock(epoch: float | None, now: float | None = None) -> str:
    """Return local "HH:MM:SS" (with the date when not today relative to `now`); "—" for None."""
    if epoch is None:
        return "—"
    local = time.localtime(epoch)
    today = time.localtime(now if now is not None else time.time())
    if local[:3] == today[:3]:
        return time.strftime("%H:%M:%S", local)
    return time.strftime("%Y-%m-%d %H:%M:%S", local)


def format_bytes(count: int | None) -> str:
    """Return "0 B", "12.0 KiB", "3.5 MiB"...; "—" for None."""
    if count is None:
        return "—"
    size = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"  # pragma: no cover - loop always returns


def fit_text(text: str, width: int) -> str:
    """Return `text` cut to `width` columns at a word boundary, with "…" when anything was cut."""
    if width <= 0:
        return ""
    if len(text) <= width:
        return text
    if width == 1:
        return "…"
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if space >= width // 3:  # a word boundary not too far back; else cut the long word itself
        cut = cut[:space]
    return cut.rstrip(" ,;:·-") + "…"


# (pattern in the error text, short form): first match wins; order from specific to general
_SOCKET_REASONS = (
    (r"Errno 111|Connection refused|Connect call failed", "connection refused"),
    (r"Errno 113|No route to host", "no route to host"),
    (r"Errno 101|Network is unreachable", "network unreachable"),
    (r"Errno 110|timed out", "timed out"),
    (r"Errno -[23]|Name or service not known|nodename nor servname", "unknown host name"),
    (r"Errno 104|Connection reset", "connection reset"),
)
_SHORT_FORMS = (
    (r"^not retrying for [\d.]+s after: (?P<inner>.*)$", None),  # the cause matters, not the backoff
    (r"^last poll failed: (?P<inner>.*)$", "poll failed: {inner}"),
    (r"^cannot connect to \S+ \((?P<reason>.*?)\)(;|$)", "unreachable: {reason}"),
    (r"^connect to \S+ failed: (?P<reason>.*)$", "unreachable: {reason}"),
    (r"^no SSH answer from \S+ within (?P<s>[\d.]+s)", "unreachable: no SSH answer in {s}"),
    (r"^connection lost while running", "unreachable: connection lost"),
    (r"did not finish within (?P<s>[\d.]+s)", "command timed out after {s}"),
    (r"refused the SSH keys", "SSH login refused (keys)"),
    (r"^REFUSED: host .* presented a", "HOST KEY CHANGED: refused"),
    (r"is not in \S+; its \S+ key fingerprint", "host key not trusted yet"),
    (r"refused a new session", "SSH session refused (MaxSessions)"),
    (r"^`(?P<cmd>[^` ]+)[^`]*` exited (?P<rc>-?\d+)(: (?P<why>.*))?$", "{cmd} exited {rc}: {why}"),
)


def short_error(text: str, width: int = 64) -> str:
    """Return a short panel form of an error ("unreachable: connection refused"); the full text goes to
    the banner and the panel detail. Several "host: error" parts joined by "; " are shortened each."""
    import re

    text = " ".join(text.split())
    parts = [p for p in text.split("; ") if p]
    named = [p for p in parts if re.match(r"^[\w.-]+: \S", p)]
    if len(named) > 1:  # the crm part joins every host's error: "db2a: ...; db2b: ..."
        return "; ".join(f"{p.split(': ', 1)[0]}: {short_error(p.split(': ', 1)[1], width)}" for p in named)
    for pattern, form in _SHORT_FORMS:
        match = re.search(pattern, text)
        if match is None:
            continue
        fields = {k: v or "" for k, v in match.groupdict().items()}
        if form is None:
            return short_error(fields["inner"], width)
        if "inner" in fields:
            fields["inner"] = short_error(fields["inner"], width)
        if "reason" in fields:
            reason = fields["reason"]
            word = next((w for p, w in _SOCKET_REASONS if re.search(p, reason)), None)
            fields["reason"] = word or re.sub(r"^\[Errno -?\d+\] ", "", reason)
        return fit_text(form.format(**fields).rstrip(": "), width)
    return fit_text(parts[0] if parts else text, width)
