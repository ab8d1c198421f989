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


def file_problem(path: str | Path, exc: Exception) -> ExplorerError:
    """A failure to read ``path`` as the window says it: the file and what is wrong with it."""
    if isinstance(exc, UnicodeDecodeError):
        return ExplorerError(f"{path} is not a text (UTF-8) file: byte 0x{exc.object[exc.start]:02x} at "
                             f"position {exc.start} cannot be read; choose a .json file this app saved")
    if isinstance(exc, OSError):
        return ExplorerError(f"cannot read {path}: {exc.strerror or exc}")
    problems = getattr(exc, "problems", None)
    text = "; ".join(str(p) for p in problems) if problems else str(exc)
    return ExplorerError(text if str(path) in text else f"{path}: {text}")


def chosen_folder(dialog) -> str:
    """The folder a QFileDialog's user chose, absolute: a name typed into it counts from the
    folder the dialog was showing, not from the working directory."""
    chosen = (dialog.selectedFiles() or [""])[0]
    folder = Path(chosen)
    if not folder.is_absolute():
        folder = Path(dialog.directory().absolutePath()) / folder
    return str(folder)


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
