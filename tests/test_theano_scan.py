"""explorer.scan: Theano's interface with PyTensor's semantics.

Expected values marked "PyTensor" were printed by PyTensor 3.0.7 for the same program.
"""

import pytest
import torch

from explorer import scan, until
from explorer.core.errors import ScanError

f64 = torch.float64


def t(values, dtype=f64):
    return torch.tensor(values, dtype=dtype)


# --- semantics -----------------------------------------------------------------------

def test_one_output_is_a_tensor_several_are_a_list():
    one = scan(lambda a: a * 2, sequences=t([1.0, 2.0]))
    assert isinstance(one, torch.Tensor) and one.tolist() == [2.0, 4.0]
    two = scan(lambda a: (a, -a), sequences=t([1.0, 2.0]))
    assert isinstance(two, list) and two[1].tolist() == [-1.0, -2.0]


def test_sequence_taps_in_given_order():
    # PyTensor: taps [-2, 0, 1] -> [23, 134, 245, 356, 467]; taps [0, -2] -> [20, 31, 42, 53]
    x = torch.arange(8.0)
    out = scan(lambda a, b, c: a * 100 + b * 10 + c, sequences=[dict(input=x, taps=[-2, 0, 1])])
    assert out.tolist() == [23, 134, 245, 356, 467]
    out = scan(lambda a, b: a * 10 + b, sequences=[dict(input=x[:6], taps=[0, -2])])
    assert out.tolist() == [20, 31, 42, 53]


def test_output_taps_and_initial_rows():
    # PyTensor: taps [-3, -1], initial [1, 2, 3] -> [13, 33, 63, 193]
    out = scan(lambda a, b: a * 10 + b, outputs_info=[dict(initial=t([1.0, 2, 3]), taps=[-3, -1])], n_steps=4)
    assert out.tolist() == [13, 33, 63, 193]
    # PyTensor: taps [-1, -3] (given order), initial [1, 2, 3] -> [31, 312, 3123]
    out = scan(lambda a, b: a * 10 + b, outputs_info=[dict(initial=t([1.0, 2, 3]), taps=[-1, -3])], n_steps=3)
    assert out.tolist() == [31, 312, 3123]
    # PyTensor uses the FIRST max(-taps) rows of a longer initial: [1, 2, 3, 4], taps [-2, -1] -> 12, 32, 152
    out = scan(lambda a, b: a * 10 + b, outputs_info=[dict(initial=t([1.0, 2, 3, 4]), taps=[-2, -1])], n_steps=3)
    assert out.tolist() == [12, 32, 152]


def test_single_tap_minus_one_dict_initial_is_the_state():
    # PyTensor: dict(initial=h, taps=[-1]) with h a vector treats h as the state itself
    out = scan(lambda a: a * 2, outputs_info=[dict(initial=t([1.0, 2.0]), taps=[-1])], n_steps=3)
    assert out.tolist() == [[2, 4], [4, 8], [8, 16]]


def test_argument_order_sequences_outputs_non_sequences():
    seen = []

    def fn(*args):
        seen.append([float(a) for a in args])
        return args[0] + args[1] + args[2]

    scan(fn, sequences=[t([1.0, 2.0])], outputs_info=[t(10.0)], non_sequences=[t(100.0)])
    assert seen[0] == [1.0, 10.0, 100.0]
    assert seen[1] == [2.0, 111.0, 100.0]


def test_until_keeps_the_stopping_step():
    # PyTensor: doubling from 1 until > 100 -> [2, 4, ..., 128]  (source 004's stop-when)
    out = scan(lambda s: (s * 2, until(s * 2 > 100)), outputs_info=t(1.0), n_steps=20)
    assert out.tolist() == [2, 4, 8, 16, 32, 64, 128]
    out = scan(lambda a, s: (s + a, until(s + a > 5)), sequences=torch.arange(1.0, 10.0), outputs_info=t(0.0))
    assert out.tolist() == [1, 3, 6]


def test_go_backwards():
    # PyTensor: backwards cumsum of [1, 2, 3, 4] -> [4, 7, 9, 10]; n_steps=2 -> last two
    x = t([1.0, 2, 3, 4])
    assert scan(lambda a, s: s + a, sequences=x, outputs_info=t(0.0), go_backwards=True).tolist() == [4, 7, 9, 10]
    out = scan(lambda a, s: s * 10 + a, sequences=x, outputs_info=t(0.0), go_backwards=True, n_steps=2)
    assert out.tolist() == [4, 43]
    # PyTensor: each sequence walks from its own end: [1..5] and [6, 7, 8] -> 58, 47, 36
    out = scan(lambda a, b: a * 10 + b, sequences=[torch.arange(1.0, 6.0), t([6.0, 7, 8])], go_backwards=True)
    assert out.tolist() == [58, 47, 36]
    # PyTensor: with taps [-1, 0] and a shorter second sequence -> 563, 452, 341
    out = scan(lambda a, b, c: a * 100 + b * 10 + c,
               sequences=[dict(input=torch.arange(1.0, 7.0), taps=[-1, 0]), torch.arange(1.0, 4.0)],
               go_backwards=True)
    assert out.tolist() == [563, 452, 341]


def test_step_count_shortest_sequence_capped_by_n_steps():
    x = torch.arange(5.0)
    assert scan(lambda a, b: a * 10 + b, sequences=[torch.arange(1.0, 6.0), t([6.0, 7, 8])]).shape == (3,)
    assert scan(lambda a: a, sequences=x, n_steps=3).tolist() == [0, 1, 2]
    # PyTensor caps n_steps above a single sequence's length (5 steps); with several
    # sequences it raises a shape error instead. We always cap, as PRODUCT.md says.
    assert scan(lambda a: a, sequences=x, n_steps=10).tolist() == [0, 1, 2, 3, 4]


def test_zero_steps_give_empty_outputs():
    out = scan(lambda a, s: (a, s + a), sequences=torch.arange(4.0), outputs_info=[None, t(0.0)], n_steps=0)
    assert out[1].shape == (0,)


def test_non_recurrent_output_between_recurrent_ones():
    # PyTensor: outputs_info [None, 0] -> [0, 2, 4, 6] and [0, 1, 3, 6]
    a, s = scan(lambda x, s: (x * 2, s + x), sequences=torch.arange(4.0), outputs_info=[None, t(0.0)])
    assert a.tolist() == [0, 2, 4, 6] and s.tolist() == [0, 1, 3, 6]


def test_float32_and_float64_are_kept():
    for dtype in (torch.float32, torch.float64):
        out = scan(lambda a, s: s + a, sequences=torch.ones(3, dtype=dtype), outputs_info=torch.zeros((), dtype=dtype))
        assert out.dtype == dtype


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda():
    x = torch.arange(4.0, device="cuda")
    out = scan(lambda a, s: (s + a, until(s + a > 2)), sequences=x, outputs_info=torch.zeros((), device="cuda"))
    assert out.device.type == "cuda" and out.tolist() == [0, 1, 3]


# --- errors that teach ---------------------------------------------------------------

def test_wrong_number_of_outputs():
    with pytest.raises(ScanError, match="returned 1 output.*describes 2.*use None"):
        scan(lambda a, s: s + a, sequences=t([1.0]), outputs_info=[t(0.0), None])


def test_state_shape_change_names_the_output():
    with pytest.raises(ScanError, match=r"output 0 returned shape \(3,\) but its initial value has shape \(2,\)"):
        scan(lambda s: torch.cat([s, s[:1]]), outputs_info=torch.zeros(2), n_steps=2)


def test_state_dtype_change_names_the_output():
    with pytest.raises(ScanError, match="output 0 returned dtype torch.float64 but its initial value is torch.float32"):
        scan(lambda a, s: s + a, sequences=torch.ones(2, dtype=f64), outputs_info=torch.zeros(()))


def test_too_few_initial_rows():
    with pytest.raises(ScanError, match="outputs_info\\[0\\].*1 rows but the oldest tap is -2.*at least 2 rows"):
        scan(lambda a, b: a + b, outputs_info=[dict(initial=t([1.0]), taps=[-2, -1])], n_steps=3)


def test_neither_sequences_nor_n_steps():
    with pytest.raises(ScanError, match="neither sequences nor n_steps.*n_steps=..."):
        scan(lambda s: s + 1, outputs_info=t(0.0))


def test_wrong_parameter_count_lists_the_order():
    with pytest.raises(ScanError, match=r"fn receives, in order: sequences\[0\]\[t\], outputs_info\[0\]\[t-1\], non_sequences\[0\]"):
        scan(lambda a, s: s + a, sequences=t([1.0]), outputs_info=t(0.0), non_sequences=[t(1.0)])


def test_sequence_too_short_for_its_taps():
    with pytest.raises(ScanError, match=r"sequences\[0\] has 3 rows but its taps \[-3, 1\] read 5 rows"):
        scan(lambda a, b: a + b, sequences=[dict(input=t([1.0, 2, 3]), taps=[-3, 1])])


def test_positive_output_tap_and_updates_dict():
    with pytest.raises(ScanError, match="must be negative"):
        scan(lambda a: a, outputs_info=[dict(initial=t([1.0]), taps=[1])], n_steps=2)
    with pytest.raises(ScanError, match="updates are not supported.*recurrent output"):
        scan(lambda: {"k": 1}, n_steps=2)


def test_changing_non_recurrent_shape_is_caught():
    with pytest.raises(ScanError, match=r"output 0 changed from shape \(1,\)"):
        scan(lambda a: torch.ones(int(a) + 1), sequences=torch.arange(3.0))


# --- gradients -----------------------------------------------------------------------

def test_gradcheck_taps_and_non_sequences():
    x = torch.randn(7, 2, dtype=f64, requires_grad=True)
    h0 = torch.randn(2, 2, dtype=f64, requires_grad=True)
    W = torch.randn(2, 2, dtype=f64, requires_grad=True)

    def run(x, h0, W):
        return scan(lambda a, b, h2, h1, W: torch.tanh(a @ W + b + h2 * 0.5 + h1 @ W),
                    sequences=[dict(input=x, taps=[-1, 1])],
                    outputs_info=[dict(initial=h0, taps=[-2, -1])], non_sequences=[W])

    assert torch.autograd.gradcheck(run, (x, h0, W))


def test_gradcheck_backwards_and_until():
    x = torch.rand(6, dtype=f64, requires_grad=True)
    h0 = torch.tensor(0.3, dtype=f64, requires_grad=True)

    def run(x, h0):
        return scan(lambda a, s: (torch.sin(s) + a, until(s > 100.0)), sequences=x, outputs_info=h0, go_backwards=True)

    assert torch.autograd.gradcheck(run, (x, h0))

    def run_until(x, h0):  # stops after 3 steps: fixed for small perturbations
        return scan(lambda a, s: (s + a * a, until(s + a * a > 1.5)), sequences=x + 1.0, outputs_info=h0)

    assert run_until(x, h0).shape[0] < 6
    assert torch.autograd.gradcheck(run_until, (x, h0))


def _linear_recurrence(truncate, x, W, h0=None):
    h0 = torch.tensor(0.0, dtype=f64) if h0 is None else h0
    return scan(lambda a, s, W: s * W + a, sequences=[x], outputs_info=[h0], non_sequences=[W],
                truncate_gradient=truncate)


def test_truncate_gradient_matches_pytensor():
    x = torch.arange(1.0, 6.0, dtype=f64, requires_grad=True)
    W = torch.tensor(2.0, dtype=f64, requires_grad=True)
    h0 = torch.tensor(1.0, dtype=f64, requires_grad=True)
    out = _linear_recurrence(2, x, W)
    gx, gW = torch.autograd.grad(out[-1], (x, W))
    assert gx.tolist() == [0, 0, 0, 2, 1] and gW.item() == 48  # PyTensor
    (gx,) = torch.autograd.grad(_linear_recurrence(2, x, W).sum(), (x,))
    assert gx.tolist() == [0, 0, 0, 3, 1]  # PyTensor
    out = _linear_recurrence(2, x, W, h0)
    (g_h0,) = torch.autograd.grad(out[-1], h0, allow_unused=True)
    assert g_h0 is None or g_h0.item() == 0  # PyTensor: 0 (the initial value is > k steps back)
    g = torch.autograd.grad(out[1], (x, h0), allow_unused=True)
    assert all(v is None or not v.any() for v in g)  # PyTensor: steps before the last k get nothing
    full = _linear_recurrence(-1, x, W)
    gx, gW = torch.autograd.grad(full[-1], (x, W))
    assert gx.tolist() == [16, 8, 4, 2, 1] and gW.item() == 72  # PyTensor
    # the forward values are not changed by truncation
    torch.testing.assert_close(_linear_recurrence(2, x, W), full)


def test_truncate_gradient_with_until_counts_the_steps_run():
    x = torch.arange(1.0, 9.0, dtype=f64, requires_grad=True)

    def run(k):
        return scan(lambda a, s: (s * 0.5 + a, until(s * 0.5 + a > 6.0)), sequences=x,
                    outputs_info=torch.tensor(0.0, dtype=f64), truncate_gradient=k)

    out = run(2)
    assert out.tolist() == [1, 2.5, 4.25, 6.125]  # stops at the step that passes 6
    (gx,) = torch.autograd.grad(out.sum(), x)
    (gfull,) = torch.autograd.grad(run(-1).sum(), x)
    n = out.shape[0]
    assert gx[: n - 2].abs().sum() == 0 and gx[n - 2 : n].abs().sum() > 0
    assert gfull[:n].abs().min() > 0


def test_truncation_under_no_grad_is_plain_forward():
    with torch.no_grad():
        out = _linear_recurrence(2, torch.arange(1.0, 6.0, dtype=f64), torch.tensor(2.0, dtype=f64))
    assert out.tolist() == [1, 4, 11, 26, 57]
