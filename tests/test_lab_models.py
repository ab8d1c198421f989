"""Models: the scan path, the fused torch modules and the manual BPTT agree on the same weights."""

import pytest
import torch

from explorer.core.lab.config import ModelConfig
from explorer.core.lab.models import build_model, resolve_backend
from explorer.core.lab.probe import load_model, predict

CASES = [(cell, layers) for cell in ("vanilla", "relu", "gru", "lstm") for layers in (1, 2)]


def random_state(model, batch, gen):
    def one():
        return torch.randn(batch, model.config.hidden_size, generator=gen) * 0.5

    return tuple((one(), one()) if model.cell.two_states else one() for _ in range(model.config.layers))


def run(model, backend, x, state):
    model.zero_grad()
    out = model(x, state, backend=backend)
    (out.outputs.pow(2).sum() + sum(s.pow(2).sum() for s in _flat(out.final))).backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    return out, grads


def _flat(state):
    return [t for s in state for t in (s if isinstance(s, tuple) else (s,))]


@pytest.mark.parametrize("cell, layers", CASES)
def test_fused_and_scan_give_the_same_outputs_states_and_gradients(cell, layers):
    gen = torch.Generator().manual_seed(0)
    model = build_model(ModelConfig(cell=cell, hidden_size=24, layers=layers, init_scale=0.3), 3, 2, seed=1)
    x = torch.randn(9, 5, 3, generator=gen)  # (T, B, I)
    state = random_state(model, 5, gen)
    backends = ["scan", "fused"] + (["manual"] if cell in ("vanilla", "relu") else [])
    ref_out, ref_grads = run(model, "scan", x, state)
    for backend in backends[1:]:
        out, grads = run(model, backend, x, state)
        torch.testing.assert_close(out.outputs, ref_out.outputs, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(out.states, ref_out.states, atol=1e-5, rtol=1e-5)
        for a, b in zip(_flat(out.final), _flat(ref_out.final)):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
        for name in grads:
            torch.testing.assert_close(grads[name], ref_grads[name], atol=1e-5, rtol=1e-4, msg=f"{backend} {name}")


def test_scan_path_exposes_every_layers_states():
    model = build_model(ModelConfig(cell="lstm", hidden_size=8, layers=3), 2, 1)
    out = model(torch.randn(6, 4, 2), backend="scan")
    assert [s.shape for s in out.layer_states] == [(6, 4, 8)] * 3
    torch.testing.assert_close(out.layer_states[-1], out.states)


def test_watched_states_hold_the_total_derivative_of_the_loss():
    """dL/dh_t by retain_grad on the scan path == the gradient w.r.t. a zero perturbation of h_t."""
    model = build_model(ModelConfig(cell="vanilla", hidden_size=6, init_scale=0.5), 1, 1)
    x = torch.randn(7, 2, 1)
    out = model(x, backend="scan", watch=True)
    out.outputs.pow(2).sum().backward()
    watched = torch.stack([h.grad for h in out.watched[0]])  # (T, B, H)

    w_ih, w_hh, b_ih, b_hh = model.layer_weights(0)
    eps = torch.zeros(7, 2, 6, requires_grad=True)
    h, hs = torch.zeros(2, 6), []
    for t in range(7):  # a separate loop: h_t + eps_t, so dL/d eps_t is the total derivative at h_t
        h = torch.tanh(x[t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh) + eps[t]
        hs.append(h)
    model.readout(torch.stack(hs)).pow(2).sum().backward()
    torch.testing.assert_close(watched, eps.grad, atol=1e-6, rtol=1e-5)


def test_init_scale_relu_identity_and_seeded_init():
    model = build_model(ModelConfig(cell="vanilla", hidden_size=16, init_scale=0.1), 1, 1, seed=3)
    for name, p in model.named_parameters():
        if "weight" in name:
            assert p.abs().max() <= 0.1 and p.abs().max() > 0.05
        else:
            assert torch.all(p == 0)
    again = build_model(ModelConfig(cell="vanilla", hidden_size=16, init_scale=0.1), 1, 1, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters()))
    relu = build_model(ModelConfig(cell="relu", hidden_size=5, layers=2), 1, 1)
    assert torch.equal(relu.rnn.weight_hh_l1, torch.eye(5))
    before = torch.get_rng_state()
    build_model(ModelConfig(init_scale=0.0), 1, 1, seed=9)
    assert torch.equal(before, torch.get_rng_state())  # building a model leaves the global RNG alone


def test_auto_backend_choice():
    from explorer.core.lab import fast

    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    small = "numba" if fast.AVAILABLE else None  # small batch * hidden on a CPU: numba where installed
    assert resolve_backend(ModelConfig(cell="vanilla"), cpu) == (small or "manual")
    assert resolve_backend(ModelConfig(cell="gru"), cpu) == (small or "fused")
    assert resolve_backend(ModelConfig(cell="vanilla", hidden_size=2048), cpu, batch=64) == "manual"
    assert resolve_backend(ModelConfig(cell="gru", hidden_size=2048), cpu, batch=64) == "fused"
    assert resolve_backend(ModelConfig(cell="vanilla"), gpu) == "fused"
    assert resolve_backend(ModelConfig(cell="vanilla", backend="scan"), cpu) == "scan"


def test_predict_on_arbitrary_inputs_batch_first_or_single():
    model = build_model(ModelConfig(cell="gru", hidden_size=8, layers=2), 2, 3)
    model.loss_kind = "cross_entropy"
    x = torch.randn(4, 11, 2)  # (B, T, I)
    out = predict(model, x.numpy())
    assert out["predictions"].shape == (4, 11, 3) and out["states"].shape == (4, 11, 8)
    assert out["layer_states"].shape == (2, 4, 11, 8)
    assert abs(out["predictions"].sum(-1) - 1).max() < 1e-5  # class probabilities
    ref = model(x.transpose(0, 1), backend="fused").outputs.transpose(0, 1)
    torch.testing.assert_close(torch.from_numpy(out["outputs"]), ref.detach(), atol=1e-5, rtol=1e-5)
    single = predict(model, x[1].numpy())
    assert single["predictions"].shape == (11, 3)
    torch.testing.assert_close(torch.from_numpy(single["outputs"]), ref[1].detach(), atol=1e-5, rtol=1e-5)
    rebuilt = load_model(model.config, model.state_dict(), "cross_entropy")
    assert rebuilt.rnn.input_size == 2 and rebuilt.readout.out_features == 3
    with pytest.raises(ValueError, match="features"):
        predict(model, x[..., :1].numpy())
