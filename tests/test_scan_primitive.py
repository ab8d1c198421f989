"""The carry-based primitive: it is its reference loop, over tensors and pytrees."""

import pytest
import torch

from explorer.core.errors import ScanError
from explorer.core.scan import scan


def reference(step, init, xs, reverse=False):
    n = xs.shape[0]
    carry, ys = init, []
    for t in (reversed(range(n)) if reverse else range(n)):
        carry, y = step(carry, xs[t])
        ys.append(y)
    if reverse:
        ys.reverse()
    return carry, torch.stack(ys)


def test_cumsum_matches_source_000():
    carry, ys = scan(lambda c, x: (c + x, c + x), torch.tensor(0.0), torch.tensor([1.0, 2, 2, 2]))
    assert ys.tolist() == [1.0, 3.0, 5.0, 7.0]
    assert carry.item() == 7.0


@pytest.mark.parametrize("reverse", [False, True])
def test_matches_reference_loop(reverse):
    torch.manual_seed(0)
    W, xs = torch.randn(4, 4), torch.randn(7, 3, 4)

    def step(h, x):
        h = torch.tanh(x + h @ W)  # (3, 4)
        return h, h * 2

    got = scan(step, torch.zeros(3, 4), xs, reverse=reverse)
    want = reference(step, torch.zeros(3, 4), xs, reverse=reverse)
    torch.testing.assert_close(got[0], want[0])
    torch.testing.assert_close(got[1], want[1])


def test_reverse_keeps_ys_aligned_with_xs():
    _, ys = scan(lambda c, x: (c + x, c + x), torch.tensor(0.0), torch.tensor([1.0, 2, 3]), reverse=True)
    assert ys.tolist() == [6.0, 5.0, 3.0]


def test_pytrees_in_and_out():
    xs = {"a": torch.arange(4.0), "b": (torch.ones(4, 2),)}
    init = (torch.tensor(0.0), {"n": torch.tensor(0.0)})

    def step(carry, x):
        s, d = carry
        s = s + x["a"]
        return (s, {"n": d["n"] + 1}), {"s": s, "pair": (x["b"][0] * s, None)}

    (s, d), ys = scan(step, init, xs)
    assert s.item() == 6.0 and d["n"].item() == 4.0
    assert ys["s"].tolist() == [0.0, 1.0, 3.0, 6.0]
    assert ys["pair"][0].shape == (4, 2) and ys["pair"][1] is None


def test_length_without_xs_and_stop():
    carry, ys = scan(lambda c, _: (c * 2, c * 2), torch.tensor(1.0), length=20, stop=lambda c, y: y > 100)
    assert ys.tolist() == [2, 4, 8, 16, 32, 64, 128]  # the stopping step is kept


def test_zero_steps():
    carry, ys = scan(lambda c, x: (c + x, c), torch.tensor(1.0), torch.zeros(0))
    assert carry.item() == 1.0 and ys is None


def test_gradients_flow_through_time():
    W = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    xs = torch.randn(6, dtype=torch.float64, requires_grad=True)

    def run(W, xs):
        return scan(lambda h, x: (torch.tanh(W * h + x), h), torch.tensor(0.0, dtype=torch.float64), xs)[0]

    assert torch.autograd.gradcheck(run, (W, xs))


def test_errors_name_the_problem():
    with pytest.raises(ScanError, match="changed shape from \\(3,\\) to \\(4,\\)"):
        scan(lambda c, x: (torch.cat([c, x[:1]]), None), torch.zeros(3), torch.zeros(5, 2))
    with pytest.raises(ScanError, match="same number of steps"):
        scan(lambda c, x: (c, None), 0, (torch.zeros(3), torch.zeros(4)))
    with pytest.raises(ScanError, match="either xs .* or a length"):
        scan(lambda c, x: (c, None), 0)
    with pytest.raises(ScanError, match="must return a pair"):
        scan(lambda c, x: c, torch.zeros(()), torch.zeros(2))
    with pytest.raises(ScanError, match="same structure"):
        scan(lambda c, x: ((c, c), None), torch.zeros(()), torch.zeros(2))


def test_a_carry_that_changes_dtype_is_named():
    import pytest
    import torch

    from explorer.core.errors import ScanError
    from explorer.core.scan import scan

    with pytest.raises(ScanError, match=r"changed dtype from torch.float32 to torch.float64"):
        scan(lambda c, x: (c.double() + 1, c), torch.zeros(()), length=3)
    with pytest.raises(ScanError, match=r"carry\[1\] changed dtype"):
        scan(lambda c, x: ((c[0], c[1].double()), None), (torch.zeros(2), torch.zeros(2)), length=2)
