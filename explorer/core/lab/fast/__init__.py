"""Compiled CPU fast paths (optional: they need numba; without it ``auto`` keeps the torch paths).

``AVAILABLE`` says whether numba imports here (``EXPLORER_NO_NUMBA=1`` turns it off, for the
fallback's test and for anyone who wants the torch paths); ``why_unavailable()`` says why not.
The kernels are imported on first use, so importing this package never compiles anything.
"""

from __future__ import annotations

import importlib.util
import os

_DISABLED = os.environ.get("EXPLORER_NO_NUMBA", "") not in ("", "0")
AVAILABLE = not _DISABLED and importlib.util.find_spec("numba") is not None


def why_unavailable() -> str:
    if _DISABLED:
        return "EXPLORER_NO_NUMBA is set"
    return "" if AVAILABLE else "numba is not installed (pip install numba)"
