"""Generate scan cases with PyTensor (the living Theano) and write its answers.

For each random program: PyTensor's outputs, its gradients, and central finite
differences of its own forward function (where truncation does not apply), so that a
PyTensor gradient bug cannot become our expected value.

Run in a separate environment that has PyTensor (it is not a project dependency):

    python -m venv /tmp/pt && /tmp/pt/bin/pip install pytensor
    /tmp/pt/bin/python tools/pytensor_oracle.py tests/data/pytensor_cases.json

tests/test_theano_scan_oracle.py replays every case through ``explorer.scan`` and
compares outputs and gradients. Each case uses the same step function, defined in both
places: ``s = sum(0.37 * (i + 1) * arg_i)``, output ``j`` = ``tanh(s + 0.1 * j)``.
"""

import json
import sys

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.scan.utils import until

pytensor.config.floatX = "float64"
pytensor.config.cxx = ""  # no C compilation: each case compiles in a fraction of a second


def step_fn(n_out, stop_at):
    def fn(*args):
        s = sum(0.37 * (i + 1) * a for i, a in enumerate(args))
        outs = [pt.tanh(s + 0.1 * j) for j in range(n_out)]
        if stop_at is not None:
            return outs, until(outs[0] > stop_at)
        return outs
    return fn


def case(rng):
    n_seq = int(rng.integers(0, 3))
    seqs = []
    for _ in range(n_seq):
        taps = sorted(set(int(t) for t in rng.integers(-3, 3, size=int(rng.integers(1, 3)))))
        rng.shuffle(taps)
        seqs.append({"data": rng.normal(size=int(rng.integers(4, 10))).round(3).tolist(), "taps": taps})
    n_rec = int(rng.integers(0 if n_seq else 1, 3))
    outs = []
    for _ in range(n_rec):
        kind = rng.integers(0, 3)
        if kind == 0:
            outs.append({"initial": round(float(rng.normal()), 3), "taps": None})
        else:
            taps = [int(-t) for t in sorted(set(rng.integers(1, 4, size=int(rng.integers(1, 3)))))]
            rng.shuffle(taps)
            if taps == [-1]:  # one tap at t-1: initial is the state itself (a scalar here)
                outs.append({"initial": round(float(rng.normal()), 3), "taps": [-1]})
                continue
            rows = max(-t for t in taps) + int(rng.integers(0, 2))  # extra rows: first W used
            outs.append({"initial": rng.normal(size=rows).round(3).tolist(), "taps": taps})
    if rng.random() < 0.4 or not outs:
        outs.insert(int(rng.integers(0, len(outs) + 1)), None)
    n_steps = None if (n_seq and rng.random() < 0.5) else int(rng.integers(0, 9))
    return {
        "sequences": seqs,
        "outputs": outs,
        "non_sequence": round(float(rng.normal()), 3),
        "n_steps": n_steps,
        "go_backwards": bool(rng.random() < 0.5),
        "truncate_gradient": int(rng.choice([-1, -1, 1, 2, 3])),
        "stop_at": None if rng.random() < 0.7 else round(float(rng.uniform(-0.5, 0.5)), 2),
    }


def solve(c):
    seq_vars = [pt.dvector(f"s{i}") for i in range(len(c["sequences"]))]
    seq_args = [dict(input=v, taps=s["taps"]) for v, s in zip(seq_vars, c["sequences"])]
    init_vars, outputs_info = [], []
    for j, o in enumerate(c["outputs"]):
        if o is None:
            outputs_info.append(None)
        elif o["taps"] is None:
            v = pt.dscalar(f"h{j}")
            init_vars.append(v)
            outputs_info.append(v)
        else:
            v = pt.dscalar(f"h{j}") if o["taps"] == [-1] else pt.dvector(f"h{j}")
            init_vars.append(v)
            outputs_info.append(dict(initial=v, taps=o["taps"]))
    w = pt.dscalar("w")
    kwargs = {}
    if c["n_steps"] is not None:
        kwargs["n_steps"] = c["n_steps"]
    res = pytensor.scan(
        step_fn(len(outputs_info), c["stop_at"]), sequences=seq_args, outputs_info=outputs_info,
        non_sequences=[w], go_backwards=c["go_backwards"],
        truncate_gradient=c["truncate_gradient"], return_updates=False, **kwargs)
    res = res if isinstance(res, list) else [res]
    inputs = seq_vars + init_vars + [w]
    values = [np.array(s["data"]) for s in c["sequences"]]
    values += [np.array(o["initial"]) for o in c["outputs"] if o is not None]
    values += [np.array(c["non_sequence"])]
    outs = pytensor.function(inputs, res, on_unused_input="ignore")(*values)
    answer = {"outputs": [np.asarray(o).tolist() for o in outs]}
    # gradient of a weighted sum of the outputs w.r.t. every input
    cost = sum((0.5 + k) * r.sum() for k, r in enumerate(res))
    try:
        grads = pytensor.grad(cost, inputs, disconnected_inputs="ignore")
        gvals = pytensor.function(inputs, grads, on_unused_input="ignore")(*values)
        answer["grads"] = [np.asarray(g).tolist() for g in gvals]
    except Exception as exc:  # noqa: BLE001 - PyTensor fails on some gradients of until-loops
        answer["grad_error"] = type(exc).__name__ + ": " + str(exc)[:200]
    steps = np.asarray(outs[0]).shape[0]
    if c["truncate_gradient"] <= 0 or c["truncate_gradient"] >= steps:
        # truncation changes nothing: the gradient is the true derivative, so check
        # PyTensor's own forward function by central differences
        f = pytensor.function(inputs, cost, on_unused_input="ignore")
        fd = []
        for i, v in enumerate(values):
            g = np.zeros(v.shape)
            for idx in np.ndindex(v.shape):
                hi = [u.copy() for u in values]
                lo = [u.copy() for u in values]
                hi[i][idx] += 1e-6
                lo[i][idx] -= 1e-6
                g[idx] = (f(*hi) - f(*lo)) / 2e-6
            fd.append(g.tolist())
        answer["fd_grads"] = fd
    return answer


def main(path):
    rng = np.random.default_rng(2026)
    cases = []
    while len(cases) < 150:
        c = case(rng)
        try:
            c["expected"] = solve(c)
        except Exception as exc:  # noqa: BLE001 - record refusals too
            c["expected"] = {"error": type(exc).__name__ + ": " + str(exc)[:200]}
        cases.append(c)
    with open(path, "w") as f:
        json.dump(cases, f, indent=0)
    errors = sum("error" in c["expected"] for c in cases)
    grad_errors = sum("grad_error" in c["expected"] for c in cases)
    wrong = sum(1 for c in cases if "fd_grads" in c["expected"] and "grads" in c["expected"] and not all(
        np.allclose(a, b, atol=1e-5) for a, b in zip(c["expected"]["grads"], c["expected"]["fd_grads"])))
    print(f"wrote {len(cases)} cases to {path}: {errors} refused by PyTensor, {grad_errors} "
          f"gradients it could not take, {wrong} where its gradient disagrees with its own "
          "finite differences")


if __name__ == "__main__":
    main(sys.argv[1])
