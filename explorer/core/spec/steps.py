"""Where each value a step receives comes from: the one place that says it concretely.

``sources(spec, lengths, t)`` lists, for step ``t``, every argument of the step with the
row, earlier output or initial row it reads. The unrolled view (``unroll``) and the
workbench's step inspector both use it, so they can never disagree with each other; the
tests check it against what the engine really reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..taps import output_taps, sequence_taps
from .model import ScanSpec
from .names import StepArg, step_args


@dataclass(frozen=True)
class Source:
    """One argument of one step and where its value comes from."""

    arg: StepArg  # its name in expressions is arg.name
    label: str  # "x[3]", "f's initial value", "f's initial row 0", "f[0] (from step 0)", "W"
    kind: str  # "row" (of a sequence's data) | "output" | "initial" | "value" (non-sequence)
    index: int | None  # the row / step / initial row it reads (None for a whole value)


def sequence_lengths(spec: ScanSpec, device=None) -> dict[str, int]:
    """Rows of each sequence's data, evaluated exactly as a run evaluates it.

    The spec must check clean (its data expressions evaluate); a failure raises the
    same ConfigError a run would.
    """
    from .run import prepare_values

    values = prepare_values(spec, device)
    return {s.name: int(values[s.name].shape[0]) for s in spec.sequences}


def step_count(spec: ScanSpec, lengths: dict[str, int]) -> int | None:
    """Steps the scan takes before any ``until``: the shortest sequence, capped by n_steps."""
    n = min((sequence_taps(lengths[s.name], s.taps).n_full for s in spec.sequences), default=None)
    if spec.n_steps is not None:
        n = spec.n_steps if n is None else min(n, spec.n_steps)
    return None if n is None else max(n, 0)


def sources(spec: ScanSpec, lengths: dict[str, int], step: int) -> list[Source]:
    """Where each argument of step ``step`` comes from, in the step's order."""
    out = []
    for arg in step_args(spec):
        if arg.kind == "sequence":
            s = spec.sequences[arg.owner]
            plan = sequence_taps(lengths[s.name], s.taps)
            i = plan.index(list(s.taps).index(arg.tap), step, spec.go_backwards)
            row = plan.length - 1 - i if s.reversed else i  # `reversed` walks data[::-1]
            out.append(Source(arg, f"{s.name}[{row}]", "row", row))
        elif arg.kind == "output":
            o = spec.outputs[arg.owner]
            at = step + arg.tap
            if at >= 0:
                out.append(Source(arg, f"{o.name}[{at}] (from step {at})", "output", at))
            elif tuple(o.taps) == (-1,):
                out.append(Source(arg, f"{o.name}'s initial value", "initial", None))
            else:
                row = output_taps(o.taps).window + at
                out.append(Source(arg, f"{o.name}'s initial row {row}", "initial", row))
        else:
            out.append(Source(arg, arg.name, "value", None))
    return out
