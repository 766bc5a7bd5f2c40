"""What both setup wizards' parameter forms share: a field's spec, turning typed text into a value of its
params field, the text a value shows, and WizardForm (the DBA's edits over the runbook's defaults).

Pure (no widgets), so the rules are tested without a screen. screens/setup_form.py (MonitoringParams) and
screens/setup_ha_form.py (HaParams) add their pages, fields and the conversions only they need.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, ClassVar, Generic, TypeVar

from services.inventory.model import Cluster


@dataclass(frozen=True)
class FieldSpec:
    """One editable parameter: its params field name, label, a hint shown under it and its choices."""

    name: str
    label: str
    hint: str = ""
    choices: tuple[str, ...] = ()


def field_types(params_type: type) -> dict[str, str]:
    """Return field name -> its annotation as text ("int", "str | None", ...) for a params dataclass."""
    return {f.name: str(f.type) for f in fields(params_type)}


def convert_text(name: str, text: str, kind: str, spec: FieldSpec | None, error: type[Exception]) -> Any:
    """Return `text` as a value of annotation `kind` for field `name` ("" -> None for optional fields).

    Raises `error` naming the field when the text is not one of the spec's choices or not a number.
    """
    raw = text.strip()
    if spec is not None and spec.choices and raw not in spec.choices:
        raise error(f"{name} {raw!r} must be one of {', '.join(spec.choices)}")
    if raw == "" and "None" in kind:
        return None
    try:
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
    except ValueError:
        raise error(f"{name} {raw!r} is not a number") from None
    if kind.startswith("bool"):
        return raw.lower() == "true"
    return raw


def value_text(value: Any) -> str:
    """Return the text a field shows for `value`: "" for None, true/false, 1.5 not 1.50, a,b for tuples."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


P = TypeVar("P")


class WizardForm(Generic[P]):
    """What the DBA typed, per field, over the runbook's defaults for `cluster`.

    A subclass names its params dataclass (`params_type`, with from_mapping / resolve), the ValueError
    subclass its validation raises (`error_type`) and how typed text becomes a value (`convert`), and
    may change the text a value shows (`shown`).
    """

    params_type: ClassVar[Any]
    error_type: ClassVar[type[ValueError]]

    def __init__(self, cluster: Cluster, overrides: dict[str, Any] | None = None) -> None:
        self.cluster = cluster
        self.overrides: dict[str, Any] = dict(overrides or {})
        self.errors: dict[str, str] = {}  # field -> why its text is not a value of its type
        self._types = field_types(self.params_type)

    def convert(self, name: str, text: str) -> Any:
        """Return `text` as the value of field `name`; raise `error_type` when it is not one."""
        raise NotImplementedError

    def shown(self, params: P, name: str) -> str:
        """Return the text field `name` shows for resolved `params`."""
        return value_text(getattr(params, name))

    def set_text(self, name: str, text: str) -> None:
        """Record the text typed in field `name` (a conversion error is kept in `errors`, never raised)."""
        self.errors.pop(name, None)
        try:
            value = self.convert(name, text)
        except self.error_type as exc:
            self.errors[name] = str(exc)
            return
        if value is None:
            self.overrides.pop(name, None)  # empty optional field: back to the derived default
        else:
            self.overrides[name] = value

    def reset(self, name: str) -> None:
        """Forget the DBA's value for `name` (the field follows the defaults again)."""
        self.overrides.pop(name, None)
        self.errors.pop(name, None)

    def defaults(self) -> P:
        """Return the runbook's defaults resolved for the cluster (never the DBA's values); raise
        `error_type` when the inventory itself cannot carry the runbook."""
        return self.params_type().resolve(self.cluster)

    def params(self) -> P:
        """Return the resolved, validated params; raise `error_type` for the first bad field."""
        if self.errors:
            raise self.error_type(next(iter(self.errors.values())))
        return self.params_type.from_mapping(dict(self.overrides)).resolve(self.cluster)

    def problems(self) -> dict[str, str]:
        """Return field -> message for every field that cannot be used now: the values that are not of
        their type, and the first value the validation refuses ("" key when it names no field)."""
        out = dict(self.errors)
        try:
            self.params_type.from_mapping(dict(self.overrides)).resolve(self.cluster)
        except self.error_type as exc:
            out.setdefault(self.error_field(str(exc)) or "", str(exc))
        return out

    def error_field(self, message: str) -> str | None:
        """Return the field a validation message is about (it starts with the name), else None."""
        first = message.split(" ", 1)[0].rstrip(":")
        return first if first in self._types else None
