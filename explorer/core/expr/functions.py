"""The computing functions: elementwise math, reductions, linear algebra and reshaping.

Semantics follow numpy where numpy and torch differ: ``max(x, axis=k)`` returns values
only, ``dot`` is numpy's dot, ``transpose(x)`` reverses all axes, ``diag`` works both ways,
``len`` is the first dimension. Functions that only make sense on floats (``tanh``,
``mean``, ``softmax``...) turn integer input into ``ctx.dtype``; ``abs``, ``sign``,
``square``, ``sum``, ``prod`` and friends keep integers integral.

Constructors and random draws are in :mod:`.constructors`; ``grad`` is a special form
compiled by :mod:`.compile` (it needs its second argument's name, not its value).
"""

from __future__ import annotations

import math

import torch

from .errors import Problem
from .operators import BINARY
from .table import FUNCTIONS, Function, register
from .values import Tensor, charge_like, check_broadcast, check_elements, dims_arg, floating, shape_text
from .values import to_tensor, whole
from .values import axis as valid_axis

__all__ = ["FUNCTIONS"]


# -- elementwise ------------------------------------------------------------------------


def _elementwise(name: str, op, doc: str, *, floats: bool = True) -> None:
    if floats:

        def impl(ctx, x):
            return op(charge_like(floating(x, ctx), name))

    else:

        def impl(ctx, x):
            return op(charge_like(to_tensor(x, ctx), name))

    impl.__doc__, impl.__name__ = doc, name
    register(name)(impl)


for _name, _op, _doc in [
    ("tanh", torch.tanh, "hyperbolic tangent, elementwise"),
    ("sigmoid", torch.sigmoid, "logistic sigmoid 1 / (1 + exp(-x)), elementwise"),
    ("relu", torch.relu, "x where x > 0, else 0, elementwise"),
    ("exp", torch.exp, "e ** x, elementwise"),
    ("log", torch.log, "natural logarithm, elementwise (log(0) = -inf)"),
    ("log1p", torch.log1p, "log(1 + x), accurate for small x"),
    ("sqrt", torch.sqrt, "square root, elementwise (nan for negative x)"),
    ("sin", torch.sin, "sine (radians), elementwise"),
    ("cos", torch.cos, "cosine (radians), elementwise"),
    ("floor", torch.floor, "largest whole number <= x, elementwise"),
    ("ceil", torch.ceil, "smallest whole number >= x, elementwise"),
    ("round", torch.round, "nearest whole number (halves to even), elementwise"),
]:
    _elementwise(_name, _op, _doc)
for _name, _op, _doc in [
    ("abs", torch.abs, "absolute value, elementwise"),
    ("sign", torch.sign, "-1, 0 or 1 by the sign of x, elementwise"),
    ("square", torch.square, "x * x, elementwise"),
]:
    _elementwise(_name, _op, _doc, floats=False)


def _tensors(ctx, *values) -> list[Tensor]:
    tensors = [to_tensor(v, ctx) for v in values]
    check_broadcast(*tensors)
    return tensors


@register()
def maximum(ctx, a, b):
    """the larger of a and b, elementwise (max(x) reduces one tensor)"""
    return torch.maximum(*_tensors(ctx, a, b))


@register()
def minimum(ctx, a, b):
    """the smaller of a and b, elementwise (min(x) reduces one tensor)"""
    return torch.minimum(*_tensors(ctx, a, b))


@register("pow")
def _pow(ctx, x, p):
    """x ** p, elementwise"""
    return BINARY["**"](x, p, ctx)


@register()
def where(ctx, cond, a, b):
    """a where cond is true, else b, elementwise"""
    cond, a, b = _tensors(ctx, cond, a, b)
    return torch.where(cond if cond.dtype is torch.bool else cond != 0, a, b)


@register()
def clip(ctx, x, lo=None, hi=None):
    """x limited to [lo, hi], elementwise; either bound may be left out: clip(x, lo=0)"""
    x = to_tensor(x, ctx)
    if isinstance(lo, Tensor) or isinstance(hi, Tensor):
        lo, hi = (None if v is None else to_tensor(v, ctx) for v in (lo, hi))
    if lo is None and hi is None:
        return x
    check_broadcast(*(v for v in (x, lo, hi) if isinstance(v, Tensor)))
    return torch.clamp(x, lo, hi)


# -- reductions --------------------------------------------------------------------------


def _flag(value, what: str) -> bool:
    if type(value) is bool:
        return value
    return bool(whole(value, what))


def _reduce(x, ax, keepdims, full, along):
    if ax is None:
        return full(x)
    return along(x, valid_axis(ax, x.dim()), _flag(keepdims, "keepdims"))


@register("sum")
def _sum(ctx, x, axis=None, keepdims=False):
    """sum of all elements, or along an axis: sum(x, axis=0)"""
    return _reduce(to_tensor(x, ctx), axis, keepdims, torch.sum, lambda t, k, kd: t.sum(k, keepdim=kd))


@register()
def mean(ctx, x, axis=None, keepdims=False):
    """mean of all elements, or along an axis: mean(x, axis=0)"""
    return _reduce(floating(x, ctx), axis, keepdims, torch.mean, lambda t, k, kd: t.mean(k, keepdim=kd))


@register()
def prod(ctx, x, axis=None, keepdims=False):
    """product of all elements, or along an axis"""
    return _reduce(to_tensor(x, ctx), axis, keepdims, torch.prod, lambda t, k, kd: t.prod(k, keepdim=kd))


_TWO_VALUES = "for the elementwise {} of two values write {}(a, b)"


@register("max", hint=_TWO_VALUES.format("larger", "maximum"))
def _max(ctx, x, *, axis=None, keepdims=False):
    """largest element, or largest along an axis: max(x, axis=1) (values, not indices)"""
    return _reduce(to_tensor(x, ctx), axis, keepdims, torch.amax, lambda t, k, kd: t.amax(k, keepdim=kd))


@register("min", hint=_TWO_VALUES.format("smaller", "minimum"))
def _min(ctx, x, *, axis=None, keepdims=False):
    """smallest element, or smallest along an axis: min(x, axis=1) (values, not indices)"""
    return _reduce(to_tensor(x, ctx), axis, keepdims, torch.amin, lambda t, k, kd: t.amin(k, keepdim=kd))


@register()
def argmax(ctx, x, axis=None):
    """index of the largest element (of the flattened x), or along an axis"""
    x = to_tensor(x, ctx)
    return torch.argmax(x) if axis is None else torch.argmax(x, _axis(axis, x))


@register()
def argmin(ctx, x, axis=None):
    """index of the smallest element (of the flattened x), or along an axis"""
    x = to_tensor(x, ctx)
    return torch.argmin(x) if axis is None else torch.argmin(x, _axis(axis, x))


@register()
def norm(ctx, x, axis=None):
    """Euclidean (L2) norm of all elements, or along an axis"""
    x = floating(x, ctx)
    return torch.linalg.vector_norm(x) if axis is None else torch.linalg.vector_norm(x, dim=_axis(axis, x))


@register()
def cumsum(ctx, x, axis=0):
    """running sum along an axis (default the first)"""
    x = charge_like(to_tensor(x, ctx), "cumsum")
    return torch.cumsum(x, _axis(axis, x))


@register()
def softmax(ctx, x, axis=-1):
    """exp(x) / sum(exp(x)) along an axis (default the last)"""
    x = charge_like(floating(x, ctx), "softmax")
    return torch.softmax(x, _axis(axis, x))


def _axis(value, x: Tensor) -> int:
    return valid_axis(value, x.dim())


# -- linear algebra ------------------------------------------------------------------------


@register()
def matmul(ctx, a, b):
    """matrix product a @ b (vectors and batches as in numpy's matmul)"""
    return BINARY["@"](a, b, ctx)


@register()
def dot(ctx, a, b):
    """numpy's dot: inner product of vectors, matrix product of matrices"""
    a, b = to_tensor(a, ctx), to_tensor(b, ctx)
    if a.dim() == 0 or b.dim() == 0:
        return BINARY["*"](a, b, ctx)
    if a.dim() <= 2 and b.dim() <= 2:
        return BINARY["@"](a, b, ctx)
    if a.shape[-1] != b.shape[max(b.dim() - 2, 0)]:
        raise Problem(
            f"cannot take dot of shapes {shape_text(a)} and {shape_text(b)} — the last axis of a "
            "must match the second-to-last of b"
        )
    count = math.prod(a.shape[:-1]) * (b.numel() // max(b.shape[-2], 1))
    check_elements(count, "the product", max(a.element_size(), b.element_size()), count * a.shape[-1])
    return torch.tensordot(a, b, dims=([a.dim() - 1], [b.dim() - 2]))


@register()
def outer(ctx, a, b):
    """outer product: outer(a, b)[i, j] = a[i] * b[j] (inputs are flattened)"""
    a, b = to_tensor(a, ctx).reshape(-1), to_tensor(b, ctx).reshape(-1)
    check_elements(a.numel() * b.numel(), "the outer product", max(a.element_size(), b.element_size()))
    return torch.outer(a, b)


@register()
def transpose(ctx, x, axis0=None, axis1=None):
    """x with all axes reversed, or with two axes swapped: transpose(x, 0, 1)"""
    x = to_tensor(x, ctx)
    if axis0 is None and axis1 is None:
        return x.permute(*reversed(range(x.dim())))
    if axis0 is None or axis1 is None:
        raise Problem("transpose swaps two axes: give both, transpose(x, 0, 1), or none")
    return x.transpose(_axis(axis0, x), _axis(axis1, x))


@register()
def diag(ctx, v, k=0):
    """vector -> matrix with v on diagonal k; matrix -> its diagonal k (as numpy.diag)"""
    v, k = to_tensor(v, ctx), whole(k, "the diagonal offset k")
    if v.dim() == 1:
        check_elements((v.numel() + abs(k)) ** 2, "the diagonal matrix", v.element_size())
    elif v.dim() != 2:
        raise Problem(f"diag takes a vector or a matrix; got shape {shape_text(v)}")
    return torch.diag(v, k)


# -- shapes ------------------------------------------------------------------------------------


@register()
def reshape(ctx, x, *shape):
    """x with a new shape of the same size; one size may be -1: reshape(x, 2, -1)"""
    x = to_tensor(x, ctx)
    dims = dims_arg(shape, whole)  # whole, not size: one of them may be -1
    known = math.prod(d for d in dims if d != -1)
    wild = dims.count(-1)
    if wild > 1 or any(d < -1 for d in dims) or (wild == 0 and known != x.numel()) or (
        wild == 1 and (known == 0 or x.numel() % known)
    ):
        raise Problem(
            f"cannot reshape shape {shape_text(x)} ({x.numel()} elements) into {tuple(dims)}; "
            "the sizes must multiply to the same count (at most one may be -1)"
        )
    if not x.is_contiguous():  # reshape copies
        charge_like(x, "reshape")
    return x.reshape(dims)


@register("len")
def _len(ctx, x):
    """the size of the first dimension (an int)"""
    if not isinstance(x, Tensor) or x.dim() == 0:
        raise Problem("len() needs a value with at least one dimension; got a single number")
    return int(x.shape[0])


def _joined(ctx, values, what: str) -> list[Tensor]:
    tensors = [to_tensor(v, ctx) for v in values]
    if not tensors:
        raise Problem(f"{what} needs at least one value: {what}(a, b, ...)")
    check_elements(sum(t.numel() for t in tensors), f"the {what}ed result", max(t.element_size() for t in tensors))
    return tensors


@register(min_args=1)
def stack(ctx, *values, axis=0):
    """equal-shaped values stacked along a new axis: stack(a, b, c)"""
    tensors = _joined(ctx, values, "stack")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise Problem(f"stack needs values of one shape; got {', '.join(map(str, sorted(shapes)))}")
    return torch.stack(tensors, valid_axis(axis, tensors[0].dim() + 1))


@register(min_args=1)
def concat(ctx, *values, axis=0):
    """values joined along an existing axis: concat(a, b)"""
    tensors = _joined(ctx, values, "concat")
    if any(t.dim() == 0 for t in tensors):
        raise Problem("concat joins along an existing axis; a single number has none (use stack)")
    return torch.cat(tensors, _axis(axis, tensors[0]))


@register("float")
def _float(ctx, x):
    """x as floating point (the context's float dtype)"""
    x = to_tensor(x, ctx)
    if x.dtype != ctx.dtype:
        check_elements(x.numel(), "float", ctx.dtype.itemsize)
    return x.to(ctx.dtype)


@register("int")
def _int(ctx, x):
    """x as int64, rounding toward zero"""
    x = to_tensor(x, ctx)
    if x.dtype != torch.int64:
        check_elements(x.numel(), "int", 8)
    return x.to(torch.int64)


FUNCTIONS["grad"] = Function(
    name="grad",
    signature="grad(y, x)",
    doc="gradient of the scalar y with respect to the variable named x (same shape as x)",
    impl=None,  # compiled as a special form: see compile._grad
    min_args=2,
    max_args=2,
    keywords=frozenset(),
)
