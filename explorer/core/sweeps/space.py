"""What a sweep varies: dotted field paths (``"train.lr"``), value specs and their expansion.

A swept field's values are a list, ``{"linear": [lo, hi, n]}``, ``{"log": [lo, hi, n]}`` or
``{"halve": [hi, lo]}`` (hi, hi/2, ... down to lo). A point is a dict of dotted paths to
values; :func:`apply` turns a base config and a point into a new config with
``dataclasses.replace``. Types come from the config dataclasses; limits are checked later by
``ExperimentConfig.validate`` (the one place they live).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from ..errors import FieldProblem
from ..lab.config import ExperimentConfig

SPEC_KINDS = ("linear", "log", "halve")  # besides a plain list


@dataclass(frozen=True)
class SweptField:
    """One swept field: its dotted path, the values a grid runs, and the range random / TPE
    samplers draw from (``kind`` list / halve: only these values; linear / log: [low, high])."""

    path: str  # "model.hidden_size"
    values: tuple  # the grid's values, in the order given
    kind: str = "list"  # list | linear | log | halve
    low: float | None = None  # linear / log: the range random and TPE draw from
    high: float | None = None  # linear / log: upper end (inclusive)
    spec: Any = None  # the value spec as written (a list or {"log": [...]}), for saving

    @property
    def log_scale(self) -> bool:
        """True where the values are log-spaced (the results view uses a log axis)."""
        if self.kind in ("log", "halve"):
            return True
        nums = [v for v in self.values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        if len(nums) < 3 or min(nums) <= 0:
            return False
        ratios = {round(b / a, 6) for a, b in zip(sorted(nums), sorted(nums)[1:])}
        return len(ratios) == 1 and ratios != {1.0}



def field_of(path: str) -> dataclasses.Field | None:
    """The dataclass field at ``"section.name"``, or None when there is none."""
    section, _, name = path.partition(".")
    cls = ExperimentConfig.SECTIONS.get(section)
    if cls is None or not name:
        return None
    return next((f for f in dataclasses.fields(cls) if f.name == name), None)


def check_path(path: Any, where: str) -> FieldProblem | None:
    """A problem when ``path`` names no experiment field."""
    if not isinstance(path, str) or field_of(path) is None:
        sections = ", ".join(ExperimentConfig.SECTIONS)
        return FieldProblem(where, f"{path!r} is not a field; use a dotted path such as train.lr or "
                            f"model.hidden_size (sections: {sections})")
    return None


def coerce(path: str, value: Any) -> tuple[Any, str | None]:
    """``value`` as the type of the field at ``path``: (value, None), or (value, why not)."""
    kind = type(field_of(path).default)
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return value, f"must be a whole number, got {value!r}"
        if isinstance(value, float) and not value.is_integer():
            return value, f"must be a whole number, got {value!r}"
        return int(value), None
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return value, f"must be a number, got {value!r}"
        return float(value), None
    if not isinstance(value, kind):
        return value, f"must be {kind.__name__}, got {value!r}"
    return value, None


def expand(path: str, spec: Any, where: str, problems: list[FieldProblem]) -> SweptField | None:
    """A value spec -> a SweptField; problems with the spec itself go into ``problems``."""
    if isinstance(spec, (list, tuple)):
        if not spec:
            problems.append(FieldProblem(where, "has no values; give at least one"))
            return None
        return _typed(SweptField(path, tuple(spec)), where, problems)
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in SPEC_KINDS:
        problems.append(FieldProblem(where, f"is {spec!r}; give a list of values or one of "
                                     '{"linear": [lo, hi, n]}, {"log": [lo, hi, n]}, {"halve": [256, 1]}'))
        return None
    kind, args = next(iter(spec.items()))
    nums = args if isinstance(args, (list, tuple)) else None
    if nums is None or any(isinstance(a, bool) or not isinstance(a, (int, float)) or not math.isfinite(a)
                           for a in nums):
        problems.append(FieldProblem(where, f"{kind}: {args!r} must be a list of finite numbers"))
        return None
    integer = type(field_of(path).default) is int
    if kind == "halve":
        if len(nums) != 2 or not nums[0] >= nums[1] > 0:
            problems.append(FieldProblem(where, f"halve: {list(nums)} must be [from, down_to] with from >= down_to > 0"))
            return None
        values, v = [], float(nums[0])
        while v >= nums[1] * (1 - 1e-9):
            values.append(v)
            v /= 2
        return _typed(SweptField(path, tuple(values), "halve", nums[1], nums[0]), where, problems)
    if len(nums) != 3 or not (isinstance(nums[2], int) or float(nums[2]).is_integer()) or nums[2] < 1:
        problems.append(FieldProblem(where, f"{kind}: {list(nums)} must be [lo, hi, n] with a whole n >= 1"))
        return None
    lo, hi, n = float(nums[0]), float(nums[1]), int(nums[2])
    if kind == "log" and not (lo > 0 and hi > 0):
        problems.append(FieldProblem(where, f"log: {list(nums)} needs lo > 0 and hi > 0"))
        return None
    if n == 1:
        values = [lo]
    elif kind == "linear":
        values = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    else:
        values = [math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * i / (n - 1)) for i in range(n)]
    values = [float(f"{v:.12g}") for v in values]  # 1e-3, not 0.0009999999999999998
    if integer:
        values = list(dict.fromkeys(round(v) for v in values))  # whole numbers, each once
    return _typed(SweptField(path, tuple(values), kind, lo, hi), where, problems)


def _typed(f: SweptField, where: str, problems: list[FieldProblem]) -> SweptField | None:
    values = []
    for v in f.values:
        typed, why = coerce(f.path, v)
        if why:
            problems.append(FieldProblem(where, why))
            return None
        values.append(typed)
    return dataclasses.replace(f, values=tuple(values))


def apply(base: ExperimentConfig, point: dict) -> ExperimentConfig:
    """``base`` with every ``"section.name": value`` of ``point`` replaced (dataclasses.replace)."""
    changes: dict[str, dict] = {}
    for path, value in point.items():
        section, _, name = path.partition(".")
        changes.setdefault(section, {})[name] = value
    sections = {s: dataclasses.replace(getattr(base, s), **c) for s, c in changes.items()}
    return dataclasses.replace(base, **sections)
