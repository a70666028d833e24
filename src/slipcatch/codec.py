"""Lossless JSON encoding of the model's dataclasses (for the case store and ``export``).

``encode(obj)`` turns any ``model`` dataclass (an ``Assessment`` with everything in it) into
plain JSON values; ``decode(cls, data)`` rebuilds it, guided by the dataclass field types.
Times travel as ISO 8601 text, enums as their values, tuples as lists, text with lone
surrogates (undecodable evidence bytes) as-is — ``json.dumps(..., ensure_ascii=True)`` keeps
them as ``\\udcXX`` escapes. This is an internal storage format, versioned by ``VERSION``;
the public document is ``assessment.json``.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from datetime import datetime
from enum import Enum
from functools import cache
from typing import Any, TypeVar, Union

from slipcatch import model

__all__ = ["VERSION", "decode", "encode"]

VERSION = "1"
T = TypeVar("T")


def encode(obj: Any) -> Any:
    """Plain JSON values for a model object (dataclass, enum, datetime, tuple, mapping)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: encode(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, datetime):
        return obj.isoformat()
    if isinstance(obj, tuple | list):
        return [encode(x) for x in obj]
    if isinstance(obj, Mapping):
        return {str(k): encode(v) for k, v in obj.items()}
    return obj


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(model))


def decode(cls: type[T], data: Any) -> T:
    """Rebuild an instance of ``cls`` from ``encode``'s output.

    Raises:
        ValueError: the data does not fit the type (a corrupt or foreign snapshot).
    """
    try:
        return typing.cast(T, _decode(cls, data))
    except (TypeError, KeyError, AttributeError) as exc:
        raise ValueError(f"cannot decode {getattr(cls, '__name__', cls)}: {exc}") from exc


def _decode(tp: Any, data: Any) -> Any:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        members = [a for a in typing.get_args(tp) if a is not type(None)]
        if data is None:
            return None
        return _decode(members[0], data) if len(members) == 1 else data
    if origin is typing.Literal:
        return data
    if origin is tuple:
        args = typing.get_args(tp)
        item = args[0] if args else Any
        return tuple(_decode(item, x) for x in data)
    if origin in (Mapping, dict) or tp in (Mapping, dict):
        args = typing.get_args(tp)
        value = args[1] if len(args) == 2 else Any
        return {k: _decode(value, v) for k, v in data.items()}
    if tp is Any or tp is object:
        return data
    if isinstance(tp, type):
        if dataclasses.is_dataclass(tp):
            hints = _hints(tp)
            kwargs = {
                f.name: _decode(hints[f.name], data[f.name])
                for f in dataclasses.fields(tp)
                if f.name in data
            }
            return tp(**kwargs)
        if issubclass(tp, Enum):
            return tp(data)
        if tp is datetime:
            return datetime.fromisoformat(data)
        if tp is float:
            return float(data)
    return data
