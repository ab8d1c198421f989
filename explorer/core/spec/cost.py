"""What a ScanSpec's run will cost, estimated before it runs (issue 9, item 3).

Its data (non-sequences, sequences, initial values) is first estimated without computing
anything: :func:`data_problems` sums what the operations with static shapes create (the
compiler infers them: :mod:`explorer.core.expr.static`) and what arrays of numbers take
(:func:`array_cost`) against the budget
(:mod:`explorer.core.budget`). Sizes that depend on values (``zeros(sum(x))``) are charged
the same way while the data really evaluates. What the run itself will
create is estimated from the dry run of step 0 (its outputs' sizes, what the step
allocates, its multiply-adds) and the number of steps:

- each output, stacked over the steps: steps x output size, twice (the per-step values,
  then the stacked copy), plus a tensor object per step;
- each sequence tap: the engine copies the rows it reads, steps x row size per tap;
- the work: steps x the step's operations.

Over the budget, the field to change is named with the estimate in bytes.
"""

from __future__ import annotations

import math

import torch

from ..budget import Meter, OverBudget, human_bytes, limit_text
from ..errors import FieldProblem
from ..expr import ExpressionError
from ..taps import sequence_taps
from .model import ArraySpec, ScanSpec

__all__ = ["MAX_STEPS", "TENSOR_OBJECT_BYTES", "array_cost", "data_problems", "step_problems", "run_problems"]

MAX_STEPS = 1_000_000  # steps one workbench run may take (n_steps, or the sequences' rows)
TENSOR_OBJECT_BYTES = 256  # a tensor object (per step and output, per step and tap view)


def data_problems(spec: ScanSpec, exprs: dict, dtype: torch.dtype) -> list[FieldProblem]:
    """The data's cost from static shapes alone (nothing is evaluated); a problem on the
    first field that goes over the budget, or on a sequence that makes too many steps.

    Sizes the compiler cannot infer (``zeros(sum(x))``, indexing...) are charged while the
    data really evaluates; this refuses the plainly too big at once.
    """
    meter, rows = Meter(), []
    fields = [(f"non_sequences[{i}].value", n.array) for i, n in enumerate(spec.non_sequences)]
    fields += [(f"sequences[{i}].data", s.array) for i, s in enumerate(spec.sequences)]
    fields += [(f"outputs[{i}].initial", None) for i, o in enumerate(spec.outputs) if o.initial is not None]
    for path, array in fields:
        if array is not None:  # numbers, not an expression: their size is known
            shape = array.shape
            try:
                meter.charge(*array_cost(array, dtype))
            except OverBudget as exc:
                return [FieldProblem(path.rsplit(".", 1)[0] + ".array", f"the array {exc.message}")]
        else:
            expr = exprs[path]
            try:
                expr.check_static(meter, dtype.itemsize)
            except ExpressionError as exc:
                return [FieldProblem(path, exc.message, exc.column)]
            shape = expr.shape
        if path.startswith("sequences"):
            i = len(rows)
            rows.append(shape[0] if shape else None)
            if spec.sequences[i].reversed and shape is not None:
                n = math.prod(shape)
                try:
                    meter.charge(n * dtype.itemsize, n)
                except OverBudget as exc:
                    return [FieldProblem(f"sequences[{i}].reversed", f"the reversed copy {exc.message}")]
    if rows and all(r is not None for r in rows):
        return step_problems(spec, rows)
    return []


def array_cost(array: ArraySpec, dtype: torch.dtype) -> tuple[int, int]:
    """(bytes, operations) an array's numbers create: the tensor at its own dtype, and its
    copy at the spec's ``dtype`` when they differ."""
    n = math.prod(array.shape)
    own = getattr(torch, array.dtype, torch.float64)
    copy = n * dtype.itemsize if own != dtype else 0
    return n * own.itemsize + copy, 2 * n if copy else n


def step_problems(spec: ScanSpec, rows: list[int]) -> list[FieldProblem]:
    """Refuse a run whose sequences (of ``rows`` rows each) make more than :data:`MAX_STEPS` steps."""
    if spec.n_steps is not None or not spec.sequences:
        return []  # n_steps is checked with the static checks
    plans = [(i, sequence_taps(n, s.taps)) for i, (n, s) in enumerate(zip(rows, spec.sequences))]
    i, plan = min(plans, key=lambda item: item[1].n_full)
    if plan.n_full <= MAX_STEPS:
        return []
    name, field = spec.sequences[i].name, "data" if spec.sequences[i].array is None else "array"
    return [FieldProblem(f"sequences[{i}].{field}", f"'{name}' has {plan.length:,} rows: the scan would take "
                         f"{plan.n_full:,} steps; at most {MAX_STEPS:,} are allowed. Give fewer rows, or set "
                         "n_steps")]


def run_problems(spec: ScanSpec, steps: int, sequences: list[torch.Tensor], outputs: list[torch.Tensor],
                 step: Meter, data: Meter) -> list[FieldProblem]:
    """Refuse a run whose estimated total (data + run) is over the budget, on the field
    that costs the most; ``step`` is the meter of the dry run of step 0, ``data`` the
    meter that evaluated the data."""
    parts: list[tuple[int, str, str]] = []  # (bytes, field, how it adds up)
    for i, (o, value) in enumerate(zip(spec.outputs, outputs)):
        each = value.numel() * value.element_size()
        total = steps * (2 * each + TENSOR_OBJECT_BYTES)
        parts.append((total, f"outputs[{i}].expression",
                      f"'{o.name}' is {tuple(value.shape)} ({human_bytes(each)}) per step, kept for "
                      f"{steps:,} steps"))
    for i, (s, data_i) in enumerate(zip(spec.sequences, sequences)):
        row = data_i[0].numel() * data_i.element_size() if data_i.dim() and data_i.shape[0] else 0
        copied = tuple(s.taps) != (0,) or spec.go_backwards  # one plain tap reads the data itself
        total = len(s.taps) * steps * ((row if copied else 0) + TENSOR_OBJECT_BYTES)
        parts.append((total, f"sequences[{i}].taps",
                      f"{len(s.taps):,} taps x {steps:,} steps x {human_bytes(row)} per row of '{s.name}'"))
    run_bytes = sum(p[0] for p in parts) + step.used
    total = data.used + run_bytes
    problems = []
    if total > data.limit:
        biggest, where, how = max(parts, key=lambda p: p[0]) if parts else (step.used, "outputs", "the step")
        problems.append(FieldProblem(where, f"the run would create about {human_bytes(total)} ({total:,} bytes; "
                                     f"{how}: {human_bytes(biggest)}); {limit_text(data.limit)}. "
                                     "Take fewer steps (n_steps) or make the values smaller"))
    work = steps * step.work
    if not problems and work > data.work_limit:
        problems.append(FieldProblem("n_steps", f"the run would take about {work:.3g} operations ({steps:,} "
                                     f"steps x {step.work:.3g} per step); at most {data.work_limit:.3g} are "
                                     "allowed: take fewer steps or make the step cheaper"))
    return problems
