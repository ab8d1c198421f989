"""Random functions draw from the context's generator: a seed reproduces them, and their
samples have the distribution they claim."""

import pytest
import torch

from explorer.core.expr import EvalContext, ExpressionError, compile_expression

RANDOM = [
    "rand(4, 3)",
    "randn(5)",
    "randint(0, 10, 6)",
    "bernoulli(0.5, ones(8))",
    "bernoulli(p, ones(3, 4))",
    "categorical(softmax(arange(5.0)))",
    "categorical(ones(3, 4))",
]


def seeded(seed):
    return EvalContext(generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("text", RANDOM)
def test_a_seeded_generator_reproduces_draws(text):
    expr = compile_expression(text)
    env = {"p": torch.tensor([0.2, 0.5, 0.7, 0.9])}
    first = [expr(env, seeded(1)) for _ in range(2)]
    assert torch.equal(first[0], first[1])
    ctx = seeded(1)
    a, b = expr(env, ctx), expr(env, ctx)  # one generator moves on between draws
    assert torch.equal(a, first[0])
    if a.numel() > 4:
        assert not torch.equal(a, b)
    assert expr.is_random


@pytest.mark.parametrize("text", RANDOM)
def test_without_a_generator_the_global_rng_is_used(text):
    expr = compile_expression(text)
    env = {"p": torch.tensor([0.2, 0.5, 0.7, 0.9])}
    with torch.random.fork_rng():
        torch.manual_seed(7)
        a = expr(env)
        torch.manual_seed(7)
        b = expr(env)
    assert torch.equal(a, b)


def test_shapes_dtypes_and_ranges():
    ctx = seeded(0)
    u = compile_expression("rand(1000)")(None, ctx)
    assert u.dtype == torch.get_default_dtype() and 0 <= u.min() and u.max() < 1
    k = compile_expression("randint(-3, 4, 2, 500)")(None, ctx)
    assert k.shape == (2, 500) and k.dtype == torch.int64 and k.min() == -3 and k.max() == 3
    assert compile_expression("randint(0, 3)")(None, ctx).shape == ()
    c = compile_expression("categorical(p)")({"p": torch.tensor([0.1, 0.9])}, ctx)
    assert c.shape == () and c.dtype == torch.int64
    f64 = EvalContext(generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert compile_expression("randn(2)")(None, f64).dtype == torch.float64


def test_samples_are_statistically_sane():
    ctx = seeded(3)
    n = 20_000
    z = compile_expression("randn(n)")({"n": n}, ctx)
    assert abs(z.mean().item()) < 0.05 and abs(z.std().item() - 1) < 0.05
    hits = compile_expression("bernoulli(0.3, zeros(n))")({"n": n}, ctx)
    assert set(hits.unique().tolist()) <= {0.0, 1.0} and abs(hits.mean().item() - 0.3) < 0.02
    per_element = compile_expression("mean(bernoulli(p, zeros(n, 2)), axis=0)")
    means = per_element({"n": n, "p": torch.tensor([0.1, 0.8])}, ctx)
    torch.testing.assert_close(means, torch.tensor([0.1, 0.8]), atol=0.02, rtol=0)
    p = torch.tensor([0.2, 0.5, 0.3])
    draws = compile_expression("categorical(p)")
    counts = torch.bincount(torch.stack([draws({"p": p}, ctx) for _ in range(3000)]), minlength=3)
    torch.testing.assert_close(counts / 3000.0, p, atol=0.04, rtol=0)


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("bernoulli(1.5, ones(2))", "probability p must lie in [0, 1]; got 1.5"),
        ("bernoulli(ones(2) * 2, ones(2))", "probabilities p must lie in [0, 1]"),
        ("categorical(-ones(3))", "must be finite, >= 0 and not all 0"),
        ("categorical(zeros(3))", "must be finite, >= 0 and not all 0"),
        ("categorical(ones(2, 2, 2))", "got shape (2, 2, 2)"),
        ("randint(3, 1)", "randint needs low < high"),
    ],
)
def test_bad_random_arguments_are_refused(text, fragment):
    with pytest.raises(ExpressionError) as info:
        compile_expression(text)(None, seeded(0))
    assert fragment in info.value.message
