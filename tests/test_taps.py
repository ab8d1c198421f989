"""The tap arithmetic, against answers PyTensor gave (see tools/pytensor_oracle.py)."""

import pytest

from explorer.core.taps import output_taps, sequence_taps


def reads(length, taps, n=None, backwards=False):
    plan = sequence_taps(length, taps)
    n = plan.n_full if n is None else n
    return [[plan.index(i, t, backwards) for i in range(len(taps))] for t in range(n)]


def test_forward_taps_read_t_minus_m_plus_k():
    # PyTensor: taps [-2, 0, 1] over arange(8) -> steps read (0, 2, 3), (1, 3, 4), ...
    assert reads(8, [-2, 0, 1]) == [[0, 2, 3], [1, 3, 4], [2, 4, 5], [3, 5, 6], [4, 6, 7]]


def test_taps_keep_the_users_order():
    # PyTensor: taps [0, -2] -> fn(x[t], x[t-2]); first step reads (2, 0)
    assert reads(6, [0, -2])[0] == [2, 0]


def test_only_positive_or_only_negative_taps():
    assert reads(6, [1, 2]) == [[1, 2], [2, 3], [3, 4], [4, 5]]
    assert reads(6, [-2]) == [[0], [1], [2], [3]]


def test_backwards_walks_from_the_end_in_original_order():
    # PyTensor: go_backwards with taps [-1, 0] over arange(5) -> 34, 23, 12, 1
    assert reads(5, [-1, 0], backwards=True) == [[3, 4], [2, 3], [1, 2], [0, 1]]


def test_backwards_capped_takes_the_end():
    # PyTensor: go_backwards, n_steps=2 -> the last two windows
    assert reads(5, [-1, 0], n=2, backwards=True) == [[3, 4], [2, 3]]
    plan = sequence_taps(5, [-1, 0])
    assert plan.slice(0, 2, backwards=True) == (2, 4)
    assert plan.slice(1, 2, backwards=True) == (3, 5)
    assert plan.slice(1, 2, backwards=False) == (1, 3)


def test_step_count_and_span():
    plan = sequence_taps(9, [1, -3])
    assert (plan.n_full, plan.span) == (5, 5)
    assert sequence_taps(3, [-3, 1]).n_full == -1  # too short: the caller explains


@pytest.mark.parametrize("taps,window,positions", [
    ([-1], 1, (0,)),
    ([-2, -1], 2, (0, 1)),
    ([-1, -3], 3, (2, 0)),
    ([-2], 2, (0,)),
])
def test_output_window(taps, window, positions):
    plan = output_taps(taps)
    assert (plan.window, plan.positions) == (window, positions)


@pytest.mark.parametrize("taps", [[], [0], [1], [-1, 0]])
def test_output_taps_must_be_negative(taps):
    with pytest.raises(ValueError):
        output_taps(taps)
