"""ScanSpec: a JSON-serialisable scan program, what the scan form edits.

Every value a user types is text: data (``[1, 2, 2, 2]``, ``arange(5)``, ``randn(10, 2)``)
and expressions (``tanh(x_tm1 @ W + b)``) are both written in the expression language
(:mod:`explorer.core.expr`), so the form, the JSON file and the CLI share one syntax.

Numbers too many to write as an expression (a trained model's weights, a recorded input
sequence: an expression is at most ``MAX_LENGTH`` characters) are carried as an
:class:`ArraySpec` instead, on a sequence (``array`` instead of ``data``) or a non-sequence
(``array`` instead of ``value``)::

    {"name": "W_hh", "array": {"values": [[0.1, -0.2], [0.3, 0.05]], "dtype": "float32",
                               "note": "trained weights"}}

The decoder checks its nesting and numbers (:mod:`explorer.core.decode`, the ``array``
option); its bytes count against the budget like any data (:mod:`.cost`).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from ..decode import decode
from ..errors import ConfigError, FieldProblem
from ..expr import MAX_ELEMENTS

ARRAY_MAX_DIMS = 16  # nesting of an array's lists (torch and numpy allow more; no real data needs it)


@dataclass(frozen=True)
class ArraySpec:
    """Numbers given as numbers, not as an expression: JSON nested lists, rectangular, finite.

    ``dtype`` is the precision the numbers were taken at: float32 numbers (written as the
    exact doubles of their float32 values) come back bit for bit. The run converts them to
    the spec's dtype like any data."""

    values: tuple = field(metadata={"array": True, "max_elements": MAX_ELEMENTS, "max_dims": ARRAY_MAX_DIMS})
    dtype: str = "float64"  # float32 | float64 (validate.DTYPES)
    note: str = ""  # what the numbers are, shown instead of them: "trained weights (rnn.weight_hh_l0)"

    @property
    def shape(self) -> tuple[int, ...]:
        """From the first row at each level (the decoder checked the rest is alike)."""
        return array_shape(self.values)

    def summary(self) -> str:
        """``trained weights, 96×32, float32``: what the form shows instead of the numbers."""
        shape = "×".join(map(str, self.shape)) or "one number"
        return f"{self.note or 'numbers'}, {shape}, {self.dtype}"


def array_shape(values) -> tuple[int, ...]:
    """The shape of nested lists from their first elements (at most ARRAY_MAX_DIMS + 1 levels)."""
    shape, probe = [], values
    while isinstance(probe, (list, tuple)) and len(shape) <= ARRAY_MAX_DIMS:
        shape.append(len(probe))
        if not probe:
            break
        probe = probe[0]
    return tuple(shape)


@dataclass(frozen=True)
class SequenceSpec:
    """A sequence the scan walks along its first axis."""

    name: str  # what the step calls it (x, x_tm1, x_tp1 for taps)
    data: str = field(default="", metadata={"required_unless": "array"})  # expression: a literal array or a
    # seeded generator, e.g. "arange(5)"; empty when `array` holds the numbers
    taps: tuple[int, ...] = (0,)  # which elements each step sees: 0 = current, -1 = previous
    reversed: bool = False  # walk data[::-1] (Theano's P[::-1])
    array: ArraySpec | None = None  # the numbers themselves, instead of `data`


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
    value: str = field(default="", metadata={"required_unless": "array"})  # expression, may use earlier
    # non-sequences; empty when `array` holds the numbers
    array: ArraySpec | None = None  # the numbers themselves (trained weights), instead of `value`


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
    until: str | None = field(default=None, metadata={"empty_is_none": True})  # stop after the step where this holds (outputs = new values)
    seed: int = 0  # seeds every random draw (data and steps)
    dtype: str = "float64"  # float dtype of data and states: float32 | float64
    result: str | None = field(default=None, metadata={"empty_is_none": True})  # expression over the stacked outputs: what the source prints
    expected: Any = None  # the numbers the source prints (shown beside the result; tested)
    order: int = 1000  # position in the gallery

    # -- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        rows = ("sequences", "outputs", "non_sequences", "step_variables")
        data = asdict(self.replace(**{key: () for key in rows}))  # arrays are not deep-copied number by number
        for key in rows:
            data[key] = [_plain(item) for item in getattr(self, key)]
        return data

    def to_json(self) -> str:
        return dump_json(self.to_dict())

    @classmethod
    def from_dict(cls, data: dict) -> "ScanSpec":
        """Build from JSON (or TOML) data; every structural problem is reported at once.

        Read by the one decoder (:mod:`explorer.core.decode`); text fields also take JSON
        numbers and arrays (written back as text)."""
        if not isinstance(data, dict):
            raise ConfigError(FieldProblem("spec", "a ScanSpec must be a JSON object"))
        spec, problems = decode(cls, data, json_text=True)
        if problems:
            raise ConfigError(problems)
        return spec

    @classmethod
    def from_json(cls, text: str) -> "ScanSpec":
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(FieldProblem("file", f"not valid JSON: {exc}")) from None
        return cls.from_dict(data)

    def replace(self, **changes) -> "ScanSpec":
        return replace(self, **changes)


def _plain(item) -> dict:
    """One row as JSON data; a row with an array drops its empty expression and a row
    without one has no ``array`` key (files stay as they were)."""
    data = {}
    for f in fields(item):
        v = getattr(item, f.name)
        if f.name == "array":
            if v is not None:
                data["array"] = {"values": _lists(v.values), "dtype": v.dtype, "note": v.note}
            continue
        if f.metadata.get("required_unless") and v == "" and getattr(item, "array", None) is not None:
            continue
        data[f.name] = list(v) if isinstance(v, tuple) else v
    return data


def dump_json(data: dict) -> str:
    """A spec's :meth:`ScanSpec.to_dict` as indented JSON, each array row on one line (not
    one number per line: an array of trained weights stays a readable, smaller file)."""
    token, arrays = uuid.uuid4().hex, []
    shown = dict(data)
    for key in ("sequences", "non_sequences"):
        rows = []
        for row in data.get(key, ()):
            array = row.get("array") if isinstance(row, dict) else None
            if isinstance(array, dict) and "values" in array:
                arrays.append(array["values"])
                row = {**row, "array": {**array, "values": f"{token}:{len(arrays) - 1}"}}
            rows.append(row)
        if key in data:
            shown[key] = rows
    text = json.dumps(shown, indent=2)
    for k, values in enumerate(arrays):
        at = text.index(f'"{token}:{k}"')
        indent = " " * (at - text.rindex("\n", 0, at) - 1 - len('"values": '))
        text = text[:at] + _array_text(values, indent) + text[at + len(f'"{token}:{k}"'):]
    return text


def _array_text(values, indent: str) -> str:
    if not values or not isinstance(values[0], (list, tuple)):
        return json.dumps(list(values))
    inner = ",\n".join(f"{indent}  {json.dumps(_lists(row))}" for row in values)
    return f"[\n{inner}\n{indent}]"


def _lists(values):
    """Nested tuples as nested lists (rows copied whole, not number by number)."""
    if not isinstance(values, (list, tuple)):
        return values
    if not values or not isinstance(values[0], (list, tuple)):
        return list(values)
    return [_lists(v) for v in values]


