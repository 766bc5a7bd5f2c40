"""The alarm half of the lab's CloudWatch (lab/cloudwatch_eval.py): evaluate every metric alarm on the
datapoints the lab published, set its state with AWS's reason text, record the history and run the SNS
actions, as AWS does and moto never does.

`AlarmEvaluation` is a mixin of LabCloudWatch: it uses the evaluator's clients, series and history; all its
boto3 calls are blocking and run in the evaluator's thread (or directly in tests).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from lab import cloudwatch_rules as rules

EVAL_INTERVAL = timedelta(seconds=60)  # CloudWatch evaluates metric alarms about once a minute
LAB_ACCOUNT = "123456789012"  # moto's default account


@dataclass
class AlarmTrack:
    """What the evaluator knows of one alarm between ticks."""

    state: str
    reason: str
    state_ts: datetime | None  # StateUpdatedTimestamp as last seen (after our own set_alarm_state too)
    config_ts: datetime | None
    actions_enabled: bool
    next_eval: datetime
    data_version: int = -1


class AlarmEvaluation:
    """Alarm evaluation for LabCloudWatch (which provides the attributes declared here)."""

    region: str
    problems: dict[str, str]
    sent_notifications: list[dict[str, Any]]
    _alarms: dict[str, AlarmTrack]
    _history: dict[str, list[dict[str, Any]]]
    _series: dict[tuple[str, str], list[tuple[datetime, float]]]
    _versions: dict[tuple[str, str], int]
    _fresh: dict[tuple[str, str], list[datetime]]

    def client(self, service: str) -> Any:  # provided by LabCloudWatch
        raise NotImplementedError

    def _pages(self, service: str, method: str, key: str, **params: Any) -> list[dict[str, Any]]:
        raise NotImplementedError

    # ------------------------------------------------------------------ alarms
    def _evaluate_alarms(self, now: datetime, before: dict[tuple[str, str], int]) -> None:
        alarms = self._pages("cloudwatch", "describe_alarms", "MetricAlarms")
        names = {a["AlarmName"] for a in alarms}
        for gone in set(self._alarms) - names:
            del self._alarms[gone]
        for alarm in alarms:
            try:
                self._evaluate_one(alarm, now, before)
            except rules.UnsupportedAlarm as exc:
                self.problems[alarm["AlarmName"]] = str(exc)

    def _evaluate_one(self, alarm: dict[str, Any], now: datetime, before: dict[tuple[str, str], int]) -> None:
        name = alarm["AlarmName"]
        track = self._alarms.get(name)
        metric = (alarm.get("Namespace", ""), alarm.get("MetricName", ""))
        version = self._versions.get(metric, 0)
        evaluated = before.get(metric, 0)  # data older than this tick; what this tick ingested is new
        if track is None:
            track = self._first_sight(alarm, now)
            track.data_version = evaluated  # evaluated when data arrives or after a minute, as AWS does
        elif alarm.get("AlarmConfigurationUpdatedTimestamp") != track.config_ts:
            self._config_updated(alarm, track, now)
            track.data_version = -1  # re-evaluate with the new configuration now
        elif _state_of(alarm) != (track.state_ts, track.state, track.reason):
            # Someone else set the state (set_alarm_state, e.g. a test-fire): AWS runs the actions when the
            # state changed (not for ALARM -> ALARM) and the state holds until the next evaluation finds
            # otherwise: the next minute, or now when this tick brought new data (an event put right after
            # the test-fire is not lost for a minute).
            old = track.state
            self._record_state(
                name,
                now,
                (old, track.reason),
                (alarm["StateValue"], alarm.get("StateReason", "")),
                rules.json_object(alarm.get("StateReasonData")),
            )
            track.state, track.reason = alarm["StateValue"], alarm.get("StateReason", "")
            track.state_ts = alarm.get("StateUpdatedTimestamp")
            track.next_eval = now + max(EVAL_INTERVAL, timedelta(seconds=int(alarm.get("Period") or 60)))
            track.data_version = evaluated
            if track.state != old:
                self._run_actions(alarm, old, track.state, track.reason, now)
        if alarm.get("ActionsEnabled", True) != track.actions_enabled:
            track.actions_enabled = bool(alarm.get("ActionsEnabled", True))
            verb = "enabled" if track.actions_enabled else "disabled"
            self._note(
                name,
                now,
                "ConfigurationUpdate",
                f'Alarm "{name}" actions {verb}',
                {"version": "1.0", "type": "Update", "actionsEnabled": track.actions_enabled},
            )
        if version == track.data_version and now < track.next_eval:
            return
        result = self._evaluate_with_late_data(alarm, metric, now, new_data=version != track.data_version)
        track.data_version = version
        track.next_eval = min(now + EVAL_INTERVAL, self._first_period_ahead(alarm, metric, now))
        if result.state is None or result.state == track.state:
            return
        old = track.state
        self._set_state(alarm, track, result.state, result.reason, result.reason_data, now)
        self._run_actions(alarm, old, result.state, result.reason, now)

    def _evaluate_with_late_data(
        self, alarm: dict[str, Any], metric: tuple[str, str], now: datetime, *, new_data: bool
    ) -> rules.Evaluation:
        """Return the evaluation at `now`, or, when this tick ingested a datapoint of the period that closed
        just before `now` and that period breaches, the evaluation ending with that period: an event stamped
        in a minute's last second is read by the next minute's tick, and CloudWatch still alarms on it."""
        points = self._series.get(metric, [])
        result = rules.evaluate(alarm, points, now)
        if not new_data or result.state == "ALARM":
            return result
        period = int(alarm.get("Period") or 60)
        epoch = int(now.timestamp())
        current = datetime.fromtimestamp(epoch - epoch % period, UTC)
        closed = current - timedelta(seconds=period)
        if not any(closed <= ts < current for ts in self._fresh.get(metric, [])):
            return result
        late = rules.evaluate(alarm, points, current - timedelta(microseconds=1))
        return late if late.state == "ALARM" else result

    def _first_period_ahead(self, alarm: dict[str, Any], metric: tuple[str, str], now: datetime) -> datetime:
        """Return the start of the earliest period after the one holding `now` that holds a datapoint this
        tick ingested (datetime.max when none): a tick takes `now` before it reads the log group, so an event
        stamped in between, across a period boundary, is evaluated when its period begins, as CloudWatch
        does, not a whole evaluation interval later."""
        period = int(alarm.get("Period") or 60)
        epoch = int(now.timestamp())
        next_start = epoch - epoch % period + period
        ahead = [int(ts.timestamp()) for ts in self._fresh.get(metric, []) if ts.timestamp() >= next_start]
        if not ahead:
            return datetime.max.replace(tzinfo=UTC)
        first = min(ahead)
        return datetime.fromtimestamp(first - first % period, UTC)

    def _first_sight(self, alarm: dict[str, Any], now: datetime) -> AlarmTrack:
        name = alarm["AlarmName"]
        track = AlarmTrack(
            state=alarm["StateValue"],
            reason=alarm.get("StateReason", ""),
            state_ts=alarm.get("StateUpdatedTimestamp"),
            config_ts=alarm.get("AlarmConfigurationUpdatedTimestamp"),
            actions_enabled=bool(alarm.get("ActionsEnabled", True)),
            next_eval=now + EVAL_INTERVAL,
        )
        self._alarms[name] = track
        self._note(
            name,
            now,
            "ConfigurationUpdate",
            f'Alarm "{name}" created',
            {"version": "1.0", "type": "Create", "createdAlarm": rules.config_of(alarm)},
        )
        if alarm.get("StateReason") == rules.INITIAL_REASON:
            # moto starts new alarms in OK; AWS starts them in INSUFFICIENT_DATA until it has evaluated.
            self._set_state(alarm, track, "INSUFFICIENT_DATA", rules.INITIAL_REASON, None, now, record=False)
        return track

    def _config_updated(self, alarm: dict[str, Any], track: AlarmTrack, now: datetime) -> None:
        name = alarm["AlarmName"]
        track.config_ts = alarm.get("AlarmConfigurationUpdatedTimestamp")
        track.actions_enabled = bool(alarm.get("ActionsEnabled", True))
        self._note(
            name,
            now,
            "ConfigurationUpdate",
            f'Alarm "{name}" updated',
            {"version": "1.0", "type": "Update", "updatedAlarm": rules.config_of(alarm)},
        )
        if alarm.get("StateReason") == rules.INITIAL_REASON and alarm["StateValue"] != track.state:
            # moto re-creates the alarm on PutMetricAlarm; AWS leaves the state of an updated alarm alone.
            self._set_state(alarm, track, track.state, track.reason, None, now, record=False)
        else:
            track.state, track.reason = alarm["StateValue"], alarm.get("StateReason", "")
            track.state_ts = alarm.get("StateUpdatedTimestamp")

    def _set_state(
        self,
        alarm: dict[str, Any],
        track: AlarmTrack,
        state: str,
        reason: str,
        data: dict[str, Any] | None,
        now: datetime,
        *,
        record: bool = True,
    ) -> None:
        name = alarm["AlarmName"]
        cw = self.client("cloudwatch")
        kwargs: dict[str, Any] = {"AlarmName": name, "StateValue": state, "StateReason": reason}
        if data is not None:
            kwargs["StateReasonData"] = json.dumps(data)
        cw.set_alarm_state(**kwargs)
        if record:
            self._record_state(name, now, (track.state, track.reason), (state, reason), data)
        track.state, track.reason = state, reason
        fresh = cw.describe_alarms(AlarmNames=[name]).get("MetricAlarms", [])
        track.state_ts = fresh[0].get("StateUpdatedTimestamp") if fresh else None

    def _note(self, name: str, now: datetime, kind: str, summary: str, data: dict[str, Any]) -> None:
        self._history.setdefault(name, []).insert(0, rules.history_item(name, now, kind, summary, data))

    def _record_state(
        self,
        name: str,
        now: datetime,
        old: tuple[str, str],
        new: tuple[str, str],
        data: dict[str, Any] | None,
    ) -> None:
        self._history.setdefault(name, []).insert(0, rules.state_history_item(name, now, old, new, data))

    def _run_actions(self, alarm: dict[str, Any], old: str, new: str, reason: str, now: datetime) -> None:
        if not alarm.get("ActionsEnabled", True):
            return  # muted: AWS changes the state but runs no action
        key = {"ALARM": "AlarmActions", "OK": "OKActions", "INSUFFICIENT_DATA": "InsufficientDataActions"}[
            new
        ]
        name = alarm["AlarmName"]
        for arn in alarm.get(key, []):
            if not arn.startswith("arn:aws:sns:"):
                continue  # EC2/Auto Scaling actions are not part of the lab
            message = rules.sns_message(alarm, old, new, reason, now, self.region, LAB_ACCOUNT)
            subject = rules.sns_subject(name, new, self.region)
            body = json.dumps(message)
            try:
                message_id = self.client("sns").publish(TopicArn=arn, Subject=subject, Message=body)[
                    "MessageId"
                ]
            except Exception as exc:  # recorded in the history like AWS's "Failed to execute action"
                self._note(
                    name,
                    now,
                    "Action",
                    f"Failed to execute action {arn}",
                    {"actionState": "Failed", "notificationResource": arn, "error": str(exc)},
                )
                continue
            self.sent_notifications.append(
                {
                    "TopicArn": arn,
                    "Subject": subject,
                    "Message": body,
                    "MessageId": message_id,
                    "AlarmName": name,
                    "NewStateValue": new,
                    "Timestamp": now,
                }
            )
            self._note(
                name,
                now,
                "Action",
                f"Successfully executed action {arn}",
                {
                    "actionState": "Succeeded",
                    "stateUpdateTimestamp": int(now.timestamp() * 1000),
                    "notificationResource": arn,
                    "publishedMessage": body,
                },
            )


def _state_of(alarm: dict[str, Any]) -> tuple[datetime | None, str, str]:
    """Return the alarm's (StateUpdatedTimestamp, StateValue, StateReason). The timestamp alone does not tell
    the lab's own change from another one: a set from outside that lands between the lab's set_alarm_state
    and its read-back gives the lab the other's timestamp (and moto's are only milliseconds)."""
    return alarm.get("StateUpdatedTimestamp"), alarm["StateValue"], alarm.get("StateReason", "")
