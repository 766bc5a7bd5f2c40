"""The alarm screen's service: CloudWatch alarms of a cluster's account/region, their metric filters, SNS
topics and subscriptions, sparklines and history; changes (mute, test-fire, edit, delete) as plan steps.

On the embedded lab some values come from the lab's CloudWatch evaluator (lab/cloudwatch_eval.py), which
registers itself here (`register_lab_source`): the lab depends on services, never the reverse.
"""

from __future__ import annotations

import threading
from typing import Any

_LAB_SOURCES: dict[str, Any] = {}
_LAB_LOCK = threading.Lock()


def register_lab_source(endpoint_url: str, source: Any) -> None:
    """Make `source` (a LabCloudWatch) the provider of lab-only values for clusters on `endpoint_url`."""
    with _LAB_LOCK:
        _LAB_SOURCES[endpoint_url] = source


def unregister_lab_source(endpoint_url: str, source: Any | None = None) -> None:
    """Forget the lab source of `endpoint_url` (only when it is `source`, if given)."""
    with _LAB_LOCK:
        if source is None or _LAB_SOURCES.get(endpoint_url) is source:
            _LAB_SOURCES.pop(endpoint_url, None)


def lab_source_for(endpoint_url: str | None) -> Any | None:
    """Return the registered lab source for `endpoint_url`, or None (real AWS, or no evaluator running)."""
    if not endpoint_url:
        return None
    with _LAB_LOCK:
        return _LAB_SOURCES.get(endpoint_url)
