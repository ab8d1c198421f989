"""What a training config will need, estimated from its fields before anything is built
(issue 9, item 3): in-range values whose combination is huge are refused by
``ExperimentConfig.validate()`` on the field(s) to change, with the estimate in bytes.

The estimate (float32, bytes) adds up:

- the model: each layer's weights ``gates x H x (inputs + H + 2)`` and the output layer,
  times 5 (weights, gradients, two optimizer moments, a spare copy when saved);
- one batch: ``T x batch x (inputs + target + mask)`` as numpy and as tensors;
- backpropagation through a window: ``window x batch x H x layers x (gates + 3)``, forward
  and backward (states, gates and their gradients);
- the held-out set: its data (numpy, one-hot, tensors), and its evaluation (every layer's
  states and gates at once). Measured: copy_delay 10,000 at the defaults peaks at 2.4 GB
  RSS (about 2.1 GB over the bare process); this estimates 2.1 GB;
- the echo task's stream: the epoch's bits, their rows and the one-hot windows.

It is a budget, not a measurement: sized so that what passes fits the setting
(:mod:`explorer.core.budget`) with room, and what the issue found (hidden 8192 x 16 LSTM
layers x batch 65,536; held-out 100,000 x length 10,000; copy_delay 10,000 at a large
batch) is refused at once.
"""

from __future__ import annotations

from ..budget import budget_bytes, human_bytes, limit_text
from ..errors import FieldProblem

__all__ = ["GATES", "LENGTH_FIELDS", "training_costs", "training_problems"]

GATES = {"vanilla": 1, "relu": 1, "gru": 3, "lstm": 4}  # weight blocks per layer
FLOAT = 4  # bytes of float32
# The field that sets each task's sequence length (the echo task is cut into windows).
LENGTH_FIELDS = {"cumsum": "task.max_len", "copy": "task.copy_delay", "adding": "task.adding_length",
                 "echo": "train.num_steps"}


def training_costs(config) -> list[tuple[int, tuple[str, ...], str]]:
    """``(bytes, fields to change, how it adds up)`` for each part of a training run."""
    from .tasks import make_task  # tasks import the config module; import here, when needed

    task, m, tr = make_task(config.task), config.model, config.train
    t_seq = task.max_length()  # steps of one sequence (echo: a held-out row)
    inputs, outputs = task.input_size, task.output_size
    target = outputs if task.loss == "mse" else 2  # int64 class ids: two floats' worth
    per_step = inputs + target + 1  # floats per sequence step: inputs, target, mask
    h, layers, b = m.hidden_size, m.layers, tr.batch_size
    # a custom cell: each state and variable is a (B, H) value per step, about two ops each
    g = GATES[m.cell] if m.custom is None else 2 * (len(m.custom.states) + len(m.custom.variables))
    window = tr.num_steps if (tr.bptt == "truncated" or task.name == "echo") else t_seq
    window = min(window, t_seq) if task.name != "echo" else window
    length = LENGTH_FIELDS[task.name]

    params = sum(_layer_params(m, g, inputs if k == 0 else h) for k in range(layers)) + h * outputs + outputs
    batch_steps = window if task.name == "echo" else t_seq
    heldout_n = config.task.heldout_size
    parts = [
        (5 * params * FLOAT, ("model.hidden_size", "model.layers"),
         f"the model: {params:,} weights ({m.layers} {m.cell} layers of {h}) with gradients and optimizer state"),
        (2 * batch_steps * b * per_step * FLOAT, (length, "train.batch_size"),
         f"one batch: {batch_steps:,} steps x {b:,} sequences"),
        (2 * window * b * h * layers * (g + 3) * FLOAT, ("train.batch_size", length),
         f"backpropagation: {window:,} steps x {b:,} sequences x {h} units x {layers} layers"),
        (heldout_n * t_seq * (3 * per_step + layers * h * (g + 1) + outputs) * FLOAT,
         ("task.heldout_size",) + ((length,) if task.name != "echo" else ()),
         f"the held-out set: {heldout_n:,} sequences x {t_seq:,} steps, evaluated at once"),
    ]
    if task.name == "echo":
        n = config.task.stream_length
        parts.append((n * (2 + 2 + 2 * inputs) * FLOAT, ("task.stream_length",),
                      f"the echo stream: {n:,} steps, as bits, rows and one-hot windows"))
    return parts


def _layer_params(m, g: int, inputs: int) -> int:
    h = m.hidden_size
    if m.custom is None:
        return g * h * (inputs + h + 2)
    from .custom_cell import param_count

    return param_count(m.custom, inputs, h) or 0  # None: a shape the check at build time will judge


def training_problems(config, limit: int | None = None) -> list[FieldProblem]:
    """A problem on each field to change when the estimated total is over the budget."""
    limit = budget_bytes() if limit is None else limit
    parts = training_costs(config)
    total = sum(p[0] for p in parts)
    if total <= limit:
        return []
    biggest, fields, how = max(parts, key=lambda p: p[0])
    message = (f"the run would need about {human_bytes(total)} ({total:,} bytes; {how}: {human_bytes(biggest)}); "
               f"{limit_text(limit)}. Lower this value")
    return [FieldProblem(field, message + "".join(f" or {x}" for x in fields if x != field)) for field in fields]
