"""Take it away: an experiment as one standalone PyTorch script (torch and numpy only).

``export_script(config) -> str`` writes the config, the task's data generator, the model,
the loss and the training loop, readable top to bottom, with no ``explorer`` import. Run
with ``--steps N`` it prints the loss of every step, the same numbers the app computes for
that seed (tests/test_lab_export.py holds the two to 1e-5).

The pieces are templates here, one per task, mirroring :mod:`.tasks` and :mod:`.task_base`
(seeding by ``np.random.default_rng([purpose, seed, index])``), :mod:`.cells` (init),
:mod:`.losses`, :mod:`.optim` and :mod:`.diagnostics` (clipping). The test that runs the
script against the trainer is what keeps the two in step.

A custom cell's step becomes a Python function (``cell_step``) whose body is its own variables
and state expressions, as written: the expression language's elementwise functions that are
torch's own (``TORCH_FUNCTIONS``) and operators read the same in plain torch. A cell using any
other function is refused, naming the expression and the column.
"""

from __future__ import annotations

import pprint
import textwrap
from pathlib import Path

from ..errors import ExplorerError
from .config import ExperimentConfig
from .export_custom import custom_model
from .optim import FUSED_ON

HEADER = '''#!/usr/bin/env python3
"""{title}

Exported from Scan Explorer: the experiment, its data, model and training loop in one file.
Needs only torch and numpy.  Run:  python {{this file}} [--steps N] [--quiet]
{description}"""

import argparse
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

# -- the experiment ------------------------------------------------------------------------------
CONFIG = {config}
TASK, MODEL, TRAIN = CONFIG["task"], CONFIG["model"], CONFIG["train"]


# -- data: every batch is drawn from its own seeded generator ------------------------------------
TRAIN_DATA, HELDOUT = 0, 1  # purposes: training and held-out data never share a generator


def rng_for(purpose, seed, index=0):
    """Step k's batch comes from rng_for(TRAIN_DATA, seed, k): a resumed run sees the same data."""
    return np.random.default_rng([purpose, seed, index])


def one_hot(ids, classes):
    return np.eye(classes, dtype=np.float32)[ids]  # (..., classes)


def pad_mask(lengths, pad_to):
    T = int(pad_to or lengths.max())
    return (np.arange(T)[:, None] < lengths[None, :]).astype(np.float32)  # (T, n)
'''

# Layout of every task's sequences(): inputs (T, n, I) float32, targets (T, n, O) float32 or
# (T, n) int64 class ids, mask (T, n) float32 (1 where a target counts).
TASKS = {
    "cumsum": '''

LOSS, INPUT_SIZE, OUTPUT_SIZE = "mse", 1, 1
MAX_LEN = TASK["max_len"]


def sequences(rng, n, pad_to=None):
    """Source 000: inputs N(0, 1), targets their running sum, durations min_len..max_len."""
    lengths = rng.integers(TASK["min_len"], TASK["max_len"] + 1, size=n)  # (n,)
    mask = pad_mask(lengths, pad_to)  # (T, n)
    x = rng.standard_normal(mask.shape, dtype=np.float32) * mask  # (T, n), zero past each end
    return x[:, :, None], np.cumsum(x, axis=0)[:, :, None], mask  # (T, n, 1), (T, n, 1), (T, n)
''',
    "copy": '''

LOSS, INPUT_SIZE, OUTPUT_SIZE = "cross_entropy", 10, 10
MAX_LEN = TASK["copy_delay"] + 2 * TASK["copy_length"]


def sequences(rng, n, pad_to=None):
    """Copy: remember copy_length symbols (1-8), wait, recall them after the marker (9)."""
    k, T = TASK["copy_length"], MAX_LEN
    symbols = rng.integers(1, 9, size=(k, n))  # (k, n)
    x = np.zeros((T, n), np.int64)  # (T, n)
    y = np.zeros((T, n), np.int64)  # (T, n)
    x[:k], x[T - k - 1], y[T - k:] = symbols, 9, symbols
    return one_hot(x, 10), y, np.ones((T, n), np.float32)  # (T, n, 10), (T, n), (T, n)
''',
    "adding": '''

LOSS, INPUT_SIZE, OUTPUT_SIZE = "mse", 2, 1
MAX_LEN = TASK["adding_length"]


def sequences(rng, n, pad_to=None):
    """Adding: (value ~ U(0, 1), marker) inputs; the last step's target is the two marked values' sum."""
    T = MAX_LEN
    values = rng.random((T, n)).astype(np.float32)  # (T, n)
    first, second = rng.integers(0, T // 2, n), rng.integers(T // 2, T, n)  # (n,) each
    marks = np.zeros((T, n), np.float32)  # (T, n)
    marks[first, np.arange(n)] = marks[second, np.arange(n)] = 1.0
    targets = np.zeros((T, n, 1), np.float32)  # (T, n, 1)
    targets[-1, :, 0] = (values * marks).sum(0)
    mask = np.zeros((T, n), np.float32)  # (T, n)
    mask[-1] = 1.0
    return np.stack([values, marks], -1), targets, mask  # (T, n, 2), (T, n, 1), (T, n)
''',
    "echo": '''

LOSS, INPUT_SIZE, OUTPUT_SIZE = "cross_entropy", 2, 2
ROW, WARMUP = 1_000, 8  # held-out rows of 1,000 steps; their first 8 steps have no history
EFFECTS = {3: +0.5, 8: -0.25}  # P(Y_t = 1) = 0.5 + 0.5 X[t-3] - 0.25 X[t-8]


def echo_stream(rng, size):
    """Source 002's gen_data: X ~ Bernoulli(0.5); Y_t = 1 with the probability above."""
    x = rng.integers(0, 2, size=size)  # (size,)
    threshold = 0.5 + sum(w * np.roll(x, lag) for lag, w in EFFECTS.items())  # (size,)
    y = (rng.random(size) <= threshold).astype(np.int64)  # (size,)
    return x, y


def sequences(rng, n, pad_to=None):
    """n independent rows of ROW steps (the held-out set)."""
    x, y = echo_stream(rng, n * ROW)  # (n * ROW,) each
    x, y = x.reshape(n, ROW).T, y.reshape(n, ROW).T  # (ROW, n) each
    mask = np.ones(x.shape, np.float32)  # (ROW, n)
    mask[:WARMUP] = 0.0
    return one_hot(x, 2), y, mask  # (ROW, n, 2), (ROW, n), (ROW, n)


def batches(start=0):
    """Each epoch's stream split into batch_size rows, cut into windows of num_steps::

        stream x_0 ... x_{N-1}  ->  rows (B, N // B)  ->  time-major (N // B, B)
        window w = steps w*n .. (w+1)*n - 1 of every row  -> (n, B)
    """
    B, n, N = TRAIN["batch_size"], TRAIN["num_steps"], TASK["stream_length"]
    per, L = N // B // n, N // B
    k, cached = start, (-1, None)
    while True:
        epoch, w = divmod(k, per)
        if cached[0] != epoch:
            x, y = echo_stream(rng_for(TRAIN_DATA, TRAIN["seed"], epoch), N)  # (N,) each
            cached = (epoch, [np.ascontiguousarray(a[: B * L].reshape(B, L).T) for a in (x, y)])  # (L, B)
        x, y = cached[1][0][w * n:(w + 1) * n], cached[1][1][w * n:(w + 1) * n]  # (n, B) each
        carry = TRAIN["bptt"] == "truncated" and w > 0
        yield one_hot(x, 2), y, np.ones(x.shape, np.float32), carry
        k += 1


def total_steps():
    if TRAIN["steps"] > 0:
        return TRAIN["steps"]
    return TRAIN["epochs"] * (TASK["stream_length"] // TRAIN["batch_size"] // TRAIN["num_steps"])
''',
}

# Tasks that draw fresh sequences each step (all but echo) share this stream.
FRESH_BATCHES = '''

def batches(start=0):
    """Step k: batch j = k // W of fresh sequences, cut into W windows of num_steps under truncated
    BPTT (padded to MAX_LEN, the state carried from window to window), or whole (W = 1)."""
    per = math.ceil(MAX_LEN / TRAIN["num_steps"]) if TRAIN["bptt"] == "truncated" else 1
    pad = MAX_LEN if per > 1 else None
    k, cached = start, (-1, None)
    while True:
        j, w = divmod(k, per)
        if cached[0] != j:
            cached = (j, sequences(rng_for(TRAIN_DATA, TRAIN["seed"], j), TRAIN["batch_size"], pad_to=pad))
        x, y, m = cached[1]
        if per > 1:
            cut = slice(w * TRAIN["num_steps"], (w + 1) * TRAIN["num_steps"])
            x, y, m = x[cut], y[cut], m[cut]
        yield x, y, m, w > 0
        k += 1


def total_steps():
    return TRAIN["steps"]
'''

FUSED_MODEL = '''

# -- the model: stacked recurrent layers and a linear readout at every step ------------------------
FUSED = {"vanilla": lambda i, h, n: nn.RNN(i, h, n, nonlinearity="tanh"),
         "relu": lambda i, h, n: nn.RNN(i, h, n, nonlinearity="relu"),
         "gru": lambda i, h, n: nn.GRU(i, h, n), "lstm": lambda i, h, n: nn.LSTM(i, h, n)}


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = FUSED[MODEL["cell"]](INPUT_SIZE, MODEL["hidden_size"], MODEL["layers"])
        self.readout = nn.Linear(MODEL["hidden_size"], OUTPUT_SIZE)  # (H,) -> (O,) at every step

    def forward(self, x, state=None):
        hs, final = self.rnn(x, state)  # (T, B, H); (L, B, H), or a pair of them for the LSTM
        return self.readout(hs), final  # (T, B, O)


def build_model(seed):
    """Weights uniform in [-init_scale, init_scale], biases 0 (source 000); init_scale 0 keeps
    torch's default init. The ReLU cell's W_hh starts as the identity (Le et al., 2015)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # torch's default init draws from the global generator
        model = Model()
        gen = torch.Generator().manual_seed(seed)
        scale = MODEL["init_scale"]
        with torch.no_grad():
            if scale > 0:
                params = list(model.rnn.named_parameters()) + [("weight", model.readout.weight),
                                                               ("bias", model.readout.bias)]
                for name, p in params:
                    if name.startswith("weight"):
                        p.uniform_(-scale, scale, generator=gen)
                    else:
                        p.zero_()
            if MODEL["cell"] == "relu":
                for name, p in model.rnn.named_parameters():
                    if name.startswith("weight_hh"):
                        p.copy_(torch.eye(p.shape[0]))
                    elif name.startswith("bias"):
                        p.zero_()
    return model
'''

LOOP = '''

def detach(state):
    return tuple(detach(s) for s in state) if isinstance(state, tuple) else state.detach()


# -- the loss: each sequence's mean over its valid steps, averaged over the sequences ---------------
def per_sequence_mean(err, mask):
    steps = mask.sum(0)  # (B,) valid steps per sequence
    per_seq = (err * mask).sum(0) / steps.clamp(min=1.0)  # (B,)
    return per_seq.sum() / (steps > 0).sum().clamp(min=1)  # ()


def loss_fn(outputs, targets, mask):
    if LOSS == "mse":
        return per_sequence_mean((outputs - targets).pow(2).mean(-1), mask)  # (T, B) -> ()
    T, B, C = outputs.shape
    nll = F.cross_entropy(outputs.reshape(T * B, C), targets.reshape(T * B), reduction="none")  # (T*B,)
    return per_sequence_mean(nll.view(T, B), mask)  # ()


# -- the recipe: optimizer and learning-rate schedule -------------------------------------------------
def make_optimizer(params):
    name, lr, fused = TRAIN["optimizer"], TRAIN["lr"], {fused}  # fused: one-kernel update on a CPU
    extra = {{"fused": True}} if fused else {{}}
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=TRAIN["momentum"], **extra)
    if name == "adagrad":  # initial accumulator 0.1, TensorFlow's default (source 002)
        return torch.optim.Adagrad(params, lr=lr, initial_accumulator_value=0.1, **extra)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, **extra)
    return torch.optim.RMSprop(params, lr=lr, momentum=TRAIN["momentum"], **extra)


def learning_rate(step, total):
    """step counts from 0, like TensorFlow's global_step."""
    if TRAIN["schedule"] == "staircase":
        return TRAIN["lr"] * TRAIN["decay_rate"] ** (step // TRAIN["decay_steps"])
    if TRAIN["schedule"] == "cosine":
        return TRAIN["lr"] * 0.5 * (1.0 + math.cos(math.pi * min(step, total) / max(total, 1)))
    return TRAIN["lr"]


# -- training, read top to bottom ----------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, help="optimisation steps (default: the config's)")
    parser.add_argument("--quiet", action="store_true", help="print only the final losses")
    args = parser.parse_args()
    torch.set_num_threads(max(TRAIN["threads"], 1))  # one thread is fastest for small recurrent models
    total = args.steps if args.steps is not None else total_steps()

    model = build_model(TRAIN["seed"])
    params = list(model.parameters())
    optimizer = make_optimizer(params)
    clip, carry, stream = TRAIN["clip_norm"], None, batches()
    for step in range(1, total + 1):
        x, y, m, carried = next(stream)
        x, y, m = torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(m)  # (T, B, I), targets, (T, B)

        # set lr
        lr = learning_rate(step - 1, total)
        for group in optimizer.param_groups:
            group["lr"] = lr

        # forward (truncated BPTT: start from the previous window's final state)
        outputs, final = model(x, carry if carried else None)  # (T, B, O)

        # loss and backward
        loss = loss_fn(outputs, y, m)  # ()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()

        # clip: rescale every gradient when their global norm exceeds clip_norm (Pascanu et al.)
        grads = [p.grad for p in params]
        norm = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))  # ()
        if clip:
            torch._foreach_mul_(grads, (clip / (norm + 1e-6)).clamp(max=1.0))

        # update
        optimizer.step()
        carry = detach(final) if TRAIN["bptt"] == "truncated" else None
        if not args.quiet or step == total:
            print(f"step {{step}} loss {{loss.item():.8f}} grad_norm {{norm.item():.6g}}")

    # held-out loss on a fixed set (the app's held-out number)
    x, y, m = (torch.from_numpy(a) for a in sequences(rng_for(HELDOUT, TASK["probe_seed"]), TASK["heldout_size"]))
    with torch.no_grad():
        print(f"held-out loss {{loss_fn(model(x)[0], y, m).item():.8f}}")


if __name__ == "__main__":
    main()
'''


def export_script(config: ExperimentConfig) -> str:
    """The standalone training script of ``config`` (see the module docstring)."""
    data = config.to_dict()
    title = config.title or f"{config.model.cell} RNN on the {config.task.name} task"
    description = f"\n{textwrap.fill(config.description, 96)}\n" if config.description else ""
    fused = "cpu" in FUSED_ON[config.train.optimizer]  # the script trains on the CPU, as the app does there
    text = HEADER.format(title=title.replace('"""', "'''"), description=description.replace('"""', "'''"),
                         config=_literal(data))
    text += TASKS[config.task.name]
    if config.task.name != "echo":
        text += FRESH_BATCHES
    text += FUSED_MODEL if config.model.cell != "custom" else custom_model(config)
    return text + LOOP.format(fused=fused)


def write_script(config: ExperimentConfig, path) -> Path:
    """``export_script(config)`` written to ``path`` (the CLI's ``--script`` and the window's File
    menu); a folder or an unwritable place is an ExplorerError naming it."""
    out = Path(path).expanduser()
    if out.is_dir():
        raise ExplorerError(f"--script {out} is a folder; give a file name such as {out / 'train.py'}")
    text = export_script(config)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ExplorerError(f"cannot write --script {out}: {exc.strerror or exc}") from None
    return out


def _literal(data: dict) -> str:
    """The config as a Python literal, one section per block."""
    return pprint.pformat({k: v for k, v in data.items() if k in ("task", "model", "train")}, width=100,
                          sort_dicts=False)
