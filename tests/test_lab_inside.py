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
