"""The machinery of config: building frozen dataclasses from YAML data so that an unknown key, a wrong type or a
bad choice fails loudly with the key's path, and a stable hash of params."""

import dataclasses
import hashlib
import json
import math
import re
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from mer_pipeline.errors import UserError

C = TypeVar("C")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise UserError(f"{name} must be one of {', '.join(choices)}, got {value!r}")


_RANGE = re.compile(r"^([\[(])\s*(-?[\d.e+-]+|-inf),\s*(-?[\d.e+-]+|inf)\s*([\])])$")


def in_range(value: Any, spec: str) -> bool:
    """Whether a number lies in the interval `spec`, written as in mathematics: "[1, 64]", "(0, 0.25]", "[0, inf)"."""
    m = _RANGE.match(spec)
    if not m:
        raise ValueError(f"bad range {spec!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return False
    lo, hi = float(m.group(2)), float(m.group(3))
    above = value >= lo if m.group(1) == "[" else value > lo
    below = value <= hi if m.group(4) == "]" else value < hi
    return above and below


def check_ranges(section: str, obj: Any, ranges: dict[str, str]) -> None:
    """One line naming the first key of `obj` (a params section) outside its range, with the range."""
    for name, spec in ranges.items():
        values = getattr(obj, name)
        for value in values if isinstance(values, tuple) else (values,):
            if not in_range(value, spec):
                raise UserError(f"params {section}.{name} must be in {spec}, got {value!r}")


def read_yaml(path: str | Path = "params.yaml") -> dict[str, Any]:
    """The raw mapping of a params file (one-line errors for a missing file or bad YAML)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: params file not found")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of sections at top level")
    return data


def build(cls: type[C], data: Any, where: str) -> C:
    """Build dataclass `cls` from a mapping, failing on unknown or missing keys and on wrong types."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UserError(f"params {where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise UserError(f"params {where}: unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(names))})")
    kwargs = {k: _coerce(hints[k], v, f"{where}.{k}") for k, v in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise UserError(f"params {where}: {exc}") from None


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise UserError(f"params {where}: expected a list, got {value!r}")
        return tuple(value)
    if origin is dict:
        if not isinstance(value, dict):
            raise UserError(f"params {where}: expected a mapping, got {value!r}")
        item = typing.get_args(hint)[1] if typing.get_args(hint) else Any
        if dataclasses.is_dataclass(item):  # a table of sections (train.profiles): each value built and checked
            return {str(k): v if isinstance(v, item) else build(item, v, f"{where}.{k}") for k, v in value.items()}
        return {str(k): v for k, v in value.items()}
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and not isinstance(value, hint):
        raise UserError(f"params {where}: expected {hint.__name__}, got {value!r}")
    if hint is int and isinstance(value, bool):
        raise UserError(f"params {where}: expected int, got {value!r}")
    return value


def params_hash(obj: Any) -> str:
    """A stable short hash of a params object (dataclass or plain data)."""
    if dataclasses.is_dataclass(obj):
        obj = dataclasses.asdict(obj)
    text = json.dumps(obj, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
