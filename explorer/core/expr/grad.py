"""``grad(y, x)``: the gradient of a scalar sub-expression with respect to a variable.

A special form, not a table function: it needs the *name* ``x`` (to rebind it) and the
*unevaluated* ``y`` (to evaluate it again with ``x`` recording gradients). So it works
whatever the caller's grad mode (``torch.no_grad()`` included), and the gradient stays
differentiable when the caller may need that (grad mode on and some value requires grad):
Theano's Jacobian-by-scan and gradient-of-gradient both work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from .errors import Problem
from .values import Tensor, floating, shape_text

__all__ = ["grad_form"]


def grad_form(y_of: Callable, x_of: Callable, name: str, fail: Callable, failures: tuple) -> Callable:
    """The closure for ``grad(y, x)`` from the closures of ``y`` and of the name ``x``."""

    def run(env, ctx):
        x = x_of(env, ctx)
        # Keep the graph only where the caller can use it: grad mode is on (read before
        # enabling it below) and some value given requires grad. Otherwise the result
        # would hang on the private leaf made here and look differentiable for nothing.
        create_graph = torch.is_grad_enabled() and any(
            isinstance(v, Tensor) and v.requires_grad for v in env.values()
        )
        with torch.enable_grad():
            if not (isinstance(x, Tensor) and x.is_floating_point()):
                x = floating(x, ctx)
            xg = x if x.requires_grad else x.detach().requires_grad_(True)
            inner = dict(env)
            inner[name] = xg
            y = y_of(inner, ctx)
            try:
                return gradient(y, xg, create_graph)
            except failures as exc:
                raise fail(exc, (y, x)) from None

    return run


def gradient(y: Any, x: Tensor, create_graph: bool) -> Tensor:
    """dy/dx for a scalar ``y``; zeros shaped like ``x`` when ``y`` does not depend on it."""
    if isinstance(y, Tensor) and y.numel() != 1:
        raise Problem(
            f"grad needs a scalar first argument; got shape {shape_text(y)}; "
            "index it (y[i]) or sum it (sum(y))"
        )
    if not (isinstance(y, Tensor) and y.requires_grad and y.is_floating_point()):
        return torch.zeros_like(x).detach()
    (g,) = torch.autograd.grad(y.reshape(()), x, create_graph=create_graph, allow_unused=True)
    return torch.zeros_like(x).detach() if g is None else g
