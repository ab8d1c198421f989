"""Functions that create tensors: ``ones``, ``eye``, ``arange``... and random draws.

Everything created lands on ``ctx.device``; floats get ``ctx.dtype``. Sizes are checked
before allocating: a negative size, a fraction, more than ``MAX_ELEMENTS`` elements, or
more than the cost budget has left (:mod:`explorer.core.budget`) is refused at once. Random functions draw from ``ctx.generator`` (torch's global generator
when it is None), so a seeded generator reproduces a run.
"""

from __future__ import annotations

import math

import torch

from .errors import Problem
from .table import register
from .values import Tensor, charge_like, check_elements, floating, shape_arg, size, to_tensor, whole

__all__: list[str] = []  # everything here is reached through FUNCTIONS


@register()
def ones(ctx, *shape):
    """a tensor of ones: ones(3), ones(2, 3)"""
    return torch.ones(shape_arg(shape, "ones", ctx.dtype.itemsize), dtype=ctx.dtype, device=ctx.device)


@register()
def zeros(ctx, *shape):
    """a tensor of zeros: zeros(3), zeros(2, 3)"""
    return torch.zeros(shape_arg(shape, "zeros", ctx.dtype.itemsize), dtype=ctx.dtype, device=ctx.device)


@register()
def full(ctx, value, *shape):
    """a tensor of the given shape filled with value: full(0.5, 2, 3)"""
    dims = shape_arg(shape, "full", value.element_size() if isinstance(value, Tensor) else ctx.dtype.itemsize)
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise Problem(f"full fills with one number; got a value of shape {tuple(value.shape)}")
        return value.expand(dims).clone()  # keeps the gradient path to value
    return torch.full(dims, value, dtype=to_tensor(value, ctx).dtype, device=ctx.device)


@register()
def ones_like(ctx, x):
    """ones of the shape and dtype of x"""
    x = to_tensor(x, ctx)
    return torch.ones_like(charge_like(x, "ones_like"))


@register()
def zeros_like(ctx, x):
    """zeros of the shape and dtype of x"""
    x = to_tensor(x, ctx)
    return torch.zeros_like(charge_like(x, "zeros_like"))


@register()
def eye(ctx, n, m=None):
    """identity matrix n x n, or n x m (ones on the diagonal)"""
    rows = size(n, "the number of rows")
    cols = rows if m is None else size(m, "the number of columns")
    check_elements(rows * cols, "eye", ctx.dtype.itemsize)
    return torch.eye(rows, cols, dtype=ctx.dtype, device=ctx.device)


def _number(value, what: str) -> int | float:
    if isinstance(value, Tensor):
        if value.dim() != 0:
            raise Problem(f"{what} must be a single number; got shape {tuple(value.shape)}")
        value = value.item()
    if type(value) is bool:
        value = int(value)
    if isinstance(value, float) and not math.isfinite(value):
        raise Problem(f"{what} must be finite; got {value}")
    return value


@register(signature="arange([start,] stop[, step])")
def arange(ctx, start, stop=None, step=None):
    """evenly spaced numbers from start (default 0) up to but not including stop"""
    if stop is None:
        start, stop = 0, start
    numbers = [_number(start, "start"), _number(stop, "stop"), _number(1 if step is None else step, "step")]
    start, stop, step = numbers
    if step == 0:
        raise Problem("arange's step must not be 0")
    count = max(math.ceil((stop - start) / step), 0)
    floats = any(isinstance(n, float) for n in numbers)
    check_elements(count, "arange", ctx.dtype.itemsize if floats else 8)
    return torch.arange(start, stop, step, dtype=ctx.dtype if floats else torch.int64, device=ctx.device)


@register()
def linspace(ctx, start, stop, n):
    """n evenly spaced numbers from start to stop, both included"""
    count = size(n, "the number of points")
    check_elements(count, "linspace", ctx.dtype.itemsize)
    first, last = _number(start, "start"), _number(stop, "stop")
    return torch.linspace(first, last, count, dtype=ctx.dtype, device=ctx.device)


@register()
def onehot(ctx, i, n):
    """a vector of n zeros with a one at index i (float; integer tensors i give one row each)"""
    classes = size(n, "the number of classes n")
    index = to_tensor(i, ctx)
    if index.is_floating_point():
        index = torch.tensor(whole(index, "the index i"), device=index.device)
    elif index.dtype is torch.bool:
        raise Problem("onehot's index must be a whole number; got a bool")
    check_elements(index.numel() * classes, "onehot", ctx.dtype.itemsize)
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= classes):
        raise Problem(f"onehot index out of range: it must lie in 0..{classes - 1} for n = {classes}")
    return torch.nn.functional.one_hot(index.long(), classes).to(ctx.dtype)


# -- random -------------------------------------------------------------------------------------


@register(random=True)
def rand(ctx, *shape):
    """uniform random numbers in [0, 1): rand(3), rand(2, 3)"""
    dims = shape_arg(shape, "rand", ctx.dtype.itemsize)
    return torch.rand(dims, generator=ctx.generator, dtype=ctx.dtype, device=ctx.device)


@register(random=True)
def randn(ctx, *shape):
    """standard normal random numbers: randn(3), randn(2, 3)"""
    dims = shape_arg(shape, "randn", ctx.dtype.itemsize)
    return torch.randn(dims, generator=ctx.generator, dtype=ctx.dtype, device=ctx.device)


@register(random=True)
def randint(ctx, low, high, *shape):
    """random integers in [low, high): randint(0, 10), randint(0, 10, 3)"""
    lo, hi = whole(low, "low"), whole(high, "high")
    if hi <= lo:
        raise Problem(f"randint needs low < high; got randint({lo}, {hi}, ...)")
    dims = shape_arg(shape, "randint")
    return torch.randint(lo, hi, dims, generator=ctx.generator, dtype=torch.int64, device=ctx.device)


@register(random=True)
def bernoulli(ctx, p, like):
    """0/1 values shaped like `like`, each 1 with probability p"""
    dims = to_tensor(like, ctx).shape
    check_elements(math.prod(dims), "bernoulli", ctx.dtype.itemsize)
    if not isinstance(p, Tensor):
        chance = float(p)
        if not 0.0 <= chance <= 1.0:
            raise Problem(f"bernoulli's probability p must lie in [0, 1]; got {chance}")
        out = torch.empty(dims, dtype=ctx.dtype, device=ctx.device)
        return out.bernoulli_(chance, generator=ctx.generator)
    probs = floating(p, ctx)
    if probs.numel() and not bool(((probs >= 0) & (probs <= 1)).all()):
        raise Problem("bernoulli's probabilities p must lie in [0, 1]")
    return torch.bernoulli(probs.detach().expand(dims), generator=ctx.generator)


@register(random=True)
def categorical(ctx, p):
    """an index drawn with probabilities p (a vector; a matrix draws one index per row)"""
    probs = floating(p, ctx).detach()
    if probs.dim() not in (1, 2) or probs.shape[-1] == 0:
        raise Problem(
            "categorical takes a non-empty probability vector (or one per row); "
            f"got shape {tuple(probs.shape)}"
        )
    bad = (probs < 0) | ~torch.isfinite(probs)
    if bool(bad.any()) or bool((probs.sum(-1) <= 0).any()):
        raise Problem("categorical's probabilities must be finite, >= 0 and not all 0")
    return torch.multinomial(probs, 1, generator=ctx.generator).squeeze(-1)
