"""One decoder for the configuration dataclasses (ExperimentConfig and its sections,
ScanSpec and its rows): JSON / TOML data in, a frozen dataclass out, every problem named
by its path (``train.lr``, ``outputs[1].taps``) and reported at once.

The field types say how each value is read (``typing.get_type_hints``): ``int`` (a bool
is never a number; a whole float is accepted), ``float``, ``str``, ``bool``, ``X | None``,
``tuple[X, ...]`` (a list; a single item is accepted for a tuple of numbers, as Theano's
``taps=-2``), ``Any``, and nested dataclasses at any depth (a section, a row, a section
inside a section). A field's ``metadata`` holds its limits (``min`` / ``max`` /
``choices`` / ``pattern``), checked by :func:`limit_problems`, the one check of a single
value that files, forms, CLI overrides and live edits share, and two reading options:
``json_text`` (a text field that also takes a JSON number or array, written back as
text: ScanSpec's data and expressions) and ``empty_is_none``.

    obj, problems = decode(ScanSpec, data)          # never raises; obj is None on problems
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import types
import typing
from typing import Any

from .errors import FieldProblem

__all__ = ["decode", "limit_problems"]

_WORDS = {int: "a whole number", float: "a number", str: "text", bool: "true or false"}


def decode(cls: type, data: Any, path: str = "", *, json_text: bool = False) -> tuple[Any, list[FieldProblem]]:
    """``cls`` built from ``data``; (None, problems) when any field cannot be read.

    ``json_text``: every ``str`` field of ``cls`` (and its nested rows) also takes JSON
    numbers and arrays, as text.
    """
    problems: list[FieldProblem] = []
    obj = _dataclass(cls, data, path, problems, json_text)
    return (None if problems else obj), problems


def limit_problems(meta: typing.Mapping, value: Any, path: str, kind: type | None = None) -> list[FieldProblem]:
    """The problems of one value against a field's limits (``kind``: the field's type)."""
    if kind in (int, float) and (isinstance(value, bool) or not isinstance(value, (int, float))):
        return [FieldProblem(path, f"must be a number, got {value!r}")]
    if isinstance(value, float) and not math.isfinite(value):
        return [FieldProblem(path, f"must be a finite number, got {value}")]
    if "choices" in meta and value not in meta["choices"]:
        return [FieldProblem(path, f"is {value!r}; choose one of {', '.join(map(str, meta['choices']))}")]
    if "pattern" in meta and not (isinstance(value, str) and re.match(meta["pattern"], value)):
        return [FieldProblem(path, f"is {value!r}; {meta.get('pattern_help', 'see the field help')}")]
    if "min" in meta and value < meta["min"]:
        return [FieldProblem(path, f"is {value}; it must be at least {meta['min']}")]
    if "max" in meta and value > meta["max"]:
        return [FieldProblem(path, f"is {value}; it must be at most {meta['max']}")]
    return []


# -- the walk -------------------------------------------------------------------------------------


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _dataclass(cls: type, data: Any, path: str, problems: list, json_text: bool) -> Any:
    names = [f.name for f in dataclasses.fields(cls)]
    if not isinstance(data, dict):
        where = path or getattr(cls, "DECODE_NAME", "config")
        problems.append(FieldProblem(where, f"must be an object with fields {', '.join(names)}, "
                                     f"not {type(data).__name__}"))
        return None
    hints = typing.get_type_hints(cls)
    ignored = set(getattr(cls, "IGNORED_KEYS", ()))
    for key in data:
        if key not in hints or key not in names:
            if key not in ignored:
                owner = f"{path} has" if path else "fields:"
                problems.append(FieldProblem(_join(path, str(key)), f"unknown field; {owner} {', '.join(names)}"))
    values = {}
    before = len(problems)
    for f in dataclasses.fields(cls):
        where = _join(path, f.name)
        if f.name not in data:
            instead = f.metadata.get("required_unless")
            if instead is not None and instead not in data:
                problems.append(FieldProblem(where, f"is required (or give {instead} instead)"))
            elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                problems.append(FieldProblem(where, "is required"))
            continue
        value = data[f.name]
        if f.metadata.get("empty_is_none") and value in (None, ""):
            values[f.name] = None
            continue
        if f.metadata.get("array"):
            values[f.name] = _array(value, where, problems, f.metadata)
            continue
        values[f.name] = _value(hints[f.name], value, where, problems, json_text or f.metadata.get("json_text", False))
    if len(problems) > before:
        return None
    return cls(**values)


def _value(hint: Any, value: Any, path: str, problems: list, json_text: bool) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is Any:
        return value
    if origin is typing.Annotated:
        return _value(args[0], value, path, problems, json_text)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        others = [a for a in args if a is not type(None)]
        return _value(others[0] if len(others) == 1 else Any, value, path, problems, json_text)
    if origin is tuple:
        return _tuple(args[0] if args else Any, value, path, problems, json_text)
    if dataclasses.is_dataclass(hint):
        return _dataclass(hint, value, path, problems, json_text)
    typed = _scalar(hint, value, json_text)
    if typed is _BAD:
        what = _WORDS.get(hint, getattr(hint, "__name__", str(hint)))
        if hint is str and json_text:
            what = "text, a number or an array"
        problems.append(FieldProblem(path, f"must be {what}, got {value!r}"))
        return None
    return typed


def _tuple(item: Any, value: Any, path: str, problems: list, json_text: bool) -> tuple | None:
    if item in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value]  # taps=-2 means taps=[-2], as in Theano
    if not isinstance(value, (list, tuple)):
        problems.append(FieldProblem(path, f"must be a list, not {type(value).__name__}"))
        return None
    if item in (int, float):
        typed = [_scalar(item, v, False) for v in value]
        if not value or any(t is _BAD for t in typed):
            problems.append(FieldProblem(path, f"must be a non-empty list of {_WORDS[item]}s, e.g. [-2, -1]"))
            return None
        return tuple(typed)
    return tuple(_value(item, v, f"{path}[{i}]", problems, json_text) for i, v in enumerate(value))


_BAD = object()


# -- arrays ---------------------------------------------------------------------------------------


class _BadArray(Exception):
    def __init__(self, path: str, message: str):
        self.problem = FieldProblem(path, message)


def _array(value: Any, path: str, problems: list, meta: typing.Mapping) -> tuple | None:
    """An ``array`` field: nested lists (or tuples) of finite numbers, every row as long as
    the first at its level, as nested tuples; one problem (the first bad part) otherwise."""
    max_dims, max_elements = meta.get("max_dims", 32), meta.get("max_elements")
    if not isinstance(value, (list, tuple)):
        problems.append(FieldProblem(path, f"must be a list of numbers (lists of lists for more dimensions, "
                                     f"e.g. [[1, 2], [3, 4]]), not {_what(value)}"))
        return None
    shape, probe = [], value
    while isinstance(probe, (list, tuple)):
        if len(shape) == max_dims:
            problems.append(FieldProblem(path, f"nests lists more than {max_dims} deep; an array has at most "
                                         f"{max_dims} dimensions"))
            return None
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    count = math.prod(shape)
    if max_elements is not None and count > max_elements:
        problems.append(FieldProblem(path, f"has {count:,} numbers ({' x '.join(map(str, shape))}); at most "
                                     f"{max_elements:,} are allowed in one array"))
        return None
    try:
        return _rows(value, 0, shape, path)
    except _BadArray as exc:
        problems.append(exc.problem)
        return None


def _rows(item: Any, depth: int, shape: list[int], path: str) -> tuple:
    """``item`` at ``depth`` (``path`` names it) checked against ``shape``, as nested tuples."""
    want = shape[depth]
    if not isinstance(item, (list, tuple)):
        raise _BadArray(path, f"is {_what(item)} where a list of {want} is expected: every row must nest as "
                        f"deep as the first ({len(shape)} levels)")
    if len(item) != want:
        raise _BadArray(path, f"has {len(item)} items but the first row at this level has {want}: every row "
                        "must be as long (the array is ragged)")
    if depth + 1 < len(shape):
        return tuple(_rows(v, depth + 1, shape, f"{path}[{i}]") for i, v in enumerate(item))
    row = tuple(item)
    if set(map(type, row)) <= {float, int}:  # the common case, checked at C speed
        try:
            if all(map(math.isfinite, row)):
                return row
        except OverflowError:  # an int too big for a float
            pass
    return tuple(_number(v, f"{path}[{i}]") for i, v in enumerate(row))


def _number(v: Any, path: str) -> int | float:
    if isinstance(v, (list, tuple)):
        raise _BadArray(path, "is a list where a number is expected: every row must nest as deep as the first")
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise _BadArray(path, f"is {_what(v)}: an array holds numbers only")
    try:
        finite = math.isfinite(v)
    except OverflowError:
        raise _BadArray(path, f"is a number of {v.bit_length():,} bits, too big for a float") from None
    if not finite:
        raise _BadArray(path, f"is {v}: an array holds finite numbers (no NaN or infinity)")
    return int(v) if isinstance(v, int) else float(v)


def _what(v: Any) -> str:
    if isinstance(v, bool):
        return f"the bool {str(v).lower()}"
    if isinstance(v, (list, tuple)):
        return f"a list of {len(v)}"
    if isinstance(v, dict):
        return "an object"
    text = repr(v)
    return text if len(text) <= 40 else text[:37] + "..."


def _scalar(kind: Any, value: Any, json_text: bool) -> Any:
    if kind is bool:
        return value if isinstance(value, bool) else _BAD
    if isinstance(value, bool) or value is None:
        return _BAD
    if kind is int:
        if isinstance(value, int):
            return value
        return int(value) if isinstance(value, float) and value.is_integer() else _BAD
    if kind is float:
        return float(value) if isinstance(value, (int, float)) else _BAD
    if kind is str:
        if isinstance(value, str):
            return value
        if json_text and isinstance(value, (int, float, list)):
            try:
                return json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                return _BAD
        return _BAD
    return value if isinstance(value, kind) else _BAD
