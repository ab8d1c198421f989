"""A custom cell compiled and run: every problem of a :class:`~.custom_cell.CustomCell` with its
column and a dry run of step 0 (:func:`check_cell`), and :class:`CustomRNN`, the parameters of
every layer and the step that runs them on the core scan, so gradient flow, probes and
checkpoints work as for the built-in cells.
"""

from __future__ import annotations

import math
import re
from typing import Any

import torch
from torch import nn

from ..errors import ConfigError, ExplorerError, FieldProblem
from ..expr import ExpressionError, compile_expression
from ..scan import scan
from .custom_cell import MAX_PARAM_ELEMENTS, CellParam, CustomCell, step_names, structural_problems
from .custom_hoist import PER_CALL, Plan, plan_step


# -- checks ---------------------------------------------------------------------------------------
def param_shape(p: CellParam, input_size: int, hidden: int) -> tuple[int, ...]:
    """The shape ``p.shape`` gives for this layer; ExpressionError naming the size at fault."""
    dims, start = [], 0
    for term in p.shape.split(","):
        offset = start + len(term) - len(term.lstrip())  # where the size starts in the whole shape text
        start += len(term) + 1
        if not term.strip():
            raise ExpressionError("has an empty size; write sizes in I, H and whole numbers separated by "
                                  "commas, e.g. H, I", offset + 1, None, p.shape)
        try:
            value = compile_expression(term.strip(), names={"I", "H"})({"I": input_size, "H": hidden})
        except ExpressionError as exc:  # its column counted in the whole shape, as the form shows it
            raise ExpressionError(exc.message, exc.column and exc.column + offset,
                                  exc.end_column and exc.end_column + offset, p.shape) from None
        number = float(value)
        if value.numel() != 1 or not number.is_integer() or number < 1:
            raise ExpressionError(f"the size {term.strip()!r} is {number:g} here; sizes must be whole numbers >= 1",
                                  offset + 1, offset + len(term.strip()), p.shape)
        dims.append(int(number))
    if math.prod(dims) > MAX_PARAM_ELEMENTS:
        raise ExpressionError(f"shape ({', '.join(map(str, dims))}) has {math.prod(dims):,} numbers; at most "
                              f"{MAX_PARAM_ELEMENTS:,} per parameter")
    return tuple(dims)


def check_cell(cell: CustomCell, input_size: int, hidden: int, path: str = "model.custom",
               dry_run: bool = True) -> list[FieldProblem]:
    """Every problem, each on its field; with ``dry_run`` also step 0 on zero states."""
    problems = structural_problems(cell, path)
    shapes: dict[str, tuple[int, ...]] = {}
    for i, p in enumerate(cell.params):
        where = f"{path}.params[{i}]"
        if not p.shape.strip():
            continue  # structural_problems said so
        try:
            shapes[p.name] = param_shape(p, input_size, hidden)
        except ExpressionError as exc:
            problems.append(FieldProblem(f"{where}.shape", exc.message, exc.column))
            continue
        s = shapes[p.name]
        if p.init in ("identity", "orthogonal") and len(s) != 2:
            problems.append(FieldProblem(f"{where}.init", f"{p.init} needs a matrix; {p.name} has shape {s}"))
    variables = []
    for i, v in enumerate(cell.variables):
        try:
            variables.append((v.name, compile_expression(v.expression, names=step_names(cell, upto=i))))
        except ExpressionError as exc:
            problems.append(FieldProblem(f"{path}.variables[{i}].expression", exc.message, exc.column))
    compiled = []
    for i, text in enumerate(cell.expressions):
        try:
            compiled.append(compile_expression(text, names=step_names(cell)))
        except ExpressionError as exc:
            problems.append(FieldProblem(f"{path}.expressions[{i}]", exc.message, exc.column))
    if problems or not dry_run:
        return problems
    env = {"x": torch.zeros(2, input_size)}  # (B=2, I)
    env.update({f"{s}_tm1": torch.zeros(2, hidden) for s in cell.states})  # (B, H) each
    env.update({name: torch.zeros(shape) for name, shape in shapes.items()})
    for i, (name, expr) in enumerate(variables):
        try:
            env[name] = expr(env)
        except ExpressionError as exc:
            problems.append(FieldProblem(f"{path}.variables[{i}].expression",
                                         exc.message + _shapes_named(exc.message, cell, shapes), exc.column))
            return problems
    for i, (state, expr) in enumerate(zip(cell.states, compiled)):
        where = f"{path}.expressions[{i}]"
        try:
            value = expr(env)
        except ExpressionError as exc:
            problems.append(FieldProblem(where, exc.message + _shapes_named(exc.message, cell, shapes), exc.column))
            continue
        if tuple(value.shape) != (2, hidden):
            problems.append(FieldProblem(where, f"{state} came out with shape {tuple(value.shape)} at step 0 but "
                                         f"must keep the state's shape (B, H) = (2, {hidden}) with a batch of 2; "
                                         "check the parameters' shapes and the order of @"))
    return problems


def check_layers(cell: CustomCell, input_size: int, hidden: int, layers: int = 1,
                 path: str = "model.custom") -> list[FieldProblem]:
    """:func:`check_cell` for each kind of layer: the first reads the task's input (I = input_size),
    every layer above it the h of the layer below (I = H), so a shape written for one may not fit the other."""
    problems = check_cell(cell, input_size, hidden, path)
    if problems or layers < 2 or input_size == hidden:
        return problems
    return [FieldProblem(p.field, f"in layers 2 to {layers}, which read the h of the layer below (I = H = {hidden}): "
                         f"{p.message}; write that size as I, or use one layer", p.column)
            for p in check_cell(cell, hidden, hidden, path)]


def _shapes_named(message: str, cell: CustomCell, shapes: dict[str, tuple[int, ...]]) -> str:
    """The parameters the failing part of an expression names (the `...` a step error quotes),
    with the shapes their shape text gives: what to change when the shapes do not fit."""
    quoted = re.match(r"`([^`]*)`", message)
    if quoted is None:
        return ""
    named = [(i, p) for i, p in enumerate(cell.params)
             if p.name in shapes and re.search(rf"(?<![\w.]){re.escape(p.name)}(?!\w)", quoted.group(1))]
    if not named:
        return ""
    return "; " + ", ".join(f"{p.name} is {shapes[p.name]} from its shape '{p.shape}' (parameter {i + 1})"
                            for i, p in named)


# -- the module ------------------------------------------------------------------------------------
def init_param(p: CellParam, shape: tuple[int, ...], generator: torch.Generator) -> torch.Tensor:
    t = torch.empty(shape)
    if p.init == "uniform":
        t.uniform_(-p.scale, p.scale, generator=generator)
    elif p.init == "normal":
        t.normal_(0.0, p.scale, generator=generator)
    elif p.init == "zeros":
        t.zero_()
    elif p.init == "identity":
        t.copy_(torch.eye(*shape))
    else:
        nn.init.orthogonal_(t, gain=p.scale or 1.0, generator=generator)
    return t


class _Compiled:
    """A step as compiled expressions: constants (once per forward), per-time parts (once for all
    steps), then the loop's variables and state expressions (see :mod:`.custom_hoist`)."""

    def __init__(self, cell: CustomCell, plan: Plan | None):
        names = step_names(cell)
        if plan is None:  # everything in the loop, as written
            plan = Plan(variables=[(v.name, v.expression) for v in cell.variables], expressions=list(cell.expressions))
        hoisted = {n for n, _ in plan.constants} | {n for n, _ in plan.per_time}
        allowed = names | hoisted
        self.constants = [(n, compile_expression(t, names=allowed)) for n, t in plan.constants]
        self.per_time = [(n, compile_expression(t, names=allowed)) for n, t in plan.per_time]
        self.variables = [(n, compile_expression(t, names=allowed)) for n, t in plan.variables]
        self.exprs = [compile_expression(t, names=allowed) for t in plan.expressions]
        self.state_names = [f"{s}_tm1" for s in cell.states]
        self.two_states = len(cell.states) == 2

    def run(self, params: dict, x: torch.Tensor, state, kept: list | None):
        """x (T, B, I) -> (final state, hs (T, B, H)) on the core scan."""
        base = dict(params)
        for name, expr in self.constants:
            base[name] = expr(base)
        whole = dict(base, x=x)  # the per-time parts see the whole sequence (T, B, I)
        for name, expr in self.per_time:
            whole[name] = expr(whole)  # (T, B, K)
        time_names = ["x"] + [name for name, _ in self.per_time]
        xs = tuple(whole[name] for name in time_names)
        names, variables, exprs, two = self.state_names, self.variables, self.exprs, self.two_states

        env = dict(base)  # one dict for the whole loop: every step overwrites the same names

        def step(carry, xs_t):
            env.update(zip(time_names, xs_t))
            env.update(zip(names, carry if two else (carry,)))
            for name, expr in variables:
                env[name] = expr(env)
            new = tuple(e(env) for e in exprs)  # each (B, H)
            if kept is not None:
                new[0].retain_grad()  # dL/dh_t for the gradient-flow plot
                kept.append(new[0])
            return (new if two else new[0]), new[0]

        return scan(step, state, xs)


class CustomRNN(nn.Module):
    """Every layer's parameters (``layers.{k}.{name}``), and the step that runs them."""

    def __init__(self, cell: CustomCell, input_size: int, hidden: int, layers: int,
                 generator: torch.Generator | None = None):
        super().__init__()
        problems = check_layers(cell, input_size, hidden, layers)
        if problems:
            raise ConfigError(problems)
        self.cell, self.hidden = cell, hidden
        gen = generator or torch.Generator().manual_seed(0)
        self._compiled: dict = {}  # (first layer?, dtype) -> _Compiled, chosen on first use
        self.layers = nn.ModuleList()
        for k in range(layers):
            size = input_size if k == 0 else hidden
            layer = nn.Module()  # parameters registered in their listed order (ParameterDict would sort them)
            for p in cell.params:
                layer.register_parameter(p.name, nn.Parameter(init_param(p, param_shape(p, size, hidden), gen)))
            self.layers.append(layer)

    @property
    def two_states(self) -> bool:
        return len(self.cell.states) == 2

    def zero_state(self, batch: int, like: torch.Tensor) -> Any:
        h = like.new_zeros(batch, self.hidden)  # (B, H)
        return (h, h.clone()) if self.two_states else h

    def run_layer(self, k: int, x: torch.Tensor, state, kept: list | None = None):
        """x (T, B, I) -> (final state, hs (T, B, H)); the state-free parts run for all steps at once."""
        params = dict(self.layers[k].named_parameters())
        key = (k == 0, x.dtype)
        if key not in self._compiled:
            self._compiled[key] = self._choose(params, x, state)
        return self._compiled[key].run(params, x, state, kept)

    def _choose(self, params: dict, x: torch.Tensor, state) -> _Compiled:
        """The hoisted step when it gives the loop's numbers on a short probe of this layer, else the loop."""
        plain = _Compiled(self.cell, None)
        plan = plan_step({n: p.dim() for n, p in params.items()}, [(v.name, v.expression) for v in self.cell.variables],
                         list(self.cell.expressions))
        texts = [v.expression for v in self.cell.variables] + list(self.cell.expressions)
        if not (plan.constants or plan.per_time) or any(re.search(rf"\b{f}\s*\(", t) for f in PER_CALL for t in texts):
            return plain  # nothing to hoist, or random draws (the probe below would consume them)
        try:
            fast = _Compiled(self.cell, plan)
            with torch.no_grad():
                probe = torch.randn(3, 2, x.shape[-1], generator=torch.Generator().manual_seed(0), dtype=x.dtype)
                zero = self.zero_state(2, probe)
                a, b = fast.run(params, probe, zero, None)[1], plain.run(params, probe, zero, None)[1]
            if a.shape == b.shape and torch.allclose(a, b, rtol=1e-5, atol=1e-6, equal_nan=True):
                return fast
        except ExplorerError:
            pass
        return plain
