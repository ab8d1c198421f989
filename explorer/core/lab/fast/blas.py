"""The BLAS that numba's ``np.dot`` calls (scipy's OpenBLAS) runs on as many threads as torch.

OpenBLAS starts one thread per core by default; on a small recurrent model those threads
only fight each other and torch (measured here: batch-64 GRU steps 10x slower with the
default). ``match_torch_threads()`` sets scipy's OpenBLAS to ``torch.get_num_threads()``;
a scipy built on another BLAS is left alone (then set OPENBLAS_NUM_THREADS / MKL_NUM_THREADS).
"""

from __future__ import annotations

import ctypes
import glob
import os

_set = None  # the library's set_num_threads, once found
_threads = None  # the count last set


def _find():
    try:
        import scipy
    except ImportError:
        return None
    libs = os.path.join(os.path.dirname(os.path.dirname(scipy.__file__)), "scipy.libs")
    for path in sorted(glob.glob(os.path.join(libs, "*openblas*.so*"))):
        try:
            lib = ctypes.CDLL(path)  # already loaded by scipy.linalg: the same handle
        except OSError:
            continue
        for name in ("scipy_openblas_set_num_threads", "openblas_set_num_threads"):
            fn = getattr(lib, name, None)
            if fn is not None:
                fn.argtypes, fn.restype = [ctypes.c_int], None
                return fn
    return None


def match_torch_threads() -> None:
    """Cheap after the first call: one compare unless torch's thread count changed."""
    global _set, _threads
    import torch

    n = torch.get_num_threads()
    if n == _threads:
        return
    if _set is None:
        _set = _find() or (lambda n: None)
    _set(n)
    _threads = n
