"""The numba kernels' matrix products (``fast.kernels.mm``: numpy's OpenBLAS through cblas, gemv
for one row or column) against numba's own ``np.dot`` (scipy's OpenBLAS), per shape, one thread.

Shapes are the products a training step makes: per time step (B, H) x (H, G*H) forward and
(B, G*H) x (G*H, H) backward for GRU (G = 3) at batch 1 / 16 / 64, the readout's one column,
and the weight gradient over all T*B rows. Best of 3 rounds; ratio > 1: mm is faster.

    python bench/blas_route.py          (EXPLORER_BLAS=numba: mm on the np.dot fallbacks)
"""

from __future__ import annotations

import time

import numpy as np
import torch
from numba import njit

SHAPES = (  # (M, K, N, b transposed): c (M, N) = a (M, K) @ op(b)
    (1, 256, 768, True), (16, 32, 96, True), (16, 96, 32, False), (64, 256, 768, True), (64, 768, 256, False),
    (800, 32, 1, True), (768, 3200, 256, False),
)


def main() -> None:
    from explorer.core.lab.fast import blas
    from explorer.core.lab.fast import kernels as K

    torch.set_num_threads(1)
    blas.match_torch_threads()

    @njit(nogil=True)
    def with_dot(a, b, c, n, tb):
        for _ in range(n):
            if tb:
                np.dot(a, b.T, c)
            else:
                np.dot(a, b, c)

    @njit(nogil=True)
    def with_mm(a, b, c, n, tb):
        for _ in range(n):
            K.mm(a, b, c, False, tb, 0.0)

    print(f"mm's route: {blas.register()}")
    rng = np.random.default_rng(0)
    for dt in (np.float32, np.float64):
        for M, k, N, tb in SHAPES:
            a = rng.standard_normal((M, k)).astype(dt)
            b = rng.standard_normal((N, k) if tb else (k, N)).astype(dt)
            c1, c2 = np.empty((M, N), dt), np.empty((M, N), dt)
            n = max(3, int(2e8 / (M * k * N * 2)))
            with_dot(a, b, c1, 1, tb)
            with_mm(a, b, c2, 1, tb)
            best = [1e9, 1e9]
            for _ in range(3):
                for i, fn in enumerate((with_dot, with_mm)):
                    start = time.perf_counter()
                    fn(a, b, (c1, c2)[i], n, tb)
                    best[i] = min(best[i], (time.perf_counter() - start) / n)
            ref = a.astype(np.float64) @ (b.T if tb else b).astype(np.float64)
            err = np.abs(c2 - ref).max() / np.abs(ref).max()
            print(f"{dt.__name__:8s} ({M:4d} x {k:4d}) x ({k:4d} x {N:3d}){' b^T' if tb else '    '}  "
                  f"np.dot {best[0] * 1e6:9.2f} us  mm {best[1] * 1e6:9.2f} us  np.dot / mm {best[0] / best[1]:5.2f}  "
                  f"rel. error {err:.1e}", flush=True)


if __name__ == "__main__":
    main()
