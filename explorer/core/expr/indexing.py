"""Indexing and slicing (``x[i]``, ``X[i, j]``, ``x[1:3]``, ``x[::-1]``, ``x[..., 0]``) and ``.T``.

Indices are whole numbers: Python ints, integer tensors (any shape: numpy's integer-array
indexing, kept as tensors so no device sync), or floats / 0-d float tensors that hold a
whole number. Fractions, bools and masks are refused. Slices follow Python, negative
steps included (torch has no negative strides, so ``x[::-1]`` is done with a flip).

Plain indices and slices make views (nothing to pay); integer-tensor indices gather a new
tensor, whose size is worked out before it is made (``ones(10, 1000)[int(zeros(10**6))]``
would be 10^9 elements) and charged to the budget, as is a flip's copy.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from .errors import Problem
from .values import Tensor, charge_like, check_elements, shape_text, whole

_SMALL = 1 << 16  # below this bound on a gather's size, the bound itself is charged

__all__ = ["index", "slice_bound", "getitem", "transpose_T", "explain_index"]


def index(value: Any) -> Any:
    """One index of a subscript: an int, or an integer tensor."""
    kind = type(value)
    if kind is int:
        return value
    if isinstance(value, Tensor) and value.dtype is not torch.bool and not value.is_floating_point():
        return value
    if kind is bool or (isinstance(value, Tensor) and value.dtype is torch.bool):
        raise Problem(
            "index must be a whole number; got a bool (masks are not supported: use where(c, x, 0))"
        )
    return whole(value, "index")


def slice_bound(value: Any, what: str) -> int | None:
    """A start, stop or step of a slice as a Python int (None: left out)."""
    if value is None or type(value) is int:
        return value
    if type(value) is bool:
        raise Problem(f"a slice {what} must be a whole number; got the bool {value}")
    return whole(value, f"a slice {what}")


def getitem(x: Tensor, key: tuple) -> Tensor:
    """``x[key]`` with numpy's rules for the parts this language allows."""
    parts = sum(part is not Ellipsis for part in key)
    if len(key) - parts > 1:
        raise Problem("an index may hold '...' only once")
    if parts > x.dim():
        dims = f"{x.dim()} dimension" + ("" if x.dim() == 1 else "s")
        raise Problem(f"too many indices: {parts} for a value of shape {shape_text(x)} ({dims})")
    if any(type(part) is slice and part.step is not None and part.step < 0 for part in key):
        charge_like(x, "the flipped copy")
        x, key = _flip_negative_steps(x, key)
    if any(isinstance(part, Tensor) for part in key):
        check_elements(_gathered(x, key), "the indexed result", x.element_size())
    return x[key]


def _gathered(x: Tensor, key: tuple) -> int:
    """Elements ``x[key]`` creates when ``key`` holds integer tensors (a gather).

    Index tensors broadcast to one shape (at most the product of their sizes), joined by
    the sizes of the axes that are sliced or not indexed; with two or more index tensors
    above a small bound, the exact shape comes from meta tensors (no memory, no data).
    """
    tensors = [p for p in key if isinstance(p, Tensor)]
    bound, dim = math.prod(p.numel() for p in tensors), 0
    for part in key:
        if part is Ellipsis:
            skipped = x.dim() - (len(key) - 1)
            bound *= math.prod(x.shape[dim:dim + skipped])
            dim += skipped
            continue
        if type(part) is slice:
            bound *= len(range(*part.indices(x.shape[dim])))
        dim += 1
    bound *= math.prod(x.shape[dim:])
    if len(tensors) == 1 or bound <= _SMALL:
        return bound
    meta = torch.empty(x.shape, dtype=x.dtype, device="meta")
    parts = tuple(torch.empty(p.shape, dtype=p.dtype, device="meta") if isinstance(p, Tensor) else p
                  for p in key)
    try:
        return meta[parts].numel()
    except (IndexError, RuntimeError, TypeError, ValueError):
        return 0  # torch refuses the real index too, with its message


def _flip_negative_steps(x: Tensor, key: tuple) -> tuple[Tensor, tuple]:
    # A slice with step -k over axis d of size n picks indices r = range(start, stop, -k).
    # Flip axis d (index i moves to n-1-i) and the same elements form a positive slice.
    out, dim = [], 0
    for part in key:
        if part is Ellipsis:
            dim += x.dim() - (len(key) - 1)
            out.append(part)
            continue
        if type(part) is slice and part.step is not None and part.step < 0:
            n = x.shape[dim]
            picked = range(*part.indices(n))
            x = x.flip(dim)
            part = slice(n - 1 - picked[0], n - picked[-1], -part.step) if picked else slice(0, 0)
        out.append(part)
        dim += 1
    return x, tuple(out)


def transpose_T(x: Any) -> Any:
    """``x.T``: unchanged for numbers and vectors, the transpose of a matrix."""
    if not isinstance(x, Tensor) or x.dim() < 2:
        return x
    if x.dim() == 2:
        return x.T
    raise Problem(
        f".T is defined for up to 2 dimensions; got shape {shape_text(x)}: write transpose(x) "
        "to reverse all axes, or transpose(x, -2, -1) to swap the last two"
    )


def explain_index(x: Any, exc: Exception) -> str:
    """An indexing error as a sentence naming the shape that was indexed."""
    if isinstance(exc, Problem):
        return exc.message
    first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    if isinstance(x, Tensor):
        return f"{first_line} (the value indexed has shape {shape_text(x)})"
    return first_line
