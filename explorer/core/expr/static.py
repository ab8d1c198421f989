"""Static shape inference: the shapes the compiler can know without evaluating anything,
and what those operations will create, so a program can be refused from sizes alone.

A closure whose result has a shape known at compile time carries it as ``run.shape``:
constructors with number arguments (``zeros(10**8)``, ``ones(3, 4)``, ``eye(5)``,
``arange(10)``...), elementwise functions and operators on known shapes (broadcast), and
matrix products of known matrices. Each such operation is recorded as a :class:`Cost`:
the elements it creates (and, for ``@``, its multiply-adds), with its place in the text.

Anything else (a name, indexing, reductions...) has no static shape; it is charged to the
budget while it evaluates (:mod:`.values`), so the static total is a lower bound that
refuses the plainly too big (``19 nested ones(10**8) + (...)``) before any memory is taken.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import Problem
from .values import broadcast_shape, dims_arg, size

__all__ = ["Cost", "ELEMENTWISE", "constructor_shape", "elementwise_shape", "matmul_shape"]

Shape = tuple[int, ...]

# Functions whose result has the shape of their one argument.
ELEMENTWISE = frozenset({
    "tanh", "sigmoid", "relu", "exp", "log", "log1p", "sqrt", "sin", "cos", "floor", "ceil",
    "round", "abs", "sign", "square", "float", "int", "cumsum", "softmax",
})  # fmt: skip


@dataclass(frozen=True)
class Cost:
    """What one operation with a static shape creates."""

    elements: int
    work: int  # multiply-adds beyond one per element (matrix products)
    column: int  # 1-based, of the sub-expression
    source: str  # the sub-expression's text


def _number(value) -> bool:
    return type(value) in (int, float, bool)


def constructor_shape(name: str, args: list) -> Shape | None:
    """The shape ``name(*args)`` creates, when every argument is a Python number."""
    if not all(_number(a) for a in args):
        return None
    try:
        if name in ("ones", "zeros", "rand", "randn"):
            return tuple(dims_arg(tuple(args)))
        if name == "full" and args:
            return tuple(dims_arg(tuple(args[1:])))
        if name == "randint" and len(args) >= 2:
            return tuple(dims_arg(tuple(args[2:])))
        if name == "eye" and args:
            rows = size(args[0])
            return (rows, size(args[1]) if len(args) > 1 else rows)
        if name == "linspace" and len(args) == 3:
            return (size(args[2]),)
        if name == "arange" and args and all(math.isfinite(a) for a in args):
            start, stop, step = (0, args[0], 1) if len(args) == 1 else (*args[:2], args[2] if len(args) > 2 else 1)
            return (max(math.ceil((stop - start) / step), 0),) if step else None
    except (Problem, OverflowError, ValueError):
        return None  # the real call says what is wrong
    return None


def elementwise_shape(operands: list) -> Shape | None:
    """The broadcast shape of operands that are known shapes or numbers."""
    shapes = [s for s in operands if s is not None and not _number(s)]
    if len(shapes) != sum(not _number(s) for s in operands):
        return None  # some operand has no static shape
    return broadcast_shape(*shapes) if shapes else None


def matmul_shape(a: Shape, b: Shape) -> tuple[Shape, int] | None:
    """``(shape, multiply-adds)`` of ``a @ b`` for two known matrices or vectors."""
    if not (1 <= len(a) <= 2 and 1 <= len(b) <= 2):
        return None
    inner_a, inner_b = a[-1], b[0]
    if inner_a != inner_b:
        return None  # torch refuses it, with a message
    shape = a[:-1] + b[1:]
    return shape, math.prod(shape) * inner_a
