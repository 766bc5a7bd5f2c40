"""Headless `db2ops setup ha --cluster NAME [--dry-run | --apply] [--json] [--set KEY=VALUE]`.

Runs the same plan as the wizard (`:setup ha`), without the UI. Exit codes as `setup monitoring`:
0 everything done (or planned, for a dry run), 1 a step failed, 2 bad input (unknown cluster, bad
parameter), 3 refused by the write guard (read-only cluster and --apply).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from services.ha_setup.params import HaParamError, HaParams
from services.ha_setup.plan import build_ha_plan
from services.plans.headless import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    HeadlessSetup,
    print_plan_report,
)

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_USAGE",
    "parse_ha_overrides",
    "print_result",
    "run_setup_ha",
]


def parse_ha_overrides(items: Sequence[str]) -> dict[str, Any]:
    """Return HaParams overrides from `key=value` strings (`--set domain=db2domain --set nic=ens5`).

    Booleans take true/false, numbers are converted, `route_table_ids` takes a comma-separated list.
    Raises HaParamError for a malformed item, an unknown key or a value of the wrong type.
    """
    types = {f.name: str(f.type) for f in fields(HaParams)}
    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or key not in types:
            raise HaParamError(f"{item!r}: expected KEY=VALUE with KEY one of: {', '.join(sorted(types))}")
        kind = types[key]
        if kind.startswith("bool"):
            if raw.lower() not in ("true", "false"):
                raise HaParamError(f"{key}={raw!r}: use true or false")
            out[key] = raw.lower() == "true"
        elif kind.startswith("float"):
            try:
                out[key] = float(raw)
            except ValueError:
                raise HaParamError(f"{key}={raw!r}: not a number") from None
        elif key == "route_table_ids":
            out[key] = tuple(p.strip() for p in raw.split(",") if p.strip()) or None
        else:
            out[key] = raw if raw or "None" not in kind else None
    return out


# Kept for callers of the old name: the report is shared with `setup monitoring`.
print_result = print_plan_report


# await run_setup_ha(inventory, cluster_name, mode=..., out=..., params=parse_ha_overrides(...), ...) runs
# the HA plan and returns the exit code (HeadlessSetup.__call__ says the rest).
run_setup_ha = HeadlessSetup(HaParams, build_ha_plan, param_errors=(HaParamError, TypeError))
