"""The persisted progress record of a plan run, so an interrupted run is visible and resumable.

One JSON file per (cluster, plan): state_dir()/plans/<cluster>/<plan>.json, rewritten atomically after
every step transition. Resuming does not depend on it (a re-run re-checks every step and skips the ones
already done); it tells the operator where the last run stopped and why.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


def default_plans_dir() -> Path:
    """Return services.paths.state_dir()/plans (fallback ~/.local/state/db2ops/plans)."""
    try:
        from services import paths

        return paths.state_dir() / "plans"
    except (ImportError, AttributeError):  # pragma: no cover
        return Path.home() / ".local" / "state" / "db2ops" / "plans"


def _safe(name: str) -> str:
    # Cluster / plan names come from the inventory: keep them from escaping the directory.
    cleaned = re.sub(r"[^A-Za-z0-9_.-]", "_", name).strip(".")
    return cleaned or "_"


@dataclass
class PlanProgress:
    """Where a run is: per step id its status ("planned", "applying", "applied", "failed", ...)."""

    plan: str
    cluster: str
    run_id: str
    operator: str
    started_at: str
    updated_at: str = ""
    finished: bool = False
    outcome: str = "running"  # running | ok | failed | cancelled | interrupted (Ctrl-C)
    current_step: str = ""
    message: str = ""
    steps: dict[str, str] = field(default_factory=dict)

    @property
    def interrupted(self) -> bool:
        """Return True when the run never finished (the process died or the host dropped mid-step)."""
        return not self.finished

    def to_dict(self) -> dict[str, Any]:
        return {
            "plan": self.plan,
            "cluster": self.cluster,
            "run_id": self.run_id,
            "operator": self.operator,
            "started_at": self.started_at,
            "updated_at": self.updated_at,
            "finished": self.finished,
            "outcome": self.outcome,
            "current_step": self.current_step,
            "message": self.message,
            "steps": dict(self.steps),
        }


def progress_path(cluster: str, plan: str, directory: Path | None = None) -> Path:
    """Return the file holding the progress of `plan` on `cluster`."""
    base = directory if directory is not None else default_plans_dir()
    return base / _safe(cluster) / f"{_safe(plan)}.json"


def save_progress(progress: PlanProgress, directory: Path | None = None) -> Path:
    """Write the record atomically (temp file + rename); return its path. Raises OSError."""
    path = progress_path(progress.cluster, progress.plan, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".progress-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(progress.to_dict(), fh, indent=2, sort_keys=True)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_progress(cluster: str, plan: str, directory: Path | None = None) -> PlanProgress | None:
    """Return the last run's record, or None when there is none or it is unreadable (never raises)."""
    path = progress_path(cluster, plan, directory)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        steps = data.get("steps", {})
        return PlanProgress(
            plan=str(data["plan"]),
            cluster=str(data["cluster"]),
            run_id=str(data["run_id"]),
            operator=str(data.get("operator", "")),
            started_at=str(data.get("started_at", "")),
            updated_at=str(data.get("updated_at", "")),
            finished=bool(data.get("finished", False)),
            outcome=str(data.get("outcome", "")),
            current_step=str(data.get("current_step", "")),
            message=str(data.get("message", "")),
            steps={str(k): str(v) for k, v in steps.items()} if isinstance(steps, dict) else {},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
