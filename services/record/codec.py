"""ClusterStatus <-> plain JSON values, without loss, so a recorded snapshot replays as the live one.

Generic over the frozen dataclasses of services.cluster_model and services.status.model: the type hints
drive decoding, so a field added to a dataclass is recorded with no change here. A field a recording lacks
(recorded by an older db2ops) takes its default; a field the code no longer has is ignored. Anything the
hints cannot explain raises `CodecError` (a ValueError), never a half-built snapshot.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import types
import typing
from functools import cache
from typing import Any, TypeVar, Union

from services.status.model import ClusterStatus

FORMAT = 1  # bump when a change cannot be read by the defaults rule above


class CodecError(ValueError):
    pass


_PLAIN = (str, int, float, bool, type(None))
_NO_DEFAULT = object()


def encode(value: Any) -> Any:
    """Return JSON-able data for a dataclass tree (tuples become lists, enums their values)."""
    kind: type = type(value)
    if kind in _PLAIN:  # the common case first: the recorder encodes every snapshot
        return value
    if isinstance(value, (bool, int, float, str)):
        return value.value if isinstance(value, enum.Enum) else value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        # defaults are not written: a week of snapshots is mostly defaults; nor what a field's metadata
        # says is kept elsewhere (Part.raw: the store keeps raw output apart, as RAW items)
        for name, default in _fields_to_write(kind):
            v = getattr(value, name)
            if default is not _NO_DEFAULT and v == default and type(v) is type(default):
                continue
            out[name] = encode(v)
        return out
    if isinstance(value, (tuple, list)):
        return [encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): encode(v) for k, v in value.items()}
    raise CodecError(f"cannot record a {type(value).__name__}")


@cache
def _fields_to_write(cls: type) -> tuple[tuple[str, Any], ...]:
    """(name, default or _NO_DEFAULT) of the fields `encode` writes (a factory's value made once: the
    factories are of empty dicts and tuples, only compared)."""
    spec = []
    for f in dataclasses.fields(cls):
        if not f.metadata.get("recorded", True):
            continue
        if f.default is not dataclasses.MISSING:
            default = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        else:
            default = _NO_DEFAULT
        spec.append((f.name, default))
    return tuple(spec)


def decode(data: Any, hint: Any, typevars: dict[Any, Any] | None = None) -> Any:
    """Build the value of type `hint` from `encode`'s output."""
    typevars = typevars or {}
    if isinstance(hint, TypeVar):
        hint = typevars.get(hint, Any)
    if hint is Any:
        return data
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if data is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return decode(data, arg, typevars)
            except (CodecError, TypeError) as exc:
                errors.append(str(exc))
        raise CodecError(f"no type of {hint} fits {data!r:.80}: {'; '.join(errors)}")
    if origin is tuple:
        _need(data, list, hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(decode(v, args[0], typevars) for v in data)
        return tuple(decode(v, a, typevars) for v, a in zip(data, args, strict=True))
    if origin is dict:
        _need(data, dict, hint)
        return {decode(k, args[0], typevars): decode(v, args[1], typevars) for k, v in data.items()}
    if origin is not None and dataclasses.is_dataclass(origin):
        params = getattr(origin, "__parameters__", ())
        inner = dict(typevars)
        inner.update(
            zip(params, (typevars.get(a, a) if isinstance(a, TypeVar) else a for a in args), strict=False)
        )
        return _decode_dataclass(data, typing.cast(type, origin), inner)
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return _decode_dataclass(data, hint, typevars)
        if issubclass(hint, enum.Enum):
            try:
                return hint(data)
            except ValueError as exc:
                raise CodecError(str(exc)) from None
        if hint is float and isinstance(data, int) and not isinstance(data, bool):
            return float(data)
        if hint is type(None):
            if data is not None:
                raise CodecError(f"expected null, got {data!r:.80}")
            return None
        if hint in (bool, int, float, str):
            if type(data) is not hint:
                raise CodecError(f"expected {hint.__name__}, got {data!r:.80}")
            return data
    raise CodecError(f"cannot read a {hint!r}")


def _need(data: Any, kind: type, hint: Any) -> None:
    if not isinstance(data, kind):
        raise CodecError(f"expected {hint} as a {kind.__name__}, got {type(data).__name__}")


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _decode_dataclass(data: Any, cls: type, typevars: dict[Any, Any]) -> Any:
    _need(data, dict, cls)
    hints = _hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            try:
                kwargs[f.name] = decode(data[f.name], hints[f.name], typevars)
            except CodecError as exc:
                raise CodecError(f"{cls.__name__}.{f.name}: {exc}") from None
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise CodecError(f"{cls.__name__}.{f.name} is missing")
    return cls(**kwargs)


def encode_status(status: ClusterStatus) -> dict[str, Any]:
    return {"format": FORMAT, "status": encode(status)}


def decode_status(data: Any) -> ClusterStatus:
    if not isinstance(data, dict) or "status" not in data:
        raise CodecError("not a recorded snapshot (no 'status')")
    if data.get("format") != FORMAT:
        raise CodecError(
            f"recorded by another db2ops (format {data.get('format')!r}, this one reads {FORMAT})"
        )
    status = decode(data["status"], ClusterStatus)
    assert isinstance(status, ClusterStatus)
    return status


def status_to_json(status: ClusterStatus) -> str:
    return json.dumps(encode_status(status), separators=(",", ":"), sort_keys=True)


def status_from_json(text: str | bytes) -> ClusterStatus:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CodecError(f"a recorded snapshot is not JSON: {exc}") from None
    return decode_status(data)
