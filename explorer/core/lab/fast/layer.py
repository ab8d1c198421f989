"""The ``numba`` backend's layers: each cell's layer as one autograd node over compiled kernels.

``run_layer(cell, x, state, weights, flow)`` -> (hs (T, B, H), final state). The forward and
the backward are one compiled call each (:mod:`.kernels`); ``flow`` (T,) is filled by the
backward with |dL/dh_t| per step, the gradient-flow diagnostic, at no extra cost. CPU only.
"""

from __future__ import annotations

import numpy as np
import torch

from . import kernels as K
from .blas import match_torch_threads


def _np(t: torch.Tensor):
    return t.detach().numpy()  # a view: kernels write into torch-owned memory


def _c(t: torch.Tensor) -> torch.Tensor:
    return t.detach().contiguous()


# -- one layer on numpy arrays: what the autograd nodes below and the fused step (.step) both run --
def forward(cell: str, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
    """x (T, B, I), h0 / c0 (B, H) (c0 LSTM only, else None), weights in PyTorch's layout ->
    (hs (T+1, B, H) with h0 first, acts, cs (T+1, B, H), tcs (T, B, H)); None where the cell has none."""
    T, B, _ = x.shape
    G, H = w_hh.shape
    dt = x.dtype
    xp = np.empty((T, B, G), dt)  # (T, B, G*H) input projections
    hs = np.empty((T + 1, B, H), dt)
    hs[0] = h0
    acts = cs = tcs = None
    if cell == "gru":  # b_hh sits inside r * (W_hn h + b_hn)
        acts = np.empty((T, B, 4 * H), dt)  # r, z, n, h_n
        K.project(x, w_ih, b_ih, xp)
        K.gru_forward(xp, w_hh, b_hh, hs, acts)
    elif cell == "lstm":
        acts, cs, tcs = np.empty((T, B, 4 * H), dt), np.empty((T + 1, B, H), dt), np.empty((T, B, H), dt)
        cs[0] = c0
        K.project(x, w_ih, b_ih + b_hh, xp)
        K.lstm_forward(xp, w_hh, hs, cs, acts, tcs)
    else:
        K.project(x, w_ih, b_ih + b_hh, xp)
        K.rnn_forward(xp, w_hh, hs, cell == "relu")
    return hs, acts, cs, tcs


def backward(cell: str, gy, gc, x, saved, w_ih, w_hh, flow, grads):
    """gy (T, B, H) dL/dh_t from above, gc (B, H) dL/dc_T (LSTM only), ``saved`` what :func:`forward`
    returned; fills ``grads`` (dW_ih, dW_hh, db_ih, db_hh) and ``flow`` (T,) |dL/dh_t|
    -> (dx (T, B, I), dh0 (B, H), dc0 (B, H) or None)."""
    hs, acts, cs, tcs = saved
    T, B, H = gy.shape
    G = w_hh.shape[0]
    dt = gy.dtype
    dgx = np.empty((T, B, G), dt)  # dL/d(gate pre-activations): input part
    dgh, dh0, dc0 = dgx, np.empty((B, H), dt), None  # recurrent part: the same but for the GRU
    if cell == "gru":
        dgh = np.empty((T, B, G), dt)
        K.gru_backward(gy, hs, acts, w_hh, dgx, dgh, dh0, flow)
    elif cell == "lstm":
        dc0 = np.empty((B, H), dt)
        K.lstm_backward(gy, gc, cs, acts, tcs, w_hh, dgx, dh0, dc0, flow)
    else:
        K.rnn_backward(gy, hs, w_hh, cell == "relu", dgx, dh0, flow)
    dx = np.empty(x.shape, dt)
    K.weight_grads(x, hs, dgx, dgh, w_ih, dx, *grads)  # one matmul each over all T*B rows
    return dx, dh0, dc0


class _Layer(torch.autograd.Function):
    """One layer as one autograd node: (x, h0, c0, weights) -> (hs (T, B, H), c_T); c0 / c_T are
    zeros of the state's shape for cells without a cell state."""

    @staticmethod
    def forward(ctx, cell, x, h0, c0, w_ih, w_hh, b_ih, b_hh, flow):
        weights = [_c(w) for w in (w_ih, w_hh, b_ih, b_hh)]
        saved = forward(cell, _np(_c(x)), _np(_c(h0)), _np(_c(c0)), *(_np(w) for w in weights))
        ctx.cell, ctx.saved = cell, saved
        ctx.save_for_backward(_c(x), *weights[:2], flow)
        hs, _, cs, _ = saved
        T = x.shape[0]
        return torch.from_numpy(hs[1:]), torch.from_numpy(cs[T] if cs is not None else np.zeros_like(hs[T]))

    @staticmethod
    def backward(ctx, gy, gc):
        x, w_ih, w_hh, flow = ctx.saved_tensors
        grads = [torch.empty_like(w_ih), torch.empty_like(w_hh), w_ih.new_empty(w_ih.shape[0]),
                 w_ih.new_empty(w_ih.shape[0])]
        dx, dh0, dc0 = backward(ctx.cell, _np(_c(gy)), _np(_c(gc)), _np(x), ctx.saved, _np(w_ih), _np(w_hh),
                                _np(flow), [_np(g) for g in grads])
        dc0 = torch.from_numpy(dc0) if dc0 is not None else None
        return None, torch.from_numpy(dx), torch.from_numpy(dh0), dc0, *grads, None


def run_layer(cell: str, x: torch.Tensor, state, weights, flow: torch.Tensor):
    """One layer: ``x`` (T, B, I), ``state`` h0 (B, H) or (h0, c0) -> (hs (T, B, H), final state)."""
    match_torch_threads()
    h0, c0 = state if cell == "lstm" else (state, torch.zeros_like(state))
    hs, c = _Layer.apply(cell, x, h0, c0, *weights, flow)
    return hs, ((hs[-1], c) if cell == "lstm" else hs[-1])
