"""Tasks: seeded streams, source 002's batching and loss lines, masks, the classic problems."""

import math

import numpy as np
import pytest
import torch

from explorer.core.lab.config import TaskConfig, TrainConfig
from explorer.core.lab.losses import LOSSES
from explorer.core.lab.tasks import FAMILIES, TASKS, echo_stream, make_task


def take(task, train, n, start=0):
    stream = task.stream(train, start=start)
    return [next(stream) for _ in range(n)]


@pytest.mark.parametrize("name", list(TASKS))
def test_streams_are_reproducible_by_seed_and_resumable_at_any_step(name):
    task = make_task(TaskConfig(name=name, stream_length=2000))
    train = TrainConfig(batch_size=4, num_steps=5, bptt="truncated", seed=3)
    a, b = take(task, train, 7), take(task, train, 7)
    for x, y in zip(a, b):
        assert np.array_equal(x.inputs, y.inputs) and np.array_equal(x.targets, y.targets)
    later = take(task, train, 3, start=4)
    for x, y in zip(a[4:], later):
        assert np.array_equal(x.inputs, y.inputs) and x.carry == y.carry and x.epoch == y.epoch
    other = take(task, TrainConfig(batch_size=4, num_steps=5, bptt="truncated", seed=4), 1)[0]
    assert not np.array_equal(other.inputs, a[0].inputs)
    # held-out and probe data depend on probe_seed only, never on the training seed
    h1, h2 = task.heldout(), make_task(TaskConfig(name=name, stream_length=2000)).heldout()
    assert np.array_equal(h1[0], h2[0]) and np.array_equal(h1[1], h2[1])
    h3 = make_task(TaskConfig(name=name, stream_length=2000, probe_seed=99)).heldout()
    assert not np.array_equal(h1[0], h3[0])
    p1, p2 = task.probe(), make_task(TaskConfig(name=name, stream_length=2000)).probe()
    assert np.array_equal(p1[0], p2[0]) and p1[0].shape[1] == 1


def test_echo_reference_lines_come_from_the_formula():
    lines = make_task(TaskConfig(name="echo")).reference_lines()
    printed = {"no dependency": 0.661563238158, "t-3 only": 0.519166699707, "both dependencies": 0.454454367449}
    for name, value in printed.items():  # the source's printout, to its 12 digits
        assert lines[name] == pytest.approx(value, abs=1e-11)
    # the lines as quoted (0.4544 is the source's 0.454454... cut, not rounded, to 4 places)
    for name, quoted in {"no dependency": 0.6616, "t-3 only": 0.5192, "both dependencies": 0.4544}.items():
        assert abs(lines[name] - quoted) < 1e-4


def source_gen_batch(raw_data, batch_size, num_steps):
    """Source 002's gen_batch, verbatim."""
    raw_x, raw_y = raw_data
    data_length = len(raw_x)
    batch_partition_length = data_length // batch_size
    data_x = np.zeros([batch_size, batch_partition_length], dtype=np.int32)
    data_y = np.zeros([batch_size, batch_partition_length], dtype=np.int32)
    for i in range(batch_size):
        data_x[i] = raw_x[batch_partition_length * i:batch_partition_length * (i + 1)]
        data_y[i] = raw_y[batch_partition_length * i:batch_partition_length * (i + 1)]
    epoch_size = batch_partition_length // num_steps
    for i in range(epoch_size):
        x = data_x[:, i * num_steps:(i + 1) * num_steps]
        y = data_y[:, i * num_steps:(i + 1) * num_steps]
        yield (x, y)


def test_echo_batches_are_the_sources_gen_batch():
    task = make_task(TaskConfig(name="echo", stream_length=10_007))
    train = TrainConfig(batch_size=20, num_steps=7, bptt="truncated", seed=5, steps=0, epochs=2)
    from explorer.core.lab.task_base import TRAIN, rng_for

    raw = echo_stream(rng_for(TRAIN, 5, 0), 10_007)
    expected = list(source_gen_batch(raw, 20, 7))
    per_epoch = task.steps_per_epoch(train)
    assert per_epoch == len(expected) == 10_007 // 20 // 7
    batches = take(task, train, per_epoch + 1)
    for (x, y), batch in zip(expected, batches):
        assert np.array_equal(batch.inputs.argmax(-1).T, x)  # one-hot, time-major
        assert np.array_equal(batch.targets.T, y)
    assert [b.carry for b in batches[:3]] == [False, True, True]
    assert batches[per_epoch].epoch == 1 and not batches[per_epoch].carry  # a new stream, a fresh state
    full = take(task, TrainConfig(batch_size=20, num_steps=7, seed=5, steps=0), 3)
    assert not any(b.carry for b in full)  # full BPTT: every window starts from zero


def test_echo_stream_follows_the_rule_with_the_sources_wraparound():
    x, y = echo_stream(np.random.default_rng(0), 200_000)
    lag3, lag8 = np.roll(x, 3), np.roll(x, 8)  # x[t-3], x[t-8]; t < 3 looks at the end, like X[i-3]
    assert np.all(y[(lag3 == 1) & (lag8 == 0)] == 1)  # P = 1.0
    for a, b, p in [(0, 0, 0.5), (1, 1, 0.75), (0, 1, 0.25)]:
        assert abs(y[(lag3 == a) & (lag8 == b)].mean() - p) < 0.01


def test_cumsum_lengths_padding_and_masks():
    task = make_task(TaskConfig(name="cumsum", min_len=5, max_len=49))
    x, y, m = task.sequences(np.random.default_rng(1), 400)
    lengths = m.sum(0).astype(int)
    assert lengths.min() == 5 and lengths.max() == 49 and x.shape == (49, 400, 1)
    assert np.all(x[:, :, 0][m == 0] == 0)  # padding is zero
    for b in range(5):
        L = lengths[b]
        assert np.allclose(y[:L, b, 0], np.cumsum(x[:L, b, 0]), atol=1e-5)
        assert np.all(m[:L, b] == 1) and np.all(m[L:, b] == 0)
    train = TrainConfig(batch_size=3, bptt="truncated", num_steps=10)
    windows = take(task, train, 5)  # 49 padded steps -> 5 windows of <= 10
    assert [w.inputs.shape[0] for w in windows] == [10, 10, 10, 10, 9]
    assert [w.carry for w in take(task, train, 6)] == [False, True, True, True, True, False]


def test_masked_loss_ignores_padding_and_weighs_sequences_equally():
    out = torch.zeros(4, 2, 1)
    y = torch.tensor([[1.0, 2.0], [1.0, 2.0], [9.0, 2.0], [9.0, 2.0]])[..., None]
    m = torch.tensor([[1.0, 1.0], [1.0, 1.0], [0.0, 1.0], [0.0, 1.0]])
    assert LOSSES["mse"](out, y, m).item() == pytest.approx((1.0 + 4.0) / 2)


def test_cumsum_generalisation_families():
    task = make_task(TaskConfig(name="cumsum", max_len=30))
    for name in FAMILIES:
        x, y, m = task.family(name, 3, seed=1)
        assert x.shape[0] == 3 and x.shape[2] == 1 and m.shape == x.shape[:2]
        assert np.allclose(y[..., 0], np.cumsum(x[..., 0], axis=1), atol=1e-4)
    assert task.family("longer", 2)[0].shape[1] == 120 and task.family("train", 2)[0].shape[1] == 30
    sine = task.family("sine", 2, length=50)[0][..., 0]
    assert np.abs(sine).max() <= 1.5 and np.abs(np.diff(sine, axis=1)).max() < 1.5  # smooth
    assert abs(task.family("nonzero_mean", 64, length=200)[0].mean(1)).mean() > 0.2
    with pytest.raises(ValueError, match="sine"):
        task.family("square", 1)


def test_copy_task_layout_and_its_chance_line_is_what_a_memoryless_guess_scores():
    task = make_task(TaskConfig(name="copy", copy_length=4, copy_delay=6))
    x, y, m = task.sequences(np.random.default_rng(0), 3)
    ids = x.argmax(-1)  # (T, n)
    assert x.shape == (14, 3, 10)
    assert np.array_equal(ids[:4], y[-4:]) and np.all(ids[9] == 9) and np.all(y[:10] == 0)
    # memoryless: certain blank for 10 steps, uniform over the 8 symbols for the last 4
    logits = torch.full((14, 3, 10), -1e9)
    logits[:10, :, 0] = 0.0
    logits[10:, :, 1:9] = 0.0
    loss = LOSSES["cross_entropy"](logits, torch.from_numpy(y), torch.from_numpy(m)).item()
    assert loss == pytest.approx(task.reference_lines()["memoryless (chance)"], rel=1e-5)
    assert loss == pytest.approx(4 * math.log(8) / 14, rel=1e-5)


def test_adding_task_target_and_chance_line():
    task = make_task(TaskConfig(name="adding", adding_length=20))
    x, y, m = task.sequences(np.random.default_rng(0), 20_000)
    assert np.all(x[:, :, 1].sum(0) == 2)  # two markers per sequence
    assert np.all(x[:10, :, 1].sum(0) == 1)  # one in each half
    assert np.allclose(y[-1, :, 0], (x[..., 0] * x[..., 1]).sum(0)) and m.sum() == 20_000
    chance = LOSSES["mse"](torch.ones(20, 20_000, 1), torch.from_numpy(y), torch.from_numpy(m)).item()
    assert chance == pytest.approx(task.reference_lines()["predict 1 (chance)"], rel=0.03)
