"""Files: configs as JSON, checkpoints as safetensors (or ``.pt`` read back with
``torch.load(weights_only=True)``, never an arbitrary pickle). Metrics CSV: ``metrics.py``.

A checkpoint is ``tensors`` (name -> tensor) plus ``meta`` (JSON-safe dict). Files that are
not Scan Explorer checkpoints (corrupt, foreign, a config) raise :class:`CheckpointError`
saying what the file is and what was expected.
"""

from __future__ import annotations

import json
import os
import pickle
import secrets
import warnings
from pathlib import Path

import torch

from ..errors import ConfigError, ExplorerError
from ..files import FileError, limits, open_regular, parse_json
from ..presets import read_json
from .config import ExperimentConfig

FORMAT = "scan-explorer-checkpoint/1"
CHECKPOINT_SUFFIXES = (".safetensors", ".pt")


class CheckpointError(ExplorerError):
    """A file that cannot be read as a Scan Explorer checkpoint."""


# -- configs -------------------------------------------------------------------------------
def save_config(path: str | Path, config: ExperimentConfig) -> None:
    Path(path).write_text(json.dumps(config.to_dict(), indent=2) + "\n", encoding="utf-8")


def load_config(path: str | Path) -> ExperimentConfig:
    """An experiment config (or a preset file) from JSON; ConfigError names every bad field."""
    return ExperimentConfig.from_dict(read_json(path))


# -- checkpoints ---------------------------------------------------------------------------
def save_checkpoint(path: str | Path, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    """Write ``tensors`` and ``meta``; the suffix picks the format (.safetensors or .pt)."""
    path = Path(path)
    cpu = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in tensors.items()}
    header = {"format": FORMAT, "meta": json.dumps(meta)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")  # unique per writer
    try:
        if path.suffix == ".pt":
            torch.save({**header, "tensors": cpu}, tmp)
        else:
            from safetensors.torch import save_file

            save_file(cpu, str(tmp), metadata=header)
        tmp.replace(path)  # never leave a half-written checkpoint under the real name
    finally:
        if tmp.exists():
            tmp.unlink()


def load_checkpoint(path: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """(tensors on the CPU, meta); CheckpointError for anything else. Only a regular file of at
    most ``files.limits().checkpoint_bytes`` is read (never a FIFO or a device). The tensors
    are not checked against a model here: :mod:`.checkpoint_check` does that before use."""
    path = Path(path)
    try:
        fh = open_regular(path, limits().checkpoint_bytes, "checkpoint")
    except FileError as exc:
        raise CheckpointError(exc.text.replace("no file at", "no checkpoint at")) from None
    with fh:
        head = fh.read(8)
        fh.seek(0)
        if head[:1] == b"{" or path.suffix == ".json":
            raise CheckpointError(f"{path} looks like a JSON file (a config?), not a checkpoint; "
                                  "pass a .safetensors or .pt checkpoint written by Scan Explorer")
        if head[:2] == b"PK" or path.suffix == ".pt":  # torch.save's zip format
            return _load_pt(path, fh)
        return _load_safetensors(path, fh.read())


def _load_pt(path: Path, fh) -> tuple[dict, dict]:
    try:
        with warnings.catch_warnings():  # torch warns about foreign pickle protocols; we explain instead
            warnings.simplefilter("ignore")
            data = torch.load(fh, map_location="cpu", weights_only=True)  # refuses code in pickles
    except pickle.UnpicklingError:
        raise CheckpointError(f"{path} is not a Scan Explorer checkpoint: it holds Python objects other than "
                              "tensors, and torch.load(weights_only=True) refused to unpickle them (code in a "
                              "checkpoint is never run)") from None
    except Exception as exc:  # noqa: BLE001 - a damaged zip or pickle raises many kinds; all mean "unreadable"
        raise CheckpointError(f"{path} is corrupt or not a torch file ({type(exc).__name__})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a torch file but not a Scan Explorer checkpoint (no "
                              f"'format': '{FORMAT}' entry)")
    tensors = data.get("tensors")
    if not isinstance(tensors, dict) or not tensors:
        raise CheckpointError(f"{path} is a Scan Explorer checkpoint without tensors (its 'tensors' entry is "
                              f"{'missing' if tensors is None else type(tensors).__name__ + ' ' + repr(tensors)[:40]})"
                              "; the file is damaged")
    for name, value in tensors.items():
        if not isinstance(name, str) or not isinstance(value, torch.Tensor):
            raise CheckpointError(f"{path}: entry {str(name)[:60]!r} of its tensors is "
                                  f"{type(value).__name__}, not a tensor; the file is damaged")
    return dict(tensors), _meta(path, data.get("meta"))


def _load_safetensors(path: Path, data: bytes) -> tuple[dict, dict]:
    from safetensors import SafetensorError
    from safetensors.torch import load

    n = int.from_bytes(data[:8], "little")
    if len(data) < 8 or n > len(data) - 8:
        raise CheckpointError(f"{path} is corrupt or not a safetensors file (its header is cut short)")
    try:
        header = parse_json(data[8:8 + n].decode("utf-8"), f"{path} (safetensors header)")
        tensors = load(data)
    except (FileError, UnicodeDecodeError, SafetensorError, OSError, ValueError) as exc:
        raise CheckpointError(f"{path} is corrupt or not a safetensors file ({exc})") from None
    meta = header.get("__metadata__") if isinstance(header, dict) else None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{path} is a safetensors file but not a Scan Explorer checkpoint "
                              f"(its metadata has no format '{FORMAT}')")
    if not tensors:
        raise CheckpointError(f"{path} is a Scan Explorer checkpoint without tensors; the file is damaged")
    return tensors, _meta(path, meta.get("meta"))


def _meta(path: Path, text) -> dict:
    if not isinstance(text, str):
        raise CheckpointError(f"{path}: the checkpoint's metadata is missing or not text; the file is damaged")
    try:
        meta = parse_json(text, f"{path} (metadata)")
    except FileError as exc:
        raise CheckpointError(f"the checkpoint's metadata is damaged: {exc.text}") from None
    if not isinstance(meta, dict) or "config" not in meta:
        raise CheckpointError(f"{path}: the checkpoint's metadata is damaged (not an object with a 'config')")
    try:
        meta["config"] = ExperimentConfig.from_dict(meta["config"])
    except ConfigError as exc:
        raise CheckpointError(f"{path}: the checkpoint's config is not valid here: {exc}") from None
    return meta
