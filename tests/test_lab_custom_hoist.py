"""Hoisting a custom cell's state-free parts out of the loop changes no number."""

import pytest
import torch

from explorer.core.lab.custom_cell import CellParam, CellVariable, CustomCell
from explorer.core.lab.custom_hoist import plan_step
from explorer.core.lab.custom_rnn import CustomRNN, _Compiled

CELLS = {
    "vanilla": CustomCell(params=(CellParam("W_ih", "H, I"), CellParam("W_hh", "H, H"), CellParam("b_ih", "H"),
                                  CellParam("b_hh", "H")),
                          expressions=("tanh(x @ W_ih.T + (b_ih + b_hh) + h_tm1 @ W_hh.T)",)),
    "mgu": CustomCell(params=(CellParam("W_f", "I, H"), CellParam("U_f", "H, H"), CellParam("W_h", "I, H"),
                              CellParam("U_h", "H, H")),
                      variables=(CellVariable("f", "sigmoid(x @ W_f + h_tm1 @ U_f)"),),
                      expressions=("(1 - f) * h_tm1 + f * tanh(x @ W_h + (f * h_tm1) @ U_h)",)),
    "not_rowwise": CustomCell(params=(CellParam("W", "I, H"), CellParam("v", "H")),
                              variables=(CellVariable("a", "tanh(x @ W) * sum(x) + x.T.T @ W"),),
                              expressions=("h_tm1 * v + a - mean(x @ W)",)),
    "two_states": CustomCell(states=("h", "c"), params=(CellParam("W", "I, H"), CellParam("U", "H, H")),
                             variables=(CellVariable("p", "exp(-abs(x @ W))"),),
                             expressions=("tanh(c_tm1) * p", "0.5 * c_tm1 + p + h_tm1 @ U")),
}


@pytest.mark.parametrize("name", CELLS)
def test_hoisted_and_plain_steps_agree_on_values_and_gradients(name):
    rnn = CustomRNN(CELLS[name], input_size=3, hidden=5, layers=1, generator=torch.Generator().manual_seed(1))
    params = dict(rnn.layers[0].named_parameters())
    plan = plan_step({n: p.dim() for n, p in params.items()}, [(v.name, v.expression) for v in CELLS[name].variables],
                     list(CELLS[name].expressions))
    x = torch.randn(7, 4, 3, generator=torch.Generator().manual_seed(2))
    results = []
    for compiled in (_Compiled(CELLS[name], plan), _Compiled(CELLS[name], None)):
        rnn.zero_grad()
        final, hs = compiled.run(params, x, rnn.zero_state(4, x), None)
        (hs.square().sum() + sum(f.sum() for f in (final if isinstance(final, tuple) else (final,)))).backward()
        results.append((hs.detach(), [p.grad.clone() for p in params.values()]))
    (h1, g1), (h2, g2) = results
    torch.testing.assert_close(h1, h2, rtol=1e-5, atol=1e-6)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-5)


def test_the_projection_leaves_the_loop():
    plan = plan_step({"W_ih": 2, "W_hh": 2, "b_ih": 1, "b_hh": 1}, [],
                     ["tanh(x @ W_ih.T + (b_ih + b_hh) + h_tm1 @ W_hh.T)"])
    assert plan.per_time == [("_t0", "x @ W_ih.T + (b_ih + b_hh)")]  # the built-in cells' time-parallel projection
    assert plan.constants == [("_c0", "W_hh.T")] and plan.expressions == ["tanh(_t0 + h_tm1 @ _c0)"]


def test_what_is_not_row_by_row_stays_in_the_loop():
    plan = plan_step({"W": 2, "P": 3}, [], ["h_tm1 + sum(x) + x.T[0] + W @ x.T + x * P + randn(1)"])
    assert plan.per_time == [] and "sum(x)" in plan.expressions[0] and "randn(1)" in plan.expressions[0]
