"""ScanSpec: a JSON-serialisable scan program, what the scan form edits.

Every value a user types is text: data (``[1, 2, 2, 2]``, ``arange(5)``, ``randn(10, 2)``)
and expressions (``tanh(x_tm1 @ W + b)``) are both written in the expression language
(:mod:`explorer.core.expr`), so the form, the JSON file and the CLI share one syntax.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..decode import decode
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
    until: str | None = field(default=None, metadata={"empty_is_none": True})  # stop after the step where this holds (outputs = new values)
    seed: int = 0  # seeds every random draw (data and steps)
    dtype: str = "float64"  # float dtype of data and states: float32 | float64
    result: str | None = field(default=None, metadata={"empty_is_none": True})  # expression over the stacked outputs: what the source prints
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


def _plain(item: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in item.items()}


