"""Run a (trained) model on arbitrary inputs, on the CPU, without touching training.

``predict(model_or_trainer, inputs)`` copies the weights (``Trainer.snapshot()``, safe
while a run goes on in another thread), rebuilds the model on the CPU (``load_model``) and
runs it on the scan path, so every state comes back. For the qualitative testing panel:
the generalisation families of the cumsum task are ``task.family(name, n, length, seed)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .config import ModelConfig
from .losses import DISPLAY
from .models import RNNModel


def load_model(config: ModelConfig, state: dict[str, torch.Tensor], loss: str = "mse",
               input_size: int | None = None) -> RNNModel:
    """A CPU model with these weights; the output size is read from the weights, and so is the
    input size of a built-in cell (a custom cell's parameter shapes need not show it: pass it)."""
    if input_size is None:
        if "rnn.weight_ih_l0" not in state:
            raise ValueError("load_model needs input_size for a custom cell (the task's input_size)")
        input_size = state["rnn.weight_ih_l0"].shape[1]
    output_size = state["readout.weight"].shape[0]
    model = RNNModel(config, input_size, output_size, loss)
    model.load_state_dict(state)
    return model.eval()


def _cpu_model(source: Any) -> RNNModel:
    if hasattr(source, "snapshot"):  # a Trainer
        return load_model(source.config.model, source.snapshot(), source.task.loss, source.task.input_size)
    if isinstance(source, RNNModel):
        state = {k: v.detach().to("cpu", copy=True) for k, v in source.state_dict().items()}
        return load_model(source.config, state, source.loss_kind, source.input_size)
    raise TypeError(f"predict needs a Trainer or an RNNModel, not {type(source).__name__}")


def predict(source: Any, inputs: np.ndarray, state: tuple | None = None) -> dict[str, np.ndarray]:
    """``inputs`` (T, I) or batch-first (B, T, I) -> dict of numpy arrays, batch-first like the input:

    ``predictions`` (..., T, O) (class probabilities for classification tasks),
    ``outputs`` (..., T, O) raw readout, ``states`` (..., T, H) top layer,
    ``layer_states`` (L, ..., T, H) every layer.
    """
    inputs = np.asarray(inputs, dtype=np.float32)
    if inputs.ndim not in (2, 3):
        raise ValueError(f"inputs must be (T, I) or (B, T, I); got shape {inputs.shape}")
    single = inputs.ndim == 2
    model = _cpu_model(source)
    x = torch.from_numpy(inputs[:, None] if single else inputs.transpose(1, 0, 2).copy())  # (T, B, I)
    if x.shape[-1] != model.input_size:
        raise ValueError(f"inputs have {x.shape[-1]} features per step; the model takes {model.input_size}")
    with torch.no_grad():
        out = model(x, state, backend="scan")
    shown = DISPLAY[model.loss_kind](out.outputs)  # (T, B, O)
    layers = torch.stack(out.layer_states)  # (L, T, B, H)

    def batch_first(t: torch.Tensor) -> np.ndarray:  # (..., T, B, X) -> (..., B, T, X) or (..., T, X)
        t = t.select(-2, 0) if single else t.transpose(-3, -2)
        return t.numpy().copy()

    return {"predictions": batch_first(shown), "outputs": batch_first(out.outputs),
            "states": batch_first(out.states), "layer_states": batch_first(layers)}
