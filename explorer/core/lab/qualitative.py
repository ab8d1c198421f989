"""Qualitative tests of a (trained or training) model: source 000's ``test_qualitatively``
and its question "does the RNN generalise to a sine wave, or to inputs with a non-zero
mean?", as plain functions the testing panel (and the tests) call.

- :func:`draw`: N examples from the training distribution or a generalisation family;
- :func:`score`: the model's predictions on them and each example's error;
- :func:`error_vs_length`: mean error at 1x, 2x, 4x the training length;
- :func:`parse_probe` / :func:`probe_targets`: a hand-typed input sequence and its target.

Examples are batch-first numpy: inputs (n, T, I), targets (n, T, O) (one-hot for classes),
mask (n, T). Errors use the task's loss per example (squared error, or cross-entropy).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from .probe import predict
from .task_base import FAMILY, one_hot, rng_for

TITLES = {"train": "as in training", "sine": "sine waves", "nonzero_mean": "non-zero mean",
          "longer": "longer sequences"}
MAX_PROBE_STEPS = 2_000  # a typed probe longer than this is refused


@dataclass
class Examples:
    inputs: np.ndarray  # (n, T, I)
    targets: np.ndarray  # (n, T, O)
    mask: np.ndarray  # (n, T) 1 where the target counts


@dataclass
class Scored:
    examples: Examples
    predictions: np.ndarray  # (n, T, O): values, or class probabilities
    errors: np.ndarray  # (n,) the task's loss on each example


def families(task) -> tuple[str, ...]:
    """The input families this task can draw from (``train`` at least)."""
    return tuple(getattr(task, "families", ())) or ("train",)


def draw(task, family: str = "train", n: int = 5, seed: int = 0, length: int | None = None) -> Examples:
    """``n`` examples from ``family``; the same seed gives the same examples."""
    if hasattr(task, "family"):
        x, y, m = task.family(family, n, length, seed)  # batch-first already
        return Examples(x, y, m)
    if family != "train":
        raise ValueError(f"the {task.name} task has only the training distribution; families: train")
    kwargs = {"length": length} if length and _takes_length(task) else {}
    x, y, m = task.sequences(rng_for(FAMILY, seed), n, **kwargs)  # time-major
    y = one_hot(y, task.output_size) if y.ndim == 2 else y  # class ids -> (T, n, C)
    return Examples(x.transpose(1, 0, 2), y.transpose(1, 0, 2), m.T)


def score(model, examples: Examples) -> Scored:
    """Predictions of ``model`` (an RNNModel or a Trainer) and each example's error."""
    out = predict(model, examples.inputs)
    shown, mask = out["predictions"], examples.mask  # (n, T, O), (n, T)
    if _loss(model) == "cross_entropy":
        p_target = (shown * examples.targets).sum(-1)  # (n, T) probability given to the right class
        per_step = -np.log(np.clip(p_target, 1e-12, None))
    else:
        with np.errstate(over="ignore", invalid="ignore"):  # a diverged model's errors are inf
            per_step = ((shown - examples.targets) ** 2).mean(-1)  # (n, T)
    errors = (per_step * mask).sum(1) / np.maximum(mask.sum(1), 1)  # (n,)
    return Scored(examples, shown, errors)


def error_vs_length(model, task, factors=(1, 2, 4), n: int = 32, seed: int = 0) -> list[tuple[int, float]]:
    """(length, mean error over ``n`` examples) at each multiple of the training length;
    empty for tasks without generalisation families (the stream tasks have no length)."""
    if not hasattr(task, "family"):
        return []
    base = task.max_length()
    return [(base * k, float(score(model, draw(task, "train", n, seed, base * k)).errors.mean())) for k in factors]


def parse_probe(task, text: str) -> np.ndarray:
    """A typed input sequence as model inputs (T, I): numbers for cumsum (any separators),
    bits for echo. Raises ValueError saying what to type."""
    tokens = [t for t in re.split(r"[\s,;]+", text.strip()) if t]
    if not tokens:
        raise ValueError("type some values, e.g. 1, 2, 2, 2")
    if len(tokens) > MAX_PROBE_STEPS:
        raise ValueError(f"at most {MAX_PROBE_STEPS} values")
    if task.name == "echo":
        if any(t not in ("0", "1") for t in tokens):
            bad = next(t for t in tokens if t not in ("0", "1"))
            raise ValueError(f"'{bad}' is not a bit: the echo task reads 0s and 1s, e.g. 1 0 0 1 1 0")
        return one_hot(np.array([int(t) for t in tokens]), 2).astype(np.float32)  # (T, 2)
    if task.input_size != 1:
        raise ValueError(f"typing a probe works for the cumsum and echo tasks, not {task.name}")
    try:
        values = [float(t) for t in tokens]
    except ValueError:
        bad = next(t for t in tokens if not _is_number(t))
        raise ValueError(f"'{bad}' is not a number") from None
    if not np.all(np.isfinite(values)):
        raise ValueError("values must be finite numbers")
    return np.array(values, dtype=np.float32)[:, None]  # (T, 1)


def probe_targets(task, inputs: np.ndarray) -> np.ndarray | None:
    """What the model should output for typed ``inputs`` (T, I): the running sum for cumsum;
    for echo the true P(Y_t = 1) = 0.5 + 0.5 x[t-3] - 0.25 x[t-8] (as class probabilities)."""
    if task.name == "cumsum":
        return np.cumsum(inputs, axis=0)
    if task.name == "echo":
        x = inputs[:, 1]  # (T,) the bits
        p = np.full(len(x), 0.5)
        p[3:] += 0.5 * x[:-3]
        p[8:] -= 0.25 * x[:-8]
        return np.stack([1 - p, p], -1)
    return None


def _takes_length(task) -> bool:
    import inspect

    return "length" in inspect.signature(task.sequences).parameters


def _loss(model) -> str:
    return getattr(model, "loss_kind", None) or model.task.loss


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
