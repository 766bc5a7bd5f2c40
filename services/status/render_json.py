"""ClusterStatus as plain JSON-ready dicts, for `db2ops status --json` and scripts.

`db2ops status --json` prints `status_document(...)`: one object of the same shape whatever the number of
clusters (also with --cluster NAME), so a script never guesses between an object and a list:

    {"schema_version": 1, "exit_code": 0|1|2, "clusters": [status_to_dict(cluster), ...]}

`schema_version` changes only when a field is removed or changes meaning (added fields keep it).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from services.status.incident import build_headline
from services.status.model import ClusterStatus, Part, Severity

EXIT_HEALTHY, EXIT_DEGRADED, EXIT_UNREACHABLE = 0, 1, 2
STATUS_SCHEMA_VERSION = 1  # no field at all: the unversioned output of before (an object or a list)
_UNREACHABLE_CODES = {"host_unreachable", "host_key_unknown", "host_key_changed", "pacemaker_unavailable"}


def status_exit_code(statuses: list[ClusterStatus]) -> int:
    """0 when every cluster is healthy, 2 when a host, Pacemaker or HADR on every Db2 host could not be
    read, else 1."""
    code = EXIT_HEALTHY
    for s in statuses:
        if any(v.code in _UNREACHABLE_CODES for v in s.verdicts):
            return EXIT_UNREACHABLE
        if s.hadr and not any(p.ok for p in s.hadr.values()):
            return EXIT_UNREACHABLE
        if any(v.severity.rank >= Severity.WARNING.rank for v in s.verdicts):
            code = EXIT_DEGRADED
    return code


def status_document(
    statuses: list[ClusterStatus], now: float | None = None, exit_code: int | None = None
) -> dict[str, Any]:
    """Return what `db2ops status --json` prints: `schema_version`, `exit_code` (the process exit status:
    `exit_code` when given, else the worst cluster's) and `clusters`, one `status_to_dict` per status in the
    given order (a list even for one cluster)."""
    return {
        "schema_version": STATUS_SCHEMA_VERSION,
        "exit_code": status_exit_code(statuses) if exit_code is None else exit_code,
        "clusters": [status_to_dict(s, now) for s in statuses],
    }


def status_to_dict(s: ClusterStatus, now: float | None = None) -> dict[str, Any]:
    """Return `s` as JSON-ready dicts: verdicts with stable codes, this cluster's exit code, and every
    part with its source, age (at `now`), fetch time, duration, error (its message, and `error_kind`: a
    services.part_errors.ErrorKind value) and the command that produced it. `headline` is what the
    console's banner says first (services/status/incident.Headline: severity, code, title, short,
    consequences, hint, since)."""
    now = time.time() if now is None else now
    exit_code = status_exit_code([s])

    def part(p: Part[object] | None) -> dict[str, Any] | None:
        if p is None:
            return None
        return {
            "source": p.source,
            "age_s": round(p.age(now), 3),
            "fetched_at": p.fetched_at,
            "duration_s": round(p.duration_s, 3),
            "ok": p.ok,
            "stale": p.stale,
            "error": None if p.error is None else p.error.message,
            "error_kind": None if p.error is None else p.error.kind.value,
            "command": p.command,
            "value": _plain(p.value),
        }

    return {
        "cluster": s.cluster,
        "taken_at": s.taken_at,
        "severity": s.severity.value,
        # the exit code's judgement: an INFO verdict (e.g. alarms_unknown) is a note, not a degradation
        "healthy": exit_code == EXIT_HEALTHY,
        "headline": build_headline(s, now).as_dict(),
        "exit_code": exit_code,
        "promoted_node": s.promoted_node,
        "hadr_primary": s.hadr_primary_host,
        "verdicts": [dataclasses.asdict(v) for v in s.verdicts],
        "host_errors": {h: e.message for h, e in s.host_errors.items()},
        "host_error_kinds": {h: e.kind.value for h, e in s.host_errors.items()},
        "crm": part(s.crm),
        "quorum": {h: part(p) for h, p in s.quorum.items()},
        "qdevice": {h: part(p) for h, p in s.qdevice.items()},
        "qnetd": part(s.qnetd),
        "hadr": {h: part(p) for h, p in s.hadr.items()},
        "overlay_route": part(s.overlay_route),
        "alarms": part(s.alarms),  # value: [{"name", "state", "since"}, ...]; null when AWS is not read
        "instance_ids": dict(s.instance_ids),
    }


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
