"""Helpers for the CloudWatch Logs service tests."""

from __future__ import annotations


def put(client, group: str, stream: str, events: list[tuple[int, str]]) -> None:
    """Create group/stream when missing and put (timestamp ms, message) events in order."""
    for call, kwargs in (
        (client.create_log_group, {"logGroupName": group}),
        (client.create_log_stream, {"logGroupName": group, "logStreamName": stream}),
    ):
        try:
            call(**kwargs)
        except client.exceptions.ResourceAlreadyExistsException:
            pass
    client.put_log_events(
        logGroupName=group,
        logStreamName=stream,
        logEvents=[{"timestamp": ts, "message": msg} for ts, msg in events],
    )
