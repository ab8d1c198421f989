"""The loop primitive every recurrence in Scan Explorer runs on.

``scan(step, init, xs)`` is :func:`jax.lax.scan` for torch: a Python loop whose every
operation autograd records, so backpropagation through time comes for free.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from .errors import ScanError
from .tree import leaves, paths, structure, tree_map

__all__ = ["scan"]


def scan(
    step: Callable[[Any, Any], tuple[Any, Any]],
    init: Any,
    xs: Any = None,
    *,
    length: int | None = None,
    reverse: bool = False,
    stop: Callable[[Any, Any], bool] | None = None,
) -> tuple[Any, Any]:
    """Loop ``step`` over the leading axis of ``xs``, carrying state.

    ``step(carry, x) -> (carry, y)``. ``init``, ``xs``, carries and ``y`` may be tensors or
    tuples / lists / dicts of tensors; ``y`` may be ``None``. The implementation is this
    reference loop (plus checks that name what went wrong)::

        def scan(step, init, xs, length=None, reverse=False, stop=None):
            carry, ys = init, []
            for t in (reversed(range(n)) if reverse else range(n)):   # n = len(xs) or length
                carry, y = step(carry, xs[t] if xs is not None else None)
                ys.append(y)
                if stop is not None and stop(carry, y):                 # this step is kept
                    break
            return carry, stack(ys[::-1] if reverse else ys)           # ys[i] goes with xs[i]

    Args:
        step: the loop body.
        init: the first carry.
        xs: what to loop over (leading axis = time), or ``None`` with ``length``.
        length: number of steps when ``xs`` is ``None``; must match ``xs`` otherwise.
        reverse: loop from the last element to the first; ``ys`` stay aligned with ``xs``.
        stop: ``stop(carry, y) -> bool`` checked after each step; the step that makes it
            true is the last and its ``y`` is included. (A Python bool: on a GPU this is a
            sync per step, which only loops that need a data-dependent stop pay.)

    Returns:
        ``(final_carry, ys)`` with every leaf of ``ys`` stacked over the steps taken.
    """
    n = _length(xs, length)
    x_at = _indexer(xs)
    check = _carry_checker(init)

    carry, ys = init, []
    order = range(n - 1, -1, -1) if reverse else range(n)
    for t in order:
        result = step(carry, x_at(t))
        if not isinstance(result, tuple) or len(result) != 2:
            raise ScanError(
                "step must return a pair (carry, y); it returned "
                f"{type(result).__name__}. Revise the function to end with "
                "`return carry, y` (y may be None)."
            )
        carry, y = result
        check(carry, t)
        ys.append(y)
        if stop is not None and stop(carry, y):
            break
    if reverse:
        ys.reverse()
    return carry, _stack(ys)


def _length(xs: Any, length: int | None) -> int:
    if xs is None:
        if length is None:
            raise ScanError("scan needs either xs to loop over or a length (number of steps).")
        if length < 0:
            raise ScanError(f"length must be 0 or more, got {length}.")
        return int(length)
    lens = {}
    for path, leaf in zip(paths(xs), leaves(xs)):
        if not isinstance(leaf, torch.Tensor) or leaf.dim() == 0:
            raise ScanError(
                f"xs{path if path != '(root)' else ''} must be a tensor with a leading time "
                "axis; it is a scalar. Give it at least one dimension."
            )
        lens[path] = leaf.shape[0]
    if len(set(lens.values())) > 1:
        listed = ", ".join(f"xs{p if p != '(root)' else ''}: {n}" for p, n in lens.items())
        raise ScanError(f"every input must have the same number of steps; got {listed}.")
    n = next(iter(lens.values()))
    if length is not None and length != n:
        raise ScanError(f"length={length} but xs has {n} steps; drop length or make them agree.")
    return n


def _indexer(xs: Any) -> Callable[[int], Any]:
    """``t -> xs[t]`` for every leaf, with fast paths for a tensor and a flat tuple."""
    if xs is None:
        return lambda t: None
    if isinstance(xs, torch.Tensor):
        rows = xs.unbind(0)  # views, one per step
        return rows.__getitem__
    if isinstance(xs, tuple) and all(isinstance(leaf, torch.Tensor) for leaf in xs):
        columns = [leaf.unbind(0) for leaf in xs]
        rows = list(zip(*columns))
        return rows.__getitem__
    columns = [leaf.unbind(0) for leaf in leaves(xs)]

    def at(t: int) -> Any:
        it = iter([c[t] for c in columns])
        return tree_map(lambda _: next(it), xs)

    return at


def _carry_checker(init: Any) -> Callable[[Any, int], None]:
    """A per-step check that the carry keeps its structure, shapes and dtypes (as JAX's
    lax.scan does): cheap when it does, a message naming the offending leaf when it does not."""
    struct = structure(init)
    shapes = [leaf.shape if isinstance(leaf, torch.Tensor) else None for leaf in leaves(init)]
    dtypes = [leaf.dtype if isinstance(leaf, torch.Tensor) else None for leaf in leaves(init)]
    if isinstance(init, torch.Tensor):
        shape, dtype = init.shape, init.dtype

        def check_tensor(carry: Any, t: int) -> None:
            if not isinstance(carry, torch.Tensor) or carry.shape != shape or carry.dtype != dtype:
                _explain_carry(carry, struct, shapes, init, t)

        return check_tensor

    if isinstance(init, tuple) and all(isinstance(leaf, torch.Tensor) for leaf in init):
        n = len(init)

        def check_flat(carry: Any, t: int) -> None:
            if type(carry) is not tuple or len(carry) != n:
                _explain_carry(carry, struct, shapes, init, t)
            for old, kind, leaf in zip(shapes, dtypes, carry):
                if leaf.shape != old or leaf.dtype != kind:
                    _explain_carry(carry, struct, shapes, init, t)

        return check_flat

    def check(carry: Any, t: int) -> None:
        new = leaves(carry)
        if len(new) != len(shapes) or any(
            old is not None and (not isinstance(leaf, torch.Tensor) or leaf.shape != old or leaf.dtype != kind)
            for old, kind, leaf in zip(shapes, dtypes, new)
        ):
            _explain_carry(carry, struct, shapes, init, t)

    return check


def _explain_carry(carry: Any, struct: Any, shapes: list, init: Any, t: int) -> None:
    if structure(carry) != struct:
        raise ScanError(
            f"at step {t} the step returned a carry shaped like {structure(carry)} but the "
            f"initial carry is {struct}. Revise the function so that it returns a carry "
            "with the same structure as init."
        )
    for path, old, leaf in zip(paths(init), shapes, leaves(carry)):
        new = tuple(leaf.shape) if isinstance(leaf, torch.Tensor) else None
        if old is not None and new != tuple(old):
            raise ScanError(
                f"at step {t} carry{path if path != '(root)' else ''} changed shape from "
                f"{tuple(old)} to {new}. Each step must keep the shape of the carry."
            )
        if old is not None and leaf.dtype != init_leaf_dtype(init, path):
            raise ScanError(
                f"at step {t} carry{path if path != '(root)' else ''} changed dtype from "
                f"{init_leaf_dtype(init, path)} to {leaf.dtype}. Each step must keep the dtype of the carry; "
                "revise the function (e.g. cast with .to(carry.dtype)) or start from an init of that dtype."
            )


def _stack(ys: list) -> Any:
    if not ys:
        return None
    return tree_map(lambda *vals: None if vals[0] is None else torch.stack(
        [v if isinstance(v, torch.Tensor) else torch.as_tensor(v) for v in vals]), ys[0], *ys[1:])


def init_leaf_dtype(init: Any, path: str) -> torch.dtype | None:
    for p, leaf in zip(paths(init), leaves(init)):
        if p == path:
            return leaf.dtype if isinstance(leaf, torch.Tensor) else None
    return None
