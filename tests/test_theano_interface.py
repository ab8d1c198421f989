"""Theano code runs unchanged: the parts of Theano's ``scan`` interface beyond the numbers.

Signature order, the ignored compilation arguments, ``strict`` and ``return_list``, taps
written as one int, every return form Theano's ``fn`` may use, errors for repeated taps and
unknown keys, zero (not missing) gradients where truncation cuts an input off, and the
carry's dtype. Expected values marked "PyTensor" are what PyTensor gives for the same program.
"""

import inspect
from collections import OrderedDict

import pytest
import torch

from explorer import scan, until
from explorer.core.errors import ScanError

f64 = torch.float64
THEANO_ORDER = ["fn", "sequences", "outputs_info", "non_sequences", "n_steps", "truncate_gradient",
                "go_backwards", "mode", "name", "profile", "allow_gc", "strict", "return_list"]


def t(values, dtype=f64):
    return torch.tensor(values, dtype=dtype)


# --- signature -----------------------------------------------------------------------

def test_signature_is_theanos():
    params = inspect.signature(scan).parameters
    assert list(params) == THEANO_ORDER
    assert params["truncate_gradient"].default == -1 and params["go_backwards"].default is False
    assert params["strict"].default is False and params["return_list"].default is False


def test_positional_truncate_then_go_backwards():
    x = t([1.0, 2, 3, 4])
    # Theano's order: (fn, sequences, outputs_info, non_sequences, n_steps, truncate_gradient, go_backwards)
    out = scan(lambda a, s: s * 10 + a, x, t(0.0), None, None, -1, True)
    assert out.tolist() == [4, 43, 432, 4321]  # PyTensor: backwards
    out = scan(lambda a, s: s * 10 + a, x, t(0.0), None, None, 2, False)
    assert out.tolist() == [1, 12, 123, 1234]  # truncation never changes the values


def test_compilation_arguments_are_accepted():
    out = scan(lambda a, s: s + a, sequences=t([1.0, 2]), outputs_info=t(0.0),
               mode="FAST_RUN", name="cumsum", profile=True, allow_gc=False)
    assert out.tolist() == [1, 3]


def test_name_prefixes_errors():
    with pytest.raises(ScanError, match="^scan 'cumsum': .*neither sequences nor n_steps"):
        scan(lambda s: s + 1, outputs_info=t(0.0), name="cumsum")


def test_return_list_always_gives_a_list():
    out = scan(lambda a: a * 2, sequences=t([1.0, 2.0]), return_list=True)
    assert isinstance(out, list) and len(out) == 1 and out[0].tolist() == [2, 4]
    two = scan(lambda a: (a, -a), sequences=t([1.0, 2.0]), return_list=True)
    assert isinstance(two, list) and len(two) == 2
    empty = scan(lambda a: a * 2, sequences=t([1.0, 2.0]), outputs_info=[None], n_steps=0, return_list=True)
    assert isinstance(empty, list) and empty[0].shape == (0,)


# --- strict --------------------------------------------------------------------------

W_GLOBAL = torch.tensor(2.0, dtype=f64, requires_grad=True)


def _uses_global(a, s):
    return s * W_GLOBAL + a


def _calls_helper(a, s):
    return _uses_global(a, s)


def test_strict_refuses_a_captured_parameter():
    W = torch.tensor(2.0, dtype=f64, requires_grad=True)
    x = t([1.0, 2, 3])
    assert scan(lambda a, s: s * W + a, sequences=x, outputs_info=t(0.0)).tolist() == [1, 4, 11]
    with pytest.raises(ScanError, match=r"strict=True: fn reads W .*requires grad.*non_sequences"):
        scan(lambda a, s: s * W + a, sequences=x, outputs_info=t(0.0), strict=True)
    with pytest.raises(ScanError, match=r"strict=True: fn reads W_GLOBAL"):
        scan(_uses_global, sequences=x, outputs_info=t(0.0), strict=True)
    with pytest.raises(ScanError, match=r"strict=True: fn reads W_GLOBAL .*_uses_global"):
        scan(_calls_helper, sequences=x, outputs_info=t(0.0), strict=True)


def test_strict_refuses_a_bound_modules_parameters():
    cell = torch.nn.Linear(2, 2)

    class Step:
        def __init__(self):
            self.cell = cell

        def step(self, x, h):
            return torch.tanh(self.cell(x) + h)

    with pytest.raises(ScanError, match=r"strict=True: fn reads self.cell.weight"):
        scan(Step().step, sequences=torch.ones(3, 2), outputs_info=torch.zeros(2), strict=True)
    with pytest.raises(ScanError, match=r"strict=True: fn reads cell.weight"):
        scan(lambda x: cell(x), sequences=torch.ones(3, 2), strict=True)


def test_strict_accepts_what_is_passed_and_constants():
    W = torch.tensor(2.0, dtype=f64, requires_grad=True)
    c = t(1.0)  # a constant: Theano's strict allowed constants too
    out = scan(lambda a, s, W: s * W + a + c, sequences=t([1.0, 2]), outputs_info=t(0.0),
               non_sequences=[W], strict=True)
    assert out.tolist() == [2, 7]
    # a closure over W that W is also passed as is the same tensor: allowed
    out = scan(lambda a, s, _W: s * W + a, sequences=t([1.0, 2]), outputs_info=t(0.0),
               non_sequences=[W], strict=True)
    assert out.tolist() == [1, 4]
    assert scan(torch.neg, sequences=t([1.0]), strict=True).tolist() == [-1]  # builtins: nothing to read


# --- taps ----------------------------------------------------------------------------

def test_taps_as_one_int():
    x = torch.arange(6.0)
    # PyTensor: sequence taps=-2 reads x[t-2]: [0, 1, 2, 3]
    assert scan(lambda a: a, sequences=[dict(input=x, taps=-2)]).tolist() == [0, 1, 2, 3]
    assert scan(lambda a: a, sequences=dict(input=x, taps=1)).tolist() == [1, 2, 3, 4, 5]
    # PyTensor: output taps=-2 from initial [1, 2]: y[t] = y[t-2] * 10 -> [10, 20, 100, 200]
    out = scan(lambda a: a * 10, outputs_info=[dict(initial=t([1.0, 2]), taps=-2)], n_steps=4)
    assert out.tolist() == [10, 20, 100, 200]
    out = scan(lambda a: a * 2, outputs_info=dict(initial=t([1.0, 2]), taps=-1), n_steps=2)
    assert out.tolist() == [[2, 4], [4, 8]]  # taps=-1: the initial value is the state itself


def test_repeated_taps_name_the_output():
    with pytest.raises(ScanError, match=r"outputs_info\[1\] lists tap -1 twice"):
        scan(lambda a, b, c: (a, b + c), outputs_info=[t(0.0), dict(initial=t([1.0]), taps=[-1, -1])], n_steps=2)
    with pytest.raises(ScanError, match=r"sequences\[0\] lists tap 0 twice"):
        scan(lambda a, b: a + b, sequences=[dict(input=t([1.0, 2]), taps=[0, 0])])


def test_bad_taps_name_the_output():
    with pytest.raises(ScanError, match=r"outputs_info\[0\]\['taps'\] must be an int or a list of ints.*'-1'"):
        scan(lambda a: a, outputs_info=[dict(initial=t([1.0]), taps="-1")], n_steps=2)
    with pytest.raises(ScanError, match=r"sequences\[0\]\['taps'\] must be an int or a list of ints"):
        scan(lambda a: a, sequences=[dict(input=t([1.0]), taps=[0.5])])


def test_unknown_keys_name_the_output():
    with pytest.raises(ScanError, match=r"outputs_info\[0\] has an unknown key 'inital'.*'initial', 'taps'"):
        scan(lambda a: a, outputs_info=[dict(inital=t(0.0), taps=[-1])], n_steps=2)
    with pytest.raises(ScanError, match=r"outputs_info\[1\] has an unknown key 'return_steps'"):
        scan(lambda a, b: (a, b), outputs_info=[t(0.0), dict(initial=t(0.0), return_steps=2)], n_steps=2)
    with pytest.raises(ScanError, match=r"sequences\[0\] has an unknown key 'tap'.*'input', 'taps'"):
        scan(lambda a: a, sequences=[dict(input=t([1.0]), tap=[0])])


# --- return forms --------------------------------------------------------------------

@pytest.mark.parametrize("form", [
    lambda v, s, c: ([v, s], until(c)),
    lambda v, s, c: ((v, s), {}, until(c)),
    lambda v, s, c: ([v, s], OrderedDict(), until(c)),
    lambda v, s, c: (v, s, until(c)),
], ids=["list-until", "list-updates-until", "ordereddict", "flat-until"])
def test_return_forms_with_until(form):
    # PyTensor: doubling from 1 until > 10, with the doubled value's negation alongside
    def fn(s):
        s2 = s * 2
        return form(-s2, s2, s2 > 10)

    v, s = scan(fn, outputs_info=[None, t(1.0)], n_steps=10)
    assert s.tolist() == [2, 4, 8, 16] and v.tolist() == [-2, -4, -8, -16]


def test_return_forms_with_empty_updates():
    x = t([1.0, 2, 3])
    assert scan(lambda a, s: (s + a, {}), sequences=x, outputs_info=t(0.0)).tolist() == [1, 3, 6]
    assert scan(lambda a, s: ([s + a], {}), sequences=x, outputs_info=t(0.0)).tolist() == [1, 3, 6]
    v, s = scan(lambda a, s: ([a, s + a], {}), sequences=x, outputs_info=[None, t(0.0)])
    assert s.tolist() == [1, 3, 6] and v.tolist() == [1, 2, 3]
    # Theano's list-of-pairs spelling of updates, empty
    assert scan(lambda a, s: (s + a, []), sequences=x, outputs_info=t(0.0)).tolist() == [1, 3, 6]
    # a one-element list is one output, as in Theano
    assert scan(lambda a, s: [s + a], sequences=x, outputs_info=t(0.0)).tolist() == [1, 3, 6]


def test_updates_are_refused_with_what_to_do():
    counter = torch.zeros(())
    for form in (lambda s: (s + 1, {counter: counter + 1}),
                 lambda s: (s + 1, {counter: counter + 1}, until(s > 3)),
                 lambda s: ({counter: counter + 1}, s + 1),
                 lambda s: (s + 1, [(counter, counter + 1)])):
        with pytest.raises(ScanError, match="updates are not supported.*outputs_info.*return its new value"):
            scan(form, outputs_info=t(0.0), n_steps=3)


# --- truncated gradients -------------------------------------------------------------

def test_truncated_gradient_is_zero_not_none():
    x = torch.arange(1.0, 6.0, dtype=f64, requires_grad=True)
    W = torch.tensor(2.0, dtype=f64, requires_grad=True)
    h0 = torch.tensor(1.0, dtype=f64, requires_grad=True)
    out = scan(lambda a, s, W: s * W + a, sequences=[x], outputs_info=[h0], non_sequences=[W],
               truncate_gradient=2)
    out[-1].backward()
    assert isinstance(h0.grad, torch.Tensor) and h0.grad.shape == h0.shape and h0.grad.item() == 0  # PyTensor
    # unchanged by the fix: x as PyTensor; W by hand, s3 + W * s2 = 42 + 2 * 19 (h = 3, 8, 19, 42, 89)
    assert x.grad.tolist() == [0, 0, 0, 2, 1] and W.grad.item() == 80
    (g,) = torch.autograd.grad(out[1], h0)  # an early output alone: zeros, not "unused"
    assert g.item() == 0


def test_truncated_result_can_be_written_in_place():
    h0 = torch.tensor(1.0, dtype=f64, requires_grad=True)
    out = scan(lambda s: s * 2, outputs_info=h0, n_steps=5, truncate_gradient=2)
    out[0] = 0.0  # a user's edit of the result; the zero-gradient link must not make it a view
    out.sum().backward()
    assert out.tolist() == [0, 4, 8, 16, 32] and h0.grad.item() == 0


def test_truncated_gradient_of_a_windowed_initial_value_is_zero():
    h0 = torch.tensor([1.0, 2.0, 5.0], dtype=f64, requires_grad=True)  # a spare third row, as PyTensor allows
    out = scan(lambda a, b: a + b, outputs_info=[dict(initial=h0, taps=[-2, -1])], n_steps=6, truncate_gradient=2)
    out.sum().backward()
    assert h0.grad.tolist() == [0, 0, 0]


def test_full_gradient_of_the_initial_value_is_unchanged():
    h0 = torch.tensor(1.0, dtype=f64, requires_grad=True)
    out = scan(lambda s: s * 2, outputs_info=h0, n_steps=3, truncate_gradient=5)  # k >= steps: no cut
    out[-1].backward()
    assert h0.grad.item() == 8


# --- carry dtype ---------------------------------------------------------------------

CARRY_DTYPE = r"output {} returned dtype torch.float64 but its initial value is torch.float32"


def test_carry_dtype_change_names_the_output():
    ones64 = torch.ones(2, dtype=f64)
    with pytest.raises(ScanError, match=CARRY_DTYPE.format(1)):
        scan(lambda a, s, w: (a, s * w), outputs_info=[torch.zeros(2), torch.zeros(2)],
             non_sequences=[ones64], n_steps=3)
    with pytest.raises(ScanError, match=CARRY_DTYPE.format(0)):
        scan(lambda a: a.double(), outputs_info=[dict(initial=torch.zeros(2), taps=-2)], n_steps=3)


def test_carry_dtype_change_at_a_later_step_names_the_output():
    def fn(s):
        return s + 1 if s < 2 else (s + 1).double()

    with pytest.raises(ScanError, match=r"output 0 changed .*torch.float32.*torch.float64.*same shape and dtype"):
        scan(fn, outputs_info=torch.zeros(()), n_steps=4)
    with pytest.raises(ScanError, match=r"output 0 changed .*torch.float32.*torch.float64.*same shape and dtype"):
        scan(lambda s: ((s + 1 if s < 2 else (s + 1).double()), until(s > 9)), outputs_info=torch.zeros(()),
             n_steps=4)


def test_theano_spelling_returns_outputs_and_updates():
    """`results, updates = theano.scan(...)`, the sources' line, runs unchanged with
    `from explorer import theano`; a two-step scan is not split into its two rows."""
    from collections import OrderedDict

    from explorer import scan as outputs_only
    from explorer import theano

    X = torch.randn(2, 3, generator=torch.Generator().manual_seed(0))  # two steps: the unpacking trap
    W, b = torch.eye(3), torch.ones(3)
    results, updates = theano.scan(lambda v: torch.tanh(v @ W + b), sequences=X)
    assert torch.equal(results, outputs_only(lambda v: torch.tanh(v @ W + b), sequences=X))
    assert results.shape == (2, 3) and isinstance(updates, OrderedDict) and not updates
    powers, updates = theano.scan(lambda p: (p * 2, theano.until(p * 2 > 5)), outputs_info=torch.tensor(1.0),
                                  n_steps=10)
    assert powers.tolist() == [2.0, 4.0, 8.0] and updates == OrderedDict()
    (a, b), _ = theano.scan(lambda x: (x + 1, x * 2), sequences=torch.arange(3.0), return_list=True)
    assert a.tolist() == [1.0, 2.0, 3.0] and b.tolist() == [0.0, 2.0, 4.0]
