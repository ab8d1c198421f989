"""Experiment configuration: what the Task, Model and Training forms edit.

Frozen dataclasses, saved as JSON of the same fields and edited with
``dataclasses.replace``. Every field carries ``metadata`` for the forms: ``label``,
``help`` (a tooltip), and where relevant ``min`` / ``max`` / ``choices``.
``validate()`` reports every problem at once, each naming its field (``"train.lr"``) and
saying the fix; ``from_dict`` raises :class:`ConfigError` with all of them.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from ..decode import decode, limit_problems
from ..errors import ConfigError, FieldProblem
from .custom_cell import CustomCell, structural_problems

TASK_NAMES = ("cumsum", "echo", "copy", "adding")
CELL_NAMES = ("vanilla", "relu", "gru", "lstm", "custom")
BACKENDS = ("auto", "scan", "fused", "manual", "numba")
OPTIMIZER_NAMES = ("sgd", "adagrad", "adam", "rmsprop")
SCHEDULE_NAMES = ("constant", "staircase", "cosine")
STREAM_TASKS = ("echo",)  # tasks with epochs over a fixed stream; the others draw fresh data forever


def _f(default: Any, label: str, help: str, **limits: Any) -> Any:
    """A field with form metadata: ``label``, ``help`` and optional min / max / choices, and
    ``tasks`` (the tasks a task field applies to; the form hides it for the others)."""
    return field(default=default, metadata={"label": label, "help": help, **limits})


@dataclass(frozen=True)
class TaskConfig:
    name: str = _f("cumsum", "Task", "cumsum: running sum (source 000); echo: binary echo (source 002); "
                   "copy / adding: classic long-memory problems", choices=list(TASK_NAMES))  # which data
    min_len: int = _f(5, "Shortest sequence", "cumsum: shortest sequence drawn", min=1, max=10_000, tasks=("cumsum",))  # source 000: 5
    max_len: int = _f(49, "Longest sequence", "cumsum: longest sequence drawn (inclusive)",
                      min=1, max=10_000, tasks=("cumsum",))  # source 000: randint(5, 50) -> 49
    stream_length: int = _f(1_000_000, "Stream length", "echo: length of each epoch's binary stream",
                            min=10, max=100_000_000, tasks=("echo",))  # source 002: gen_data(size=1000000)
    copy_length: int = _f(10, "Symbols to copy", "copy: how many symbols (from 8) to remember",
                          min=1, max=100, tasks=("copy",))  # Arjovsky et al.: 10
    copy_delay: int = _f(20, "Copy delay", "copy: blank steps between the symbols and the recall marker",
                         min=1, max=10_000, tasks=("copy",))  # short enough to learn on a CPU
    adding_length: int = _f(50, "Adding length", "adding: sequence length (two marked numbers to add)",
                            min=2, max=10_000, tasks=("adding",))  # Le et al. use 150..750; 50 trains in seconds
    heldout_size: int = _f(256, "Held-out size", "sequences in the fixed held-out set (echo: rows of 1,000 steps)",
                           min=1, max=100_000)  # enough for a stable held-out loss
    probe_seed: int = _f(1234, "Probe seed", "seed of the held-out set and the probe sequence (independent of "
                         "the training seed)", min=0, max=2**31 - 1)  # fixed: curves stay comparable across runs


@dataclass(frozen=True)
class ModelConfig:
    cell: str = _f("vanilla", "Cell", "vanilla: tanh RNN; relu: ReLU RNN with identity init (Le et al.); "
                   "gru; lstm", choices=list(CELL_NAMES))  # source 000's cell
    hidden_size: int = _f(64, "Hidden size", "units in h_t", min=1, max=8192)  # small: trains fast on a CPU
    layers: int = _f(1, "Layers", "stacked recurrent layers; each layer's states feed the next",
                     min=1, max=16)  # one, as in both sources
    init_scale: float = _f(0.1, "Init scale", "weights drawn uniform in [-s, s], biases 0 (source 000); "
                           "0 = PyTorch's default init", min=0.0, max=10.0)  # source 000: 0.1
    backend: str = _f("auto", "Backend", "scan: every step through the core scan (all states visible); "
                      "fused: nn.RNN/GRU/LSTM (cuDNN on a GPU); manual: hand-written BPTT in torch ops (vanilla/relu); "
                      "numba: hand-written BPTT compiled by numba (CPU, every cell, the fastest there); "
                      "auto: the fastest on the device, switching to scan for gradient flow where needed",
                      choices=list(BACKENDS))  # speed with diagnostics
    custom: CustomCell | None = field(default=None, metadata={
        "label": "Custom cell", "help": "cell = custom: states, parameters and one expression per state "
        "(the scan workbench's language)", "form": False})  # None: a built-in cell; its editor is not a line edit


@dataclass(frozen=True)
class TrainConfig:
    optimizer: str = _f("adam", "Optimizer", "update rule", choices=list(OPTIMIZER_NAMES))  # robust default
    lr: float = _f(1e-3, "Learning rate", "initial step size; the schedule scales it",
                   min=1e-12, max=1e9)  # Adam's usual
    momentum: float = _f(0.0, "Momentum", "sgd / rmsprop momentum (0 = none)",
                         min=0.0, max=0.9999)  # plain SGD, as in source 000
    schedule: str = _f("constant", "Schedule", "constant; staircase: lr * decay_rate ** (step // decay_steps) "
                       "(source 000); cosine: lr * (1 + cos(pi * step / steps)) / 2",
                       choices=list(SCHEDULE_NAMES))  # no decay
    decay_rate: float = _f(0.1, "Decay rate", "staircase: factor applied every decay_steps",
                           min=1e-6, max=1.0)  # source 000: 0.1
    decay_steps: int = _f(15_000, "Decay every", "staircase: steps between decays", min=1, max=10**9)  # source 000: 15000
    clip_norm: float = _f(1.0, "Clip norm", "rescale gradients whose global norm exceeds this (0 = off)",
                          min=0.0, max=1e9)  # source 000: max_global_norm=1.0
    batch_size: int = _f(16, "Batch size", "sequences per step (echo: rows the stream is split into)",
                         min=1, max=65_536)  # small batches: many updates per second
    steps: int = _f(2_000, "Steps", "optimisation steps (0 = run train.epochs over the task's stream)",
                    min=0, max=10**9)  # a quick run
    epochs: int = _f(1, "Epochs", "passes over the stream when steps = 0 (echo)", min=1, max=100_000)  # source 002: 1
    bptt: str = _f("full", "BPTT", "full: backpropagate through each whole sequence (echo: each window from a "
                   "zero state); truncated: windows of num_steps, final state carried, no gradient across "
                   "windows (source 002)", choices=["full", "truncated"])  # source 000: full
    num_steps: int = _f(5, "Window", "truncated BPTT window (steps per update); echo cuts its stream into "
                        "windows of this length either way", min=1, max=100_000)  # source 002: 5
    seed: int = _f(0, "Seed", "same seed, same run: data order and initial weights",
                   min=0, max=2**31 - 1)  # reproducible
    report_every: int = _f(10, "Report every", "steps between full reports (loss, norms, steps/s)",
                           min=1, max=10**9)  # ~100s of reports/s at most; the GUI throttles drawing
    flow_every: int = _f(100, "Gradient flow every", "steps between gradient-flow (dL/dh_t) measurements "
                         "(0 = never)", min=0, max=10**9)  # cheap enough at 1%
    probe_every: int = _f(100, "Probe every", "steps between predictions on the probe sequence (0 = never)",
                          min=0, max=10**9)  # as often as flow
    eval_every: int = _f(500, "Evaluate every", "steps between held-out evaluations (0 = only at the end)",
                         min=0, max=10**9)  # held-out loss is the honest number
    device: str = _f("auto", "Device", "auto: CUDA when present, else CPU; or cpu, cuda, cuda:N",
                     pattern=r"^(auto|cpu|cuda(:\d+)?)$", pattern_help="use auto, cpu, cuda or cuda:N")  # GPU when there is one
    threads: int = _f(1, "Torch threads", "intra-op threads on the CPU (0 = torch's default); one is fastest "
                      "for small recurrent models", min=0, max=256)  # measured: 2 threads 30x slower on tiny matmuls


@dataclass(frozen=True)
class ExperimentConfig:
    task: TaskConfig = field(default_factory=TaskConfig)  # what to learn
    model: ModelConfig = field(default_factory=ModelConfig)  # what learns it
    train: TrainConfig = field(default_factory=TrainConfig)  # how
    title: str = ""  # shown in the preset gallery
    description: str = ""  # one paragraph for the gallery

    SECTIONS = {"task": TaskConfig, "model": ModelConfig, "train": TrainConfig}
    IGNORED_KEYS = ("order",)  # gallery position in preset files; not part of the experiment

    def to_dict(self) -> dict:
        """JSON-safe dict: ``{"title", "description", "task": {...}, "model": {...}, "train": {...}}``."""
        out: dict = {"title": self.title, "description": self.description}
        for name in self.SECTIONS:
            out[name] = dataclasses.asdict(getattr(self, name))
        return out

    @classmethod
    def from_dict(cls, data: dict) -> "ExperimentConfig":
        """Build and validate; unknown keys and bad values raise one ConfigError listing all.

        Read by the one decoder (:mod:`explorer.core.decode`: the field types, nested
        sections at any depth), then checked by :meth:`validate` (the fields' limits and
        the rules between fields)."""
        config, problems = decode(cls, data)
        if problems:
            raise ConfigError(problems)
        problems = config.validate()
        if problems:
            raise ConfigError(problems)
        return config

    def validate(self) -> list[FieldProblem]:
        """Every problem, field by field, then the rules that tie fields together."""
        problems: list[FieldProblem] = []
        for name in self.SECTIONS:
            problems += _check_fields(name, getattr(self, name))
        if problems:
            return problems
        t, m, tr = self.task, self.model, self.train
        if t.min_len > t.max_len:
            problems.append(FieldProblem("task.min_len", f"is {t.min_len}, above task.max_len ({t.max_len}); "
                                         "make min_len <= max_len"))
        if t.name in STREAM_TASKS:
            windows = t.stream_length // tr.batch_size // tr.num_steps
            if windows < 1:
                problems.append(FieldProblem("train.batch_size", f"a stream of {t.stream_length} split into "
                                             f"{tr.batch_size} rows has no window of {tr.num_steps} steps; "
                                             "lower batch_size or num_steps, or lengthen the stream"))
        elif tr.steps == 0:
            problems.append(FieldProblem("train.steps", f"the {t.name} task draws fresh sequences forever and "
                                         "has no epochs; set steps > 0"))
        if m.cell == "custom" and m.custom is None:
            problems.append(FieldProblem("model.custom", "cell is custom but no custom cell is given; write its "
                                         "states, parameters and expressions, or choose a built-in cell"))
        if m.cell == "custom" and m.backend not in ("auto", "scan"):
            problems.append(FieldProblem("model.backend", f"a custom cell runs on the scan path, not {m.backend!r}; "
                                         "choose auto or scan"))
        if m.backend == "manual" and m.cell not in ("vanilla", "relu"):
            problems.append(FieldProblem("model.backend", f"'manual' supports the vanilla and relu cells, not "
                                         f"{m.cell}; choose auto, fused or scan"))
        if not problems:  # each value is in range: is their combination affordable? (see .cost)
            from .cost import training_problems

            problems += training_problems(self)
        return problems


def field_meta(section: str, name: str) -> dict:
    """The form metadata of ``section.name`` (label, help, min, max, choices)."""
    cls = ExperimentConfig.SECTIONS[section]
    return dict(next(f for f in dataclasses.fields(cls) if f.name == name).metadata)


def field_problems(section: str, name: str, value: Any) -> list[FieldProblem]:
    """The problems of one value for ``section.name``: type, finiteness, choices, pattern,
    min and max, read from the field's metadata. The one check every way in shares: files
    and forms (through ``validate``), CLI overrides, and live edits while training
    (the form's ``live_edit`` and :class:`~.control.TrainControl`)."""
    cls = ExperimentConfig.SECTIONS[section]
    f = next((f for f in dataclasses.fields(cls) if f.name == name), None)
    if f is None:
        return [FieldProblem(f"{section}.{name}", f"unknown field; {section} has "
                             f"{', '.join(x.name for x in dataclasses.fields(cls))}")]
    return limit_problems(f.metadata, value, f"{section}.{name}", type(f.default))


def _check_fields(section: str, obj: Any) -> list[FieldProblem]:
    problems = []
    for f in dataclasses.fields(obj):
        problems += field_problems(section, f.name, getattr(obj, f.name))
    if section == "model" and obj.custom is not None:  # the nested custom cell: what needs no evaluation
        problems += structural_problems(obj.custom, "model.custom")
    return problems
