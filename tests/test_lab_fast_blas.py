"""The numba kernels' matrix products (fast.kernels.mm over fast.blas): equal to numpy on every
shape and transpose the kernels use, on numpy's OpenBLAS and on the np.dot fallbacks, loaded
from numba's cache in a new process, and on the thread count torch runs on."""

import ctypes
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from explorer.core.lab import fast

pytestmark = pytest.mark.skipif(not fast.AVAILABLE, reason=f"numba backend off: {fast.why_unavailable()}")

# (M, K, N, a transposed, b transposed): c (M, N) = op(a) @ op(b); one row, one column, K = 1
CASES = [(5, 7, 3, False, False), (5, 7, 3, False, True), (5, 7, 3, True, False), (5, 7, 3, True, True),
         (1, 9, 4, False, True), (1, 9, 4, False, False), (1, 9, 4, True, False), (6, 8, 1, False, True),
         (6, 8, 1, True, False), (6, 8, 1, False, False), (4, 1, 5, False, False), (1, 1, 1, False, False),
         (64, 32, 96, False, True)]

PROGRAM = """
import sys, numpy as np
from numba import njit
from explorer.core.lab.fast import blas, kernels as K, layer
@njit
def mm(a, b, c, ta, tb, beta):
    K.mm(a, b, c, ta, tb, beta)
rng = np.random.default_rng(3)
out = {"route": np.array(blas.register())}
for i, (M, k, N, ta, tb) in enumerate(%r):
    a = rng.standard_normal((k, M) if ta else (M, k)).astype(np.float32)
    b = rng.standard_normal((N, k) if tb else (k, N)).astype(np.float32)
    c = rng.standard_normal((M, N)).astype(np.float32)
    mm(a, b, c, ta, tb, 1.0)
    out[f"mm{i}"] = c
x = rng.standard_normal((6, 3, 2)).astype(np.float32)
w_ih, w_hh = (rng.standard_normal((15, 2)) * 0.5).astype(np.float32), (rng.standard_normal((15, 5)) * 0.5).astype(np.float32)
b = np.zeros(15, np.float32)
saved = layer.forward("gru", x, np.zeros((3, 5), np.float32), None, w_ih, w_hh, b, b)
grads = [np.empty_like(w_ih), np.empty_like(w_hh), np.empty(15, np.float32), np.empty(15, np.float32)]
flow = np.zeros(6, np.float32)
dx, dh0, _ = layer.backward("gru", np.ones((6, 3, 5), np.float32), None, x, saved, w_ih, w_hh, flow, grads)
out.update(hs=saved[0], dx=dx, dh0=dh0, gw_hh=grads[1], flow=flow)
out["misses"] = np.array(sum(len(f.stats.cache_misses) for f in (K.gru_forward, K.gru_backward, K.weight_grads)))
np.savez(sys.argv[1], **out)
""" % (CASES,)


def _mm():
    from numba import njit

    from explorer.core.lab.fast import kernels as K

    @njit
    def mm(a, b, c, ta, tb, beta):
        K.mm(a, b, c, ta, tb, beta)

    return mm


@pytest.mark.parametrize("dtype, tol", [(np.float32, 1e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("beta", [0.0, 1.0])
def test_mm_equals_numpy_on_every_shape_and_transpose(dtype, tol, beta):
    mm = _mm()
    rng = np.random.default_rng(0)
    for M, k, N, ta, tb in CASES:
        a = rng.standard_normal((k, M) if ta else (M, k)).astype(dtype)
        b = rng.standard_normal((N, k) if tb else (k, N)).astype(dtype)
        c = rng.standard_normal((M, N)).astype(dtype)
        want = (a.T if ta else a) @ (b.T if tb else b) + beta * c
        mm(a, b, c, ta, tb, beta)
        np.testing.assert_allclose(c, want, rtol=tol, atol=tol * 10, err_msg=f"{(M, k, N, ta, tb)}")


def test_mm_refuses_arrays_it_cannot_hand_to_blas():
    from numba.core.errors import TypingError

    mm = _mm()
    a = np.ones((4, 6), np.float32)
    with pytest.raises(TypingError, match="C-contiguous"):
        mm(a[:, ::2], np.ones((3, 2), np.float32), np.empty((4, 2), np.float32), False, False, 0.0)
    with pytest.raises(TypingError, match="one dtype"):
        mm(a, np.ones((6, 2)), np.empty((4, 2), np.float32), False, False, 0.0)


def _run(path, **env):
    done = subprocess.run([sys.executable, "-c", PROGRAM, str(path)], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=os.getcwd(), **env), check=False)
    assert done.returncode == 0, done.stderr
    return np.load(path)


def test_the_np_dot_fallbacks_give_the_same_numbers_and_the_cache_serves_a_new_process(tmp_path):
    """EXPLORER_BLAS=numba points the kernels' symbols at the fallbacks numpy builds without
    OpenBLAS get; the same compiled kernels, loaded from numba's cache, give the same numbers."""
    first = _run(tmp_path / "first.npz")  # compiles what is not cached yet
    again = _run(tmp_path / "again.npz")
    fallback = _run(tmp_path / "fallback.npz", EXPLORER_BLAS="numba")
    assert str(fallback["route"]) == "numba-np.dot"
    assert int(again["misses"]) == 0 and int(fallback["misses"]) == 0  # nothing recompiled: loaded from the cache
    for name in first.files:
        if name not in ("route", "misses"):
            np.testing.assert_allclose(fallback[name], first[name], rtol=1e-5, atol=1e-6, err_msg=name)
            np.testing.assert_array_equal(again[name], first[name], err_msg=name)


def test_numpys_openblas_runs_on_torchs_thread_count():
    from explorer.core.lab.fast import blas

    libs = [lib for lib in blas._libs("numpy") if hasattr(lib, "scipy_openblas_get_num_threads64_")]
    if not libs or blas.register() != "numpy-openblas":
        pytest.skip("numpy here has no bundled OpenBLAS")
    get = libs[0].scipy_openblas_get_num_threads64_
    get.restype = ctypes.c_int
    before = torch.get_num_threads()
    try:
        for n in (2, 1):
            torch.set_num_threads(n)
            blas.match_torch_threads()
            assert get() == n
    finally:
        torch.set_num_threads(before)
        blas.match_torch_threads()
