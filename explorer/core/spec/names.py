"""What a spec's step function receives, in Theano's order, and what each name means.

Tap names: ``x`` is tap 0 of a sequence, ``x_tm2`` tap -2, ``x_tp1`` tap +1. For a
recurrent output, ``y_tm1`` is its previous value and plain ``y`` is an alias of it (only
when -1 is among its taps). Step variables are computed after the arguments, in order.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from .model import ScanSpec

TAP_NAME = re.compile(r"^(?P<base>[A-Za-z_][A-Za-z0-9_]*?)_t(?P<dir>[mp])(?P<k>\d+)$")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class StepArg:
    """One argument of the step function."""

    name: str  # as written in expressions: x, x_tm1, y_tm2, W
    kind: str  # "sequence" | "output" | "non_sequence"
    owner: int  # index of its sequence / output / non-sequence
    tap: int | None  # its tap (None for non-sequences)
    base: str  # the declared name


def tap_name(base: str, tap: int) -> str:
    if tap == 0:
        return base
    return f"{base}_t{'m' if tap < 0 else 'p'}{abs(tap)}"


def step_args(spec: ScanSpec) -> list[StepArg]:
    """The step's arguments: sequence taps, output taps, non-sequences (Theano's order)."""
    args = [StepArg(tap_name(s.name, k), "sequence", i, k, s.name)
            for i, s in enumerate(spec.sequences) for k in s.taps]
    args += [StepArg(tap_name(o.name, k), "output", i, k, o.name)
             for i, o in enumerate(spec.outputs) if o.initial is not None for k in o.taps]
    args += [StepArg(n.name, "non_sequence", i, None, n.name) for i, n in enumerate(spec.non_sequences)]
    return args


def aliases(spec: ScanSpec) -> dict[str, str]:
    """Plain output names that stand for their previous value: ``{"y": "y_tm1"}``."""
    return {o.name: tap_name(o.name, -1) for o in spec.outputs
            if o.initial is not None and -1 in o.taps and o.name}


def step_scope(spec: ScanSpec, upto_variable: int | None = None) -> set[str]:
    """Names a step expression may read (step variables up to ``upto_variable``)."""
    names = {a.name for a in step_args(spec)} | set(aliases(spec))
    variables = spec.step_variables if upto_variable is None else spec.step_variables[:upto_variable]
    return names | {v.name for v in variables}


def until_scope(spec: ScanSpec) -> set[str]:
    """The stop condition also sees every output's new value under its plain name."""
    return step_scope(spec) | {o.name for o in spec.outputs}


def name_problem(name: str, reserved: set[str]) -> str | None:
    """Why ``name`` cannot name a sequence / output / value, or None when it can."""
    if not name:
        return "give it a name"
    if not IDENTIFIER.match(name):
        return f"'{name}' is not a name: use letters, digits and _, starting with a letter"
    if name.startswith("__") or keyword.iskeyword(name) or name in ("True", "False", "None"):
        return f"'{name}' is reserved; choose another name"
    if name in reserved:
        return f"'{name}' is a function of the expression language; choose another name"
    if TAP_NAME.match(name):
        return f"'{name}' looks like a tap name (…_tm1, …_tp1); choose another name"
    return None


def unknown_name_hint(spec: ScanSpec, name: str) -> str | None:
    """Advice for an unknown name in a step expression, in terms of the user's spec."""
    match = TAP_NAME.match(name)
    base = match.group("base") if match else name
    tap = (-1 if match.group("dir") == "m" else 1) * int(match.group("k")) if match else 0
    for s in spec.sequences:
        if s.name == base:
            return (f"sequence '{base}' has taps {list(s.taps)}; to read {name} add {tap} to its taps")
    for o in spec.outputs:
        if o.name != base:
            continue
        if o.initial is None:
            return (f"output '{base}' is not fed back, so a step cannot read it; give it an "
                    "initial value, or compute it in a step variable")
        if not match:
            return f"output '{base}' has taps {list(o.taps)}; write {tap_name(base, o.taps[0])}"
        return f"output '{base}' has taps {list(o.taps)}; to read {name} add {tap} to its taps"
    for n in spec.non_sequences:
        if match and n.name == base:
            return f"'{base}' is a non-sequence: it has no taps; write {base}"
    return None
