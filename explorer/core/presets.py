"""Finding and reading presets: ``resources/presets/<kind>/<name>.json``.

Kinds: ``scan`` (ScanSpecs) and ``train`` (experiment configs). The resources folder is
found next to the package (a checkout or an editable install), then in the installed
data files (``<prefix>/share/scan-explorer``); ``SCAN_EXPLORER_RESOURCES`` overrides both.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from .errors import ConfigError, FieldProblem

KINDS = ("scan", "train", "sweep")


def resources_dir() -> Path:
    """The folder holding ``presets/``."""
    override = os.environ.get("SCAN_EXPLORER_RESOURCES")
    candidates = [Path(override)] if override else []
    candidates += [
        Path(__file__).resolve().parents[2] / "resources",
        Path(sys.prefix) / "share" / "scan-explorer",
    ]
    for path in candidates:
        if (path / "presets").is_dir():
            return path
    raise FileNotFoundError(
        "cannot find the resources folder (presets); looked in "
        + ", ".join(str(p) for p in candidates)
    )


def preset_dir(kind: str) -> Path:
    if kind not in KINDS:
        raise ValueError(f"unknown preset kind {kind!r}; kinds: {', '.join(KINDS)}")
    return resources_dir() / "presets" / kind


def list_presets(kind: str) -> list[str]:
    """Preset names of one kind, in the gallery's order (``order`` field, then name)."""
    folder = preset_dir(kind)
    if not folder.is_dir():
        return []
    entries = []
    for path in folder.glob("*.json"):
        try:
            order = json.loads(path.read_text()).get("order", 1_000)
        except (OSError, ValueError):
            order = 1_000
        entries.append((order, path.stem))
    return [name for _, name in sorted(entries)]


def load_preset(kind: str, name: str) -> dict:
    """The JSON object of preset ``name``; a clear error when there is none."""
    path = preset_dir(kind) / f"{name}.json"
    if not path.is_file():
        known = ", ".join(list_presets(kind)) or "(none)"
        raise ConfigError(FieldProblem("preset", f"no {kind} preset named {name!r}; presets: {known}"))
    return read_json(path)


def read_json(path: str | Path) -> dict:
    """A JSON object from a file, with errors that say what is wrong with the file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(FieldProblem("file", f"cannot read {path}: {exc.strerror or exc}")) from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ConfigError(FieldProblem("file", f"{path} is not valid JSON: {exc}")) from None
    if not isinstance(data, dict):
        raise ConfigError(FieldProblem("file", f"{path} must hold a JSON object, not {type(data).__name__}"))
    return data


def resolve(kind: str, name_or_file: str) -> dict:
    """A preset by name, or a JSON file by path (anything ending in .json or existing)."""
    if name_or_file.endswith(".json") or os.path.sep in name_or_file or Path(name_or_file).is_file():
        return read_json(name_or_file)
    return load_preset(kind, name_or_file)
