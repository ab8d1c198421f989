"""Qualitative testing (source 000's test_qualitatively and its generalisation questions)."""

import dataclasses

import numpy as np
import pytest

from explorer.core.lab.config import ExperimentConfig, TaskConfig
from explorer.core.lab.qualitative import (draw, error_vs_length, families, parse_probe, probe_targets,
                                           score)
from explorer.core.lab.tasks import make_task
from explorer.core.lab.training import Trainer
from explorer.core.presets import load_preset


@pytest.fixture(scope="module")
def trained():
    """The quick-start GRU, trained briefly: good on the training distribution."""
    config = ExperimentConfig.from_dict(load_preset("train", "default"))
    config = dataclasses.replace(config, train=dataclasses.replace(config.train, steps=600, eval_every=0,
                                                                   flow_every=0, probe_every=0))
    trainer = Trainer(config)
    for _ in trainer.reports():
        pass
    return trainer


def test_draw_is_seeded_and_covers_the_families():
    task = make_task(TaskConfig())
    assert families(task) == ("train", "sine", "nonzero_mean", "longer")
    a, b = draw(task, "sine", 3, seed=7), draw(task, "sine", 3, seed=7)
    assert np.array_equal(a.inputs, b.inputs) and a.inputs.shape == (3, 49, 1)
    assert np.allclose(a.targets, np.cumsum(a.inputs, axis=1))
    assert draw(task, "longer", 2).inputs.shape[1] == 4 * 49
    assert np.abs(draw(task, "nonzero_mean", 50).inputs.mean(axis=1)).mean() > 0.2  # +-mu per example


def test_other_tasks_draw_their_training_distribution():
    task = make_task(TaskConfig(name="copy"))
    ex = draw(task, "train", 4, seed=1)
    assert ex.inputs.shape[0] == 4 and ex.targets.shape[-1] == task.output_size
    assert np.allclose(ex.targets.sum(-1), 1)  # one-hot classes
    with pytest.raises(ValueError, match="only the training distribution"):
        draw(task, "sine", 2)


def test_a_trained_model_fits_training_inputs_better_than_shifted_ones(trained):
    task = trained.task
    train = score(trained.model, draw(task, "train", 16, seed=3))
    shifted = score(trained.model, draw(task, "nonzero_mean", 16, seed=3))
    assert train.predictions.shape == train.examples.targets.shape
    assert train.errors.shape == (16,) and np.all(train.errors >= 0)
    assert train.errors.mean() < 0.5  # a sum of up to 49 N(0,1) values has variance ~25
    assert shifted.errors.mean() > train.errors.mean()


def test_error_vs_length(trained):
    curve = error_vs_length(trained.model, trained.task, factors=(1, 2), n=8)
    assert [length for length, _ in curve] == [49, 98]
    assert curve[1][1] > curve[0][1]  # longer than anything seen in training: worse
    assert error_vs_length(trained.model, make_task(TaskConfig(name="echo")), n=2) == []


def test_typed_probes():
    cumsum, echo = make_task(TaskConfig()), make_task(TaskConfig(name="echo"))
    x = parse_probe(cumsum, "1, 2  2;2")
    assert x.shape == (4, 1) and probe_targets(cumsum, x)[:, 0].tolist() == [1, 3, 5, 7]
    bits = parse_probe(echo, "1 0 0 1 0 0 0 0 1 1")
    p1 = probe_targets(echo, bits)[:, 1]
    assert p1[:3].tolist() == [0.5, 0.5, 0.5] and p1[3] == 1.0 and p1[8] == 0.25  # 0.5 + 0.5 x[5] - 0.25 x[0]
    with pytest.raises(ValueError, match="'2' is not a bit"):
        parse_probe(echo, "1 0 2")
    with pytest.raises(ValueError, match="'abc' is not a number"):
        parse_probe(cumsum, "1 abc")
    with pytest.raises(ValueError, match="type some values"):
        parse_probe(cumsum, "  ")
