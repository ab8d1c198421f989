"""Seeing inside: gates recomputed from the probe rebuild the model's own states; PCA, unit order
and eigenvalues are what their definitions say."""

import numpy as np
import pytest
import torch

from explorer.core.lab.config import ModelConfig
from explorer.core.lab.inside import InsideMeter, look_inside, pca_2d
from explorer.core.lab.models import build_model


def probe_of(cell, layers=1, T=30, H=6, I=3, seed=0):
    model = build_model(ModelConfig(cell=cell, hidden_size=H, layers=layers, init_scale=0.5), I, 1, seed=seed)
    x = torch.randn(T, 1, I, generator=torch.Generator().manual_seed(seed))  # (T, 1, I)
    with torch.no_grad():
        out = model(x, backend="scan")
    weights = {k: v.detach().numpy() for k, v in model.rnn.named_parameters()}
    layer_states = torch.stack(out.layer_states)[:, :, 0].numpy()  # (L, T, H)
    return weights, x[:, 0].numpy(), layer_states


@pytest.mark.parametrize("layers", [1, 2])
def test_gru_gates_rebuild_the_states(layers):
    weights, x, states = probe_of("gru", layers)
    inside = look_inside("gru", weights, x, states)
    r, z, n = (inside.gates[g] for g in "rzn")  # (H, T) each
    h = states[-1].T  # (H, T)
    h_prev = np.hstack([np.zeros((h.shape[0], 1)), h[:, :-1]])
    np.testing.assert_allclose((1 - z) * n + z * h_prev, h, atol=1e-5)
    assert 0.0 <= inside.saturation <= 1.0


def test_lstm_gates_rebuild_the_states():
    weights, x, states = probe_of("lstm")
    inside = look_inside("lstm", weights, x, states)
    i, f, g, o = (inside.gates[k] for k in "ifgo")
    c, hs = np.zeros(i.shape[0]), []
    for t in range(i.shape[1]):
        c = f[:, t] * c + i[:, t] * g[:, t]
        hs.append(o[:, t] * np.tanh(c))
    np.testing.assert_allclose(np.stack(hs, 1), states[-1].T, atol=1e-5)


def test_saturation_counts_gates_near_zero_or_one():
    weights, x, states = probe_of("gru")
    for name in list(weights):
        if name.startswith("bias_hh"):
            weights[name] = weights[name] + 100.0  # every sigmoid gate wide open
    assert look_inside("gru", weights, x, states).saturation == 1.0


def test_units_are_ordered_by_variance_and_pca_explains_a_plane():
    weights, x, states = probe_of("vanilla")
    inside = look_inside("vanilla", weights, x, states)
    var = states[-1].var(axis=0)
    assert list(var[inside.order]) == sorted(var, reverse=True)
    t = np.linspace(0, 6, 50)
    plane = np.outer(np.cos(t), [1, 2, 0, 0]) + np.outer(np.sin(t), [0, 0, 3, 1])  # (50, 4) in a plane
    proj, explained = pca_2d(plane)
    assert explained.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(np.linalg.norm(proj, axis=1), np.linalg.norm(plane - plane.mean(0), axis=1),
                               atol=1e-9)


@pytest.mark.parametrize("cell,block", [("vanilla", 0), ("gru", 2), ("lstm", 2)])
def test_eigenvalues_are_those_of_the_recurrent_block(cell, block):
    weights, x, states = probe_of(cell)
    inside = look_inside(cell, weights, x, states)
    H = states.shape[-1]
    w = weights["weight_hh_l0"][block * H:(block + 1) * H].astype(np.float64)
    expected = np.linalg.eigvals(w)
    np.testing.assert_allclose(np.sort_complex(inside.eigenvalues), np.sort_complex(expected), atol=1e-9)
    assert inside.spectral_radius == pytest.approx(np.abs(expected).max())


def test_the_meter_throttles_eigenvalues():
    weights, x, states = probe_of("vanilla")
    meter = InsideMeter("vanilla", share=1e-9)  # the first measurement, then none for a long time
    first, second = meter.measure(weights, x, states), meter.measure(weights, x, states)
    assert first.eigenvalues is not None and second.eigenvalues is None and second.units is not None


def _trained_probe(preset: str, **train):
    from explorer.core.lab import ExperimentConfig, Trainer
    from explorer.core.presets import load_preset

    data = load_preset("train", preset)
    data["train"] = {**data.get("train", {}), "steps": 1, "probe_every": 1, **train}
    trainer = Trainer(ExperimentConfig.from_dict(data))
    probes = [r.probe for r in trainer.reports() if r.probe is not None]
    return trainer, probes[0]  # the first probe measures the eigenvalues (later ones are throttled)


@pytest.mark.parametrize("cell", ["gru", "lstm", "vanilla"])
def test_every_probe_report_carries_what_is_inside_from_the_worker(cell):
    from explorer.core.lab import ExperimentConfig, Trainer

    cfg = ExperimentConfig.from_dict({"model": {"cell": cell, "hidden_size": 8, "layers": 2},
                                      "train": {"steps": 4, "probe_every": 2}})
    probes = [r.probe for r in Trainer(cfg).reports() if r.probe is not None]
    assert probes and all(p.inside is not None for p in probes)
    inside = probes[-1].inside
    np.testing.assert_allclose(inside.units, probes[-1].layer_states[-1].T, atol=1e-6)  # the top layer, (H, T)
    assert (inside.gates is not None) == (cell != "vanilla")
    assert probes[0].inside.spectral_radius is not None  # the first measurement always has eigenvalues


def test_a_custom_cell_with_one_square_matrix_gets_its_eigenvalues():
    trainer, probe = _trained_probe("vanilla_by_hand")
    w = trainer.model.rnn.layers[-1].W_hh.detach().double().numpy()
    np.testing.assert_allclose(np.sort_complex(probe.inside.eigenvalues), np.sort_complex(np.linalg.eigvals(w)),
                               atol=1e-9)
    assert probe.inside.gates is None


def test_a_diagonal_recurrence_has_its_vector_as_eigenvalues():
    trainer, probe = _trained_probe("indrnn")
    u = trainer.model.rnn.layers[-1].u.detach().double().numpy()
    np.testing.assert_allclose(np.sort(probe.inside.eigenvalues.real), np.sort(u), atol=1e-12)
    assert probe.inside.spectral_radius == pytest.approx(np.abs(u).max())


def test_a_custom_cell_without_a_clear_recurrent_matrix_has_none():
    from explorer.core.lab.inside import custom_recurrence

    H = 4
    two = {"A": np.eye(H), "B": np.eye(H)}
    assert custom_recurrence(two, H, ("tanh(h_tm1 @ A + h_tm1 @ B)",)) is None
    assert custom_recurrence({"w": np.ones(H)}, H, ("h_tm1 + w * x",)) is None  # w scales x, not h_tm1
    np.testing.assert_array_equal(custom_recurrence({"w": np.arange(H)}, H, ("h_tm1 * w + x",)), np.diag(np.arange(H)))
