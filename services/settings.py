"""User settings (settings.yaml under the XDG config dir): a typed dataclass with a docstring per field."""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import Field, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from services import paths
from services.inventory.yaml_source import YamlProblem, compose, line_of, mapping_entries, scalar


class SettingsError(Exception):
    """The settings file cannot be used; the message names the file, the line and what to change."""

    def __init__(self, path: Path | str, line: int, problem: str, fix: str = "") -> None:
        self.path = Path(path)
        self.line = line
        self.problem = problem
        self.fix = fix
        where = f"{self.path} line {line}" if line else f"{self.path}"
        super().__init__(f"{where}: {problem}" + (f"; {fix}" if fix else ""))


@dataclass(frozen=True)
class Settings:
    """Console preferences. Every field can be set in settings.yaml; unknown keys only warn."""

    theme: str = "db2ops-dark"
    """Name of the Textual theme; changing theme in the console saves it here."""

    refresh_interval_s: float = 2.0
    """Seconds between the end of one status poll and the start of the next (polls never overlap)."""

    ssh_connect_timeout_s: float = 5.0
    """Seconds to wait for an SSH connection (TCP + key exchange + auth) before a host is unreachable."""

    ssh_command_timeout_s: float = 15.0
    """Seconds one remote command may run before it is abandoned with a timeout error."""

    ssh_max_concurrency: int = 256
    """Most remote commands in flight at once, over all hosts (each host also has its own cap of 8, under
    OpenSSH's MaxSessions), so a fleet refresh of 20 clusters stays one round trip."""

    ssh_max_output_mb: float = 16.0
    """Most output (stdout and stderr together, in MB) one remote command may send; a command that sends
    more fails with an "output larger than N MB" error instead of filling memory."""

    status_deadline_s: float = 10.0
    """Seconds one status refresh (the console's, or `db2ops status`) waits for each part: a host or AWS
    endpoint with no answer by then is shown timed out (the other parts are not held up); the next refresh
    asks again."""

    command_deadline_s: float = 60.0
    """Seconds a headless read command (`db2ops status`, `db2ops trust`) may take in all before it stops
    with exit 2 and says what did not answer. Plans (`setup`, `failover`) are not cut short by it."""

    aws_call_deadline_s: float = 60.0
    """Seconds one AWS call of a plan (`setup`, `failover`, the wizards, alarm edits) may take in all,
    botocore's retries included, before its step fails as timed out (an AWS endpoint that accepts the
    connection and never answers would otherwise hold the step for 5 attempts x 30 s). The call may still
    have reached AWS: the re-run checks the step before sending anything again."""

    ssh_keepalive_s: float = 15.0
    """Seconds between SSH keepalive probes on idle connections (0 turns them off)."""

    log_follow: bool = True
    """Whether the log view starts following new lines (tail) rather than staying put."""

    log_max_lines: int = 100_000
    """Lines the log view keeps in memory before dropping the oldest."""

    confirm_apply: bool = True
    """Ask for a typed confirmation before a plan applies changes (read-only clusters refuse anyway)."""

    record: bool = True
    """Record every status snapshot, its events, alarm changes and journal lines to state_dir()/record.sqlite
    (issue 13: replay, incidents, bundles). The header shows REC, or "recording paused: why"."""

    record_retention_days: float = 7.0
    """Days of recording kept; older frames and items are dropped (checked hourly)."""

    record_max_mb: float = 900.0
    """Most MB the recording may hold; the oldest is dropped first (the last hour is always kept). A week of
    20 clusters at the default refresh takes about 550 MB (bench/record_size.py)."""

    record_off: tuple[str, ...] = ()
    """Clusters never recorded (a YAML list of cluster names), e.g. [prod-secret]."""

    keymap: dict[str, str] = field(default_factory=dict)
    """Binding id -> key(s), overriding the console's default keys (e.g. {"refresh": "f5"})."""

    warnings: tuple[str, ...] = field(default=(), compare=False, metadata={"saved": False})
    """Not a setting: messages about unknown keys found by load_settings (never saved)."""


_POSITIVE = {
    "refresh_interval_s",
    "ssh_connect_timeout_s",
    "ssh_command_timeout_s",
    "ssh_max_concurrency",
    "ssh_max_output_mb",
    "status_deadline_s",
    "command_deadline_s",
    "aws_call_deadline_s",
    "record_retention_days",
    "record_max_mb",
}
_NON_NEGATIVE = {"ssh_keepalive_s", "log_max_lines"}


_DEFAULTS = Settings()


def _saved_fields() -> list[Field[Any]]:
    return [f for f in fields(Settings) if f.metadata.get("saved", True)]


def _type_name(default: object) -> str:
    return {
        bool: "true or false",
        int: "a whole number",
        float: "a number",
        str: "text",
        tuple: "a list of names",
    }.get(type(default), "a mapping")


def _convert(name: str, default: object, value: object) -> object:
    """Return `value` as the type of `default`, or raise ValueError saying what was expected."""
    expected = _type_name(default)
    if isinstance(default, bool):
        ok = isinstance(value, bool)
    elif isinstance(default, int):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif isinstance(default, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if ok and isinstance(value, int):
            value = float(value)
    elif isinstance(default, str):
        ok = isinstance(value, str)
    elif isinstance(default, tuple):
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok and isinstance(value, list) else value
    else:
        ok = isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )
        expected = "a mapping of binding id: key"
    if not ok:
        raise ValueError(f"'{name}' must be {expected}, not {value!r}")
    if isinstance(value, int | float):  # the bounds of the numeric settings
        if name in _POSITIVE and value <= 0:
            raise ValueError(f"'{name}' must be greater than 0, not {value!r}")
        if name in _NON_NEGATIVE and value < 0:
            raise ValueError(f"'{name}' must be 0 or more, not {value!r}")
    return value


def _fix_for(name: str, default: object) -> str:
    """What to write instead: the type, its allowed range, and the default as an example."""
    bound = " greater than 0" if name in _POSITIVE else " of 0 or more" if name in _NON_NEGATIVE else ""
    example = f" (the default is {default!r})" if not isinstance(default, dict) else ""
    return f"use {_type_name(default)}{bound}{example}"


def load_settings(path: Path | None = None) -> Settings:
    """Return the settings from `path` (default: paths.settings_path()); defaults when the file is missing.

    Unknown keys are not fatal: they are listed in `Settings.warnings` (with a "did you mean").
    Raises SettingsError (file, line, fix) for broken YAML or a value of the wrong type.
    """
    path = path if path is not None else paths.settings_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(
            path, 0, f"cannot read the settings file: {exc}", "check its permissions"
        ) from None
    try:
        root = compose(text)
        if root is None:
            return Settings()
        known = {f.name: f for f in _saved_fields()}
        values: dict[str, object] = {}
        warnings: list[str] = []
        for entry in mapping_entries(root, "the settings file"):
            if entry.key not in known:
                close = difflib.get_close_matches(entry.key, list(known), n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                warnings.append(f"{path} line {entry.line}: unknown setting '{entry.key}' ignored{hint}")
                continue
            default = getattr(_DEFAULTS, entry.key)
            raw = _construct(entry.value_node, default)
            try:
                values[entry.key] = _convert(entry.key, default, raw)
            except ValueError as exc:
                raise YamlProblem(
                    str(exc), line_of(entry.value_node), fix=_fix_for(entry.key, default)
                ) from None
    except YamlProblem as exc:
        raise SettingsError(path, exc.line, exc.problem, exc.fix) from None
    # `values` holds each field's value checked against its default's type by _convert, which mypy cannot
    # relate to the field names.
    return replace(Settings(), **values, warnings=tuple(warnings))  # type: ignore[arg-type]


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value  # YAML's safe dumper has no tuples


def _construct(node: yaml.Node, default: object) -> object:
    if isinstance(node, yaml.MappingNode):
        return {e.key: scalar(e.value_node) for e in mapping_entries(node, "keymap")}
    if isinstance(node, yaml.SequenceNode) and isinstance(default, tuple):  # a list setting
        return [scalar(n) for n in node.value]
    return scalar(node)


def save_settings(settings: Settings, path: Path | None = None) -> Path:
    """Write every setting to `path` (default: paths.settings_path()) atomically; return the path written.

    Creates the directory (0700) when needed. Raises OSError when the file cannot be written.
    """
    path = path if path is not None else paths.settings_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    data = {f.name: _plain(getattr(settings, f.name)) for f in _saved_fields()}
    body = "# db2ops settings (written by db2ops; comments are not kept)\n"
    body += yaml.safe_dump(data, sort_keys=False, default_flow_style=False)
    fd, tmp = tempfile.mkstemp(prefix=".settings.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(body)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
