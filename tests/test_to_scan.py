"""A trained model opened as a ScanSpec (explorer/core/lab/to_scan.py): run through the real
scan engine, every layer's h_t equals the lab's probe (Trainer.probe().layer_states) to 1e-6,
for every built-in cell (1 and 2 layers) and custom cells; the spec survives its JSON."""

import dataclasses

import numpy as np
import pytest
import torch

from explorer.core.errors import ConfigError
from explorer.core.lab.config import ExperimentConfig
from explorer.core.lab.to_scan import model_to_scan, rename
from explorer.core.lab.training import Trainer
from explorer.core.presets import load_preset
from explorer.core.spec import ScanSpec, check, run_spec

TOL = 1e-6  # float32: at most 1e-6, or 1e-6 of the largest |h| where states grow past 1 (ReLU)


def config(preset="default", steps=3, **model) -> ExperimentConfig:
    c = ExperimentConfig.from_dict(load_preset("train", preset))
    return dataclasses.replace(c, model=dataclasses.replace(c.model, **model),
                               train=dataclasses.replace(c.train, steps=steps, eval_every=0, probe_every=0,
                                                         device="cpu"))


def trained(c: ExperimentConfig) -> Trainer:
    trainer = Trainer(c)
    for _ in trainer.reports():
        pass
    return trainer


def scan_of(trainer: Trainer) -> ScanSpec:
    return model_to_scan(trainer.config, trainer.snapshot(), trainer.task.probe()[0], step=trainer.step)


def states(spec: ScanSpec) -> list[str]:
    """The outputs holding each layer's h, in layer order."""
    return [o.name for o in spec.outputs if o.initial is not None and o.name.startswith("h")]


def max_diff(run, spec, probe) -> tuple[float, float]:
    """(largest |h_scan - h_lab| over layers and steps, the tolerance it must be within)."""
    names = states(spec)
    assert len(names) == len(probe.layer_states)
    diff = max(float(np.abs(run.outputs[n].numpy().reshape(probe.layer_states[k].shape) - probe.layer_states[k]).max())
               for k, n in enumerate(names))
    return diff, TOL * max(1.0, float(np.abs(probe.layer_states).max()))


CASES = [pytest.param(dict(cell=cell, layers=layers), id=f"{cell}-{layers}") for cell in ("vanilla", "relu", "gru", "lstm")
         for layers in (1, 2)]
CASES += [pytest.param(dict(preset="seed002_echo_ns1", cell="lstm"), id="lstm-echo-classification"),
          pytest.param(dict(preset="vanilla_by_hand"), id="vanilla_by_hand"),
          pytest.param(dict(preset="indrnn"), id="indrnn"),
          pytest.param(dict(preset="minimal_gated_unit"), id="minimal_gated_unit"),
          pytest.param(dict(preset="minimal_gated_unit", layers=2), id="minimal_gated_unit-2")]


@pytest.mark.parametrize("case", CASES)
def test_each_step_h_equals_the_labs_probe(case):
    trainer = trained(config(**case))
    probe = trainer.probe()
    spec = scan_of(trainer)
    assert check(spec) == []
    run = run_spec(spec)
    diff, tol = max_diff(run, spec, probe)
    assert diff <= tol, f"{case}: h differs from the lab's probe by {diff:.3g} (tolerance {tol:.3g})"
    assert run.steps == len(probe.inputs)
    y = run.outputs["y"].numpy().reshape(probe.predictions.shape)
    assert np.abs(y - probe.predictions).max() <= TOL * max(1.0, float(np.abs(probe.predictions).max()))
    # the JSON round trip gives the same spec and the same numbers
    again = ScanSpec.from_json(spec.to_json())
    assert again == spec
    assert torch.equal(run_spec(again).outputs[states(spec)[-1]], run.outputs[states(spec)[-1]])


@pytest.mark.parametrize("cell", ["vanilla", "relu", "gru", "lstm"])
def test_the_labs_scan_backend_gives_the_same_numbers(cell):
    """The probe above runs on numba (CPU, auto); the lab's scan backend (the formulas the spec
    writes out, see explorer.core.lab.cells) agrees too."""
    trainer = trained(config(cell=cell, layers=2, backend="scan"))
    assert trainer.flow_backend == "scan"
    probe = trainer.probe()
    spec = scan_of(trainer)
    diff, tol = max_diff(run_spec(spec), spec, probe)
    assert diff <= tol


def test_a_classification_model_predicts_class_probabilities():
    trainer = trained(config("seed002_echo_ns1"))
    spec = scan_of(trainer)
    assert spec.outputs[-1].expression.startswith("softmax(")
    y = run_spec(spec).outputs["y"].numpy()
    assert np.allclose(y.sum(axis=-1), 1.0, atol=1e-6)
    assert np.abs(y - trainer.probe().predictions).max() <= TOL


def test_the_spec_says_what_it_is_and_holds_the_weights_as_arrays():
    trainer = trained(config(cell="gru", layers=2))
    spec = scan_of(trainer)
    assert spec.title == "GRU 2×32, trained 3 steps: its step as a scan"
    assert spec.dtype == "float32" and "probe" in spec.description and "RNN lab" in spec.source
    rows = {n.name: n for n in spec.non_sequences}
    assert all(n.value == "" and n.array is not None for n in spec.non_sequences)
    snapshot = trainer.snapshot()
    w = rows["W_hh_l1"].array
    assert w.summary() == "trained weights (rnn.weight_hh_l1), 96×32, float32"
    assert torch.equal(torch.tensor(w.values, dtype=torch.float32), snapshot["rnn.weight_hh_l1"])
    assert spec.sequences[0].array.shape == trainer.task.probe()[0][:, 0].shape
    assert [o.name for o in spec.outputs] == ["h_l0", "h_l1", "y"]
    assert {v.name for v in spec.step_variables} >= {"r_l0", "z_l0", "n_l0", "h_t_l0", "h_t_l1"}
    untrained = model_to_scan(trainer.config, snapshot, trainer.task.probe()[0], step=0)
    assert "untrained" in untrained.title and untrained.non_sequences[0].array.note.startswith("initial")


def test_a_custom_cell_keeps_its_own_expressions():
    trainer = trained(config(preset="minimal_gated_unit"))
    spec = scan_of(trainer)
    cell = trainer.config.model.custom
    assert [v.expression for v in spec.step_variables] == [cell.variables[0].expression, cell.expressions[0]]
    assert [n.name for n in spec.non_sequences] == [p.name for p in cell.params] + ["W_out", "b_out"]
    assert spec.sequences[0].array.shape[1:] == (1, trainer.task.input_size)  # a batch of one
    two = scan_of(trained(config(preset="minimal_gated_unit", layers=2)))
    by_name = {v.name: v.expression for v in two.step_variables}
    assert by_name["f_l1"] == "sigmoid(h_t_l0 @ W_f_l1 + h_l1_tm1 @ U_f_l1 + b_f_l1)"


def test_rename_changes_variables_only():
    assert rename("sigmoid(x @ W.T + tanh(h_tm1))", {"x": "h_t_l0", "W": "W_l1", "h_tm1": "h_l1_tm1",
                                                    "tanh": "nope", "T": "nope"}) == \
        "sigmoid(h_t_l0 @ W_l1.T + tanh(h_l1_tm1))"
    assert rename("  a+a*f(a)", {"a": "bb", "f": "g"}) == "  bb+bb*f(bb)"


def test_weights_that_do_not_fit_are_named():
    trainer = trained(config(cell="lstm"))
    snapshot, x = trainer.snapshot(), trainer.task.probe()[0]
    missing = {k: v for k, v in snapshot.items() if k != "rnn.bias_hh_l0"}
    with pytest.raises(ConfigError, match="has no 'rnn.bias_hh_l0'") as info:
        model_to_scan(trainer.config, missing, x)
    assert info.value.fields == ["weights"]
    wrong = dict(snapshot, **{"rnn.weight_hh_l0": torch.zeros(3, 3)})
    with pytest.raises(ConfigError, match=r"'rnn.weight_hh_l0' is \(3, 3\)"):
        model_to_scan(trainer.config, wrong, x)
    diverged = dict(snapshot, **{"readout.bias": torch.full_like(snapshot["readout.bias"], float("nan"))})
    with pytest.raises(ConfigError, match="NaN or infinite"):
        model_to_scan(trainer.config, diverged, x)
    with pytest.raises(ConfigError, match="probe_inputs"):
        model_to_scan(trainer.config, snapshot, np.zeros(5))
