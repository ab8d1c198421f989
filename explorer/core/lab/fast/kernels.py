"""numba kernels: one compiled call per layer forward and one per layer backward, around BLAS.

Every kernel works on numpy views of torch CPU tensors (no copies) in PyTorch's gate layout
and formulas (vanilla / relu: 1 gate; GRU: r, z, n; LSTM: i, f, g, o). Per time step the
forward makes one ``h @ W_hh^T`` matmul and the backward one ``d_gates @ W_hh`` matmul, with
the gate arithmetic in compiled loops between them; the input projection, the input
gradient and the weight gradients are single matmuls over all T*B rows, outside the loop.

The backward also writes ``flow[t] = |dL/dh_t|`` (the gradient-flow diagnostic) for free.
``cache=True``: compiled once per dtype and kept on disk (__pycache__ or numba's user cache).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

# Reassociation (vectorised sums) and FMA contraction; not nnan / ninf, so NaN and inf propagate
# as in torch (the trainer's non-finite check relies on it). No ZeroDivisionError checks either
# (error_model="numpy"): both let LLVM vectorise the gate loops.
FAST = {"reassoc", "contract", "nsz", "arcp"}


def exp_row(x, out, bits, n):
    """out[:n] = exp(x[:n]) on contiguous rows; compiled per dtype by the overload below."""


@overload(exp_row, jit_options={"cache": True, "error_model": "numpy", "fastmath": FAST})
def _exp_row(x, out, bits, n):
    if x.dtype == types.float32:
        return _exp_row_f32
    return _exp_row_scalar


def _exp_row_scalar(x, out, bits, n):
    for i in range(n):
        out[i] = math.exp(x[i])


def _exp_row_f32(x, out, bits, n):
    """Cephes' expf (max error ~1 ulp here, 1.2e-7 measured) without a libm call, so the loops
    vectorise: exp(x) = 2^k * p(r), r = x - k ln 2, 2^k built in the exponent bits of ``bits``."""
    for i in range(n):
        v = min(max(x[i], np.float32(-87.0)), np.float32(88.0))
        k = np.int32(v * np.float32(1.4426950408889634) + np.float32(128.5)) - np.int32(128)  # round
        kf = np.float32(k)
        r = v - kf * np.float32(0.693359375) + kf * np.float32(2.12194440e-4)
        p = np.float32(1.9875691500e-4)
        p = p * r + np.float32(1.3981999507e-3)
        p = p * r + np.float32(8.3334519073e-3)
        p = p * r + np.float32(4.1665795894e-2)
        p = p * r + np.float32(1.6666665459e-1)
        p = p * r + np.float32(5.0000001201e-1)
        out[i] = p * r * r + r + np.float32(1.0)
        bits[i] = (k + np.int32(127)) << np.int32(23)
    scale = bits.view(np.float32)
    for i in range(n):
        out[i] *= scale[i]


@njit(cache=True, error_model="numpy", fastmath=FAST, nogil=True)
def project(x, w_ih, bias, xp):
    """xp (T, B, G*H) = x (T, B, I) @ W_ih^T + bias."""
    T, B, I = x.shape
    GH = w_ih.shape[0]
    flat = xp.reshape(T * B, GH)
    np.dot(x.reshape(T * B, I), w_ih.T, flat)
    for r in range(T * B):
        for j in range(GH):
            flat[r, j] += bias[j]


@njit(cache=True, error_model="numpy", fastmath=FAST, nogil=True)
def weight_grads(x, hs, dgx, dgh, w_ih, gx, gw_ih, gw_hh, gb_ih, gb_hh):
    """Input and weight gradients as one matmul each over all T*B rows.
    dgx / dgh (T, B, G*H): dL/d(input part) and dL/d(recurrent part) of the gate pre-activations."""
    T, B, I = x.shape
    H = hs.shape[2]
    GH = dgx.shape[2]
    fx, fh = dgx.reshape(T * B, GH), dgh.reshape(T * B, GH)
    np.dot(fx.T, x.reshape(T * B, I), gw_ih)  # (G*H, I)
    np.dot(fh.T, hs[:T].reshape(T * B, H), gw_hh)  # (G*H, H): h_{t-1} rows
    np.dot(fx, w_ih, gx.reshape(T * B, I))  # (T*B, I)
    gb_ih[:] = 0.0
    gb_hh[:] = 0.0
    for r in range(T * B):
        for j in range(GH):
            gb_ih[j] += fx[r, j]
            gb_hh[j] += fh[r, j]


# -- vanilla / relu ---------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", fastmath=FAST, nogil=True)
def rnn_forward(xp, w_hh, hs, relu):
    """hs (T+1, B, H), hs[0] = h0 on entry; h_t = act(xp_t + h_{t-1} W_hh^T)."""
    one = np.ones(1, xp.dtype)[0]  # constants in the arrays' dtype (float32 stays float32)
    two, zero = one + one, one - one
    T, B, H = xp.shape
    wt = w_hh.T
    pre, e, bits = np.empty(H, xp.dtype), np.empty(H, xp.dtype), np.empty(H, np.int32)
    for t in range(T):
        np.dot(hs[t], wt, hs[t + 1])
        for b in range(B):
            h, x = hs[t + 1, b], xp[t, b]
            if relu:
                for j in range(H):
                    h[j] = max(h[j] + x[j], zero)
                continue
            for j in range(H):
                pre[j] = two * (h[j] + x[j])
            exp_row(pre, e, bits, H)
            for j in range(H):
                h[j] = one - two / (e[j] + one)  # tanh; exact at +-inf


@njit(cache=True, error_model="numpy", fastmath=FAST, nogil=True)
def rnn_backward(gy, hs, w_hh, relu, dz, dh0, flow):
    """gy (T, B, H) dL/dh_t from above; dz (T, B, H) out: dL/d(pre-activation); dh0 (B, H) out."""
    one = np.ones(1, gy.dtype)[0]  # constants in the arrays' dtype (float32 stays float32)
    zero = one - one
    T, B, H = gy.shape
    dh = gy[T - 1].copy()
    tmp = np.empty((B, H), gy.dtype)
    for t in range(T - 1, -1, -1):
        s = zero
        for b in range(B):
            g, h, d = dh[b], hs[t + 1, b], dz[t, b]
            for j in range(H):
                s += g[j] * g[j]
            if relu:
                for j in range(H):
                    d[j] = g[j] if h[j] > zero else zero
            else:
                for j in range(H):
                    d[j] = g[j] * (one - h[j] * h[j])
        flow[t] = math.sqrt(s)
        np.dot(dz[t], w_hh, tmp)  # (B, H) dL/dh_{t-1} through the recurrence
        if t > 0:
            for b in range(B):
                for j in range(H):
                    dh[b, j] = tmp[b, j] + gy[t - 1, b, j]
    dh0[:] = tmp


# -- GRU ------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", fastmath=FAST, nogil=True)
def gru_forward(xp, w_hh, b_hh, hs, acts):
    """xp (T, B, 3H) = x W_ih^T + b_ih; hs (T+1, B, H), hs[0] = h0; acts (T, B, 4H) out: r, z, n, h_n
    (h_n = h W_hn^T + b_hn, kept for the backward)."""
    one = np.ones(1, xp.dtype)[0]  # constants in the arrays' dtype (float32 stays float32)
    two = one + one
    T, B, G = xp.shape
    H = G // 3
    wt = w_hh.T
    gh = np.empty((B, G), xp.dtype)
    pre, e, bits = np.empty(2 * H, xp.dtype), np.empty(2 * H, xp.dtype), np.empty(2 * H, np.int32)
    for t in range(T):
        np.dot(hs[t], wt, gh)
        for b in range(B):
            x, g, a, h, nxt = xp[t, b], gh[b], acts[t, b], hs[t, b], hs[t + 1, b]
            for j in range(2 * H):
                pre[j] = -(x[j] + g[j] + b_hh[j])
            exp_row(pre, e, bits, 2 * H)
            for j in range(2 * H):
                a[j] = one / (one + e[j])  # r, z
            for j in range(H):
                hn = g[2 * H + j] + b_hh[2 * H + j]
                a[3 * H + j] = hn
                pre[j] = two * (x[2 * H + j] + a[j] * hn)
            exp_row(pre, e, bits, H)
            for j in range(H):
                n = one - two / (e[j] + one)  # tanh
                a[2 * H + j] = n
                nxt[j] = n + a[H + j] * (h[j] - n)


@njit(cache=True, error_model="numpy", fastmath=FAST, nogil=True)
def gru_backward(gy, hs, acts, w_hh, dgx, dgh, dh0, flow):
    """dgx (T, B, 3H) out: dL/d(x-part of r, z, n); dgh: dL/d(h-part: r, z, h_n)."""
    one = np.ones(1, gy.dtype)[0]  # constants in the arrays' dtype (float32 stays float32)
    zero = one - one
    T, B, H = gy.shape
    dh = gy[T - 1].copy()
    tmp = np.empty((B, H), gy.dtype)
    keep = np.empty((B, H), gy.dtype)
    for t in range(T - 1, -1, -1):
        s = zero
        for b in range(B):
            for j in range(H):
                g = dh[b, j]
                s += g * g
                r, z, n, hn = acts[t, b, j], acts[t, b, H + j], acts[t, b, 2 * H + j], acts[t, b, 3 * H + j]
                dan = g * (one - z) * (one - n * n)  # d(n pre-activation)
                dar = dan * hn * r * (one - r)
                daz = g * (hs[t, b, j] - n) * z * (one - z)
                dgx[t, b, j], dgx[t, b, H + j], dgx[t, b, 2 * H + j] = dar, daz, dan
                dgh[t, b, j], dgh[t, b, H + j], dgh[t, b, 2 * H + j] = dar, daz, dan * r
                keep[b, j] = g * z
        flow[t] = math.sqrt(s)
        np.dot(dgh[t], w_hh, tmp)  # (B, H)
        for b in range(B):
            for j in range(H):
                dh[b, j] = tmp[b, j] + keep[b, j] + (gy[t - 1, b, j] if t > 0 else zero)
    dh0[:] = dh


# -- LSTM -----------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", fastmath=FAST, nogil=True)
def lstm_forward(xp, w_hh, hs, cs, acts, tcs):
    """xp (T, B, 4H) = x W_ih^T + b_ih + b_hh; hs, cs (T+1, B, H) with h0, c0 at [0];
    acts (T, B, 4H) out: sigmoid(i), sigmoid(f), tanh(g), sigmoid(o); tcs (T, B, H) out: tanh(c_t)."""
    one = np.ones(1, xp.dtype)[0]  # constants in the arrays' dtype (float32 stays float32)
    two = one + one
    T, B, G = xp.shape
    H = G // 4
    wt = w_hh.T
    gates = np.empty((B, G), xp.dtype)
    pre, e, bits = np.empty(G, xp.dtype), np.empty(G, xp.dtype), np.empty(G, np.int32)
    for t in range(T):
        np.dot(hs[t], wt, gates)
        for b in range(B):
            x, g, a = xp[t, b], gates[b], acts[t, b]
            for j in range(2 * H):  # i, f: sigmoid(v) = 1 / (1 + exp(-v))
                pre[j] = -(x[j] + g[j])
            for j in range(2 * H, 3 * H):  # g: tanh(v) = 1 - 2 / (exp(2v) + 1)
                pre[j] = two * (x[j] + g[j])
            for j in range(3 * H, G):  # o
                pre[j] = -(x[j] + g[j])
            exp_row(pre, e, bits, G)
            for j in range(2 * H):
                a[j] = one / (one + e[j])
            for j in range(2 * H, 3 * H):
                a[j] = one - two / (e[j] + one)
            for j in range(3 * H, G):
                a[j] = one / (one + e[j])
            c0, c1 = cs[t, b], cs[t + 1, b]
            for j in range(H):
                c1[j] = a[H + j] * c0[j] + a[j] * a[2 * H + j]
                pre[j] = two * c1[j]
            exp_row(pre, e, bits, H)
            tc, h1 = tcs[t, b], hs[t + 1, b]
            for j in range(H):
                tc[j] = one - two / (e[j] + one)
                h1[j] = a[3 * H + j] * tc[j]


@njit(cache=True, error_model="numpy", fastmath=FAST, nogil=True)
def lstm_backward(gy, gc, cs, acts, tcs, w_hh, dg, dh0, dc0, flow):
    """gc (B, H): dL/dc_T from the final state; dg (T, B, 4H) out: dL/d(gate pre-activations)."""
    one = np.ones(1, gy.dtype)[0]  # constants in the arrays' dtype (float32 stays float32)
    zero = one - one
    T, B, H = gy.shape
    dh = gy[T - 1].copy()
    dc = gc.copy()
    tmp = np.empty((B, H), gy.dtype)
    for t in range(T - 1, -1, -1):
        s = zero
        for b in range(B):
            for j in range(H):
                gh = dh[b, j]
                s += gh * gh
                i, f, g, o = acts[t, b, j], acts[t, b, H + j], acts[t, b, 2 * H + j], acts[t, b, 3 * H + j]
                tc = tcs[t, b, j]
                dct = dc[b, j] + gh * o * (one - tc * tc)
                dg[t, b, j] = dct * g * i * (one - i)
                dg[t, b, H + j] = dct * cs[t, b, j] * f * (one - f)
                dg[t, b, 2 * H + j] = dct * i * (one - g * g)
                dg[t, b, 3 * H + j] = gh * tc * o * (one - o)
                dc[b, j] = dct * f
        flow[t] = math.sqrt(s)
        np.dot(dg[t], w_hh, tmp)  # (B, H)
        for b in range(B):
            for j in range(H):
                dh[b, j] = tmp[b, j] + (gy[t - 1, b, j] if t > 0 else zero)
    dh0[:] = dh
    dc0[:] = dc
