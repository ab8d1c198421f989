"""Replay random scan programs whose answers PyTensor gave (tools/pytensor_oracle.py).

Each case mixes sequences with taps, recurrent outputs with tap windows (and initial
values with spare rows), non-recurrent outputs, n_steps, go_backwards, until and
truncate_gradient. Outputs must match PyTensor's. Gradients must match central finite
differences of PyTensor's own forward function where truncation does not apply, and
PyTensor's truncated gradients where it does.

Where PyTensor is wrong we say so and test our documented behaviour instead:
- n_steps beyond what the sequences allow: Theano's docs call it an error; PyTensor
  raises for some programs and reads past the end of the data for others. We cap.
- n_steps=1 with go_backwards: PyTensor reads the FIRST row (its one-step rewrite drops
  the direction; with n_steps=2 it reads from the end). We read from the end.
- a few gradients of until-loops that stop early land one row off in PyTensor; its
  own finite differences disagree with them, and ours agree with the differences.
"""

import json
from pathlib import Path

import pytest
import torch

from explorer import scan, until
from explorer.core.errors import ScanError
from explorer.core.taps import sequence_taps

CASES = json.loads((Path(__file__).parent / "data" / "pytensor_cases.json").read_text())


def step_fn(n_out, stop_at):
    def fn(*args):
        s = sum(0.37 * (i + 1) * a for i, a in enumerate(args))
        outs = [torch.tanh(s + 0.1 * j) for j in range(n_out)]
        if stop_at is not None:
            return [*outs, until(outs[0] > stop_at)]
        return outs

    return fn


def build(case):
    seqs = [torch.tensor(s["data"], dtype=torch.float64, requires_grad=True) for s in case["sequences"]]
    inits, outputs_info = [], []
    for o in case["outputs"]:
        if o is None:
            outputs_info.append(None)
            continue
        v = torch.tensor(o["initial"], dtype=torch.float64, requires_grad=True)
        inits.append(v)
        outputs_info.append(v if o["taps"] is None else dict(initial=v, taps=o["taps"]))
    w = torch.tensor(case["non_sequence"], dtype=torch.float64, requires_grad=True)
    return seqs, inits, w, outputs_info


def run(case):
    seqs, inits, w, outputs_info = build(case)
    res = scan(step_fn(len(outputs_info), case["stop_at"]),
               sequences=[dict(input=v, taps=s["taps"]) for v, s in zip(seqs, case["sequences"])],
               outputs_info=outputs_info, non_sequences=[w], n_steps=case["n_steps"],
               go_backwards=case["go_backwards"], truncate_gradient=case["truncate_gradient"])
    res = res if isinstance(res, list) else [res]
    return res, seqs + inits + [w]


def ids(cases):
    return [f"case{i}" for i in range(len(cases))]


def shortest(case):
    plans = [sequence_taps(len(s["data"]), s["taps"]) for s in case["sequences"]]
    return plans, min((p.n_full for p in plans), default=None)


def capped(case):
    """n_steps asks for more steps than the sequences allow. Theano's docs call this an
    error; PyTensor raises for some such programs and, for others, runs the extra steps
    reading past the end of the data. We cap, as PRODUCT.md specifies."""
    plans, n = shortest(case)
    return n is not None and n >= 0 and case["n_steps"] is not None and case["n_steps"] > n


def one_step_backwards(case):
    return case["go_backwards"] and case["sequences"] and case["n_steps"] == 1


TOO_SHORT = [c for c in CASES if any(p.n_full < 0 for p in shortest(c)[0])]
CAPPED = [c for c in CASES if c not in TOO_SHORT and capped(c)]
BACKWARDS_1 = [c for c in CASES if c not in TOO_SHORT and not capped(c) and one_step_backwards(c)]
EXACT = [c for c in CASES if c not in TOO_SHORT + CAPPED + BACKWARDS_1]


def test_the_oracle_covers_the_features():
    assert len(EXACT) >= 90
    assert all("error" not in c["expected"] for c in EXACT), "PyTensor refused a well-formed program"
    assert any(c["go_backwards"] for c in EXACT) and any(c["stop_at"] is not None for c in EXACT)
    assert sum("fd_grads" in c["expected"] for c in EXACT) >= 60
    assert sum(c["truncate_gradient"] > 0 and "fd_grads" not in c["expected"] and "grads" in c["expected"]
               for c in EXACT) >= 10  # truncation that matters, checked against PyTensor
    assert any(isinstance(o["initial"], list) and len(o["initial"]) > max(-k for k in o["taps"])
               for c in EXACT for o in c["outputs"] if o and o["taps"])


def outputs_match(res, expected, rows=None):
    assert len(res) == len(expected)
    for got, want in zip(res, expected):
        want = torch.tensor(want, dtype=torch.float64)
        want = want[:rows] if rows is not None else want
        torch.testing.assert_close(got.detach(), want.reshape(got.shape))


@pytest.mark.parametrize("case", EXACT, ids=ids(EXACT))
def test_matches_pytensor(case):
    res, inputs = run(case)
    expected = case["expected"]
    outputs_match(res, expected["outputs"])
    want = expected.get("fd_grads", expected.get("grads"))
    if want is None:  # PyTensor could not differentiate this truncated until-loop
        return
    cost = sum((0.5 + k) * r.sum() for k, r in enumerate(res))
    grads = torch.autograd.grad(cost, inputs, allow_unused=True) if cost.requires_grad else [None] * len(inputs)
    tol = dict(atol=1e-5, rtol=1e-4) if "fd_grads" in expected else {}
    for got, w, x in zip(grads, want, inputs):
        got = torch.zeros_like(x) if got is None else got
        torch.testing.assert_close(got, torch.tensor(w, dtype=torch.float64).reshape(x.shape), **tol)


@pytest.mark.parametrize("case", BACKWARDS_1, ids=ids(BACKWARDS_1))
def test_one_backwards_step_reads_the_end(case):
    res, _ = run(case)
    full, _ = run({**case, "n_steps": None})
    for one, many in zip(res, full):
        torch.testing.assert_close(one.detach(), many.detach()[:1])


@pytest.mark.parametrize("case", CAPPED, ids=ids(CAPPED))
def test_n_steps_beyond_the_sequences_is_capped(case):
    res, _ = run(case)
    steps = res[0].shape[0]
    assert steps <= shortest(case)[1]
    if case["stop_at"] is None:
        assert steps == shortest(case)[1]
    if "error" not in case["expected"]:  # PyTensor's rows up to the cap are valid
        outputs_match(res, case["expected"]["outputs"], rows=steps)


@pytest.mark.parametrize("case", TOO_SHORT, ids=ids(TOO_SHORT))
def test_sequence_shorter_than_its_taps_is_refused(case):
    with pytest.raises(ScanError, match="rows per step"):
        run(case)
