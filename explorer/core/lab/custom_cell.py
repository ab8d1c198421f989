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
Experiment files are read by the one decoder (:mod:`explorer.core.decode`, a nested section
of ModelConfig); :func:`structural_problems` checks what needs no evaluation, and
:func:`.custom_rnn.check_cell` adds every expression's column and a dry run of step 0.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from dataclasses import dataclass
from ..errors import FieldProblem

STATE_SETS = (("h",), ("h", "c"))  # h alone, or h and a cell state c (LSTM-like)
INIT_HELP = {  # each init, what it draws and what its scale means (the Model form's tooltips)
    "uniform": "values uniform in [-scale, scale]",
    "zeros": "all zeros (scale unused)",
    "identity": "the identity matrix (a matrix only; scale unused)",
    "orthogonal": "a random orthogonal matrix times the gain scale (a matrix only; 0: gain 1)",
    "normal": "values normal with σ = scale",
}
INITS = tuple(INIT_HELP)  # uniform, zeros, identity, orthogonal, normal
UNSCALED_INITS = ("zeros", "identity")  # inits that do not read scale
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


_ARITH = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.FloorDiv: operator.floordiv}


def _size(node: ast.AST, sizes: dict[str, int]) -> int:
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.Name) and node.id in sizes:
        return sizes[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        return _ARITH[type(node.op)](_size(node.left, sizes), _size(node.right, sizes))
    raise ValueError("not a size")


def param_count(cell: CustomCell, input_size: int, hidden: int) -> int | None:
    """Numbers in one layer's parameters, from sizes written with I, H, whole numbers and
    + - * // (torch-free, for the cost estimate); None when a shape needs more than that."""
    total = 0
    for p in cell.params:
        try:
            dims = [_size(ast.parse(t.strip(), mode="eval").body, {"I": input_size, "H": hidden})
                    for t in p.shape.split(",")]
        except (SyntaxError, ValueError, ZeroDivisionError):
            return None
        total += math.prod(max(d, 0) for d in dims)
    return total
