"""``train --out DIR``: an export folder (config.json, metrics.csv, checkpoint.safetensors),
locked for the run so two trainings never share it."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ..errors import ExplorerError
from ..lab.metrics import MetricsWriter, atomic_write_text
from .lock import FolderLock
from .writer import write_checkpoint


class ExportFolder:
    """Open, check and lock ``out`` (made if missing); ExplorerError naming it when it cannot be."""

    def __init__(self, out: str | Path):
        self.path = Path(out)
        if self.path.exists() and not self.path.is_dir():
            raise ExplorerError(f"--out {self.path} is a file, not a folder; name a folder (it is made if missing)")
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExplorerError(f"--out {self.path}: cannot make this folder ({exc.strerror or exc}); "
                                "name a folder you can write") from None
        if not os.access(self.path, os.W_OK):
            raise ExplorerError(f"--out {self.path}: this folder is not writable; name a folder you can write")
        self._lock = FolderLock(self.path, f"the output folder {self.path}").acquire()
        self._metrics: MetricsWriter | None = None

    def start(self, trainer) -> None:
        """config.json, and metrics.csv continued (resume: rows past the checkpoint dropped) or fresh."""
        atomic_write_text(self.path / "config.json", json.dumps(trainer.config.to_dict(), indent=2) + "\n")
        self._metrics = MetricsWriter(self.path / "metrics.csv", append=trainer.step > 0, after_step=trainer.step)

    def write(self, report) -> None:
        if self._metrics is not None:
            self._metrics.write(report)

    def checkpoint(self, trainer) -> Path:
        return write_checkpoint(trainer, self.path / "checkpoint.safetensors")

    def close(self) -> None:
        if self._metrics is not None:
            self._metrics.close()
        self._lock.release()
