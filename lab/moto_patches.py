"""Lab-only fixes to the in-process moto server, for AWS calls the product makes that moto does not answer.

Each patch is applied only when the installed moto lacks the call (newer moto versions implement them), and
only in the lab process (the ThreadedMotoServer runs in it). The product code stays the code that talks to
real AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def patch_moto_alarm_actions() -> bool:
    """Give this process's moto EnableAlarmActions / DisableAlarmActions when it lacks them (moto 5.2.1
    answers HTTP 500); return True when they work now. Lab-only: it changes the in-process moto server."""
    try:
        from moto.cloudwatch.responses import CloudWatchResponse
        from moto.core.responses import EmptyResult
    except ImportError:
        return False
    if getattr(CloudWatchResponse, "_db2ops_lab_actions", False):
        return True
    try:
        import inspect

        lacking = "NotImplementedError" in inspect.getsource(CloudWatchResponse.disable_alarm_actions)
    except (OSError, TypeError, AttributeError):
        lacking = True
    if not lacking:
        return True

    def setter(enabled: bool) -> Callable[[Any], Any]:
        def handler(self: Any) -> Any:
            for name in self._get_param("AlarmNames", []) or []:
                alarm = self.cloudwatch_backend.alarms.get(name)
                if alarm is not None:
                    alarm.actions_enabled = enabled
            return EmptyResult()

        return handler

    CloudWatchResponse.disable_alarm_actions = setter(False)
    CloudWatchResponse.enable_alarm_actions = setter(True)
    CloudWatchResponse._db2ops_lab_actions = True
    return True
