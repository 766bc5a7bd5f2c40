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
