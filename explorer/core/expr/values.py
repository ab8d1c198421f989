"""What values flow through an expression, and the checks every part shares.

A value is a ``torch.Tensor`` or a Python number (``int``, ``float``, ``bool``). Numbers
stay Python numbers as long as they only meet numbers (cheap, exact, and torch treats
them as "weak" scalars that take the tensor's dtype); the result of an expression is
always made a tensor at the end.

Here: converting user values and numbers to tensors, reading whole numbers (indices,
sizes, axes), and the limits on anything an expression allocates: no tensor over
:data:`MAX_ELEMENTS`, and every allocation charged to the cost budget
(:mod:`explorer.core.budget`) before it is made, so a program is refused at the
operation that would take its total over the budget.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from ..budget import OverBudget, active
from .errors import Problem
from .parse import MAX_INT

__all__ = [
    "MAX_ELEMENTS", "NUMBERS", "Tensor", "describe", "shape_text", "from_env", "to_tensor",
    "floating", "whole", "size", "shape_arg", "check_elements", "check_broadcast",
    "check_matmul", "broadcast_shape", "axis", "literal_dtype", "list_value", "charge_like",
]  # fmt: skip

MAX_ELEMENTS = 10**8  # the most elements one created or broadcast tensor may have (400 MB of float32)

Tensor = torch.Tensor
NUMBERS = frozenset({int, float, bool})  # Python number types; tested with `type(v) in NUMBERS`


def shape_text(t: Tensor) -> str:
    """``(2, 3)``, ``(2,)`` or ``()``, as numpy prints shapes."""
    return str(tuple(t.shape))


def describe(value: Any) -> str:
    """Short description of a value for messages: ``shape (2, 3) float32`` or ``int 3``."""
    if isinstance(value, Tensor):
        return f"shape {shape_text(value)} {str(value.dtype).removeprefix('torch.')}"
    return f"{type(value).__name__} {value!r}"


def from_env(name: str, value: Any) -> Any:
    """A caller's value for ``name`` as a tensor or Python number (numpy is converted)."""
    if isinstance(value, Tensor) or type(value) in NUMBERS:
        if type(value) is int and not -MAX_INT - 1 <= value <= MAX_INT:
            raise Problem(f"the value of '{name}' ({value}) does not fit in int64")
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise Problem(f"the value of '{name}' is a numpy array of {value.dtype}; give numbers")
        try:
            return torch.from_numpy(value if value.flags.writeable else value.copy())
        except TypeError as exc:  # e.g. uint16, which torch cannot hold
            raise Problem(f"the value of '{name}' cannot become a tensor: {exc}") from None
    if isinstance(value, np.generic) and isinstance(value.item(), (int, float, bool)):
        return from_env(name, value.item())
    if isinstance(value, (int, float)):  # subclasses such as IntEnum
        return from_env(name, (int if isinstance(value, int) else float)(value))
    raise Problem(f"the value of '{name}' is a {type(value).__name__}; give a tensor or a number")


def to_tensor(value: Any, ctx) -> Tensor:
    """``value`` as a tensor: ints become int64, bools bool, floats ``ctx.dtype``."""
    if isinstance(value, Tensor):
        return value
    kind = type(value)
    dtype = torch.int64 if kind is int else torch.bool if kind is bool else ctx.dtype
    return torch.tensor(value, dtype=dtype, device=ctx.device)


def floating(value: Any, ctx) -> Tensor:
    """``value`` as a floating-point tensor (integer and bool tensors become ``ctx.dtype``)."""
    t = to_tensor(value, ctx)
    return t if t.is_floating_point() else t.to(ctx.dtype)


def whole(value: Any, what: str) -> int:
    """A Python int from an int, a whole float, or a 0-d tensor holding a whole number."""
    kind = type(value)
    if kind is int:
        return value
    if kind is float and value.is_integer():
        return int(value)
    if isinstance(value, Tensor) and value.dim() == 0 and value.dtype is not torch.bool:
        if not value.is_floating_point():
            return int(value)
        number = float(value)
        if number.is_integer():
            return int(number)
        value = number
    if kind is bool:
        raise Problem(f"{what} must be a whole number; got the bool {value}")
    got = describe(value) if isinstance(value, Tensor) else repr(value)
    raise Problem(f"{what} must be a whole number; got {got}")


def size(value: Any, what: str = "a size") -> int:
    """A whole number >= 0 (a dimension, a count)."""
    n = whole(value, what)
    if n < 0:
        raise Problem(f"{what} must not be negative; got {n}")
    return n


def dims_arg(values: tuple, convert=None) -> list[int]:
    """Sizes written ``f(2, 3)`` or ``f((2, 3))`` (a tuple literal arrives as a 1-d integer
    tensor), each passed through ``convert`` (default :func:`size`: whole and >= 0)."""
    convert = convert or size
    dims: list[int] = []
    for value in values:
        if isinstance(value, Tensor) and value.dim() == 1 and not value.is_floating_point():
            dims.extend(convert(v, "a size") for v in value.tolist())
        else:
            dims.append(convert(value, "a size"))
    return dims


def shape_arg(values: tuple, what: str, itemsize: int = 8) -> tuple[int, ...]:
    """A shape from ``f(2, 3)`` or ``f((2, 3))``, checked against the limits and charged."""
    dims = dims_arg(values)
    check_elements(math.prod(dims), what, itemsize)
    return tuple(dims)


def check_elements(count: int, what: str, itemsize: int = 8, work: int = 0) -> None:
    """Before creating ``count`` elements: refuse more than :data:`MAX_ELEMENTS` in one
    tensor, or more than the budget left; else charge them (and ``work`` multiply-adds)."""
    if count > MAX_ELEMENTS:
        raise Problem(f"{what} would have {count:,} elements; at most {MAX_ELEMENTS:,} are allowed")
    meter = active()
    if meter is not None:
        try:
            meter.charge(count * itemsize, count + work)
        except OverBudget as exc:
            raise Problem(f"{what} {exc.message}") from None


def charge_like(t: Tensor, what: str = "the result") -> Tensor:
    """Charge a result the size of ``t`` (elementwise functions, conversions); returns ``t``."""
    meter = active()
    if meter is not None:
        n = t.numel()
        try:
            meter.charge(n * t.element_size(), n)
        except OverBudget as exc:
            raise Problem(f"{what} {exc.message}") from None
    return t


def check_broadcast(*tensors: Tensor) -> None:
    """Before an elementwise result of the operands' broadcast shape: limits and charge.

    Shapes that do not broadcast are left to torch, which fails with a message.
    """
    if len(tensors) == 2:  # the common case, kept cheap (it runs on every step)
        a, b = tensors
        sa, sb = a.shape, b.shape
        if sa == sb or (len(sb) <= len(sa) and sa[len(sa) - len(sb):] == sb):
            count = a.numel()
        elif len(sa) <= len(sb) and sb[len(sb) - len(sa):] == sa:
            count = b.numel()
        else:
            count = _broadcast_count(tensors)
        size = a.element_size() if a.element_size() >= b.element_size() else b.element_size()
    else:
        count = _broadcast_count(tensors)
        size = max(t.element_size() for t in tensors)
    if count is not None:
        check_elements(count, "the result", size)


def _broadcast_count(tensors) -> int | None:
    shape = broadcast_shape(*(t.shape for t in tensors))
    return None if shape is None else math.prod(shape)


def broadcast_shape(*shapes) -> tuple[int, ...] | None:
    """numpy's broadcast of ``shapes``, or None when they do not broadcast.

    (``torch.broadcast_shapes`` does the same but its first call costs half a second.)
    """
    ndim = max(map(len, shapes))
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]  # align the last dimensions
    out: list[int] = []
    for dims in zip(*padded, strict=True):
        sizes = {d for d in dims if d != 1}
        if len(sizes) > 1:
            return None
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def check_matmul(a: Tensor, b: Tensor) -> None:
    """Before a matrix product: its size against the limits, and its multiply-adds."""
    da, db = a.dim(), b.dim()
    if not (da and db):
        return  # torch refuses it, with a message
    rows = a.shape[-2] if da >= 2 else 1
    cols = b.shape[-1] if db >= 2 else 1
    if da <= 2 and db <= 2:
        count = rows * cols
    else:
        batch = broadcast_shape(a.shape[:-2], b.shape[:-2])
        if batch is None:
            return
        count = math.prod(batch) * rows * cols
    size = a.element_size() if a.element_size() >= b.element_size() else b.element_size()
    check_elements(count, "the product", size, count * a.shape[-1])


def axis(value: Any, ndim: int, what: str = "axis") -> int:
    """A valid axis of a tensor with ``ndim`` dimensions (negative counts from the end)."""
    k = whole(value, what)
    top = max(ndim, 1)  # torch lets a 0-d tensor be reduced over axis 0 or -1
    if not -top <= k < top:
        dims = f"{ndim} dimension" + ("" if ndim == 1 else "s")
        raise Problem(f"{what} {k} is out of range for a tensor with {dims}; use 0..{top - 1} or -1..-{top}")
    return k


def literal_dtype(nested: list) -> torch.dtype | None:
    """dtype of a list literal: bool if all bools, int64 if all ints, None (= ctx.dtype) else."""
    leaves, stack = [], [nested]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        else:
            leaves.append(item)
    if leaves and all(type(v) is bool for v in leaves):
        return torch.bool
    if leaves and all(type(v) is int or type(v) is bool for v in leaves):
        return torch.int64
    return None


def list_value(values: list, ctx) -> Tensor:
    """``[a, b, c]`` evaluated: a tensor of numbers, or the elements stacked on a new axis."""
    if all(type(v) in NUMBERS for v in values):
        return torch.tensor(values, dtype=literal_dtype(values) or ctx.dtype, device=ctx.device)
    tensors = [to_tensor(v, ctx) for v in values]
    shapes = sorted({tuple(t.shape) for t in tensors})
    if len(shapes) > 1:
        raise Problem(f"the elements of a list must have one shape; got {', '.join(map(str, shapes))}")
    check_elements(sum(t.numel() for t in tensors), "the list", tensors[0].element_size())
    return torch.stack(tensors)
