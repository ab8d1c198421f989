"""A compiled expression, and the two ways to make one: ``compile_expression`` and ``evaluate``."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import torch

from .. import budget
from .compile import build
from .context import EvalContext
from .errors import ExpressionError
from .parse import parse
from .table import FUNCTIONS
from .values import MAX_ELEMENTS, Tensor, to_tensor

__all__ = ["Expression", "compile_expression", "evaluate"]

_EMPTY: Mapping[str, Any] = {}


class Expression:
    """A checked, compiled expression; call it with values for its names.

    Attributes:
        text: the text it was compiled from.
        names: the variable names it reads.
        functions: the table functions it calls.
        costs: what its operations with static shapes create (:class:`~.static.Cost`).
        shape: the result's shape when known without evaluating (``zeros(3, 4)``), else None.
    """

    __slots__ = ("text", "names", "functions", "costs", "shape", "_run", "_static_elements")

    def __init__(self, text: str, run, names: frozenset[str], functions: frozenset[str], costs=()):
        self.text = text
        self.names = names
        self.functions = functions
        self.costs = tuple(costs)
        self.shape = getattr(run, "shape", None)
        self._run = run
        self._static_elements = sum(c.elements for c in self.costs)

    def check_static(self, meter: budget.Meter, itemsize: int) -> None:
        """Charge what the static shapes say this will create; refuse (ExpressionError
        naming the sub-expression and its column) at the operation that would go over."""
        for cost in self.costs:
            if cost.elements > MAX_ELEMENTS:
                return  # one tensor over the limit: refused when it is reached, saying so
            try:
                meter.charge(cost.elements * itemsize, cost.elements + cost.work)
            except budget.OverBudget as exc:
                raise ExpressionError(f"`{cost.source}`: {exc.message}", cost.column, None, self.text) from None

    @property
    def is_random(self) -> bool:
        """True when it draws random numbers (a seeded ``ctx.generator`` reproduces them)."""
        return any(FUNCTIONS[name].random for name in self.functions)

    def __call__(self, env: Mapping[str, Any] | None = None, ctx: EvalContext | None = None) -> Tensor:
        """Evaluate with ``env`` (name -> tensor or number); always returns a tensor.

        Every allocation is charged to this thread's cost meter (:mod:`explorer.core.budget`)
        before it is made; outside a ``budget.metering()`` block each call has its own.

        Raises:
            ExpressionError: a name has no value, or an operation fails on the values
                given, or would take the total created over the budget (the message names
                the sub-expression, the shapes or the bytes).
        """
        if ctx is None:
            ctx = _default_context()
        meter = budget.active()
        if meter is None:  # a call on its own: its own meter
            meter = budget.Meter(budget.cached_bytes())
            outer = budget.enter(meter)
            try:
                self._refuse_early(meter, ctx)
                value = self._run(_EMPTY if env is None else env, ctx)
            finally:
                budget.leave(outer)
        else:
            if self._static_elements:
                self._refuse_early(meter, ctx)
            value = self._run(_EMPTY if env is None else env, ctx)
        return value if isinstance(value, Tensor) else to_tensor(value, ctx)

    def _refuse_early(self, meter: budget.Meter, ctx: EvalContext) -> None:
        # What static shapes already say, before anything is made (charged for real as it runs).
        if self._static_elements * ctx.dtype.itemsize > meter.limit - meter.used:
            self.check_static(budget.Meter(meter.limit - meter.used), ctx.dtype.itemsize)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"


_DEFAULTS: dict[torch.dtype, EvalContext] = {}


def _default_context() -> EvalContext:
    # Made once per default dtype: building a dataclass on every step costs more than the math.
    dtype = torch.get_default_dtype()
    ctx = _DEFAULTS.get(dtype)
    if ctx is None:
        ctx = _DEFAULTS[dtype] = EvalContext(dtype=dtype)
    return ctx


def compile_expression(
    text: str,
    names: Iterable[str] | None = None,
    *,
    unknown_name_hint: Callable[[str], str | None] | None = None,
) -> Expression:
    """Parse and check ``text`` once; the result is called once per step.

    Args:
        text: the expression, e.g. ``"tanh(x_tm1 @ W + y @ U + b)"``.
        names: the variable names it may read; None allows any (checked when evaluated).
        unknown_name_hint: ``hint(name) -> str | None``, advice added to the "unknown
            name" error (e.g. "x has taps [-1]; write x_tm1").

    Raises:
        ExpressionError: the text is not a valid expression (with the column at fault).
    """
    if isinstance(names, str):
        raise TypeError(f"names must be a collection of names, not the string {names!r}")
    tree, source = parse(text)
    allowed = None if names is None else frozenset(names)
    run, read, called, costs = build(tree, source, allowed, unknown_name_hint)
    return Expression(text, run, read, called, costs)


def evaluate(text: str, /, **values: Any) -> Tensor:
    """Compile ``text`` and evaluate it once with ``values``: ``evaluate("x @ W", x=x, W=W)``."""
    return compile_expression(text)(values)
