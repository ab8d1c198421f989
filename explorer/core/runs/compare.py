"""How runs differ: ``config_diff`` over dotted field paths, and ``short_label`` for a legend.

    config_diff(a.config, b.config)   # {"model.hidden_size": (64, 32), "train.clip_norm": (1.0, 0.0)}
    short_label(that)                 # "hidden 32, clip off"
"""

from __future__ import annotations

import dataclasses
import math

from ..lab.config import ExperimentConfig

SKIPPED = ("title", "description")  # gallery text, not part of the experiment
CUSTOM = "model.custom."  # a custom cell's nested fields

# short names for a legend: the field's last name part unless listed here ("" = the value alone)
SHORT = {
    "task.name": "",  # "copy", "adding"
    "model.cell": "",  # "gru", "lstm"
    "hidden_size": "hidden",
    "clip_norm": "clip",
    "batch_size": "batch",
    "heldout_size": "held-out",
    "init_scale": "init",
    "num_steps": "num_steps",  # r2rt's name
    "stream_length": "stream",
    "report_every": "report",
}


def flatten(config: dict, prefix: str = "") -> dict[str, object]:
    """``{"model": {"hidden_size": 64}}`` -> ``{"model.hidden_size": 64}``."""
    out: dict[str, object] = {}
    for key, value in config.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, path + "."))
        else:
            out[path] = value
    return out


def config_diff(base: dict, other: dict) -> dict[str, tuple]:
    """``{dotted path: (base value, other value)}`` for every field that differs (None where a
    side lacks the field), in the config's field order; title and description are skipped."""
    a, b = flatten(base or {}), flatten(other or {})
    out = {}
    for path in list(a) + [p for p in b if p not in a]:
        if path in SKIPPED:
            continue
        x, y = a.get(path), b.get(path)
        if not _same(x, y):
            out[path] = (x, y)
    return out


def short_name(path: str) -> str:
    """The legend's name of a field: ``model.hidden_size`` -> ``hidden``."""
    if path in SHORT:
        return SHORT[path]
    last = path.rsplit(".", 1)[-1]
    return SHORT.get(last, last)


def short_value(path: str, value) -> str:
    """A value as a legend shows it: ``0.01``, ``off`` for a 0 that means off, ``256``."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, (int, float)) and value == 0 and "0 = off" in _help(path):
        return "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):  # a custom cell's states, params, expressions
        items = [v.get("name", "?") if isinstance(v, dict) else short_value("", v) for v in value]
        return _clip(" ".join(items) if all(len(i) <= 4 for i in items) else "; ".join(items))
    if isinstance(value, dict):
        return _clip(", ".join(f"{k} {short_value('', v)}" for k, v in value.items()))
    return _clip(str(value))


def _clip(text: str, most: int = 32) -> str:
    return text if len(text) <= most else text[:most - 1] + "…"


def short_label(diff: dict[str, tuple]) -> str:
    """The legend text of a run: its side of each difference, e.g. ``"lr 0.01, clip off"``."""
    parts = []
    cell_said = "model.cell" in diff
    for path, (base, value) in diff.items():
        if path.startswith(CUSTOM) and (base is None) != (value is None):  # a whole cell on one side only
            if not cell_said:
                parts.append("custom cell")
                cell_said = True
            continue
        name, shown = short_name(path), short_value(path, value)
        parts.append(f"{name} {shown}" if name else shown)
    return ", ".join(parts)


def _same(x, y) -> bool:
    if isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool) \
            and not isinstance(y, bool):
        return x == y or (isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y))
    return x == y


def _help(path: str) -> str:
    section, _, name = path.partition(".")
    cls = ExperimentConfig.SECTIONS.get(section)
    if cls is None:
        return ""
    for f in dataclasses.fields(cls):
        if f.name == name:
            return f.metadata.get("help", "")
    return ""
