"""Say in plain words what a spec's step receives: ``fn(y[t], p[T-1-t], x[t-1], W)``.

``t`` is the step number (0, 1, ...) and ``T`` the length of that sequence, so every
index is the real row the step reads: a sequence with taps [-2, 0] shows ``x[t], x[t+2]``
(its first two rows are history), and a reversed or backwards walk shows ``x[T-1-t]``.
:func:`unroll` gives the same thing concretely for the first steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from .model import ScanSpec
from .names import step_args
from .steps import sources, step_count


def _index(from_end: bool, c: int) -> str:
    if from_end:
        return f"T-{1 + c}-t"
    return "t" if c == 0 else f"t+{c}"


def argument_labels(spec: ScanSpec) -> list[tuple[str, str]]:
    """(name in expressions, what it is) for each argument, in the step's order."""
    labels = []
    for arg in step_args(spec):
        if arg.kind == "sequence":
            s = spec.sequences[arg.owner]
            m, big_m = min(min(s.taps), 0), max(max(s.taps), 0)
            if spec.go_backwards:  # rows from the sequence's own end, taps in original order
                from_end, c = True, big_m - arg.tap
            else:
                from_end, c = False, arg.tap - m
            if s.reversed:  # the walk runs over data[::-1]: flip the indexing
                from_end = not from_end
            labels.append((arg.name, f"{s.name}[{_index(from_end, c)}]"))
        elif arg.kind == "output":
            labels.append((arg.name, f"{arg.base}[t{arg.tap}]"))
        else:
            labels.append((arg.name, arg.name))
    return labels


def signature(spec: ScanSpec) -> str:
    """The step function's parameters in order, e.g. ``fn(y[t], p[T-1-t], x[t-1], W)``."""
    return "fn(" + ", ".join(label for _, label in argument_labels(spec)) + ")"


def describe(spec: ScanSpec) -> list[str]:
    """A few lines: the signature, what it returns, how many steps, when it stops."""
    lines = [signature(spec)]
    returns = [f"{o.name}[t]" for o in spec.outputs]
    lines.append("returns " + (", ".join(returns) if returns else "nothing"))
    if spec.sequences:
        cap = f", at most {spec.n_steps}" if spec.n_steps is not None else ""
        direction = " walked from the end" if spec.go_backwards else ""
        lines.append(f"steps: as many as the shortest sequence allows{cap}{direction}")
    elif spec.n_steps is not None:
        lines.append(f"steps: {spec.n_steps}")
    if spec.until:
        lines.append(f"stops after the step where {spec.until}")
    return lines


@dataclass(frozen=True)
class StepReads:
    step: int
    reads: list[tuple[str, str]]  # (name in expressions, where the value comes from)


def unroll(spec: ScanSpec, lengths: dict[str, int], n_show: int = 4) -> list[StepReads]:
    """For the first ``n_show`` steps, which row or earlier value feeds each argument.

    ``lengths`` gives each sequence's number of rows (:func:`.steps.sequence_lengths`).
    """
    n = step_count(spec, lengths) or 0
    return [StepReads(t, [(src.arg.name, src.label) for src in sources(spec, lengths, t)])
            for t in range(min(n, n_show))]
