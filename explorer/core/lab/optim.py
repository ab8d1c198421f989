"""Optimizers and learning-rate schedules, by name: ``make_optimizer(params, train)``,
``SCHEDULES[name](train, step, total_steps) -> lr`` (``step`` counts from 0, like
TensorFlow's ``global_step``)."""

from __future__ import annotations

import math
import sys
from typing import Callable

import torch

from .config import TrainConfig

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "sgd": lambda params, t, **kw: torch.optim.SGD(params, lr=t.lr, momentum=t.momentum, **kw),
    # initial accumulator 0.1: TensorFlow's AdagradOptimizer default, as in source 002
    "adagrad": lambda params, t, **kw: torch.optim.Adagrad(params, lr=t.lr, initial_accumulator_value=0.1, **kw),
    "adam": lambda params, t, **kw: torch.optim.Adam(params, lr=t.lr, **kw),
    "rmsprop": lambda params, t, **kw: torch.optim.RMSprop(params, lr=t.lr, momentum=t.momentum, **kw),
}

# Device types with a fused (one-kernel) update: 3x less per-step overhead than the loop for Adam
# on a CPU (32 vs 101 us for a small RNN, measured here).
FUSED_ON = {"sgd": ("cpu", "cuda"), "adam": ("cpu", "cuda"), "adagrad": ("cpu",), "rmsprop": ()}


def _skip_dynamo_import() -> None:
    """Keep torch.optim from importing ``torch._dynamo`` (2.2 s of CPU here, paid by every
    sweep worker, ``train`` and the window's first training) for nothing.

    ``Optimizer.add_param_group``, ``zero_grad``, ``state_dict`` and ``load_state_dict`` are
    wrapped by ``torch._disable_dynamo``, whose first call imports dynamo to build a
    "not traced by torch.compile" version and caches it on the function as ``__dynamo_disable``.
    The app never compiles, so the plain function is that version: it is cached here instead.
    Only while dynamo is not imported (if something imported it, torch's own wrappers stay),
    and only for wrappers that are exactly torch's (any other torch leaves them alone: slower,
    never wrong). ``fast_step`` does the rest: it makes Adam's state itself, so the
    ``step()`` wrapper (which imports dynamo too) is never called on the fused CPU path."""
    if "torch._dynamo" in sys.modules:
        return
    for name in ("add_param_group", "zero_grad", "state_dict", "load_state_dict"):
        inner = getattr(torch.optim.Optimizer, name, None)
        fn = getattr(inner, "__wrapped__", None)
        code = getattr(inner, "__code__", None)
        if fn is None or code is None or getattr(code, "co_qualname", "") != "_disable_dynamo.<locals>.inner":
            continue
        if getattr(fn, "__dynamo_disable", None) is None:
            setattr(fn, "__dynamo_disable", fn)


_skip_dynamo_import()


def make_optimizer(params: list, train: TrainConfig) -> torch.optim.Optimizer:
    fused = params[0].device.type in FUSED_ON[train.optimizer]
    return OPTIMIZERS[train.optimizer](params, train, **({"fused": True} if fused else {}))


def _staircase(t: TrainConfig, step: int, total: int) -> float:
    return t.lr * t.decay_rate ** (step // t.decay_steps)  # tf.train.exponential_decay(staircase=True)


def _cosine(t: TrainConfig, step: int, total: int) -> float:
    return t.lr * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / max(total, 1)))


SCHEDULES: dict[str, Callable[[TrainConfig, int, int], float]] = {
    "constant": lambda t, step, total: t.lr,
    "staircase": _staircase,
    "cosine": _cosine,
}


def fast_step(optimizer: torch.optim.Optimizer) -> Callable[[], None]:
    """``optimizer.step`` for the fused Adam and the fused momentum-free SGD on a CPU: the same fused kernel
    on the optimizer's own state (so checkpoints and lr changes work as before), without
    torch.optim's per-call wrappers (profiler, dynamo guard, grouping: ~1/3 of a small
    model's step on a CPU). Anything else, and a first step (state not made yet), goes through
    ``optimizer.step()``."""
    kind = type(optimizer)
    groups = optimizer.param_groups
    simple = len(groups) == 1 and groups[0].get("fused") and not groups[0].get("maximize") \
        and not groups[0].get("weight_decay")
    on_cpu = all(p.device.type == "cpu" for g in groups for p in g["params"])  # GPU: untested here, torch's own
    if not simple or not on_cpu or kind not in (torch.optim.Adam, torch.optim.SGD):
        return optimizer.step
    group, params = groups[0], groups[0]["params"]
    if kind is torch.optim.SGD and group["momentum"]:
        return optimizer.step

    def sgd():
        if any(p.grad is None for p in params):
            return optimizer.step()
        torch._fused_sgd_(params, [p.grad for p in params], [], weight_decay=0.0, momentum=0.0,
                          lr=group["lr"], dampening=0.0, nesterov=False, maximize=False, is_first_step=False,
                          grad_scale=None, found_inf=None)

    def adam():
        state = optimizer.state
        if group["amsgrad"] or group.get("decoupled_weight_decay") or group.get("capturable") \
                or group.get("differentiable") or any(p.grad is None for p in params):
            return optimizer.step()
        for p in params:
            if not state.get(p):  # a first step: Adam's own lazy state (fused: step is a float32 tensor)
                state[p] = {"step": torch.zeros((), dtype=torch.float32, device=p.device),
                            "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                            "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format)}
        states = [state[p] for p in params]
        steps = [s["step"] for s in states]
        torch._foreach_add_(steps, 1)
        beta1, beta2 = group["betas"]
        torch._fused_adam_(params, [p.grad for p in params], [s["exp_avg"] for s in states],
                           [s["exp_avg_sq"] for s in states], [], steps, amsgrad=False, lr=group["lr"],
                           beta1=beta1, beta2=beta2, weight_decay=0.0, eps=group["eps"], maximize=False,
                           grad_scale=None, found_inf=None)

    return adam if kind is torch.optim.Adam else sgd
