"""TensorBoard's curve smoothing (its "classic" debiased EMA), in numpy.

TensorBoard smooths a scalar series with a first-order low-pass filter started at 0 and
divided by ``1 - w**n`` so the start is not pulled towards 0:

    last = 0; n = 0
    for v in values:
        if not finite(v): out.append(v); continue    # passed through, not accumulated
        last = last * w + (1 - w) * v; n += 1
        out.append(last / (1 - w**n))                # w == 1: divided by 1
    (a constant series is returned as it is: TensorBoard #786)

That loop is the definition; :func:`smooth` computes the same numbers block by block in
closed form, so a slider can re-smooth 20 runs of 10,000 points between two frames.
"""

from __future__ import annotations

import math

import numpy as np

_MAX_GROWTH = 100.0  # ln of the largest factor w**-k one block reaches (e**100 ~ 3e43: values up to 1e260 fit)


def smooth(values, weight: float) -> np.ndarray:
    """TensorBoard's smoothing of ``values`` with ``weight`` in [0, 1] (clipped; NaN -> 0).

    Non-finite values stay where they are and do not enter the average; the result has
    the input's length, as float64.
    """
    y = np.asarray(values, dtype=np.float64)
    w = float(weight) if math.isfinite(weight) else 0.0
    w = min(max(w, 0.0), 1.0)
    if y.size == 0 or np.all(y == y[0]):  # constant: unchanged, as TensorBoard does
        return y.copy()
    out = y.copy()
    finite = np.isfinite(y)
    v = y[finite]  # the values that are averaged, in order
    if w == 0.0 or v.size == 0:
        return out
    if w == 1.0:  # the average never leaves its start
        out[finite] = 0.0
        return out
    out[finite] = _debiased_ema(v, w)
    return out


def _debiased_ema(v: np.ndarray, w: float) -> np.ndarray:
    """The EMA of the finite values ``v`` (n,), divided by 1 - w**k at the k-th value.

    In a block that starts with carry c, the k-th value (k = 1..B) is
    ``w**k * (c + (1 - w) * sum_{j<=k} w**-j v_j)``: a cumulative sum. Blocks are short
    enough that ``w**-B`` stays finite; the rounding error stays ~eps * |v| because the
    large factors cancel against ``w**k``.
    """
    n = v.size
    ema = np.empty(n)
    block = int(_MAX_GROWTH / -math.log(w))
    if block < 2:  # w below e**-50 (never a slider's value): the loop itself
        carry = 0.0
        for i, value in enumerate(v):
            carry = ema[i] = carry * w + (1.0 - w) * value
    else:
        carry = 0.0
        for start in range(0, n, block):
            chunk = v[start:start + block]
            k = np.arange(1, chunk.size + 1, dtype=np.float64)
            grow = np.exp(-k * math.log(w))  # w**-k, at most e**100
            ema[start:start + chunk.size] = (carry + (1.0 - w) * np.cumsum(chunk * grow)) / grow
            carry = ema[start + chunk.size - 1]
    count = np.arange(1, n + 1, dtype=np.float64)
    return ema / -np.expm1(count * math.log(w))  # 1 - w**k, exact for w near 1
