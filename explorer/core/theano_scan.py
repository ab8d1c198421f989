"""Theano's ``scan`` interface, translated onto the carry-based primitive.

``scan(fn, sequences, outputs_info, non_sequences, n_steps, truncate_gradient,
go_backwards, mode, name, profile, allow_gc, strict, return_list)`` in Theano's order,
with PyTensor's semantics (settled against PyTensor in the tests):

- ``fn`` receives every tap of every sequence, then every tap of every recurrent output,
  then every non-sequence; taps in the order they are listed.
- steps = the shortest sequence's step count, capped by ``n_steps``; ``n_steps`` alone
  when there are no sequences.
- ``until(cond)`` ends the loop after the step that makes ``cond`` true (that step's
  outputs are kept).
- ``go_backwards`` walks every sequence from its own end; outputs stay in the order they
  were computed.
- returns one tensor (stacked over steps, initial values excluded) for one output, a list
  for several (always a list with ``return_list=True``).
- ``truncate_gradient=k``: only the last ``k`` steps take part in the backward pass;
  earlier steps and the initial values get zero gradient (zeros, not ``None``).

The translation: each sequence tap becomes a slice of its input (see :mod:`.taps`);
each recurrent output becomes a window of its last ``W`` values carried by the primitive;
``until`` becomes the primitive's ``stop``; truncation runs the early steps without
recording a graph.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any, Callable

import torch

from .errors import ScanError
from .taps import OutputTaps, SequenceTaps, output_taps, sequence_taps
from .theano_step import StepRunner, as_tensor, link_cut_inputs, until
from .theano_strict import check_strict

__all__ = ["scan", "until"]

SEQUENCE_KEYS = ("input", "taps")
OUTPUT_KEYS = ("initial", "taps")


@dataclass
class _Output:
    index: int
    plan: OutputTaps | None  # None: not fed back
    window: tuple | None  # the first carry: W initial values, oldest first
    initial: torch.Tensor | None = None  # the initial value as the user gave it


def scan(
    fn: Callable[..., Any],
    sequences: Any = None,
    outputs_info: Any = None,
    non_sequences: Any = None,
    n_steps: int | None = None,
    truncate_gradient: int = -1,
    go_backwards: bool = False,
    mode: Any = None,
    name: str | None = None,
    profile: Any = False,
    allow_gc: bool | None = None,
    strict: bool = False,
    return_list: bool = False,
) -> torch.Tensor | list[torch.Tensor]:
    """Loop ``fn`` over sequences with recurrent outputs, as Theano's ``scan`` does.

    Args:
        fn: the step function (see the module docstring for its argument order). It may
            return the outputs, ``(outputs, until(c))``, ``(outputs, {}, until(c))`` or
            ``(outputs, {})``; a non-empty updates dict is refused (no shared variables).
        sequences: a tensor, ``{"input": t, "taps": [...]}`` (taps an int or a list,
            default ``[0]``), or a list of those.
        outputs_info: per output ``None`` (not fed back), a tensor (initial value, tap
            ``-1``) or ``{"initial": t, "taps": [...]}`` with negative taps (an int or a
            list); a list for several outputs.
        non_sequences: tensors passed unchanged to every step, last.
        n_steps: number of steps (required without sequences; caps them otherwise).
        truncate_gradient: ``k > 0`` lets gradients flow back at most ``k`` steps.
        go_backwards: walk the sequences from the end.
        mode, profile, allow_gc: Theano's compilation settings. Accepted so that Theano code
            runs unchanged, and ignored: there is no compilation here (torch runs ``fn``
            eagerly) and memory is freed by Python as usual.
        name: used only in error messages (``scan 'name': ...``).
        strict: Theano's ``strict`` refused shared variables that ``fn`` uses without being
            given them in ``non_sequences``. Here, before the first step, the tensors ``fn``
            can reach besides its arguments are looked at: its closure, the globals its
            code names, its default values, a bound method's object (and its modules'
            parameters), and the Python functions it calls by name, recursively. A tensor
            that requires grad (torch's counterpart of a shared variable) found there and
            not passed to scan is refused with its name. Constant tensors are allowed, as
            Theano allowed constants. Values reached only through attributes of other
            objects, or computed at run time, are not seen.
        return_list: return a list even for one output.

    Returns:
        One tensor for one output, a list of tensors for several (stacked over steps).
    """
    try:
        return _scan(fn, sequences, outputs_info, non_sequences, n_steps, truncate_gradient,
                     go_backwards, strict, return_list)
    except ScanError as exc:
        if name is None:
            raise
        raise ScanError(f"scan {str(name)!r}: {exc}") from None


def _scan(fn, sequences, outputs_info, non_sequences, n_steps, truncate_gradient, go_backwards,
          strict, return_list):
    seqs = [_sequence(s, i) for i, s in enumerate(_as_list(sequences))]
    outs = [_output(o, i) for i, o in enumerate(_as_list(outputs_info))]
    statics = _as_list(non_sequences)
    n = _count_steps(seqs, n_steps)
    recurrent = [o for o in outs if o.plan is not None]
    init = tuple(v for o in recurrent for v in o.window)  # windows end to end, oldest first
    if strict:
        check_strict(fn, [d for d, _ in seqs] + [o.initial for o in recurrent] + statics)

    xs = _sequence_slices(seqs, n, go_backwards)
    run = StepRunner(fn, seqs, outs, recurrent, statics)

    k = int(truncate_gradient)
    if k > 0 and torch.is_grad_enabled() and k < n:
        ys = link_cut_inputs(run.truncated(init, xs, n, k), init)
    else:
        ys = run(init, xs, n)
    return run.finish(ys, n, return_list)


def _as_list(value: Any) -> list:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _sequence(item: Any, i: int) -> tuple[torch.Tensor, SequenceTaps]:
    what = f"sequences[{i}]"
    if isinstance(item, dict):
        _check_keys(item, what, SEQUENCE_KEYS, "{'input': x, 'taps': [0]}")
        if "input" not in item:
            raise ScanError(f"{what} is a dict without 'input'; write {{'input': x, 'taps': [0]}}.")
        taps = _taps(item.get("taps"), what) or [0]
        data = as_tensor(item["input"], f"{what}['input']")
    else:
        taps, data = [0], as_tensor(item, what)
    if data.dim() == 0:
        raise ScanError(f"{what} is a scalar; a sequence needs a leading time axis.")
    plan = sequence_taps(data.shape[0], taps)
    if plan.n_full < 0:
        raise ScanError(
            f"{what} has {plan.length} rows but its taps {list(plan.taps)} read {plan.span} "
            f"rows per step; give it at least {plan.span} rows for one step (or fewer taps)."
        )
    return data, plan


def _output(item: Any, i: int) -> _Output:
    what = f"outputs_info[{i}]"
    if item is None:
        return _Output(i, None, None)
    if isinstance(item, dict):
        _check_keys(item, what, OUTPUT_KEYS, "{'initial': h0, 'taps': [-1]}")
        initial = item.get("initial")
        taps = _taps(item.get("taps"), what)
        if initial is None:
            if taps not in (None, [], [-1]):
                raise ScanError(f"{what} has taps {taps} but no 'initial'; give the initial values.")
            return _Output(i, None, None)
        taps = [-1] if taps is None else taps  # Theano: an initial value without taps is tap -1
        try:
            plan = output_taps(taps)
        except ValueError:
            raise ScanError(
                f"{what} has taps {list(taps)}; output taps must be negative "
                "(-1 is the previous step, -2 the one before)."
            ) from None
        initial = as_tensor(initial, f"{what}['initial']")
        if list(plan.taps) == [-1]:  # one tap at t-1: initial is the state itself
            return _Output(i, plan, (initial,), initial)
        if initial.dim() == 0 or initial.shape[0] < plan.window:
            rows = 0 if initial.dim() == 0 else initial.shape[0]
            raise ScanError(
                f"{what}: the initial value has {rows} rows but the oldest tap is "
                f"{-plan.window}; give at least {plan.window} rows (the last row is t-1)."
            )
        return _Output(i, plan, tuple(initial[j] for j in range(plan.window)), initial)
    initial = as_tensor(item, what)
    return _Output(i, output_taps([-1]), (initial,), initial)


def _check_keys(item: dict, what: str, known: tuple[str, ...], example: str) -> None:
    for key in item:
        if key not in known:
            hint = " (Theano's return_steps is gone: slice the result instead)" if key == "return_steps" else ""
            raise ScanError(
                f"{what} has an unknown key {key!r}{hint}; the keys are "
                f"{', '.join(repr(k) for k in known)}, e.g. {example}."
            )


def _taps(value: Any, what: str) -> list[int] | None:
    """Taps as Theano takes them: an int or a list of ints (None: the default)."""
    if value is None:
        return None
    items = value if isinstance(value, (list, tuple)) else [value]
    try:
        if any(isinstance(k, bool) for k in items):
            raise TypeError
        taps = [operator.index(k) for k in items]
    except TypeError:
        raise ScanError(
            f"{what}['taps'] must be an int or a list of ints, e.g. -1 or [-2, -1]; got {value!r}."
        ) from None
    for j, k in enumerate(taps):
        if k in taps[:j]:
            raise ScanError(f"{what} lists tap {k} twice in {taps}; list each tap once.")
    return taps


def _count_steps(seqs: list, n_steps: Any) -> int:
    if n_steps is not None:
        n_steps = int(n_steps)
        if n_steps < 0:
            raise ScanError(f"n_steps must be 0 or more, got {n_steps}; use go_backwards=True to reverse.")
    if not seqs:
        if n_steps is None:
            raise ScanError(
                "scan has neither sequences nor n_steps: with no sequence to walk, say how "
                "many steps to run with n_steps=..."
            )
        return n_steps
    n = min(plan.n_full for _, plan in seqs)
    return n if n_steps is None else min(n, n_steps)


def _sequence_slices(seqs: list, n: int, backwards: bool) -> tuple | None:
    if not seqs:
        return None
    xs = []
    for data, plan in seqs:
        for tap in range(len(plan.taps)):
            lo, hi = plan.slice(tap, n, backwards)
            if backwards:
                xs.append(torch.flip(data[lo:hi], [0]))
            elif (lo, hi) == (0, data.shape[0]):
                xs.append(data)
            else:
                # a copy, not a view: ops on rows of a sliced view cost several
                # microseconds more each (autograd view tracking), per step
                xs.append(data[lo:hi].clone())
    return tuple(xs)
