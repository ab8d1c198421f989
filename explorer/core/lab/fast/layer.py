"""The ``numba`` backend's layers: each cell's layer as one autograd node over compiled kernels.

``run_layer(cell, x, state, weights, flow)`` -> (hs (T, B, H), final state). The forward and
the backward are one compiled call each (:mod:`.kernels`); ``flow`` (T,) is filled by the
backward with |dL/dh_t| per step, the gradient-flow diagnostic, at no extra cost. CPU only.
"""

from __future__ import annotations

import torch

from . import kernels as K
from .blas import match_torch_threads


def _np(t: torch.Tensor):
    return t.detach().numpy()  # a view: kernels write into torch-owned memory


def _c(t: torch.Tensor) -> torch.Tensor:
    return t.detach().contiguous()


class _RNN(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, flow, relu: bool):
        x, w_ih, w_hh = _c(x), _c(w_ih), _c(w_hh)
        T, B, _ = x.shape
        H = w_hh.shape[1]
        xp = x.new_empty(T, B, H)  # (T, B, H)
        K.project(_np(x), _np(w_ih), _np(b_ih.detach() + b_hh.detach()), _np(xp))
        hs = x.new_empty(T + 1, B, H)  # (T+1, B, H): h0, then h_0 .. h_{T-1}
        hs[0] = h0
        K.rnn_forward(_np(xp), _np(w_hh), _np(hs), relu)
        ctx.save_for_backward(x, hs, w_ih, w_hh, flow)
        ctx.relu = relu
        return hs[1:]

    @staticmethod
    def backward(ctx, gy):
        x, hs, w_ih, w_hh, flow = ctx.saved_tensors
        T, B, H = gy.shape
        dz, dh0 = gy.new_empty(T, B, H), gy.new_empty(B, H)
        K.rnn_backward(_np(_c(gy)), _np(hs), _np(w_hh), ctx.relu, _np(dz), _np(dh0), _np(flow))
        g = _weight_grads(x, hs, dz, dz, w_ih, w_hh)
        return g[0], dh0, *g[1:], None, None


class _GRU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih, b_hh, flow):
        x, w_ih, w_hh = _c(x), _c(w_ih), _c(w_hh)
        T, B, _ = x.shape
        H = w_hh.shape[1]
        xp = x.new_empty(T, B, 3 * H)  # (T, B, 3H)
        K.project(_np(x), _np(w_ih), _np(b_ih.detach()), _np(xp))
        hs, acts = x.new_empty(T + 1, B, H), x.new_empty(T, B, 4 * H)  # (T+1, B, H), (T, B, 4H)
        hs[0] = h0
        K.gru_forward(_np(xp), _np(w_hh), _np(b_hh.detach()), _np(hs), _np(acts))
        ctx.save_for_backward(x, hs, acts, w_ih, w_hh, flow)
        return hs[1:]

    @staticmethod
    def backward(ctx, gy):
        x, hs, acts, w_ih, w_hh, flow = ctx.saved_tensors
        T, B, H = gy.shape
        dgx, dgh, dh0 = gy.new_empty(T, B, 3 * H), gy.new_empty(T, B, 3 * H), gy.new_empty(B, H)
        K.gru_backward(_np(_c(gy)), _np(hs), _np(acts), _np(w_hh), _np(dgx), _np(dgh), _np(dh0), _np(flow))
        g = _weight_grads(x, hs, dgx, dgh, w_ih, w_hh)
        return g[0], dh0, *g[1:], None


class _LSTM(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, h0, c0, w_ih, w_hh, b_ih, b_hh, flow):
        x, w_ih, w_hh = _c(x), _c(w_ih), _c(w_hh)
        T, B, _ = x.shape
        H = w_hh.shape[1]
        xp = x.new_empty(T, B, 4 * H)  # (T, B, 4H)
        K.project(_np(x), _np(w_ih), _np(b_ih.detach() + b_hh.detach()), _np(xp))
        hs, cs = x.new_empty(T + 1, B, H), x.new_empty(T + 1, B, H)  # (T+1, B, H) each
        acts, tcs = x.new_empty(T, B, 4 * H), x.new_empty(T, B, H)  # (T, B, 4H), (T, B, H) tanh(c_t)
        hs[0], cs[0] = h0, c0
        K.lstm_forward(_np(xp), _np(w_hh), _np(hs), _np(cs), _np(acts), _np(tcs))
        ctx.save_for_backward(x, hs, cs, acts, tcs, w_ih, w_hh, flow)
        return hs[1:], cs[T]

    @staticmethod
    def backward(ctx, gy, gc):
        x, hs, cs, acts, tcs, w_ih, w_hh, flow = ctx.saved_tensors
        T, B, H = gy.shape
        dg, dh0, dc0 = gy.new_empty(T, B, 4 * H), gy.new_empty(B, H), gy.new_empty(B, H)
        K.lstm_backward(_np(_c(gy)), _np(_c(gc)), _np(cs), _np(acts), _np(tcs), _np(w_hh), _np(dg),
                        _np(dh0), _np(dc0), _np(flow))
        g = _weight_grads(x, hs, dg, dg, w_ih, w_hh)
        return g[0], dh0, dc0, *g[1:], None


def _weight_grads(x, hs, dgx, dgh, w_ih, w_hh):
    """(dx, dW_ih, dW_hh, db_ih, db_hh), each one matmul or sum over all T*B rows."""
    gx, gw_ih, gw_hh = torch.empty_like(x), torch.empty_like(w_ih), torch.empty_like(w_hh)
    gb_ih, gb_hh = w_ih.new_empty(w_ih.shape[0]), w_ih.new_empty(w_ih.shape[0])
    K.weight_grads(_np(x), _np(hs), _np(dgx), _np(dgh), _np(w_ih), _np(gx), _np(gw_ih), _np(gw_hh),
                   _np(gb_ih), _np(gb_hh))
    return gx, gw_ih, gw_hh, gb_ih, gb_hh


def run_layer(cell: str, x: torch.Tensor, state, weights, flow: torch.Tensor):
    """One layer: ``x`` (T, B, I), ``state`` h0 (B, H) or (h0, c0) -> (hs (T, B, H), final state)."""
    match_torch_threads()
    if cell == "lstm":
        hs, c = _LSTM.apply(x, state[0], state[1], *weights, flow)
        return hs, (hs[-1], c)
    if cell == "gru":
        hs = _GRU.apply(x, state, *weights, flow)
    else:
        hs = _RNN.apply(x, state, *weights, flow, cell == "relu")
    return hs, hs[-1]
