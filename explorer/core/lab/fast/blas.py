"""The BLAS behind the kernels' matrix products, and its thread count.

**Which BLAS.** The kernels call ``mm`` (:mod:`.kernels`), which calls four C symbols of our
own: ``explorer_sgemm`` / ``explorer_dgemm`` (row-major ``cblas_?gemm``, 64-bit ints) and
``explorer_sgemv`` / ``explorer_dgemv``. :func:`register` points them, once per process and
before any kernel is loaded, at numpy's bundled OpenBLAS (``scipy_cblas_sgemm64_`` ...): on
this project's CPUs it runs the per-step (64x256)(256x768) product ~20% faster than scipy's
OpenBLAS, which numba's own ``np.dot`` calls, and it skips ``np.dot``'s checks on every small
product (bench/blas_route.py). Where numpy has no such library (macOS's Accelerate, a conda
MKL build), the symbols point at small compiled fallbacks that call numba's ``np.dot``.
The compiled kernels name the symbols, not an address, so numba's on-disk cache stays valid
across processes whichever library the symbols resolve to.

**Threads.** OpenBLAS starts one thread per core by default; on a small recurrent model those
threads only fight each other and torch (measured here: batch-64 GRU steps 10x slower with the
default). ``match_torch_threads()`` sets both OpenBLAS libraries to ``torch.get_num_threads()``;
another BLAS is left alone (then set OPENBLAS_NUM_THREADS / MKL_NUM_THREADS).
"""

from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

_setters = None  # the libraries' set_num_threads, once found
_threads = None  # the count last set
_route = None  # 'numpy-openblas' or 'numba-np.dot', once registered

SYMBOLS = ("explorer_sgemm", "explorer_dgemm", "explorer_sgemv", "explorer_dgemv")


def _libs(package: str, pattern: str = "*openblas*.so*") -> list[ctypes.CDLL]:
    """The shared libraries bundled in a wheel's ``<package>.libs`` folder (already loaded)."""
    try:
        module = __import__(package)
    except ImportError:
        return []
    folder = os.path.join(os.path.dirname(os.path.dirname(module.__file__)), f"{package}.libs")
    out = []
    for path in sorted(glob.glob(os.path.join(folder, pattern))):
        try:
            out.append(ctypes.CDLL(path))  # the handle the package already holds
        except OSError:
            continue
    return out


def _numpy_openblas() -> dict[str, int] | None:
    """Our symbol -> address in numpy's ILP64 OpenBLAS, or None where numpy has none."""
    for lib in _libs("numpy"):
        for prefix, suffix in (("scipy_cblas_", "64_"), ("cblas_", "64_")):
            names = {s: f"{prefix}{s.split('_')[1]}{suffix}" for s in SYMBOLS}
            try:
                return {s: ctypes.cast(getattr(lib, n), ctypes.c_void_p).value for s, n in names.items()}
            except AttributeError:
                continue
    return None


def _fallbacks() -> dict[str, int]:
    """Compiled stand-ins with the cblas signatures that call numba's np.dot (scipy's BLAS).
    They take what the kernels pass: row-major, every leading dimension its row's length."""
    from numba import carray, cfunc, types

    i32, i64, p = types.int32, types.int64, types.CPointer
    T = 112  # CblasTrans

    def make_gemm(dt):
        sig = types.void(i32, i32, i32, i64, i64, i64, dt, p(dt), i64, p(dt), i64, dt, p(dt), i64)

        @cfunc(sig, cache=True, nogil=True)
        def gemm(order, ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc):
            A = carray(a, (K, M) if ta == T else (M, K))
            B = carray(b, (N, K) if tb == T else (K, N))
            if ta == T:
                prod = np.dot(A.T, B.T) if tb == T else np.dot(A.T, B)
            else:
                prod = np.dot(A, B.T) if tb == T else np.dot(A, B)
            C = carray(c, (M, N))
            for i in range(M):
                for j in range(N):
                    C[i, j] = alpha * prod[i, j] + (beta * C[i, j] if beta != 0 else 0)
        return gemm

    def make_gemv(dt):
        sig = types.void(i32, i32, i64, i64, dt, p(dt), i64, p(dt), i64, dt, p(dt), i64)

        @cfunc(sig, cache=True, nogil=True)
        def gemv(order, trans, M, N, alpha, a, lda, x, incx, beta, y, incy):
            A = carray(a, (M, N))
            n_in, n_out = (M, N) if trans == T else (N, M)
            X = carray(x, (n_in, 1))
            prod = np.dot(A.T, X) if trans == T else np.dot(A, X)
            Y = carray(y, (n_out,))
            for i in range(n_out):
                Y[i] = alpha * prod[i, 0] + (beta * Y[i] if beta != 0 else 0)
        return gemv

    f32, f64 = types.float32, types.float64
    funcs = {"explorer_sgemm": make_gemm(f32), "explorer_dgemm": make_gemm(f64),
             "explorer_sgemv": make_gemv(f32), "explorer_dgemv": make_gemv(f64)}
    _fallbacks.keep = funcs  # the compiled code lives as long as these objects
    return {s: f.address for s, f in funcs.items()}


def register() -> str:
    """Point the kernels' BLAS symbols at a library, once per process -> the route taken."""
    global _route
    if _route is None:
        import llvmlite.binding as ll

        addresses = None if os.environ.get("EXPLORER_BLAS", "") == "numba" else _numpy_openblas()
        route = "numpy-openblas" if addresses else "numba-np.dot"
        for name, address in (addresses or _fallbacks()).items():
            ll.add_symbol(name, address)
        _route = route
    return _route


def _find_setters() -> list:
    out = []
    for package, names in (("scipy", ("scipy_openblas_set_num_threads", "openblas_set_num_threads")),
                           ("numpy", ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                                      "openblas_set_num_threads"))):
        for lib in _libs(package):
            for name in names:
                fn = getattr(lib, name, None)
                if fn is not None:
                    fn.argtypes, fn.restype = [ctypes.c_int], None
                    out.append(fn)
                    break
    return out


def match_torch_threads() -> None:
    """Cheap after the first call: one compare unless torch's thread count changed."""
    global _setters, _threads
    import torch

    n = torch.get_num_threads()
    if n == _threads:
        return
    if _setters is None:
        _setters = _find_setters()
    for fn in _setters:
        fn(n)
    _threads = n
