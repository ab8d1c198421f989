"""Short garbage collections while the window is open.

A full (generation 2) collection walks every object Python tracks: with torch, numba,
pyqtgraph and the window loaded that took 50-235 ms here, four times in 1.5 minutes of live
training (bench/soak.py --why), and whichever thread collects holds the GIL throughout, so
the window froze for as long. After each full collection every tracked object is live, so it
is frozen (``gc.freeze()``): later full collections walk only what was made since.

The cost: a frozen object that later becomes garbage *in a reference cycle* is not reclaimed
(objects freed by reference counting, the usual case, are). bench/soak.py --restart, run
after run, checks that memory stays flat. The app's launch installs it; the test suite, which
opens and closes hundreds of windows in one process, does not.
"""

from __future__ import annotations

import gc

_installed = False


def _freeze_after_full(phase: str, info: dict) -> None:
    if phase == "stop" and info.get("generation") == 2:
        gc.freeze()  # everything left is live: keep it out of the next full collections' walk


def install() -> None:
    """Freeze the survivors of every full collection from now on (idempotent)."""
    global _installed
    if not _installed:
        gc.callbacks.append(_freeze_after_full)
        _installed = True
