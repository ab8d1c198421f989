"""Compiled CPU fast paths (optional: they need numba; without it ``auto`` keeps the torch paths).

``AVAILABLE`` says whether numba and scipy (numba's BLAS) are installed here (``EXPLORER_NO_NUMBA=1`` turns it off, for the
fallback's test and for anyone who wants the torch paths); ``why_unavailable()`` says why not.
The kernels are imported on first use, so importing this package never compiles anything.
"""

from __future__ import annotations

import importlib.util
import os

_DISABLED = os.environ.get("EXPLORER_NO_NUMBA", "") not in ("", "0")
# numba's np.dot calls BLAS through scipy (the kernels' fallback where numpy has no OpenBLAS): both must be there
AVAILABLE = not _DISABLED and all(importlib.util.find_spec(m) is not None for m in ("numba", "scipy"))


def why_unavailable() -> str:
    if _DISABLED:
        return "EXPLORER_NO_NUMBA is set"
    return "" if AVAILABLE else "numba or scipy is not installed (pip install numba scipy, or '.[fast]')"
