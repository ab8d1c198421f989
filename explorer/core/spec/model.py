"""ScanSpec: a JSON-serialisable scan program, what the scan form edits.

Every value a user types is text: data (``[1, 2, 2, 2]``, ``arange(5)``, ``randn(10, 2)``)
and expressions (``tanh(x_tm1 @ W + b)``) are both written in the expression language
(:mod:`explorer.core.expr`), so the form, the JSON file and the CLI share one syntax.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..errors import ConfigError, FieldProblem


@dataclass(frozen=True)
class SequenceSpec:
    """A sequence the scan walks along its first axis."""

    name: str  # what the step calls it (x, x_tm1, x_tp1 for taps)
    data: str  # expression: a literal array or a seeded generator, e.g. "arange(5)"
    taps: tuple[int, ...] = (0,)  # which elements each step sees: 0 = current, -1 = previous
    reversed: bool = False  # walk data[::-1] (Theano's P[::-1])


@dataclass(frozen=True)
class OutputSpec:
    """One output: its expression, and its initial value and taps if it is fed back."""

    name: str  # what the step calls its past values (y, y_tm1, y_tm2)
    expression: str  # computes the new value at each step
    initial: str | None = None  # None: not fed back; else its initial value (rows = oldest tap)
    taps: tuple[int, ...] = (-1,)  # past values the step sees; -1 = previous step


@dataclass(frozen=True)
class NonSequenceSpec:
    """A value passed unchanged to every step (weights, constants)."""

    name: str
    value: str  # expression, may use earlier non-sequences


@dataclass(frozen=True)
class StepVariable:
    """A named intermediate computed at each step before the outputs (Theano's locals)."""

    name: str
    expression: str


@dataclass(frozen=True)
class ScanSpec:
    """A scan program: what ``explorer.scan`` gets, written as text fields."""

    title: str = ""  # shown in the gallery
    description: str = ""  # one paragraph: what the example shows
    source: str = ""  # where it comes from, e.g. "001: Theano scan examples"
    sequences: tuple[SequenceSpec, ...] = ()
    outputs: tuple[OutputSpec, ...] = ()
    non_sequences: tuple[NonSequenceSpec, ...] = ()
    step_variables: tuple[StepVariable, ...] = ()
    n_steps: int | None = None  # required without sequences; caps them otherwise
    go_backwards: bool = False  # walk the sequences from the end
    until: str | None = None  # stop after the step where this holds (outputs = new values)
    seed: int = 0  # seeds every random draw (data and steps)
    dtype: str = "float64"  # float dtype of data and states: float32 | float64
    result: str | None = None  # expression over the stacked outputs: what the source prints
    expected: Any = None  # the numbers the source prints (shown beside the result; tested)
    order: int = 1000  # position in the gallery

    # -- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        data = asdict(self)
        for key in ("sequences", "outputs", "non_sequences", "step_variables"):
            data[key] = [_plain(item) for item in data[key]]
        return data

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict) -> "ScanSpec":
        """Build from JSON data; every structural problem is reported at once."""
        problems: list[FieldProblem] = []
        if not isinstance(data, dict):
            raise ConfigError(FieldProblem("spec", "a ScanSpec must be a JSON object"))
        known = {f.name for f in fields(cls)}
        for key in data:
            if key not in known:
                problems.append(FieldProblem(key, f"unknown field; fields: {', '.join(sorted(known))}"))
        kwargs: dict[str, Any] = {}
        for f in fields(cls):
            if f.name not in data:
                continue
            value = data[f.name]
            if f.name in _ROWS:
                kwargs[f.name] = tuple(_row(_ROWS[f.name], f.name, i, item, problems)
                                       for i, item in enumerate(_list(value, f.name, problems)))
            elif f.name == "n_steps":
                kwargs[f.name] = _int_or_none(value, f.name, problems)
            elif f.name in ("go_backwards",):
                kwargs[f.name] = _bool(value, f.name, problems)
            elif f.name in ("seed", "order"):
                kwargs[f.name] = _int(value, f.name, problems)
            elif f.name in ("until", "result"):
                kwargs[f.name] = None if value in (None, "") else _text(value, f.name, problems)
            elif f.name == "expected":
                kwargs[f.name] = value
            else:
                kwargs[f.name] = _text(value, f.name, problems)
        if problems:
            raise ConfigError(problems)
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> "ScanSpec":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(FieldProblem("file", f"not valid JSON: {exc}")) from None
        return cls.from_dict(data)

    def replace(self, **changes) -> "ScanSpec":
        return replace(self, **changes)


def _plain(item: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in item.items()}


_ROWS = {
    "sequences": SequenceSpec,
    "outputs": OutputSpec,
    "non_sequences": NonSequenceSpec,
    "step_variables": StepVariable,
}


_REQUIRED = {
    SequenceSpec: ("name", "data"),
    OutputSpec: ("name", "expression"),
    NonSequenceSpec: ("name", "value"),
    StepVariable: ("name", "expression"),
}


def _list(value, path, problems) -> list:
    if isinstance(value, list):
        return value
    problems.append(FieldProblem(path, f"must be a list, not {type(value).__name__}"))
    return []


def _row(kind, key, i, item, problems):
    path = f"{key}[{i}]"
    if not isinstance(item, dict):
        problems.append(FieldProblem(path, "must be an object with fields "
                                     + ", ".join(f.name for f in fields(kind))))
        return None
    allowed = {f.name for f in fields(kind)}
    kwargs = {}
    for name, value in item.items():
        if name not in allowed:
            problems.append(FieldProblem(f"{path}.{name}", f"unknown field; fields: {', '.join(sorted(allowed))}"))
        elif name == "taps":
            kwargs[name] = _taps(value, f"{path}.taps", problems)
        elif name == "reversed":
            kwargs[name] = _bool(value, f"{path}.reversed", problems)
        elif name == "initial" and value is None:
            kwargs[name] = None
        else:
            kwargs[name] = _text(value, f"{path}.{name}", problems)
    for name in _REQUIRED[kind]:
        if name not in kwargs:
            problems.append(FieldProblem(f"{path}.{name}", "is required"))
            kwargs[name] = ""
    return kind(**kwargs)


def _text(value, path, problems) -> str:
    """Text fields accept JSON numbers and arrays too (written back as text)."""
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float, list)) and not isinstance(value, bool):
        return json.dumps(value)
    problems.append(FieldProblem(path, f"must be text, a number or an array, not {type(value).__name__}"))
    return ""


def _taps(value, path, problems) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return tuple(value)
    problems.append(FieldProblem(path, "must be a non-empty list of whole numbers, e.g. [-2, -1]"))
    return (0,)


def _bool(value, path, problems) -> bool:
    if isinstance(value, bool):
        return value
    problems.append(FieldProblem(path, "must be true or false"))
    return False


def _int(value, path, problems) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    problems.append(FieldProblem(path, "must be a whole number"))
    return 0


def _int_or_none(value, path, problems) -> int | None:
    return None if value is None else _int(value, path, problems)
