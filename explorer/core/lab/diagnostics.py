"""Gradient norms, global-norm clipping, gradient flow through time, and the search for the
first tensor that went non-finite. Tensor-valued (no syncs) except where it says so."""

from __future__ import annotations

import numpy as np
import torch


def grad_norms(grads: list[torch.Tensor], dtype: torch.dtype | None = None) -> tuple[list[torch.Tensor], torch.Tensor]:
    """Per-tensor 2-norms and the global norm, on the device (no sync). In float32 a norm
    overflows once any entry passes ~1.8e19 (its square passes float32's 3.4e38) although
    the gradient is finite; ``dtype=torch.float64`` accumulates without overflow (the sum of
    squares of finite float32 values always fits)."""
    norms = torch._foreach_norm(grads, 2, dtype=dtype)  # P x (), what clip_grad_norm_ computes too
    return norms, torch.linalg.vector_norm(torch.stack(norms))  # (P,) -> ()


def clip_(grads: list[torch.Tensor], total: torch.Tensor, max_norm: float) -> torch.Tensor:
    """Pascanu et al.'s global-norm clipping in place, without a sync; returns (total > max_norm)."""
    coef = (max_norm / (total + 1e-6)).clamp(max=1.0).to(grads[0].dtype)  # () = min(1, max / |g|)
    torch._foreach_mul_(grads, coef)
    return total > max_norm  # () bool


def grad_flow(watched: list) -> np.ndarray:
    """(L, T) |dL/dh_t| per layer from states whose grads were retained, or from the (T,) norms
    the numba backward wrote (a sync: flow steps only)."""
    rows = []
    for layer in watched:
        if isinstance(layer, torch.Tensor):  # numba: already |dL/dh_t|, (T,)
            rows.append(layer)
            continue
        grads = [h.grad if h.grad is not None else torch.zeros_like(h) for h in layer]  # T x (B, H)
        rows.append(torch.stack(grads).flatten(1).norm(dim=1))  # (T,)
    return torch.stack(rows).cpu().numpy()  # (L, T)


def _bad(t: torch.Tensor) -> str | None:
    """'nan' / 'inf' when ``t`` holds one (NaN named first), else None (a sync)."""
    if bool(torch.isfinite(t).all()):
        return None
    return "nan" if bool(torch.isnan(t).any()) else "inf"


def first_nonfinite(model, x: torch.Tensor, state, loss: torch.Tensor | None) -> tuple[str, str] | None:
    """(what, kind) for the first non-finite tensor in computation order: parameters, inputs,
    carried state, hidden states (layer by layer, step by step), outputs, loss, then gradients
    in backward order. Re-runs the forward on the scan path to look at every state."""
    for name, p in model.named_parameters():
        if kind := _bad(p.detach()):
            return f"parameter {name}", kind
    if kind := _bad(x):
        return "the inputs", kind
    if state is not None:
        for k, s in enumerate(state):
            for part in (s if isinstance(s, tuple) else (s,)):
                if kind := _bad(part):
                    return f"the carried state of layer {k}", kind
    with torch.no_grad():
        out = model(x, state, backend="scan")
    for k, hs in enumerate(out.layer_states):  # (T, B, H) each
        finite = torch.isfinite(hs).flatten(1).all(1)  # (T,)
        if not bool(finite.all()):
            t = int((~finite).nonzero()[0, 0])
            return f"hidden state h of layer {k} at time step {t}", _bad(hs[t])
    if kind := _bad(out.outputs):
        return "the outputs", kind
    if loss is not None and (kind := _bad(loss.detach())):
        return "the loss", kind
    for name, p in reversed(list(model.named_parameters())):
        if p.grad is not None and (kind := _bad(p.grad)):
            return f"gradient of {name}", kind
    return None


def nonfinite_message(step: int, found: tuple[str, str] | None, lr: float, clip: float | None) -> str:
    what = (f"{found[0]} became {found[1]} (first non-finite tensor)" if found else
            "the loss or the global gradient norm became non-finite, though no parameter, state, output or "
            "gradient held a non-finite value when checked again")
    advice = "lower train.lr" + ("" if clip else " or turn on clipping (train.clip_norm)")
    return f"step {step}: {what}; learning rate was {lr:g}. Training stopped; {advice}."


# A finite divergence: the loss grew huge but never overflowed (Adam at lr 1e9 ends with a
# held-out loss of 4e19). Flagged when the final held-out loss is over DIVERGED_FACTOR times
# the larger of the task's loss scale (its largest reference line: the loss of predicting 0 or
# of chance) and the run's first training loss: far above both where it started and what a
# model that learned nothing scores. A run that merely fails to learn stays near both.
DIVERGED_FACTOR = 1e3


def divergence_message(final: float | None, first: float | None, references: dict[str, float],
                       lr: float | None, clip: float | None) -> str | None:
    """The message flagging a finite divergence, or None when the run did not diverge."""
    if final is None or not np.isfinite(final):
        return None
    scales = {k: v for k, v in references.items() if np.isfinite(v) and v > 0}
    scale_name, scale = max(scales.items(), key=lambda kv: kv[1]) if scales else ("", 0.0)
    start = first if first is not None and np.isfinite(first) else 0.0
    baseline = max(scale, start)
    if baseline <= 0 or final <= DIVERGED_FACTOR * baseline:
        return None
    against = (f"the task's '{scale_name}' loss ({scale:.4g})" if scale >= start else
               f"the first training loss ({start:.4g})")
    advice = "lower train.lr" + ("" if clip else " or turn on clipping (train.clip_norm)")
    return (f"diverged: the held-out loss ended at {final:.4g}, over {DIVERGED_FACTOR:g}x {against}"
            f"{f'; learning rate was {lr:g}' if lr else ''}. {advice[0].upper() + advice[1:]}.")
