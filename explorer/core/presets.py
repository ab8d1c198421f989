"""Finding and reading presets: ``resources/presets/<kind>/<name>.json``.

Kinds: ``scan`` (ScanSpecs) and ``train`` (experiment configs). The resources folder is,
in this order: ``SCAN_EXPLORER_RESOURCES`` when set; the checkout's top-level
``resources/`` (running from a checkout, a worktree or an editable install); the package
data installed with the wheel (``explorer.resources``, read with :mod:`importlib.resources`,
so ``--user``, ``--prefix`` and distro installs all find it).
"""

from __future__ import annotations

import importlib.resources
import json
import os
from pathlib import Path

from .errors import ConfigError, FieldProblem

KINDS = ("scan", "train", "sweep")
ENV = "SCAN_EXPLORER_RESOURCES"
PACKAGE = "explorer.resources"  # pyproject/setup.py map the top-level resources/ to this package


def resources_dir() -> Path:
    """The folder holding ``presets/``; a :class:`ConfigError` saying where it looked if none."""
    override = os.environ.get(ENV)
    if override:
        if (Path(override) / "presets").is_dir():
            return Path(override)
        raise ConfigError(FieldProblem(
            "resources", f"{ENV}={override} has no presets/ folder; point it at a folder holding "
            "presets/scan and presets/train, or unset it."))
    checkout = Path(__file__).resolve().parents[2] / "resources"
    candidates = [checkout]
    if (checkout / "presets").is_dir():
        return checkout
    installed = _package_data()
    if installed is not None:
        candidates.append(installed)
        if (installed / "presets").is_dir():
            return installed
    raise ConfigError(FieldProblem(
        "resources", "cannot find the presets; looked in " + ", ".join(str(p) for p in candidates)
        + (f" and the installed package data ({PACKAGE})" if installed is None else "")
        + f". Reinstall scan-explorer, or set {ENV} to a folder holding presets/."))


def _package_data() -> Path | None:
    """The installed ``explorer.resources`` folder, or None when it is not installed."""
    try:
        root = importlib.resources.files(PACKAGE)
    except (ModuleNotFoundError, TypeError):
        return None
    if isinstance(root, Path):
        return root
    # resources/ has no __init__.py, so explorer.resources is a namespace package and files()
    # gives a multiplexed view; its children are real paths (a zipped install has none)
    for child in root.iterdir():
        if child.name == "presets" and isinstance(child, Path):
            return child.parent
    return None


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
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None  # listed anyway: loading it names what is wrong
        order = data.get("order") if isinstance(data, dict) else None
        if not isinstance(order, (int, float)) or isinstance(order, bool) or order != order:
            order = 1_000
        entries.append((order, path.stem))
    return [name for _, name in sorted(entries)]


def load_preset(kind: str, name: str) -> dict:
    """The JSON object of preset ``name``; a clear error when there is none."""
    path = preset_dir(kind) / f"{name}.json"
    if Path(name).name != name or name.startswith(".") or not path.is_file():
        known = ", ".join(list_presets(kind)) or "(none)"
        raise ConfigError(FieldProblem("preset", f"no {kind} preset named {name!r}; presets: {known}"))
    return read_json(path)


def read_json(path: str | Path) -> dict:
    """A JSON object from a file (TOML when the name ends in ``.toml``), read through
    :mod:`explorer.core.files`: regular files only, size capped, strict JSON; errors name the
    file and the line."""
    from .files import read_document

    data = read_document(path)
    if not isinstance(data, dict):
        raise ConfigError(FieldProblem("file", f"{path} must hold a JSON object, not {type(data).__name__}"))
    return data


def resolve(kind: str, name_or_file: str) -> dict:
    """A preset by name, or a JSON file by path (anything ending in .json or existing)."""
    if name_or_file.endswith(".json") or os.path.sep in name_or_file or Path(name_or_file).is_file():
        return read_json(name_or_file)
    return load_preset(kind, name_or_file)
