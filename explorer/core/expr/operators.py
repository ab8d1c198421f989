"""The operators: ``+ - * / // % ** @``, unary ``- + not``, comparisons, ``and``/``or``.

Each operator is a function ``(a, b, ctx) -> value`` (unary: ``(a, ctx)``). On two Python
numbers it computes in Python, with two rules so nothing can hang or raise oddly:

- integers are int64: a result that would not fit raises "does not fit in int64" (a
  power is refused from its size estimate, before computing it, so ``9**9**9`` is
  instant); write a float (``9.0**99``) to get floating point, which overflows to inf.
- division by zero gives inf or nan as torch does for floats, never ZeroDivisionError.

On tensors it is torch's operator. A Python float meeting an integer tensor becomes a
0-d tensor of ``ctx.dtype`` first, so ``arange(3) * 0.5`` has the context's float dtype.
Elementwise and matrix products check the size of the result before allocating it.

``and``, ``or`` and ``not`` are elementwise logical operations (``torch.logical_and``...)
on tensors, and Python's on numbers; both sides are always evaluated.

:func:`explain` turns a torch error into a sentence naming the operand shapes.
"""

from __future__ import annotations

import math
import operator

import torch

from .errors import Problem
from .parse import MAX_INT
from .values import NUMBERS, Tensor, broadcast_shape, charge_like, check_broadcast, check_matmul, describe
from .values import shape_text, to_tensor

__all__ = ["BINARY", "COMPARE", "UNARY", "logical_and", "logical_or", "explain"]

_INF, _NAN = math.inf, math.nan


def _fits(value: int, what: str) -> int:
    if -MAX_INT - 1 <= value <= MAX_INT:
        return value
    raise Problem(
        f"{what} = {value} does not fit in int64; write a float (e.g. 2.0 instead of 2) "
        "to compute in floating point"
    )


def _div_by_zero(a, b) -> float:
    """``a / 0`` as IEEE floats: +-inf, or nan for 0/0 (and nan/0)."""
    if a == 0 or a != a:
        return _NAN
    return math.copysign(_INF, a) * math.copysign(1.0, b)


def _add(a, b):
    r = a + b
    return _fits(r, f"{a} + {b}") if type(r) is int else r


def _sub(a, b):
    r = a - b
    return _fits(r, f"{a} - {b}") if type(r) is int else r


def _mul(a, b):
    r = a * b  # both int64 at most: the product has at most 126 bits, cheap to form
    return _fits(r, f"{a} * {b}") if type(r) is int else r


def _truediv(a, b):
    return _div_by_zero(a, b) if b == 0 else a / b


def _floordiv(a, b):
    if b == 0:
        return _div_by_zero(a, b)
    r = a // b
    return _fits(r, f"{a} // {b}") if type(r) is int else r


def _mod(a, b):
    return _NAN if b == 0 else a % b


def _pow(a, b):
    if type(a) is not float and type(b) is not float:  # ints (and bools)
        a, b = int(a), int(b)
        if b < 0:
            return _INF if a == 0 else float(a) ** b
        # Refuse from the size estimate before computing: 9 ** 387420489 would take minutes.
        if abs(a) > 1 and b * math.log2(abs(a)) >= 64:
            raise Problem(
                f"{a} ** {b} does not fit in int64; write a float (e.g. {a}.0 ** {b}) "
                "to compute in floating point"
            )
        return _fits(a**b, f"{a} ** {b}")
    a, b = float(a), float(b)
    try:
        r = a**b
    except ZeroDivisionError:  # 0.0 ** negative
        return _INF
    except OverflowError:
        odd = b.is_integer() and int(b) % 2 == 1
        return -_INF if a < 0 and odd else _INF
    return _NAN if type(r) is complex else r  # (-8.0) ** 0.5 is nan, as in torch


def _elementwise(tensor_op, number_op):
    """An operator on values: Python on two numbers, torch otherwise."""

    def apply(a, b, ctx):
        if type(a) in NUMBERS:
            if type(b) in NUMBERS:
                return number_op(a, b)
            if type(a) is float and not b.is_floating_point():
                a = torch.tensor(a, dtype=ctx.dtype, device=b.device)
            charge_like(b)
        elif type(b) in NUMBERS:
            if type(b) is float and not a.is_floating_point():
                b = torch.tensor(b, dtype=ctx.dtype, device=a.device)
            charge_like(a)
        else:
            check_broadcast(a, b)
        return tensor_op(a, b)

    return apply


def _matmul(a, b, ctx):
    if type(a) in NUMBERS and type(b) in NUMBERS:
        raise Problem("@ multiplies vectors and matrices; for numbers write *")
    a, b = to_tensor(a, ctx), to_tensor(b, ctx)
    check_matmul(a, b)
    return a @ b


BINARY = {
    "+": _elementwise(operator.add, _add),
    "-": _elementwise(operator.sub, _sub),
    "*": _elementwise(operator.mul, _mul),
    "/": _elementwise(operator.truediv, _truediv),
    "//": _elementwise(operator.floordiv, _floordiv),
    "%": _elementwise(operator.mod, _mod),
    "**": _elementwise(operator.pow, _pow),
    "@": _matmul,
}

COMPARE = {
    symbol: _elementwise(op, op)
    for symbol, op in {
        "<": operator.lt, "<=": operator.le, ">": operator.gt,
        ">=": operator.ge, "==": operator.eq, "!=": operator.ne,
    }.items()
}  # fmt: skip


def _neg(a, ctx):
    if type(a) is int or type(a) is bool:
        return _fits(-a, f"-({a})")
    return -charge_like(a) if isinstance(a, Tensor) else -a


def _not(a, ctx):
    return (not a) if type(a) in NUMBERS else torch.logical_not(charge_like(a))


UNARY = {"-": _neg, "+": lambda a, ctx: +a, "not": _not}


def _logical(torch_op, number_op):
    def apply(a, b, ctx):
        if type(a) in NUMBERS and type(b) in NUMBERS:
            return number_op(bool(a), bool(b))
        a, b = to_tensor(a, ctx), to_tensor(b, ctx)
        check_broadcast(a, b)
        return torch_op(a, b)

    return apply


logical_and = _logical(torch.logical_and, operator.and_)
logical_or = _logical(torch.logical_or, operator.or_)


_MATRIX_PRODUCTS = {"@", "matmul", "dot"}


def explain(symbol: str, operands: tuple, exc: Exception) -> str:
    """A torch error on ``a <symbol> b`` as a sentence naming the operands' shapes."""
    if isinstance(exc, Problem):
        return exc.message
    tensors = [x for x in operands if isinstance(x, Tensor)]
    if symbol in _MATRIX_PRODUCTS and len(operands) == 2:
        a, b = (tuple(x.shape) if isinstance(x, Tensor) else () for x in operands)
        if not a or not b:
            return (
                f"{symbol} needs vectors or matrices; got shapes {a} and {b} (to scale by a number write *)"
            )
        inner_a, inner_b = a[-1], b[-2] if len(b) >= 2 else b[0]
        if inner_a != inner_b:
            return (
                f"cannot multiply shapes {a} and {b} — the inner dimensions must agree "
                f"({inner_a} vs {inner_b})"
            )
    if len(tensors) >= 2 and symbol not in _MATRIX_PRODUCTS:
        if broadcast_shape(*(t.shape for t in tensors)) is None:
            shapes = " and ".join(shape_text(t) for t in tensors)
            return (
                f"shapes {shapes} cannot be broadcast together (compare them from the last "
                "dimension: each pair must be equal, or one of them 1)"
            )
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return f"{first_line} (operands: {', '.join(describe(x) for x in operands)})"
