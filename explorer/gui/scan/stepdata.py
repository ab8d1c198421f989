"""What the workbench shows about a run, as plain data (no Qt here).

- :func:`step_reads`: for step ``t`` of a finished run, each argument's source (from
  :func:`explorer.core.spec.sources`) and its value;
- :func:`as_table`: an output stacked over steps as a 2-D array with column labels;
- :func:`agreement`: does the result match the numbers the source prints?

``sequence_lengths`` and ``step_count`` live in :mod:`explorer.core.spec` (re-exported
here for the workbench's modules).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from explorer.core.spec import ScanRun, sequence_lengths, sources, step_count

__all__ = ["Read", "Table", "agreement", "as_table", "sequence_lengths", "show", "step_count", "step_outputs",
           "step_reads"]

RTOL, ATOL = 1e-6, 1e-7  # "agrees with the source": the preset tests' tolerance


@dataclass(frozen=True)
class Read:
    """One argument of one step: its name in expressions, where it comes from, its value."""

    name: str  # x, x_tm1, W
    source: str  # "x[3]", "f's initial row 0", "f[0] (from step 0)", "W"
    value: np.ndarray


def step_reads(run: ScanRun, t: int) -> list[Read]:
    """What step ``t`` of ``run`` received, argument by argument, in the step's order."""
    spec = run.spec
    lengths = {s.name: int(run.values[s.name].shape[0]) for s in spec.sequences}
    reads = []
    for src in sources(spec, lengths, t):
        arg = src.arg
        if src.kind == "row":
            value = run.values[arg.base][src.index]
        elif src.kind == "output":
            value = run.outputs[arg.base][src.index]
        elif src.kind == "initial":
            initial = run.values[f"{arg.base} (initial)"]
            value = initial if src.index is None else initial[src.index]
        else:
            value = run.values[arg.name]
        reads.append(Read(arg.name, src.label, _np(value)))
    return reads


def step_outputs(run: ScanRun, t: int) -> list[tuple[str, np.ndarray]]:
    """What step ``t`` returned: (output name, value) in the spec's order."""
    return [(name, _np(value[t])) for name, value in run.outputs.items()]


@dataclass(frozen=True)
class Table:
    """An output as rows = steps, columns = elements (flattened beyond 1-d)."""

    values: np.ndarray  # (steps, elements), float64 (ints and bools converted)
    columns: list[str]  # "value", "[0]", "[1, 2]"
    note: str  # "" or "each step is 2 x 3, flattened to 6 columns"
    integral: bool  # every value is a whole number: show without decimals


def as_table(value: torch.Tensor) -> Table:
    arr = _np(value)
    steps = arr.shape[0] if arr.ndim else 1
    shape = arr.shape[1:] if arr.ndim else ()
    flat = arr.reshape(steps, int(np.prod(shape, dtype=np.int64))).astype(np.float64, copy=False)
    if not shape:
        columns, note = ["value"], ""
    elif len(shape) == 1:
        columns, note = [f"[{i}]" for i in range(shape[0])], ""
    else:
        columns = ["[" + ", ".join(map(str, ix)) + "]" for ix in np.ndindex(*shape)]
        note = f"each step is {' x '.join(map(str, shape))}, flattened to {flat.shape[1]} columns"
    integral = arr.dtype.kind in "biu"
    return Table(flat, columns, note, integral)


def agreement(result: torch.Tensor | None, expected) -> bool | None:
    """True / False when the result does / does not match ``expected``; None: nothing to compare."""
    if expected is None or result is None:
        return None
    try:
        want = np.asarray(expected, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    got = _np(result).astype(np.float64)
    return got.shape == want.shape and bool(np.allclose(got, want, rtol=RTOL, atol=ATOL))


def show(value, width: int = 72, max_lines: int | None = None) -> str:
    """Numbers as a short text: ``[1. 3. 5.]``; big arrays summarised (``...``)."""
    arr = value if isinstance(value, np.ndarray) else np.asarray(value)
    if arr.ndim == 0:
        v = arr.item()
        return f"{v:.8g}" if isinstance(v, float) else str(v)
    text = np.array2string(arr, precision=6, suppress_small=True, max_line_width=width, threshold=60,
                           edgeitems=3)
    if max_lines is not None and text.count("\n") >= max_lines:
        text = np.array2string(arr, precision=6, suppress_small=True, max_line_width=width, threshold=4,
                               edgeitems=2)
    return text


def _np(value) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)
