"""numba kernels: one compiled call per layer forward and one per layer backward, around BLAS.

Every kernel works on numpy views of torch CPU tensors (no copies) in PyTorch's gate layout
and formulas (vanilla / relu: 1 gate; GRU: r, z, n; LSTM: i, f, g, o). Per time step the
forward makes one ``h @ W_hh^T`` matmul and the backward one ``d_gates @ W_hh`` matmul, with
the gate arithmetic in compiled loops between them; the input projection, the input
gradient and the weight gradients are single matmuls over all T*B rows, outside the loop.
Every matmul is :func:`mm` (cblas on numpy's OpenBLAS, or numba's np.dot: :mod:`.blas`); the
backward adds its recurrent product straight into dL/dh_{t-1} (beta = 1).

The backward also writes ``flow[t] = |dL/dh_t|`` (the gradient-flow diagnostic) for free.
``cache=True``: compiled once per dtype and kept on disk (__pycache__ or numba's user cache).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.core.errors import TypingError
from numba.extending import overload

from . import blas

blas.register()  # before any kernel below is compiled or loaded from the cache

# Reassociation (vectorised sums) and FMA contraction; not nnan / ninf, so NaN and inf propagate
# as in torch (the trainer's non-finite check relies on it). No ZeroDivisionError checks either
# (error_model="numpy"): both let LLVM vectorise the gate loops.
FAST = {"reassoc", "contract", "nsz", "arcp"}


def _cblas(name: str, dt, gemv: bool):
    i32, i64, p = types.int32, types.int64, types.CPointer(dt)
    if gemv:  # order, trans, M, N, alpha, A, lda, x, incx, beta, y, incy
        return types.ExternalFunction(name, types.void(i32, i32, i64, i64, dt, p, i64, p, i64, dt, p, i64))
    # order, transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc
    return types.ExternalFunction(name, types.void(i32, i32, i32, i64, i64, i64, dt, p, i64, p, i64, dt, p, i64))


_SGEMM, _DGEMM = _cblas("explorer_sgemm", types.float32, False), _cblas("explorer_dgemm", types.float64, False)
_SGEMV, _DGEMV = _cblas("explorer_sgemv", types.float32, True), _cblas("explorer_dgemv", types.float64, True)
_ROW, _N, _T = 101, 111, 112  # CblasRowMajor, CblasNoTrans, CblasTrans


def mm(a, b, c, ta, tb, beta):
    """c = op(a) @ op(b) + beta * c on C-contiguous 2-D arrays of one dtype, op = transpose where
    ``ta`` / ``tb``; a product with one row or one column goes to gemv (:mod:`.blas`)."""


@overload(mm, jit_options={"cache": True, "error_model": "numpy"})
def _mm(a, b, c, ta, tb, beta):
    if not all(isinstance(v, types.Array) and v.ndim == 2 and v.layout == "C" and v.dtype == c.dtype
               for v in (a, b, c)) or c.dtype not in (types.float32, types.float64):
        raise TypingError(f"mm takes C-contiguous 2-D float32 or float64 arrays of one dtype, not {a}, {b}, {c}")
    gemm, gemv = (_SGEMM, _SGEMV) if c.dtype == types.float32 else (_DGEMM, _DGEMV)

    def impl(a, b, c, ta, tb, beta):
        M, N = c.shape
        K = a.shape[0] if ta else a.shape[1]
        lda, ldb = a.shape[1], b.shape[1]
        if M == 1:  # c_row = op(b)^T a: a (1, K) or (K, 1), unit stride either way
            if tb:  # b (N, K)
                gemv(_ROW, _N, N, K, 1.0, b.ctypes, ldb, a.ctypes, 1, beta, c.ctypes, 1)
            else:  # b (K, N)
                gemv(_ROW, _T, K, N, 1.0, b.ctypes, ldb, a.ctypes, 1, beta, c.ctypes, 1)
        elif N == 1:  # c_col = op(a) b_col; b (K, 1) or (1, K): unit stride either way
            if ta:  # a (K, M)
                gemv(_ROW, _T, K, M, 1.0, a.ctypes, lda, b.ctypes, 1, beta, c.ctypes, 1)
            else:  # a (M, K)
                gemv(_ROW, _N, M, K, 1.0, a.ctypes, lda, b.ctypes, 1, beta, c.ctypes, 1)
        else:
            gemm(_ROW, _T if ta else _N, _T if tb else _N, M, N, K, 1.0, a.ctypes, lda, b.ctypes, ldb, beta,
                 c.ctypes, N)
    return impl


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
    vectorise: exp(x) = 2^k * p(r), r = x - k ln 2, 2^k built in the exponent bits of ``bits``.
    The clamps are comparisons a NaN fails, so NaN comes out as NaN (min / max would not vectorise)."""
    for i in range(n):
        v = x[i]
        v = np.float32(-87.0) if v < np.float32(-87.0) else v
        v = np.float32(88.0) if v > np.float32(88.0) else v
        kf = np.floor(v * np.float32(1.4426950408889634) + np.float32(0.5))  # round to nearest
        r = v - kf * np.float32(0.693359375) + kf * np.float32(2.12194440e-4)
        p = np.float32(1.9875691500e-4)
        p = p * r + np.float32(1.3981999507e-3)
        p = p * r + np.float32(8.3334519073e-3)
        p = p * r + np.float32(4.1665795894e-2)
        p = p * r + np.float32(1.6666665459e-1)
        p = p * r + np.float32(5.0000001201e-1)
        out[i] = p * r * r + r + np.float32(1.0)
        bits[i] = (np.int32(kf) + np.int32(127)) << np.int32(23)
    scale = bits.view(np.float32)
    for i in range(n):
        out[i] *= scale[i]


@njit(cache=True, error_model="numpy", fastmath=FAST, nogil=True)
def project(x, w_ih, bias, xp):
    """xp (T, B, G*H) = x (T, B, I) @ W_ih^T + bias."""
    T, B, I = x.shape
    GH = w_ih.shape[0]
    flat = xp.reshape(T * B, GH)
    mm(x.reshape(T * B, I), w_ih, flat, False, True, 0.0)
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
    mm(fx, x.reshape(T * B, I), gw_ih, True, False, 0.0)  # (G*H, I)
    mm(fh, hs[:T].reshape(T * B, H), gw_hh, True, False, 0.0)  # (G*H, H): h_{t-1} rows
    mm(fx, w_ih, gx.reshape(T * B, I), False, False, 0.0)  # (T*B, I)
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
    pre, e, bits = np.empty(H, xp.dtype), np.empty(H, xp.dtype), np.empty(H, np.int32)
    for t in range(T):
        mm(hs[t], w_hh, hs[t + 1], False, True, 0.0)
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
    dh = gy[T - 1].copy()  # dL/dh_t; then, once read, the part of dL/dh_{t-1} from above
    for t in range(T - 1, -1, -1):
        s = zero
        for b in range(B):
            g, h, d, above = dh[b], hs[t + 1, b], dz[t, b], gy[t - 1 if t > 0 else 0, b]
            for j in range(H):
                s += g[j] * g[j]
            if relu:
                for j in range(H):
                    d[j] = g[j] if h[j] > zero else zero
            else:
                for j in range(H):
                    d[j] = g[j] * (one - h[j] * h[j])
            for j in range(H):
                g[j] = above[j] if t > 0 else zero
        flow[t] = math.sqrt(s)
        mm(dz[t], w_hh, dh, False, False, one)  # += dL/dh_{t-1} through the recurrence
    dh0[:] = dh


# -- GRU ------------------------------------------------------------------------------------
@njit(cache=True, error_model="numpy", fastmath=FAST, nogil=True)
def gru_forward(xp, w_hh, b_hh, hs, acts):
    """xp (T, B, 3H) = x W_ih^T + b_ih; hs (T+1, B, H), hs[0] = h0; acts (T, B, 4H) out: r, z, n, h_n
    (h_n = h W_hn^T + b_hn, kept for the backward)."""
    one = np.ones(1, xp.dtype)[0]  # constants in the arrays' dtype (float32 stays float32)
    two = one + one
    T, B, G = xp.shape
    H = G // 3
    gh = np.empty((B, G), xp.dtype)
    pre, e, bits = np.empty(2 * H, xp.dtype), np.empty(2 * H, xp.dtype), np.empty(2 * H, np.int32)
    for t in range(T):
        mm(hs[t], w_hh, gh, False, True, 0.0)
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
    dh = gy[T - 1].copy()  # dL/dh_t; then, once read, the parts of dL/dh_{t-1} outside the matmul
    for t in range(T - 1, -1, -1):
        s = zero
        for b in range(B):  # one row at a time, one gate per loop: loops LLVM vectorises
            g, a, h, dx, dr, above = dh[b], acts[t, b], hs[t, b], dgx[t, b], dgh[t, b], gy[t - 1 if t > 0 else 0, b]
            for j in range(H):
                s += g[j] * g[j]
            for j in range(H):  # d(n pre-activation)
                n = a[2 * H + j]
                dx[2 * H + j] = g[j] * (one - a[H + j]) * (one - n * n)
            for j in range(H):  # r, and h_n's part r * d(n)
                r = a[j]
                dx[j] = dx[2 * H + j] * a[3 * H + j] * r * (one - r)
                dr[2 * H + j] = dx[2 * H + j] * r
            for j in range(H):  # z
                z = a[H + j]
                dx[H + j] = g[j] * (h[j] - a[2 * H + j]) * z * (one - z)
            for j in range(2 * H):
                dr[j] = dx[j]
            for j in range(H):  # dL/dh_{t-1} through z, plus the layer above's
                g[j] = g[j] * a[H + j] + (above[j] if t > 0 else zero)
        flow[t] = math.sqrt(s)
        mm(dgh[t], w_hh, dh, False, False, one)  # += through the gates' matmul
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
    gates = np.empty((B, G), xp.dtype)
    pre, e, bits = np.empty(G, xp.dtype), np.empty(G, xp.dtype), np.empty(G, np.int32)
    for t in range(T):
        mm(hs[t], w_hh, gates, False, True, 0.0)
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
    dh = gy[T - 1].copy()  # dL/dh_t; then, once read, the part of dL/dh_{t-1} from above
    dc = gc.copy()
    for t in range(T - 1, -1, -1):
        s = zero
        for b in range(B):
            g_, a, c, tcr, d, dcr, above = dh[b], acts[t, b], cs[t, b], tcs[t, b], dg[t, b], dc[b], \
                gy[t - 1 if t > 0 else 0, b]
            for j in range(H):
                gh = g_[j]
                s += gh * gh
                i, f, g, o = a[j], a[H + j], a[2 * H + j], a[3 * H + j]
                tc = tcr[j]
                dct = dcr[j] + gh * o * (one - tc * tc)
                d[j] = dct * g * i * (one - i)
                d[H + j] = dct * c[j] * f * (one - f)
                d[2 * H + j] = dct * i * (one - g * g)
                d[3 * H + j] = gh * tc * o * (one - o)
                dcr[j] = dct * f
            for j in range(H):
                g_[j] = above[j] if t > 0 else zero
        flow[t] = math.sqrt(s)
        mm(dg[t], w_hh, dh, False, False, one)  # += dL/dh_{t-1} through the recurrence
    dh0[:] = dh
    dc0[:] = dc
