"""Lab-only fixes to the in-process moto server, for AWS calls the product makes that moto does not answer
(EnableAlarmActions / DisableAlarmActions) or answers unlike AWS (PutMetricFilter keeps duplicates, e-mail
subscriptions are confirmed at once, FilterLogEvents ignores logStreamNamePrefix and unknown stream names).

Each patch is applied only when the installed moto lacks the call or shows the fault (newer moto versions
may be fixed), and only in the lab process (the ThreadedMotoServer runs in it). The product code stays the
code that talks to real AWS.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def apply_lab_patches() -> None:
    """Apply every lab-only moto fix of this module to this process (each is idempotent)."""
    patch_moto_alarm_actions()
    patch_moto_metric_filters()
    patch_moto_email_pending()
    patch_moto_filter_log_streams()


def _keeps_duplicate_filters(store_class: Any) -> bool:
    # Ask the installed moto directly (a throw-away store) rather than trusting its version number.
    probe = store_class()
    for pattern in ("old", "new"):
        probe.add_filter("probe", pattern, "group", [])
    return len(probe.get_matching_filters(log_group_name="group")) != 1


def patch_moto_metric_filters() -> bool:
    """Make this process's moto replace a metric filter on PutMetricFilter with an existing filterName in
    the same log group, as AWS does (moto 5.2.1 appends a second filter of the same name), and make
    DeleteMetricFilter remove every filter of that name (moto 5.2.1 removes while iterating and skips
    neighbours). Return True when filters are unique by name now. Lab-only: it changes the in-process moto."""
    try:
        from moto.logs.metric_filters import MetricFilters
    except ImportError:
        return False
    if getattr(MetricFilters, "_db2ops_lab_unique", False):
        return True
    try:
        lacking = _keeps_duplicate_filters(MetricFilters)
    except Exception:  # an unexpected moto layout: leave it alone
        return False
    if not lacking:
        return True

    def add_filter(
        self: Any, filter_name: str, filter_pattern: str, log_group_name: str, metric_transformations: Any
    ) -> None:
        item = {
            "filterName": filter_name,
            "filterPattern": filter_pattern,
            "logGroupName": log_group_name,
            "metricTransformations": metric_transformations,
        }
        same = [
            i
            for i, f in enumerate(self.metric_filters)
            if f["filterName"] == filter_name and f["logGroupName"] == log_group_name
        ]
        if not same:
            self.metric_filters.append(item)
            return
        self.metric_filters[same[0]] = item  # replaced in place: describe order stays stable
        for i in reversed(same[1:]):  # duplicates an unpatched moto kept earlier in this process
            del self.metric_filters[i]

    def delete_filter(self: Any, filter_name: str | None = None, log_group_name: str | None = None) -> Any:
        self.metric_filters[:] = [
            f
            for f in self.metric_filters
            if not (f["filterName"] == filter_name and f["logGroupName"] == log_group_name)
        ]
        return self.metric_filters

    # Monkeypatching moto's classes is the point of this module: mypy rightly flags assigning to methods.
    MetricFilters.add_filter = add_filter  # type: ignore[method-assign]
    MetricFilters.delete_filter = delete_filter  # type: ignore[method-assign]
    MetricFilters._db2ops_lab_unique = True  # type: ignore[attr-defined]  # marks the patch as applied
    return True


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

    # Monkeypatching moto's classes is the point of this module: mypy rightly flags assigning to methods.
    CloudWatchResponse.disable_alarm_actions = setter(False)  # type: ignore[method-assign,assignment]
    CloudWatchResponse.enable_alarm_actions = setter(True)  # type: ignore[method-assign,assignment]
    CloudWatchResponse._db2ops_lab_actions = True  # type: ignore[attr-defined]  # marks the patch as applied
    return True


def _lab_email_pending(subscription_arn: str, protocol: str) -> bool | None:
    """Return whether the running lab evaluators say the e-mail subscription is pending (None: no lab runs)."""
    from lab.cloudwatch_eval import active_evaluators  # imported late: cloudwatch_eval imports this module

    evaluators = active_evaluators()
    if not evaluators:
        return None
    return all(e.subscription_status(subscription_arn, protocol) == "pending" for e in evaluators)


def patch_moto_email_pending() -> bool:
    """Make this process's moto answer GetSubscriptionAttributes with PendingConfirmation "true" for an
    e-mail subscription the running lab evaluator has not seen confirmed (`db2ops-lab confirm-email`), as AWS
    does until the person clicks the link (moto 5.2.1 says "false" at once). Without a running evaluator moto
    answers as before. Return True when the patch is in place. Lab-only: it changes the in-process moto."""
    try:
        from moto.sns.models import SNSBackend
    except ImportError:
        return False
    if getattr(SNSBackend, "_db2ops_lab_pending", False):
        return True
    original = SNSBackend.get_subscription_attributes

    def get_subscription_attributes(self: Any, arn: str) -> dict[str, Any]:
        attributes = original(self, arn)
        protocol = str(attributes.get("Protocol", ""))
        if protocol in ("email", "email-json"):
            pending = _lab_email_pending(arn, protocol)
            if pending is not None:
                attributes = {**attributes, "PendingConfirmation": "true" if pending else "false"}
        return attributes

    # Monkeypatching moto's classes is the point of this module: mypy rightly flags assigning to methods.
    SNSBackend.get_subscription_attributes = get_subscription_attributes  # type: ignore[method-assign]
    SNSBackend._db2ops_lab_pending = True  # type: ignore[attr-defined]  # marks the patch as applied
    return True


def patch_moto_filter_log_streams() -> bool:
    """Make this process's moto answer FilterLogEvents' stream parameters as AWS does: logStreamNamePrefix
    narrows the streams (moto 5.2 ignores it and returns every stream), a logStreamNames entry that does not
    exist is a ResourceNotFoundException (moto skips it), and both together an InvalidParameterException.
    Return True when the patch is in place. Lab-only: it changes the in-process moto, so the tests of "this
    cluster's streams only" fail on the lab as they would on AWS."""
    try:
        from moto.logs.exceptions import InvalidParameterException, ResourceNotFoundException
        from moto.logs.responses import LogsResponse
    except ImportError:
        return False
    if getattr(LogsResponse, "_db2ops_lab_streams", False):
        return True
    try:
        import inspect

        lacking = "logStreamNamePrefix" not in inspect.getsource(LogsResponse.filter_log_events)
    except (OSError, TypeError, AttributeError):
        lacking = True
    if not lacking:
        return True

    def filter_log_events(self: Any) -> str:
        import json

        group_name = self._get_param("logGroupName")
        names = self._get_param("logStreamNames")
        prefix = self._get_param("logStreamNamePrefix")
        if names is not None and prefix is not None:
            raise InvalidParameterException(
                msg="Cannot specify both logStreamNames and logStreamNamePrefix in the same request."
            )
        group = self.logs_backend.groups.get(group_name)
        if group is None:
            raise ResourceNotFoundException()
        if names is not None:
            if not names or any(n not in group.streams for n in names):
                raise ResourceNotFoundException(msg="The specified log stream does not exist.")
        elif prefix is not None:
            names = [n for n in group.streams if n.startswith(prefix)]
            if not names:  # moto reads an empty list as "every stream"
                return json.dumps({"events": [], "searchedLogStreams": []})
        events, next_token, searched = self.logs_backend.filter_log_events(
            group_name,
            names or [],
            self._get_param("startTime"),
            self._get_param("endTime"),
            self._get_param("limit"),
            self._get_param("nextToken"),
            self._get_param("filterPattern"),
            self._get_param("interleaved", False),
        )
        return json.dumps({"events": events, "nextToken": next_token, "searchedLogStreams": searched})

    # Monkeypatching moto's classes is the point of this module: mypy rightly flags assigning to methods.
    LogsResponse.filter_log_events = filter_log_events  # type: ignore[method-assign]
    LogsResponse._db2ops_lab_streams = True  # type: ignore[attr-defined]  # marks the patch as applied
    return True
