"""The one write guard every change passes through.

A cluster is read-only unless its inventory says `read_only: false`. The plan runner calls
`ensure_writable` before it applies anything and then opens a guarded scope (`guarded_run`); the write
helpers of `PlanContext` (the only place that sends a changing command to a host or a changing AWS call)
call `require_guarded`, so a step applied outside the runner raises instead of writing.
"""

from __future__ import annotations

import contextvars
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from services.inventory.model import Cluster


class WriteRefused(Exception):
    """A change was refused: the cluster is read-only, or a write ran outside a guarded plan run."""


@dataclass(frozen=True)
class GuardToken:
    """Proof that the runner checked the cluster is writable; valid only inside `guarded_run`."""

    cluster: str
    plan: str
    nonce: str


_CURRENT: contextvars.ContextVar[GuardToken | None] = contextvars.ContextVar(
    "db2ops_write_guard", default=None
)


def ensure_writable(cluster: Cluster, *, apply_requested: bool, inventory_source: str = "") -> None:
    """Return None when `cluster` may be changed; raise WriteRefused when it is read-only.

    `apply_requested=False` (check / dry run) never raises: reading is always allowed.
    """
    if not apply_requested:
        return
    if cluster.read_only:
        where = inventory_source or "the inventory"
        raise WriteRefused(
            f"cluster {cluster.name} is read-only: set read_only: false for it in {where} "
            "to allow changes (or run with --dry-run to only review the plan)"
        )


@contextmanager
def guarded_run(cluster: Cluster, plan: str, *, inventory_source: str = "") -> Iterator[GuardToken]:
    """Open the scope in which writes to `cluster` are allowed; yield its token.

    Raises WriteRefused when the cluster is read-only (so no scope is ever opened for it).
    """
    ensure_writable(cluster, apply_requested=True, inventory_source=inventory_source)
    token = GuardToken(cluster=cluster.name, plan=plan, nonce=secrets.token_hex(8))
    reset = _CURRENT.set(token)
    try:
        yield token
    finally:
        _CURRENT.reset(reset)


def require_guarded(cluster: Cluster, what: str) -> GuardToken:
    """Return the active token for `cluster`; raise WriteRefused when `what` runs outside a guarded run.

    Also re-checks read_only, so a token can never be used to write to a read-only cluster.
    """
    token = _CURRENT.get()
    if token is None:
        raise WriteRefused(
            f"refused to {what}: changes are only made by a plan run (db2ops setup ... --apply or the "
            "wizard), never directly"
        )
    if token.cluster != cluster.name:
        raise WriteRefused(
            f"refused to {what}: the running plan targets cluster {token.cluster}, not {cluster.name}"
        )
    ensure_writable(cluster, apply_requested=True)
    return token


def current_token() -> GuardToken | None:
    """Return the token of the guarded run in progress (None outside one)."""
    return _CURRENT.get()
