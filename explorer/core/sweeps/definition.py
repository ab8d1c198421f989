"""A sweep definition: what to vary, over which base experiment, and what to minimise.

Read from JSON or TOML (a file, a sweep preset, or the window's dialog as a dict)::

    {"name": "seed000_hidden_size", "title": "...", "look_for": ["line 1", "line 2"],
     "base": "seed000_cumsum",                       # a training preset, or an inline config
     "fields": {"model.hidden_size": {"halve": [256, 1]}},    # up to three; or:
     "points": [{"train.num_steps": 1, "model.hidden_size": 4}, ...],
     "changes": {"train.eval_every": 100},           # fixed edits of the base, every trial
     "sampler": "grid", "objective": "final_heldout", "pruning": false, "steps": 2000}

Validation happens here, before anything starts: every point's config is built with
``dataclasses.replace`` and checked by ``ExperimentConfig.validate()``; all problems come
back in one :class:`ConfigError`, each naming its field and value.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, FieldProblem
from ..lab.config import ExperimentConfig
from .space import SweptField, apply, check_path, coerce, expand

SAMPLERS = ("grid", "random", "tpe")
# a run record's numbers a sweep can optimise, with the direction that is better
OBJECTIVES = {"final_heldout": "minimize", "best_heldout": "minimize", "final_loss": "minimize",
              "duration_s": "minimize", "steps_per_s": "maximize"}
MAX_FIELDS = 3  # the results view: a line, a heatmap, or parallel coordinates
POINT_PARAM = "point"  # the optuna parameter of a points sweep: the point's index
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_KEYS = ("name", "title", "look_for", "description", "base", "base_name", "fields", "points", "changes", "sampler",
         "n_trials", "objective", "direction", "pruning", "workers", "steps", "seed", "order")


@dataclass(frozen=True)
class SweepDefinition:
    name: str  # the study's name in the storage, and the runs' sweep
    base: ExperimentConfig  # the experiment every trial starts from
    fields: tuple[SweptField, ...] = ()  # swept fields (grid: their product); or points
    points: tuple[dict, ...] = ()  # explicit points, each changing several fields together
    changes: dict = field(default_factory=dict)  # fixed edits of the base, every trial
    title: str = ""  # the gallery's line
    look_for: tuple[str, ...] = ()  # two lines: what to look for in the results
    description: str = ""  # longer text for the gallery
    base_name: str = ""  # the training preset the base came from ("" = inline)
    sampler: str = "grid"  # grid | random | tpe
    n_trials: int | None = None  # random / tpe: how many trials (grid: every point once)
    objective: str = "final_heldout"  # a run record's metric (OBJECTIVES)
    direction: str = "minimize"  # minimize | maximize
    pruning: bool = False  # median pruner on the held-out loss at evaluation steps
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)  # one process per core
    steps: int | None = None  # overrides train.steps in every trial (None = the base's)
    seed: int = 0  # the sampler's seed (random / tpe)

    # -- the points ---------------------------------------------------------------------------
    @property
    def param_names(self) -> tuple[str, ...]:
        """The dotted fields a trial's params name (a points sweep: every field its points set)."""
        if self.points:
            return tuple(dict.fromkeys(p for point in self.points for p in point))
        return tuple(f.path for f in self.fields)

    def grid(self) -> list[dict]:
        """Every point of a grid, in order: ``[{"model.hidden_size": 256}, ...]``."""
        if self.points:
            return [dict(p) for p in self.points]
        return [dict(zip(self.param_names, combo)) for combo in itertools.product(*(f.values for f in self.fields))]

    @property
    def total(self) -> int:
        """Trials the sweep runs: every grid point once, or n_trials."""
        return len(self.grid()) if self.sampler == "grid" else int(self.n_trials or 0)

    def search_space(self) -> dict[str, list]:
        """The optuna GridSampler's space: the fields' values, or the point index."""
        if self.points:
            return {POINT_PARAM: list(range(len(self.points)))}
        return {f.path: list(f.values) for f in self.fields}

    def point_of(self, optuna_params: dict) -> dict:
        """A trial's optuna params -> the dotted fields they set."""
        if self.points:
            return dict(self.points[int(optuna_params[POINT_PARAM])])
        return {p: optuna_params[p] for p in self.param_names if p in optuna_params}

    def fixed_config(self) -> ExperimentConfig:
        """The base with the fixed changes, the steps override, and one torch thread."""
        fixed = dict(self.changes)
        if self.steps is not None:
            fixed["train.steps"] = self.steps
        fixed.setdefault("train.threads", 1)  # a worker per core, one thread each
        return apply(self.base, fixed)

    def config_for(self, point: dict) -> ExperimentConfig:
        """The experiment of one point."""
        return apply(self.fixed_config(), point)

    # -- JSON ---------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-safe and self-contained (the base inline), so a worker on another machine needs
        nothing but the study."""
        out = {"name": self.name, "title": self.title, "look_for": list(self.look_for),
               "description": self.description, "base": self.base.to_dict(), "base_name": self.base_name,
               "changes": dict(self.changes), "sampler": self.sampler, "objective": self.objective,
               "direction": self.direction, "pruning": self.pruning, "workers": self.workers, "seed": self.seed}
        if self.points:
            out["points"] = [dict(p) for p in self.points]
        else:
            out["fields"] = {f.path: f.spec for f in self.fields}
        if self.n_trials is not None:
            out["n_trials"] = self.n_trials
        if self.steps is not None:
            out["steps"] = self.steps
        return out

    @classmethod
    def from_dict(cls, data: Any, *, default_name: str = "") -> SweepDefinition:
        return _parse(data, default_name)


def load_definition(name_or_file: str) -> SweepDefinition:
    """A sweep from a ``.json`` / ``.toml`` file or a sweep preset's name."""
    from ..presets import load_preset, read_json

    path = Path(name_or_file)
    if name_or_file.endswith(".toml"):
        data = _read_toml(path)
    elif name_or_file.endswith(".json") or os.path.sep in name_or_file or path.is_file():
        data = read_json(path)
    else:
        data = load_preset("sweep", name_or_file)
    return SweepDefinition.from_dict(data, default_name=path.stem)


def _read_toml(path: Path) -> dict:
    import tomllib

    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(FieldProblem("file", f"cannot read {path}: {exc.strerror or exc}")) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(FieldProblem("file", f"{path} is not valid TOML: {exc}")) from None


# -- parsing and validation ------------------------------------------------------------------------
def _parse(data: Any, default_name: str) -> SweepDefinition:
    if not isinstance(data, dict):
        raise ConfigError(FieldProblem("sweep", f"must be an object, not {type(data).__name__}"))
    problems: list[FieldProblem] = []
    for key in data:
        if key not in _KEYS:
            problems.append(FieldProblem(str(key), f"unknown key; a sweep has {', '.join(_KEYS)}"))
    name = data.get("name", default_name)
    if not isinstance(name, str) or not _NAME.match(name):
        problems.append(FieldProblem("name", f"is {name!r}; use letters, digits, _ . - (it names the study)"))
    texts = {k: data.get(k, "") for k in ("title", "description")}
    for key, value in texts.items():
        if not isinstance(value, str):
            problems.append(FieldProblem(key, f"must be text, got {value!r}"))
    look_for = data.get("look_for", ())
    look_for = look_for.splitlines() if isinstance(look_for, str) else look_for
    if not isinstance(look_for, (list, tuple)) or not all(isinstance(s, str) for s in look_for):
        problems.append(FieldProblem("look_for", "must be text (two lines: what to look for)"))
        look_for = ()
    base, base_name = _base(data.get("base"), problems)
    base_name = data.get("base_name", base_name) if isinstance(data.get("base_name"), str) else base_name
    fields, points = _swept(data, problems)
    changes = _changes(data.get("changes", {}), problems)
    options = _options(data, problems)
    if problems:
        raise ConfigError(problems)
    definition = SweepDefinition(name=name, base=base, fields=fields, points=points, changes=changes,
                                 title=texts["title"], look_for=tuple(look_for), description=texts["description"],
                                 base_name=base_name, **options)
    problems = _check_points(definition)
    if problems:
        raise ConfigError(problems)
    return definition


def _base(value: Any, problems: list[FieldProblem]) -> tuple[ExperimentConfig | None, str]:
    from ..presets import resolve

    if value is None:
        problems.append(FieldProblem("base", "is missing; name a training preset or give an experiment config"))
        return None, ""
    try:
        if isinstance(value, str):
            return ExperimentConfig.from_dict(resolve("train", value)), value
        return ExperimentConfig.from_dict(value), ""
    except ConfigError as exc:
        problems += [FieldProblem(f"base.{p.field}" if isinstance(value, dict) else "base", p.message)
                     for p in exc.problems]
        return None, ""


def _swept(data: dict, problems: list[FieldProblem]) -> tuple[tuple, tuple]:
    raw_fields, raw_points = data.get("fields"), data.get("points")
    if (raw_fields is None) == (raw_points is None):
        problems.append(FieldProblem("fields", "give either fields (up to three, with values) or points "
                                     "(a list of dicts), not both and not neither"))
        return (), ()
    if raw_points is not None:
        if not isinstance(raw_points, list) or not raw_points:
            problems.append(FieldProblem("points", "must be a non-empty list of {field: value} dicts"))
            return (), ()
        points = []
        for i, point in enumerate(raw_points):
            where = f"points[{i}]"
            if not isinstance(point, dict) or not point:
                problems.append(FieldProblem(where, f"must be a dict of dotted fields to values, got {point!r}"))
                continue
            points.append(_typed_point(point, where, problems))
        return (), tuple(points)
    if not isinstance(raw_fields, dict) or not raw_fields:
        problems.append(FieldProblem("fields", 'must be {"section.field": values, ...}'))
        return (), ()
    if len(raw_fields) > MAX_FIELDS:
        problems.append(FieldProblem("fields", f"has {len(raw_fields)} fields; a sweep varies at most "
                                     f"{MAX_FIELDS} (use points to move several together)"))
    fields = []
    for path, spec in raw_fields.items():
        where = f"fields.{path}"
        bad = check_path(path, where)
        if bad:
            problems.append(bad)
            continue
        swept = expand(path, spec, where, problems)
        if swept is not None:
            fields.append(dataclasses.replace(swept, spec=spec))
    return tuple(fields), ()


def _typed_point(point: dict, where: str, problems: list[FieldProblem]) -> dict:
    out = {}
    for path, value in point.items():
        bad = check_path(path, f"{where}.{path}")
        if bad:
            problems.append(bad)
            continue
        typed, why = coerce(path, value)
        if why:
            problems.append(FieldProblem(path, f"{why} ({where})"))
        out[path] = typed
    return out


def _changes(value: Any, problems: list[FieldProblem]) -> dict:
    if not isinstance(value, dict):
        problems.append(FieldProblem("changes", 'must be {"section.field": value, ...}'))
        return {}
    return _typed_point(value, "changes", problems) if value else {}


def _options(data: dict, problems: list[FieldProblem]) -> dict:
    out: dict = {}
    sampler = data.get("sampler", "grid")
    if sampler not in SAMPLERS:
        problems.append(FieldProblem("sampler", f"is {sampler!r}; choose one of {', '.join(SAMPLERS)}"))
    elif sampler != "grid" and data.get("points") is not None:
        problems.append(FieldProblem("sampler", f"is {sampler!r}, but points run as a grid (each exactly once); "
                                     "drop sampler, or sweep fields instead"))
    out["sampler"] = sampler
    n_trials = data.get("n_trials")
    if sampler != "grid" and not (isinstance(n_trials, int) and not isinstance(n_trials, bool) and n_trials >= 1):
        problems.append(FieldProblem("n_trials", f"is {n_trials!r}; a {sampler} sweep needs n_trials >= 1"))
    out["n_trials"] = n_trials if sampler != "grid" else None
    objective = data.get("objective", "final_heldout")
    if objective not in OBJECTIVES:
        problems.append(FieldProblem("objective", f"is {objective!r}; choose one of {', '.join(OBJECTIVES)}"))
    out["objective"] = objective
    direction = data.get("direction", OBJECTIVES.get(objective, "minimize"))
    if direction not in ("minimize", "maximize"):
        problems.append(FieldProblem("direction", f"is {direction!r}; choose minimize or maximize"))
    out["direction"] = direction
    pruning = data.get("pruning", False)
    if not isinstance(pruning, bool):
        problems.append(FieldProblem("pruning", f"must be true or false, got {pruning!r}"))
    out["pruning"] = bool(pruning)
    for key, low in (("workers", 1), ("steps", 1), ("seed", 0)):
        value = data.get(key)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            problems.append(FieldProblem(key, f"is {value!r}; it must be a whole number >= {low}"))
        else:
            out[key] = value
    return out


def _check_points(d: SweepDefinition) -> list[FieldProblem]:
    """Build every point's config (grid), or each field's ends (random / TPE), and validate."""
    if d.sampler == "grid":
        points = d.grid()
    else:  # each range's ends and each listed value, the other fields at their first value
        first = {f.path: f.values[0] for f in d.fields}
        points = [{**first, f.path: v} for f in d.fields
                  for v in (f.values + tuple(x for x in (f.low, f.high) if x is not None))]
    problems: dict[tuple, FieldProblem] = {}
    for p in d.fixed_config().validate():
        problems[(p.field, p.message)] = FieldProblem(p.field, f"{p.message} (in the base with the sweep's changes)")
    for point in points:
        try:
            config = d.config_for(point)
        except TypeError as exc:  # a field the dataclass does not take (guarded by check_path)
            problems[("fields", str(exc))] = FieldProblem("fields", str(exc))
            continue
        for p in config.validate():
            if (p.field, p.message) in problems:
                continue
            value = point.get(p.field, "(unchanged)")
            where = ", ".join(f"{k}={v!r}" for k, v in point.items())
            problems[(p.field, p.message)] = FieldProblem(
                p.field, f"sweep value {value!r} refused: {p.message} (point {where})")
    return list(problems.values())
