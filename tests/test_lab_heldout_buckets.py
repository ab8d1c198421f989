"""The held-out loss in length buckets (training.length_buckets) equals the loss on the whole
padded set, on every task (end padding, masks that start late, classes), every backend."""

import numpy as np
import pytest
import torch

from explorer.core.lab.config import ExperimentConfig, ModelConfig, TaskConfig, TrainConfig
from explorer.core.lab.tasks import TASKS
from explorer.core.lab.training import Trainer, length_buckets


def _whole_set_loss(trainer):
    x, y, m = (torch.from_numpy(a) for a in trainer.task.heldout())
    with torch.no_grad():
        return float(trainer.loss_fn(trainer.model(x, backend="scan").outputs, y, m))


@pytest.mark.parametrize("task", sorted(TASKS))
@pytest.mark.parametrize("cell, backend", [("gru", "auto"), ("vanilla", "manual"), ("lstm", "scan")])
def test_the_bucketed_heldout_loss_equals_the_whole_padded_set(task, cell, backend):
    config = ExperimentConfig(task=TaskConfig(name=task, heldout_size=150),
                              model=ModelConfig(cell=cell, hidden_size=8, backend=backend),
                              train=TrainConfig(batch_size=4, steps=2))
    trainer = Trainer(config)
    for _ in trainer.reports():
        pass
    assert trainer.evaluate() == pytest.approx(_whole_set_loss(trainer), rel=1e-5)


def test_buckets_cut_the_padding_and_keep_every_sequence():
    rng = np.random.default_rng(0)
    T, N = 40, 200
    lengths = rng.integers(0, T + 1, N)  # some sequences have no valid step at all
    m = (np.arange(T)[:, None] < lengths[None, :]).astype(np.float32)
    x = rng.standard_normal((T, N, 2)).astype(np.float32)
    y = rng.standard_normal((T, N, 1)).astype(np.float32)
    buckets = length_buckets(x, y, m, size=64)
    assert len(buckets) == 4
    assert sum(b[2].shape[1] for b in buckets) == N
    assert sum(n for *_, n in buckets) == int((lengths > 0).sum())
    assert sum(b[2].shape[0] * b[2].shape[1] for b in buckets) < 0.7 * T * N  # the padding not computed
    assert sorted(float(v) for b in buckets for v in b[0][0, :, 0]) == sorted(float(v) for v in x[0, :, 0])
    for bx, _, bm, _ in buckets:  # nothing valid was cut off
        assert bm.sum() == pytest.approx(m[:, np.isin(x[0, :, 0], bx[0, :, 0])].sum())


def test_a_set_of_equal_lengths_stays_one_batch():
    m = np.ones((30, 100), np.float32)
    x, y = np.zeros((30, 100, 1), np.float32), np.zeros((30, 100, 1), np.float32)
    (bx, _, _, n), = length_buckets(x, y, m)
    assert bx is x and n == 100
