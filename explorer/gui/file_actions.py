"""File menu work for the RNN lab: experiments (config JSON), checkpoints, plot PNGs and
metrics CSV. Each function takes explicit paths (the window asks with dialogs), reports
through ``say(text)`` and raises nothing the window cannot show."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable

from explorer.core.errors import ExplorerError
from explorer.core.lab.config import ExperimentConfig
from explorer.core.presets import read_json


def open_experiment(path: str | Path) -> ExperimentConfig:
    """A config from a JSON file; ExplorerError (naming the problem) if it is not one."""
    return ExperimentConfig.from_dict(read_json(path))


def save_experiment(config: ExperimentConfig, path: str | Path) -> Path:
    path = Path(path)
    if path.suffix != ".json":
        path = path.with_suffix(".json")
    try:
        path.write_text(json.dumps(config.to_dict(), indent=2) + "\n")
    except OSError as exc:
        raise ExplorerError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def save_checkpoint(session, path: str | Path, say: Callable[[str], None]) -> bool:
    """Ask the trainer (between two steps) to write a checkpoint; False if nothing to save."""
    path = Path(path)
    if path.suffix not in (".safetensors", ".pt"):
        path = path.with_suffix(".safetensors")
    started = session.with_trainer(lambda trainer: (trainer.checkpoint(path), trainer.step)[1],
                                   lambda step: say(f"checkpoint at step {step} saved to {path}"))
    if not started:
        say("nothing to save yet: press Play or Step first")
    return started


def export_metrics(data, path: str | Path) -> Path:
    path = Path(path)
    if path.suffix != ".csv":
        path = path.with_suffix(".csv")
    if len(data.scalars) == 0:
        raise ExplorerError("no metrics yet: press Play or Step first")
    try:
        data.to_csv(path)
    except OSError as exc:
        raise ExplorerError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
