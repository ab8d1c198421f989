"""A recurrent cell written as a scan step in the expression language (the workbench's language):
what the Model form and experiment files hold. Torch-free (the window reads configs before
torch is imported); :mod:`.custom_rnn` compiles, dry-runs and runs it.

    states       h            (or h and c)
    parameters   W_ih: H, I   uniform 0.1        shapes in I (the layer's input size), H and numbers
                 W_hh: H, H   uniform 0.1
                 b:    H      zeros
    variables    a = x @ W_ih.T + h_tm1 @ W_hh.T + b      (optional named intermediates, in order)
    h =          tanh(a)

Each step reads ``x`` (B, I), the previous states ``h_tm1`` / ``c_tm1`` (B, H) and the
parameters, and returns every new state (B, H); ``h`` feeds the readout and the next layer.
:func:`structural_problems` checks what needs no evaluation; :func:`.custom_rnn.check_cell`
adds every expression's column and a dry run of step 0.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, FieldProblem

STATE_SETS = (("h",), ("h", "c"))  # h alone, or h and a cell state c (LSTM-like)
INITS = ("uniform", "zeros", "identity", "orthogonal", "normal")  # uniform ±scale; normal σ = scale
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
RESERVED = {"x", "I", "H", "h", "c", "h_tm1", "c_tm1"}
MAX_PARAM_ELEMENTS = 64 * 2 ** 20  # 64 M numbers (256 MB) per parameter


@dataclass(frozen=True)
class CellParam:
    name: str  # what the expressions call it, e.g. W_hh
    shape: str = "H, H"  # comma-separated sizes in I, H and whole numbers, e.g. "3 * H, I"
    init: str = "uniform"  # uniform | zeros | identity | orthogonal | normal
    scale: float = 0.1  # uniform: values in [-scale, scale]; normal: σ; orthogonal: gain


@dataclass(frozen=True)
class CellVariable:
    name: str  # a per-step intermediate the later variables and the state expressions read
    expression: str


@dataclass(frozen=True)
class CustomCell:
    states: tuple[str, ...] = ("h",)  # ("h",) or ("h", "c")
    params: tuple[CellParam, ...] = (
        CellParam("W_ih", "H, I"), CellParam("W_hh", "H, H"), CellParam("b", "H", "zeros"))  # a vanilla RNN
    expressions: tuple[str, ...] = ("tanh(x @ W_ih.T + h_tm1 @ W_hh.T + b)",)  # one per state
    variables: tuple[CellVariable, ...] = ()  # named intermediates (a gate used twice), computed first

    def to_dict(self) -> dict:
        return {"states": list(self.states), "params": [vars_of(p) for p in self.params],
                "variables": [{"name": v.name, "expression": v.expression} for v in self.variables],
                "expressions": list(self.expressions)}

    @classmethod
    def from_dict(cls, data: Any, path: str = "model.custom") -> "CustomCell":
        """Build from JSON; every structural problem at once (ConfigError), then :func:`check_cell`."""
        problems: list[FieldProblem] = []
        if not isinstance(data, dict):
            raise ConfigError(FieldProblem(path, "must be an object with states, params and expressions"))
        for key in data:
            if key not in ("states", "params", "variables", "expressions"):
                problems.append(FieldProblem(f"{path}.{key}", "unknown field; a custom cell has states, params, "
                                             "variables and expressions"))
        states = tuple(data.get("states", ("h",))) if isinstance(data.get("states", ()), (list, tuple)) else ()
        params = []
        for i, item in enumerate(data.get("params", []) if isinstance(data.get("params", []), (list, tuple)) else []):
            where = f"{path}.params[{i}]"
            if not isinstance(item, dict) or set(item) - {"name", "shape", "init", "scale"}:
                problems.append(FieldProblem(where, "must be an object with name, shape, init and scale"))
                continue
            scale = item.get("scale", 0.1)
            if isinstance(scale, bool) or not isinstance(scale, (int, float)):
                problems.append(FieldProblem(f"{where}.scale", f"must be a number, got {scale!r}"))
                scale = 0.1
            params.append(CellParam(str(item.get("name", "")), str(item.get("shape", "")),
                                    str(item.get("init", "uniform")), float(scale)))
        variables = []
        for i, item in enumerate(data.get("variables", []) if isinstance(data.get("variables", []), (list, tuple)) else []):
            if not (isinstance(item, dict) and set(item) == {"name", "expression"}
                    and all(isinstance(v, str) for v in item.values())):
                problems.append(FieldProblem(f"{path}.variables[{i}]", "must be an object with a name and an "
                                             "expression, both text"))
                continue
            variables.append(CellVariable(item["name"], item["expression"]))
        expressions = data.get("expressions", [])
        if not (isinstance(expressions, (list, tuple)) and all(isinstance(e, str) for e in expressions)):
            problems.append(FieldProblem(f"{path}.expressions", "must be a list of expressions, one per state"))
            expressions = []
        if problems:
            raise ConfigError(problems)
        cell = cls(tuple(str(s) for s in states), tuple(params), tuple(expressions), tuple(variables))
        problems = structural_problems(cell, path)
        if problems:
            raise ConfigError(problems)
        return cell


def vars_of(p: CellParam) -> dict:
    return {"name": p.name, "shape": p.shape, "init": p.init, "scale": p.scale}


def structural_problems(cell: CustomCell, path: str = "model.custom") -> list[FieldProblem]:
    """What can be checked without evaluating anything: states, counts, names, inits, scales."""
    problems: list[FieldProblem] = []
    if cell.states not in STATE_SETS:
        problems.append(FieldProblem(f"{path}.states", f"is {list(cell.states)}; use [\"h\"] or [\"h\", \"c\"]"))
    if len(cell.expressions) != len(cell.states):
        problems.append(FieldProblem(f"{path}.expressions", f"has {len(cell.expressions)} expression(s) for "
                                     f"{len(cell.states)} state(s); write one per state ({', '.join(cell.states)})"))
    seen: set[str] = set()
    for i, p in enumerate(cell.params):
        where = f"{path}.params[{i}]"
        if not NAME.match(p.name) or p.name in RESERVED or p.name in seen:
            why = ("is taken by the step's own names (x, h_tm1, c_tm1, I, H)" if p.name in RESERVED else
                   "is used twice" if p.name in seen else "must start with a letter: letters, digits and _")
            problems.append(FieldProblem(f"{where}.name", f"{p.name!r} {why}"))
        seen.add(p.name)
        if p.init not in INITS:
            problems.append(FieldProblem(f"{where}.init", f"is {p.init!r}; choose one of {', '.join(INITS)}"))
        if not (math.isfinite(p.scale) and 0 <= p.scale <= 100):
            problems.append(FieldProblem(f"{where}.scale", f"is {p.scale}; use a number from 0 to 100"))
        if not p.shape.strip():
            problems.append(FieldProblem(f"{where}.shape", "is empty; write sizes in I, H and numbers, e.g. H, I"))
    for i, v in enumerate(cell.variables):
        if not NAME.match(v.name) or v.name in RESERVED or v.name in seen:
            problems.append(FieldProblem(f"{path}.variables[{i}].name", f"{v.name!r} is taken or not a name; "
                                         "use a new name made of letters, digits and _"))
        seen.add(v.name)
    return problems


def step_names(cell: CustomCell, upto: int | None = None) -> set[str]:
    """The names a state expression may read (``upto``: those variable ``upto`` may read)."""
    variables = cell.variables if upto is None else cell.variables[:upto]
    return {"x"} | {f"{s}_tm1" for s in cell.states} | {p.name for p in cell.params} | {v.name for v in variables}
