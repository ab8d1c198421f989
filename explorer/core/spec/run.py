"""Evaluate a ScanSpec's data, check it, and run it through ``explorer.scan``.

``check(spec)`` returns every problem (static ones, then value ones, then a dry run of
step 0 that finds shape errors before a long run starts, and the run's cost against the
budget: see :mod:`.cost`). ``run_spec(spec)`` runs it and
returns every output stacked over the steps, plus the ``result`` the source prints.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import torch

from .. import budget
from ..errors import ConfigError, ExplorerError, FieldProblem
from ..expr import EvalContext, ExpressionError, compile_expression
from ..taps import output_taps, sequence_taps
from ..theano_scan import scan, until
from .cost import array_cost, data_problems, run_problems, step_problems
from .model import ArraySpec, ScanSpec
from .names import aliases, step_args
from .steps import step_count
from .validate import expression_fields, validate


@dataclass
class ScanRun:
    """What a run produced: outputs by name (stacked over steps) and the printed result."""

    spec: ScanSpec
    values: dict[str, torch.Tensor]  # evaluated data: non-sequences, sequences, initials
    outputs: dict[str, torch.Tensor]  # per output, shape (steps, *value shape)
    result: torch.Tensor | None
    steps: int
    seconds: float


@dataclass
class _Prepared:
    spec: ScanSpec
    ctx: EvalContext
    exprs: dict[str, object]  # field path -> compiled expression
    values: dict[str, torch.Tensor] = field(default_factory=dict)
    sequences: list = field(default_factory=list)  # tensors after `reversed`
    initials: dict[int, torch.Tensor] = field(default_factory=dict)  # output index -> initial
    meter: budget.Meter | None = None  # what evaluating the data cost (the budget's total so far)


def check(spec: ScanSpec, device: str | torch.device | None = None,
          cancel: threading.Event | None = None) -> list[FieldProblem]:
    """Every problem with ``spec``: static, then values, then a dry run of one step.

    ``cancel`` (set from another thread) stops the check at its next operation with
    :class:`explorer.core.budget.Interrupted` (the workbench checks on a worker)."""
    return check_lengths(spec, device, cancel)[0]


def check_lengths(spec: ScanSpec, device: str | torch.device | None = None,
                  cancel: threading.Event | None = None) -> tuple[list[FieldProblem], dict[str, int] | None]:
    """:func:`check`, and the rows of each sequence when there is no problem (None else)."""
    problems = validate(spec)
    if problems:
        return problems, None
    try:
        prepared = _prepare(spec, device, cancel)
        if spec.n_steps != 0:
            _dry_run(prepared)
    except ConfigError as exc:
        return exc.problems, None
    return [], {s.name: int(prepared.values[s.name].shape[0]) for s in spec.sequences}


class Cancelled(ExplorerError):
    """Raised through a run when its ``progress`` callback asks to stop."""


def run_spec(spec: ScanSpec, device: str | torch.device | None = None,
             progress: Callable[[int], bool | None] | None = None) -> ScanRun:
    """Run ``spec``; raises :class:`ConfigError` listing the problems if it cannot.

    ``progress(step)`` is called after each step (from the thread running the scan);
    returning True cancels the run with :class:`Cancelled`.
    """
    problems = validate(spec)
    if problems:
        raise ConfigError(problems)
    prepared = _prepare(spec, device)
    if spec.n_steps != 0:
        _dry_run(prepared)
        prepared = _prepare(spec, device)  # same seed: the real run draws what the dry run drew
    start = time.perf_counter()
    stepper = _Stepper(prepared, progress)
    with budget.metering(meter=stepper.meter):  # each step's operations, counted per step
        outs = scan(stepper, sequences=_sequence_args(prepared), outputs_info=_outputs_info(prepared),
                    non_sequences=[prepared.values[n.name] for n in spec.non_sequences],
                    n_steps=spec.n_steps, go_backwards=spec.go_backwards)
    outs = outs if isinstance(outs, list) else [outs]
    outputs = {o.name: t.detach() for o, t in zip(spec.outputs, outs)}
    seconds = time.perf_counter() - start
    steps = next(iter(outputs.values())).shape[0] if outputs else 0
    return ScanRun(spec, prepared.values, outputs, _result(prepared, outputs), steps, seconds)


# -- preparation --------------------------------------------------------------------------

def _prepare(spec: ScanSpec, device, cancel: threading.Event | None = None) -> _Prepared:
    device = torch.device("cuda" if device == "auto" and torch.cuda.is_available() else
                          "cpu" if device in (None, "auto") else device)
    generator = torch.Generator(device=device).manual_seed(int(spec.seed))
    ctx = EvalContext(generator=generator, device=device, dtype=getattr(torch, spec.dtype))
    exprs = {path: compile_expression(text, scope) for path, text, scope in expression_fields(spec)}
    problems = data_problems(spec, exprs, ctx.dtype)  # from shapes alone, before computing anything
    if problems:
        raise ConfigError(problems)
    p = _Prepared(spec, ctx, exprs, meter=budget.Meter(cancel=cancel))
    with budget.metering(meter=p.meter):  # all the data shares one budget, summed
        _evaluate_data(p)
    return p


def _evaluate_data(p: _Prepared) -> None:
    spec, ctx = p.spec, p.ctx
    problems: list[FieldProblem] = []
    statics: dict[str, torch.Tensor] = {}
    for i, n in enumerate(spec.non_sequences):
        statics[n.name] = (_value(p, f"non_sequences[{i}].value", statics, problems) if n.array is None else
                           _array(p, f"non_sequences[{i}].array", n.array, problems))
    p.values.update(statics)
    for i, s in enumerate(spec.sequences):
        data = (_value(p, f"sequences[{i}].data", statics, problems) if s.array is None else
                _array(p, f"sequences[{i}].array", s.array, problems))
        if data is None:
            continue
        if data.dim() == 0:
            problems.append(FieldProblem(f"sequences[{i}].data", "is a single number; a sequence needs "
                                         "a first axis to walk along, e.g. [1, 2, 3] or arange(5)"))
            continue
        plan = sequence_taps(data.shape[0], s.taps)
        if plan.n_full < 0:
            problems.append(FieldProblem(f"sequences[{i}].taps", f"'{s.name}' has {plan.length} rows but taps "
                                         f"{list(s.taps)} read {plan.span} rows per step; give it at least "
                                         f"{plan.span} rows, or fewer taps"))
        p.values[s.name] = data
        if s.reversed:
            try:
                p.meter.charge(data.numel() * data.element_size(), data.numel())
            except budget.OverBudget as exc:
                problems.append(FieldProblem(f"sequences[{i}].reversed", f"the reversed copy {exc.message}"))
                continue
        p.sequences.append(torch.flip(data, [0]) if s.reversed else data)
    if not problems:
        problems += step_problems(spec, [int(p.values[s.name].shape[0]) for s in spec.sequences])
    for i, o in enumerate(spec.outputs):
        if o.initial is None:
            continue
        value = _value(p, f"outputs[{i}].initial", statics, problems)
        if value is None:
            continue
        value = value.to(ctx.dtype) if not value.is_floating_point() or value.dtype != ctx.dtype else value
        if tuple(o.taps) != (-1,):
            window = output_taps(o.taps).window
            rows = value.shape[0] if value.dim() else 0
            if rows != window:
                problems.append(FieldProblem(f"outputs[{i}].initial", f"has {rows} rows but the oldest tap is "
                                             f"{-window}: give exactly {window} rows, one per past step, "
                                             "the last row being t-1"))
        p.initials[i] = value
        p.values[f"{o.name} (initial)"] = value
    if problems:
        raise ConfigError(problems)


def prepare_values(spec: ScanSpec, device=None) -> dict[str, torch.Tensor]:
    """The spec's evaluated data (non-sequences, sequences, initial values) as a run sees
    it: same seed, same scopes. Raises ConfigError listing the problems."""
    problems = validate(spec)
    if problems:
        raise ConfigError(problems)
    return _prepare(spec, device).values


def _value(p: _Prepared, path: str, env: dict, problems: list) -> torch.Tensor | None:
    try:
        value = p.exprs[path](env, p.ctx)
    except ExpressionError as exc:
        problems.append(FieldProblem(path, exc.message, exc.column))
        return None
    if value.is_floating_point() and value.dtype != p.ctx.dtype:
        value = value.to(p.ctx.dtype)
    return value


def _array(p: _Prepared, path: str, array: ArraySpec, problems: list) -> torch.Tensor | None:
    """An array's numbers as a tensor of the spec's dtype, charged to the data's budget first."""
    try:
        p.meter.charge(*array_cost(array, p.ctx.dtype))
    except budget.OverBudget as exc:
        problems.append(FieldProblem(path, f"the array {exc.message}"))
        return None
    try:  # the decoder checked a file's numbers; a spec built in code gets its problems here
        value = torch.tensor(array.values, dtype=getattr(torch, array.dtype), device=p.ctx.device)
    except (TypeError, ValueError, RuntimeError, OverflowError) as exc:
        problems.append(FieldProblem(f"{path}.values", f"cannot be read as numbers ({exc}): give nested lists "
                                     "of numbers, every row as long as the first"))
        return None
    if value.dtype != p.ctx.dtype:
        value = value.to(p.ctx.dtype)
    if value.numel() and not bool(torch.isfinite(value).all()):
        problems.append(FieldProblem(f"{path}.values", f"holds numbers that are not finite in {p.spec.dtype} (NaN, "
                                     "infinity, or beyond float32's ±3.4e38): give finite numbers, or make the "
                                     "spec's dtype float64"))
        return None
    return value


def _sequence_args(p: _Prepared) -> list:
    return [dict(input=data, taps=list(s.taps)) for data, s in zip(p.sequences, p.spec.sequences)]


def _outputs_info(p: _Prepared) -> list:
    info = []
    for i, o in enumerate(p.spec.outputs):
        if o.initial is None:
            info.append(None)
        elif tuple(o.taps) == (-1,):
            info.append(p.initials[i])
        else:
            info.append(dict(initial=p.initials[i], taps=list(o.taps)))
    return info


# -- the step function --------------------------------------------------------------------

class _Stepper:
    """The ``fn`` given to ``explorer.scan``: binds names, evaluates, checks shapes."""

    def __init__(self, p: _Prepared, progress=None):
        spec = p.spec
        self.p, self.step, self.progress = p, 0, progress
        self.names = [a.name for a in step_args(spec)]
        self.aliases = aliases(spec)
        self.variables = [(v.name, f"step_variables[{i}].expression") for i, v in enumerate(spec.step_variables)]
        self.outputs = [(i, o, f"outputs[{i}].expression") for i, o in enumerate(spec.outputs)]
        self.states = {i: _state_like(v, spec.outputs[i]) for i, v in p.initials.items()}
        self.until = p.exprs.get("until")
        # Each step's operations against the budget (reset per step: temporaries are freed;
        # the run's total was estimated from the dry run, see .cost).
        self.meter = budget.Meter(p.meter.limit if p.meter is not None else None,
                                  p.meter.cancel if p.meter is not None else None)

    def __call__(self, *args):
        self.meter.used = self.meter.work = 0
        env = dict(zip(self.names, args))
        for plain, tap in self.aliases.items():
            env[plain] = env[tap]
        for name, path in self.variables:
            env[name] = self._eval(path, env)
        outs = [self._output(i, o, path, env) for i, o, path in self.outputs]
        self.step += 1
        if self.progress is not None and self.progress(self.step):
            raise Cancelled(f"cancelled after {self.step} steps")
        if self.until is None:
            return outs
        after = {**env, **{o.name: v for (_, o, _), v in zip(self.outputs, outs)}}
        cond = self._eval("until", after)
        if cond.numel() != 1:
            raise ConfigError(FieldProblem("until", f"gives shape {tuple(cond.shape)}; it must give one "
                                           "true/false value (reduce it, e.g. max(...) > 0)"))
        return [*outs, until(cond.reshape(()))]

    def _output(self, i, o, path, env) -> torch.Tensor:
        value = self._eval(path, env)
        if i in self.states:
            shape, dtype = self.states[i]
            if value.shape != shape:
                raise ConfigError(FieldProblem(path, f"'{o.name}' is {tuple(value.shape)} at step {self.step} "
                                               f"but its initial value is {tuple(shape)}; each step must keep "
                                               "the shape of the state. Check the expression or the initial value."))
            if value.dtype != dtype:
                value = value.to(dtype)
        return value

    def _eval(self, path: str, env: dict) -> torch.Tensor:
        try:
            return self.p.exprs[path](env, self.p.ctx)
        except ExpressionError as exc:
            raise ConfigError(FieldProblem(path, f"{exc.message} (at step {self.step})", exc.column)) from None


def _state_like(initial: torch.Tensor, o) -> tuple:
    """(shape, dtype) of one state: the initial value itself, or one of its rows."""
    one = initial if tuple(o.taps) == (-1,) else initial[0]
    return one.shape, one.dtype


def _dry_run(p: _Prepared) -> None:
    """Run step 0 alone so shape errors point at their field before a long run."""
    stepper = _Stepper(p)
    args = []
    n_full = [sequence_taps(d.shape[0], s.taps) for d, s in zip(p.sequences, p.spec.sequences)]
    if any(plan.n_full <= 0 for plan in n_full):
        return  # zero steps: nothing to try
    for data, s, plan in zip(p.sequences, p.spec.sequences, n_full):
        args += [data[plan.index(j, 0, p.spec.go_backwards)] for j in range(len(s.taps))]
    for i, o in enumerate(p.spec.outputs):
        if o.initial is None:
            continue
        init = p.initials[i]
        if tuple(o.taps) == (-1,):
            args.append(init)
        else:
            window = output_taps(o.taps)
            args += [init[pos] for pos in window.positions]
    args += [p.values[n.name] for n in p.spec.non_sequences]
    with torch.no_grad(), budget.metering(meter=stepper.meter):
        outs = stepper(*args)
    lengths = {s.name: int(d.shape[0]) for s, d in zip(p.spec.sequences, p.sequences)}
    steps = step_count(p.spec, lengths) or 0
    problems = run_problems(p.spec, steps, p.sequences, outs[:len(p.spec.outputs)], stepper.meter, p.meter)
    if problems:
        raise ConfigError(problems)


def _result(p: _Prepared, outputs: dict) -> torch.Tensor | None:
    expr = p.exprs.get("result")
    if expr is None:
        return next(iter(outputs.values()), None)
    env = {**{n.name: p.values[n.name] for n in p.spec.non_sequences}, **outputs}
    try:
        return expr(env, p.ctx)
    except ExpressionError as exc:
        raise ConfigError(FieldProblem("result", exc.message, exc.column)) from None


def to_jsonable(value):
    """Tensors as nested lists of Python numbers (what the CLI prints)."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().tolist()
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    return value


__all__ = ["Cancelled", "ScanRun", "check", "check_lengths", "run_spec", "to_jsonable"]
