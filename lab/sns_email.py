"""E-mail subscriptions as AWS has them: pending until the person clicks the link (moto confirms at once).

The lab's CloudWatch evaluator keeps one EmailConfirmations: every e-mail subscription moto lists is
"pending" until `confirm()` (the lab command `db2ops-lab confirm-email ARN|all`). Thread-safe; no AWS calls.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

EMAIL_PROTOCOLS = ("email", "email-json")


class EmailConfirmations:
    """Which e-mail subscriptions the person has confirmed (in the lab's imagination)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: dict[str, dict[str, Any]] = {}  # SubscriptionArn -> list_subscriptions item
        self._confirmed: set[str] = set()

    def update(self, subscriptions: Iterable[dict[str, Any]]) -> None:
        """Remember the e-mail subscriptions among `subscriptions` (list_subscriptions items)."""
        known = {s["SubscriptionArn"]: dict(s) for s in subscriptions if s.get("Protocol") in EMAIL_PROTOCOLS}
        with self._lock:
            self._known = known

    def status(self, subscription_arn: str, protocol: str = "email") -> str:
        """Return "pending" for an unconfirmed e-mail subscription, else "confirmed"."""
        with self._lock:
            if protocol not in EMAIL_PROTOCOLS or subscription_arn in self._confirmed:
                return "confirmed"
            return "pending"

    def confirm(self, subscription_arn: str) -> list[str]:
        """Confirm one known e-mail subscription or "all"; return the ARNs newly confirmed.
        Raises KeyError when the ARN is not a known e-mail subscription."""
        with self._lock:
            if subscription_arn == "all":
                todo = [arn for arn in self._known if arn not in self._confirmed]
            elif subscription_arn in self._known:
                todo = [subscription_arn] if subscription_arn not in self._confirmed else []
            else:
                raise KeyError(f"{subscription_arn} is not an e-mail subscription of this lab")
            self._confirmed.update(todo)
            return todo

    def pending(self) -> list[dict[str, Any]]:
        """Return the known e-mail subscriptions not confirmed yet (list_subscriptions items)."""
        with self._lock:
            return [dict(s) for arn, s in self._known.items() if arn not in self._confirmed]

    def confirmed(self) -> list[str]:
        """Return the confirmed subscription ARNs, sorted."""
        with self._lock:
            return sorted(self._confirmed)
