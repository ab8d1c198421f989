"""TensorBoard's debiased EMA smoothing (explorer.core.runs.smoothing), against its formula."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from explorer.core.runs.smoothing import smooth


def tensorboard(values, weight):
    """TensorBoard's classicSmoothing, transcribed line by line (the reference)."""
    weight = 0.0 if not math.isfinite(weight) else max(0.0, min(weight, 1.0))
    if len(values) and all(v == values[0] for v in values):
        return list(values)
    last, num_accum, out = 0.0, 0, []
    for next_val in values:
        if not math.isfinite(next_val):
            out.append(next_val)
            continue
        last = last * weight + (1 - weight) * next_val
        num_accum += 1
        debias = 1.0 if weight == 1 else 1 - weight ** num_accum
        out.append(last / debias)
    return out


def same(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert a.shape == b.shape
    assert np.array_equal(np.isnan(a), np.isnan(b))
    ok = ~np.isnan(a)
    np.testing.assert_allclose(a[ok], b[ok], rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("weight", [0.0, 0.1, 0.5, 0.6, 0.9, 0.95, 0.99, 0.999, 1.0])
def test_matches_tensorboard_on_a_noisy_loss(weight):
    rng = np.random.default_rng(0)
    loss = np.exp(-np.linspace(0, 5, 10_000)) + 0.1 * rng.random(10_000)
    same(smooth(loss, weight), tensorboard(list(loss), weight))


def test_starts_at_the_first_value_and_lags_behind():
    y = smooth([10.0, 0.0, 0.0, 0.0], 0.9)
    assert y[0] == pytest.approx(10.0)  # debiased: not pulled towards 0
    assert 0 < y[3] < y[2] < y[1] < 10


def test_non_finite_values_pass_through_and_do_not_enter_the_average():
    values = [1.0, math.nan, 3.0, math.inf, 5.0, -math.inf]
    out = smooth(values, 0.5)
    same(out, tensorboard(values, 0.5))
    assert math.isnan(out[1]) and out[3] == math.inf and out[5] == -math.inf
    same(out[[0, 2, 4]], smooth([1.0, 3.0, 5.0], 0.5))


def test_constant_and_empty_series_come_back_unchanged():
    assert smooth([], 0.9).size == 0
    assert list(smooth([2.0, 2.0, 2.0], 0.9)) == [2.0, 2.0, 2.0]
    assert list(smooth([math.nan, math.nan], 0.9)) != [0.0, 0.0]


def test_weight_out_of_range_is_clipped():
    values = [1.0, 4.0, 2.0]
    same(smooth(values, -3), values)
    same(smooth(values, math.nan), values)
    same(smooth(values, 7), tensorboard(values, 1.0))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.floats(-1e6, 1e6), st.just(math.nan), st.just(math.inf)), max_size=60),
       st.floats(0, 1))
def test_any_series_any_weight(values, weight):
    same(smooth(values, weight), tensorboard(values, weight))
