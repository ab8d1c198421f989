"""The project against the same recipes written directly in JAX, side by side in one run.

Rows (training steps/s, one thread each: torch.set_num_threads(1) and XLA's single-threaded CPU):

- presets ``default`` and ``seed000_cumsum`` as shipped, diagnostics on, through the same
  ``Trainer`` the CLI uses; the diagnostics' share of wall time is given twice: the time inside
  the held-out evaluation and the probe (timed, precise; gradient flow on numba comes from the
  step's own backward) and 1 - steps/s with / without every diagnostic (noisy on a shared
  machine); JAX runs the recipe as a jitted ``lax.scan`` train step on batches from the same
  task stream, padded to the longest sequence (task.max_len) and masked;
- single layers (vanilla, GRU, LSTM), hidden 256, length 50, input 1, MSE on a linear readout,
  SGD, batch 1 and 64: the project's model through ``auto``, a plain torch loop (= 1.00x) and JAX.

JAX steps are compiled once outside timing. Rounds interleave the contenders (A B C A B C ...)
because the machine is shared; the table gives the median of each round's ratio.

    pip install -e ".[bench]"; python bench/vs_jax.py [--rounds 5] [--seconds 1.0] [--only default,gru1]
"""

from __future__ import annotations

import os

os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse
import dataclasses
import statistics
import time

import numpy as np
import torch

H, T, I = 256, 50, 1  # single-layer rows


# -- JAX recipes -----------------------------------------------------------------------------
def jax_cell(cell: str):
    """(step(params, carry, xp_t) -> carry, h), gates G, init carry(B, H) in PyTorch's formulas."""
    import jax.numpy as jnp
    from jax.nn import sigmoid

    def vanilla(p, h, xp):
        h = jnp.tanh(xp + h @ p["whh"].T)
        return h, h

    def gru(p, h, xp):
        gh = h @ p["whh"].T + p["bhh"]  # (B, 3H)
        xr, xz, xn = jnp.split(xp, 3, -1)
        hr, hz, hn = jnp.split(gh, 3, -1)
        r, z = sigmoid(xr + hr), sigmoid(xz + hz)
        n = jnp.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        return h, h

    def lstm(p, hc, xp):
        h, c = hc
        i, f, g, o = jnp.split(xp + h @ p["whh"].T, 4, -1)
        c = sigmoid(f) * c + sigmoid(i) * jnp.tanh(g)
        h = sigmoid(o) * jnp.tanh(c)
        return (h, c), h

    return {"vanilla": (vanilla, 1), "gru": (gru, 3), "lstm": (lstm, 4)}[cell]


def jax_recipe(cell: str, hidden: int, batch: int, optimizer: str, lr: float, clip: float, seed: int = 0):
    """A jitted train step ``(params, opt_state, x, y, m) -> (params, opt_state, loss)``."""
    import jax
    import jax.numpy as jnp

    step_fn, G = jax_cell(cell)
    k = jax.random.split(jax.random.PRNGKey(seed), 3)
    def u(key, shape):
        return jax.random.uniform(key, shape, jnp.float32, -0.1, 0.1)

    params = {"wih": u(k[0], (G * hidden, I)), "whh": u(k[1], (G * hidden, hidden)),
              "bih": jnp.zeros(G * hidden), "bhh": jnp.zeros(G * hidden),
              "wo": u(k[2], (1, hidden)), "bo": jnp.zeros(1)}

    def loss_fn(p, x, y, m):  # x (T, B, I), y (T, B, 1), m (T, B)
        xp = x @ p["wih"].T + p["bih"] + (0 if cell == "gru" else p["bhh"])  # (T, B, G*H)
        h0 = jnp.zeros((x.shape[1], hidden))
        carry = (h0, h0) if cell == "lstm" else h0
        _, hs = jax.lax.scan(lambda c, xt: step_fn(p, c, xt), carry, xp)  # (T, B, H)
        err = ((hs @ p["wo"].T + p["bo"] - y) ** 2).mean(-1)  # (T, B)
        steps = m.sum(0)
        return ((err * m).sum(0) / jnp.maximum(steps, 1)).sum() / jnp.maximum((steps > 0).sum(), 1)

    def train_step(p, s, x, y, m):
        loss, g = jax.value_and_grad(loss_fn)(p, x, y, m)
        if clip:
            norm = jnp.sqrt(sum(jnp.sum(v * v) for v in jax.tree_util.tree_leaves(g)))
            g = jax.tree_util.tree_map(lambda v: v * jnp.minimum(1.0, clip / (norm + 1e-6)), g)
        if optimizer == "sgd":
            return jax.tree_util.tree_map(lambda a, b: a - lr * b, p, g), s, loss
        t, mu, nu = s  # Adam, torch's defaults
        t = t + 1
        mu = jax.tree_util.tree_map(lambda a, b: 0.9 * a + 0.1 * b, mu, g)
        nu = jax.tree_util.tree_map(lambda a, b: 0.999 * a + 0.001 * b * b, nu, g)
        c1, c2 = 1 - 0.9 ** t, 1 - 0.999 ** t
        p = jax.tree_util.tree_map(lambda a, b, c: a - lr * (b / c1) / (jnp.sqrt(c / c2) + 1e-8), p, mu, nu)
        return p, (t, mu, nu), loss

    def zeros():
        return jax.tree_util.tree_map(jnp.zeros_like, params)

    state = (jnp.zeros(()), zeros(), zeros()) if optimizer == "adam" else ()
    return jax.jit(train_step, donate_argnums=(0, 1)), params, state


class JaxRunner:
    """One recipe in JAX; ``batches()`` yields numpy (x, y, m), ``run(n)`` takes n steps."""

    def __init__(self, cell, hidden, batch, optimizer, lr, clip, batches):
        import jax

        self.jax = jax
        self.step, self.params, self.state = jax_recipe(cell, hidden, batch, optimizer, lr, clip)
        self.batches = batches
        for _ in range(3):  # compile (one shape: every batch is padded to the same length)
            self.run(1)

    def run(self, n: int) -> None:
        loss = None
        for _ in range(n):
            x, y, m = next(self.batches)
            self.params, self.state, loss = self.step(self.params, self.state, x, y, m)
        self.jax.block_until_ready(loss)


# -- torch contenders ------------------------------------------------------------------------
def plain_loop(cell: str, batch: int):
    """A hand-written torch loop of the cell (autograd through every step), SGD."""
    G = {"vanilla": 1, "gru": 3, "lstm": 4}[cell]
    gen = torch.Generator().manual_seed(0)
    ps = [torch.empty(*s).uniform_(-0.1, 0.1, generator=gen).requires_grad_()
          for s in [(G * H, I), (G * H, H), (G * H,), (G * H,), (1, H), (1,)]]
    w_ih, w_hh, b_ih, b_hh, w_o, b_o = ps
    opt = torch.optim.SGD(ps, lr=1e-4)
    x = torch.randn(T, batch, I)
    y = x.cumsum(0)

    def step():
        h = torch.zeros(batch, H)
        c, hs = torch.zeros(batch, H), []
        xp = x @ w_ih.T + b_ih  # (T, B, G*H)
        for t in range(T):
            if cell == "vanilla":
                h = torch.tanh(xp[t] + h @ w_hh.T + b_hh)
            elif cell == "gru":
                xr, xz, xn = xp[t].chunk(3, -1)
                hr, hz, hn = (h @ w_hh.T + b_hh).chunk(3, -1)
                r, z = torch.sigmoid(xr + hr), torch.sigmoid(xz + hz)
                n = torch.tanh(xn + r * hn)
                h = n + z * (h - n)
            else:
                i, f, g, o = (xp[t] + h @ w_hh.T + b_hh).chunk(4, -1)
                c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
                h = torch.sigmoid(o) * torch.tanh(c)
            hs.append(h)
        loss = (torch.stack(hs) @ w_o.T + b_o - y).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()

    return step


def project_layer(cell: str, batch: int):
    """The project's training step as the Trainer takes it: its model through ``auto`` (the backend
    the Trainer picks on this device), its masked loss and its (fused) SGD; on the numba backend
    the whole step as the one fused call the Trainer makes (``fast.step``)."""
    from explorer.core.lab.config import ModelConfig, TrainConfig
    from explorer.core.lab.fast.step import FusedStep, why_not
    from explorer.core.lab.models import build_model, resolve_backend
    from explorer.core.lab.optim import make_optimizer

    config = ModelConfig(cell=cell, hidden_size=H, init_scale=0.1)
    model = build_model(config, I, 1)
    cpu = torch.device("cpu")
    backend = resolve_backend(config, cpu, batch)
    opt = make_optimizer(list(model.parameters()), TrainConfig(optimizer="sgd", lr=1e-4))  # fused SGD
    x = torch.randn(T, batch, I)
    y, m = x.cumsum(0), torch.ones(T, batch)
    fuse = model.fuses_loss(backend)
    if not why_not(model, opt, cpu, backend):
        fused = FusedStep(model, opt)

        def step():
            fused.step(x, y, m, None, 1e-4, 0.0, False)

        step.backend = backend
        return step

    def step():
        loss = model.loss(model(x, backend=backend, readout=not fuse), y, m)  # () the Trainer's loss
        opt.zero_grad()
        loss.backward()
        opt.step()

    step.backend = backend
    return step


def preset_config(name: str):
    from explorer.core.lab.config import ExperimentConfig
    from explorer.core.presets import resolve

    config = ExperimentConfig.from_dict(resolve("train", name))
    return dataclasses.replace(config, train=dataclasses.replace(config.train, steps=10**8))  # never ends here


def project_preset(name: str, diagnostics: bool = True):
    """The preset through the CLI's Trainer; one call = ``n`` steps (diagnostics included unless
    ``diagnostics=False``: no gradient flow, probe or held-out evaluation; reports stay)."""
    from explorer.core.lab.training import Trainer

    config = preset_config(name)
    if not diagnostics:
        config = dataclasses.replace(config, train=dataclasses.replace(config.train, flow_every=0, probe_every=0,
                                                                       eval_every=0))
    trainer = Trainer(config)
    reports = trainer.reports()
    clock = {"wall": 0.0, "diagnostics": 0.0}  # seconds in run(), and in evaluate() / probe() within it
    def timing(fn):
        def timed():
            start = time.perf_counter()
            try:
                return fn()
            finally:
                clock["diagnostics"] += time.perf_counter() - start
        return timed

    trainer.evaluate, trainer.probe = timing(trainer.evaluate), timing(trainer.probe)

    def run(n):
        start = time.perf_counter()
        for _ in range(n):
            next(reports)
        clock["wall"] += time.perf_counter() - start

    run.backend, run.clock = trainer.backend, clock
    return run


def jax_preset(name: str):
    from explorer.core.lab.tasks import make_task

    config = preset_config(name)
    tr, task = config.train, make_task(config.task)

    def batches():  # the same stream as the Trainer's, padded to the longest possible sequence
        from explorer.core.lab.task_base import TRAIN, rng_for
        j = 0
        while True:
            yield task.sequences(rng_for(TRAIN, tr.seed, j), tr.batch_size, pad_to=task.max_length())
            j += 1

    return JaxRunner(config.model.cell, config.model.hidden_size, tr.batch_size, tr.optimizer, tr.lr,
                     tr.clip_norm, batches())


def jax_layer(cell: str, batch: int):
    x = np.random.default_rng(0).standard_normal((T, batch, I)).astype(np.float32)
    fixed = (x, x.cumsum(0), np.ones((T, batch), np.float32))

    def batches():
        while True:
            yield fixed

    return JaxRunner(cell, H, batch, "sgd", 1e-4, 0.0, batches())


# -- timing ----------------------------------------------------------------------------------
def rate(run_n, chunk: int, seconds: float) -> float:
    """Steps/s over whole chunks of ``chunk`` steps for about ``seconds``."""
    n, start = 0, time.perf_counter()
    while True:
        run_n(chunk)
        n += chunk
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed


def repeat(step):
    def run_n(n):
        for _ in range(n):
            step()
    return run_n


def rows(only: set[str] | None):
    """(name, {contender: (run_n, chunk)}) per row; a preset's chunk spans all its diagnostic intervals."""
    for preset, chunk in (("default", 500), ("seed000_cumsum", 1000)):
        if not only or preset in only:
            yield preset, {"project": (project_preset(preset), chunk), "jax": (jax_preset(preset).run, 50),
                           "bare": (project_preset(preset, diagnostics=False), chunk)}
    for batch in (1, 64):
        for cell in ("vanilla", "gru", "lstm"):
            name = f"{cell} b{batch}"
            if not only or name.replace(" ", "") in only:
                proj = project_layer(cell, batch)
                yield name, {"plain": (repeat(plain_loop(cell, batch)), 5), "project": (repeat(proj), 5),
                             "jax": (JaxRunner.run.__get__(jax_layer(cell, batch)), 5), "backend": proj.backend}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=1.0, help="per contender per round")
    parser.add_argument("--only", default="", help="comma-separated rows: default, seed000_cumsum, vanillab1, gru64 ...")
    args = parser.parse_args()
    torch.set_num_threads(1)
    only = {s.strip() for s in args.only.split(",") if s.strip()} or None
    print(f"{'row':16s} {'backend':8s} {'plain':>8s} {'project':>8s} {'JAX':>8s}  {'proj/JAX':>8s} "
          f"{'proj/plain':>10s} {'JAX/plain':>9s}   (steps/s: medians over {args.rounds} interleaved rounds)")
    for name, contenders in rows(only):
        backend = contenders.pop("backend", None) or contenders["project"][0].backend
        for run_n, chunk in contenders.values():
            run_n(chunk)  # warm up (first reports, lazy held-out set, numba caches)
            for key in getattr(run_n, "clock", {}):
                run_n.clock[key] = 0.0
        rounds = []
        for _ in range(args.rounds):
            rounds.append({k: rate(run_n, chunk, args.seconds) for k, (run_n, chunk) in contenders.items()})
        med = {k: statistics.median(r[k] for r in rounds) for k in contenders}
        ratio = statistics.median(r["project"] / r["jax"] for r in rounds)
        plain = "plain" in med
        pp = statistics.median(r["project"] / r["plain"] for r in rounds) if plain else None
        jp = statistics.median(r["jax"] / r["plain"] for r in rounds) if plain else None
        diag = ""
        if "bare" in med:  # the diagnostics' share of wall time, timed inside and as 1 - (steps/s with) / (without)
            clock = contenders["project"][0].clock
            diag = f"   diagnostics: held-out + probe {100 * clock['diagnostics'] / clock['wall']:.1f}% of wall time " \
                   f"(timed inside); all {100 * statistics.median(1 - r['project'] / r['bare'] for r in rounds):.0f}% " \
                   f"(steps/s without them {med['bare']:.0f})"
        print(f"{name:16s} {backend:8s} {med.get('plain', 0):8.0f} {med['project']:8.0f} {med['jax']:8.0f}  "
              f"{ratio:7.2f}x {'' if pp is None else f'{pp:9.2f}x'} {'' if jp is None else f'{jp:8.2f}x'}{diag}",
              flush=True)


if __name__ == "__main__":
    main()
