"""``TrainControl``: how another thread steers a running ``train(...)`` generator.

The GUI thread writes; the trainer reads once per step (one integer compare when nothing
changed). Pausing needs nothing here: a paused generator is one whose ``next()`` is not
called. Every setter is thread-safe.
"""

from __future__ import annotations

import threading

from ..errors import ConfigError


def _check(name: str, value) -> None:
    from .config import field_problems  # the fields' limits live with the config

    problems = field_problems("train", name, value)
    if problems:
        raise ConfigError(problems)


class TrainControl:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.version = 0  # bumped by every change; the trainer compares it once per step
        self._lr: float | None = None
        self._clip: float | None = None
        self._clip_set = False
        self._report = False
        self._stop = False

    def set_lr(self, value: float | None) -> None:
        """Use this learning rate from the next step on, replacing the schedule's; None = back
        to the schedule. Checked as the form and config files check ``train.lr``: a
        ConfigError (a ValueError) names the field for nan, inf or out-of-range values."""
        if value is not None:
            _check("lr", value)
        with self._lock:
            self._lr = None if value is None else float(value)
            self.version += 1

    def set_clip(self, value: float | None) -> None:
        """Clip gradients to this global norm from the next step on; None or 0 = no clipping.
        Checked as ``train.clip_norm`` is everywhere (nan, inf, negative: ConfigError)."""
        if value is not None:
            _check("clip_norm", value)
        with self._lock:
            self._clip, self._clip_set = (float(value) if value else None), True
            self.version += 1

    def request_report(self) -> None:
        """Make the next step a full report (e.g. the GUI's Step button)."""
        with self._lock:
            self._report = True
            self.version += 1

    def request_stop(self) -> None:
        """End the run after the current step with a final full report (status "stopped")."""
        with self._lock:
            self._stop = True
            self.version += 1

    @property
    def stop_requested(self) -> bool:
        return self._stop

    def take(self) -> tuple[float | None, bool, float | None, bool, bool]:
        """(lr override, clip was set, clip, report requested, stop requested); clears the report request."""
        with self._lock:
            report, self._report = self._report, False
            return self._lr, self._clip_set, self._clip, report, self._stop
